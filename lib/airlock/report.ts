/**
 * The per-file disclosure report: what was checked, what was changed (cell by cell),
 * what was refused and why, as JSON for machines and as text for the reviewers.
 *
 * The report holds the original values of changed cells, so the reviewers can judge
 * the changes: it stays inside the airlock and is never released. The release manifest
 * carries only the summary of each check.
 */
import type { AirlockSettings } from '../config/airlock-settings';

export type CheckId =
  'file_format' | 'table_shape' | 'row_level' | 'primary_suppression' | 'secondary_suppression' | 'rounding' | 'dominance' | 'linked_cells' | 'statistics';

export type CheckOutcome = 'passed' | 'changed' | 'refused' | 'not_applicable' | 'needs_review';

export interface CheckEntry {
  readonly id: CheckId;
  readonly title: string;
  readonly outcome: CheckOutcome;
  readonly summary: string;
}

export type ChangeRule = 'primary' | 'secondary' | 'rounding' | 'dominance' | 'too_few_contributors' | 'linked';

export interface CellChange {
  /** 1-based data row (the header is row 0). */
  readonly row: number;
  readonly column: string;
  readonly action: 'suppressed' | 'rounded';
  readonly rule: ChangeRule;
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

export interface RefusalEntry {
  readonly check: CheckId;
  readonly rule: string;
  readonly reason: string;
  readonly column?: string;
  readonly row?: number;
}

export type FileOutcome = 'unchanged' | 'changed' | 'refused';

export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

export type CheckSettings = Omit<AirlockSettings, 'reviewers'>;

export interface FileReport {
  readonly reportVersion: 1;
  readonly file: string;
  readonly outcome: FileOutcome;
  readonly input: FileDigest;
  /** The file that would be released (absent when refused). */
  readonly output?: FileDigest;
  readonly settings: CheckSettings;
  readonly table?: {
    readonly rows: number;
    readonly columns: readonly string[];
    readonly classification: 'explicit' | 'inferred';
    readonly categoryColumns: readonly string[];
    readonly countColumns: readonly string[];
    readonly magnitudeColumns: readonly string[];
    readonly statisticColumns: readonly string[];
    readonly totals: readonly string[];
  };
  readonly checks: readonly CheckEntry[];
  readonly changes: readonly CellChange[];
  readonly refusals: readonly RefusalEntry[];
  readonly warnings: readonly string[];
}

/** The short, value-free summary of a check that the release manifest carries. */
export interface CheckSummary {
  readonly id: CheckId;
  readonly outcome: CheckOutcome;
  readonly cellsChanged: number;
}

export function checkSummaries(report: FileReport): CheckSummary[] {
  const changedBy: Partial<Record<CheckId, number>> = {};
  for (const c of report.changes) {
    const id = changeCheck(c.rule);
    changedBy[id] = (changedBy[id] ?? 0) + 1;
  }
  return report.checks.map((c) => ({ id: c.id, outcome: c.outcome, cellsChanged: changedBy[c.id] ?? 0 }));
}

export function changeCheck(rule: ChangeRule): CheckId {
  switch (rule) {
    case 'primary':
      return 'primary_suppression';
    case 'secondary':
      return 'secondary_suppression';
    case 'rounding':
      return 'rounding';
    case 'dominance':
    case 'too_few_contributors':
      return 'dominance';
    case 'linked':
      return 'linked_cells';
  }
}

const OUTCOME_WORD: Record<CheckOutcome, string> = {
  passed: 'passed',
  changed: 'CHANGED',
  refused: 'REFUSED',
  not_applicable: 'n/a',
  needs_review: 'REVIEW',
};

/** The report as the reviewers read it. */
export function renderFileReport(report: FileReport): string {
  const lines: string[] = [];
  const verdict =
    report.outcome === 'refused'
      ? 'REFUSED: this file cannot be released'
      : report.outcome === 'changed'
        ? 'released only as changed below'
        : 'can be released unchanged';
  lines.push(`Disclosure check of ${report.file}: ${verdict}`);
  lines.push(`  submitted: ${report.input.bytes} bytes, sha256 ${report.input.sha256}`);
  if (report.output) lines.push(`  checked:   ${report.output.bytes} bytes, sha256 ${report.output.sha256}`);
  const s = report.settings;
  lines.push(
    `  rules: counts 1-${s.suppressionThreshold} suppressed (zero kept), other counts rounded to the nearest ${s.roundingBase}, ` +
      `dominance (n=${s.dominance.n}, k=${s.dominance.k}%), at most ${s.maxFileBytes} bytes, listing test from ${s.rowLevelMinRows} rows`,
  );
  if (report.table) {
    const t = report.table;
    lines.push('', `Table: ${t.rows} rows; columns classified ${t.classification === 'explicit' ? 'as the request named them' : 'by the inference rule'}`);
    lines.push(`  categories: ${t.categoryColumns.length > 0 ? t.categoryColumns.join(', ') : '(none)'}`);
    lines.push(`  counts:     ${t.countColumns.length > 0 ? t.countColumns.join(', ') : '(none)'}`);
    if (t.magnitudeColumns.length > 0) lines.push(`  magnitudes: ${t.magnitudeColumns.join(', ')}`);
    if (t.statisticColumns.length > 0) lines.push(`  statistics: ${t.statisticColumns.join(', ')}`);
    for (const total of t.totals) lines.push(`  total: ${total}`);
  }
  lines.push('', 'Checks:');
  for (const c of report.checks) lines.push(`  [${OUTCOME_WORD[c.outcome].padEnd(7)}] ${c.title}: ${c.summary}`);
  if (report.refusals.length > 0) {
    lines.push('', 'Refused because:');
    for (const r of report.refusals) lines.push(`  - ${r.reason}`);
  }
  if (report.changes.length > 0) {
    lines.push('', 'Changes, cell by cell:');
    for (const c of report.changes) lines.push(`  row ${c.row}, ${c.column}: ${c.from === '' ? '(blank)' : c.from} -> ${c.to} (${c.rule}: ${c.why})`);
  }
  if (report.warnings.length > 0) {
    lines.push('', 'For the reviewers:');
    for (const w of report.warnings) lines.push(`  - ${w}`);
  }
  return lines.join('\n') + '\n';
}
