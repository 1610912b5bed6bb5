/**
 * The per-file disclosure report: what was checked, what was changed (cell by cell), what
 * a reviewer must look at (findings, cell by cell), what was refused and why, each citing
 * its rule (rules.ts), as JSON for machines and as text for the reviewers.
 *
 * The report holds the original values of changed cells, so the reviewers can judge the
 * changes: it stays inside the airlock and is never released. The release manifest
 * carries only the summary of each check and each finding's rule, severity and decision.
 */
import type { AirlockSettings } from '../config/airlock-settings';
import { RULES, ruleLine, type RuleId } from './rules';

export type CheckOutcome = 'passed' | 'changed' | 'refused' | 'not_applicable' | 'needs_review';

export interface CheckEntry {
  readonly id: RuleId;
  readonly title: string;
  readonly outcome: CheckOutcome;
  readonly summary: string;
}

export interface CellChange {
  /** 1-based data row (the header is row 0). */
  readonly row: number;
  readonly column: string;
  readonly action: 'suppressed' | 'rounded' | 'normalised';
  readonly rule: RuleId;
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

/**
 * Something a reviewer must decide. `review`: approving needs the reviewer's note;
 * `disclosive`: the output discloses unless a reviewer records (an override) why not.
 */
export interface Finding {
  /** Stable within the file: `<rule>:<column or *>`. */
  readonly id: string;
  readonly rule: RuleId;
  readonly severity: 'review' | 'disclosive';
  readonly column?: string;
  /** The cells concerned (1-based data rows; row 0 is the header). */
  readonly cells: readonly { readonly row: number; readonly column: string }[];
  readonly message: string;
}

export interface RefusalEntry {
  readonly check: RuleId;
  readonly rule: string;
  readonly reason: string;
  readonly column?: string;
  readonly row?: number;
}

/** unchanged/changed: may be released as checked; review: only with a reviewer's note (and overrides); refused: never. */
export type FileOutcome = 'unchanged' | 'changed' | 'review' | 'refused';

export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

export type CheckSettings = Omit<AirlockSettings, 'reviewers'>;

export interface ReportColumn {
  readonly name: string;
  readonly role: string;
  readonly decidedBy: 'platform' | 'reviewer';
  readonly why: string;
}

export interface FileReport {
  readonly reportVersion: 2;
  readonly file: string;
  /** What the checker took the file to be: a CSV table, or another format for a reviewer. */
  readonly format: string;
  readonly outcome: FileOutcome;
  readonly input: FileDigest;
  /** The file that would be released (absent when refused). */
  readonly output?: FileDigest;
  readonly settings: CheckSettings;
  readonly table?: {
    readonly rows: number;
    readonly kind: string;
    readonly columns: readonly ReportColumn[];
    readonly categoryColumns: readonly string[];
    readonly countColumns: readonly string[];
    readonly magnitudeColumns: readonly string[];
    readonly statisticColumns: readonly string[];
    readonly totals: readonly string[];
  };
  readonly checks: readonly CheckEntry[];
  readonly changes: readonly CellChange[];
  readonly findings: readonly Finding[];
  readonly refusals: readonly RefusalEntry[];
  readonly warnings: readonly string[];
  /** The table as checked, for the per-cell view: header then rows (original values). Absent for other formats. */
  readonly grid?: readonly (readonly string[])[];
}

/** The short, value-free summary of a check that the request and the release manifest carry. */
export interface CheckSummary {
  readonly id: RuleId;
  readonly outcome: CheckOutcome;
  readonly cellsChanged: number;
}

/** A finding as the request and the manifest carry it: no values. */
export interface FindingSummary {
  readonly id: string;
  readonly rule: RuleId;
  readonly severity: 'review' | 'disclosive';
  readonly column?: string;
  readonly cells: number;
}

export function checkSummaries(report: FileReport): CheckSummary[] {
  const changedBy: Partial<Record<RuleId, number>> = {};
  for (const c of report.changes) changedBy[c.rule] = (changedBy[c.rule] ?? 0) + 1;
  return report.checks.map((c) => ({ id: c.id, outcome: c.outcome, cellsChanged: changedBy[c.id] ?? 0 }));
}

export function findingSummaries(report: FileReport): FindingSummary[] {
  return report.findings.map((f) => ({ id: f.id, rule: f.rule, severity: f.severity, ...(f.column ? { column: f.column } : {}), cells: f.cells.length }));
}

const OUTCOME_WORD: Record<CheckOutcome, string> = {
  passed: 'passed',
  changed: 'CHANGED',
  refused: 'REFUSED',
  not_applicable: 'n/a',
  needs_review: 'REVIEW',
};

function renderGrid(report: FileReport): string[] {
  const grid = report.grid;
  if (!grid || grid.length > 201) return grid ? [`  (the table has ${grid.length - 1} rows: see the JSON report for each cell)`] : [];
  const marks = new Map<string, string[]>();
  const mark = (row: number, column: string, m: string) => {
    const key = `${row}\u0000${column}`;
    marks.set(key, [...(marks.get(key) ?? []), m]);
  };
  report.changes.forEach((c) => mark(c.row, c.column, c.action === 'normalised' ? '' : `${c.to}`));
  report.findings.forEach((f) => f.cells.forEach((c) => mark(c.row, c.column, `?${f.id}`)));
  const header = grid[0];
  const rows = grid.map((row, r) =>
    row.map((v, c) => {
      const m = (marks.get(`${r}\u0000${header[c]}`) ?? []).filter((x) => x !== '');
      return m.length === 0 ? v : `${v} -> ${m.join(' ')}`;
    }),
  );
  const widths = header.map((_, c) => Math.min(40, Math.max(...rows.map((row) => row[c].length))));
  return rows.map((row, r) => `  ${r === 0 ? '    ' : String(r).padStart(3) + ' '}${row.map((v, c) => v.slice(0, 40).padEnd(widths[c])).join(' | ')}`);
}

/** The report as the reviewers read it. */
export function renderFileReport(report: FileReport): string {
  const lines: string[] = [];
  const verdict =
    report.outcome === 'refused'
      ? 'REFUSED: this file cannot be released'
      : report.outcome === 'review'
        ? 'NEEDS REVIEW: a reviewer must look at the findings below and record a note to approve it'
        : report.outcome === 'changed'
          ? 'released only as changed below'
          : 'can be released unchanged';
  lines.push(`Disclosure check of ${report.file} (${report.format}): ${verdict}`);
  lines.push(`  submitted: ${report.input.bytes} bytes, sha256 ${report.input.sha256}`);
  if (report.output) lines.push(`  checked:   ${report.output.bytes} bytes, sha256 ${report.output.sha256}`);
  const s = report.settings;
  lines.push(
    `  settings: threshold ${s.suppressionThreshold}, rounding ${s.roundingBase}, dominance (n=${s.dominance.n}, k=${s.dominance.k}%), p-ratio ${s.pRatio}%, ` +
      `residual df ${s.regressionDof}, survival ${s.survivalThreshold}, zeros ${s.zeros}, negatives ${s.negativeValues}, missing ${s.missingValues}`,
  );
  if (report.table) {
    const t = report.table;
    lines.push('', `Table (${t.kind}): ${t.rows} rows. Column roles (decided from the data; only a reviewer can change them):`);
    for (const c of t.columns) lines.push(`  ${c.name}: ${c.role} (${c.decidedBy === 'reviewer' ? 'reviewer' : 'platform'}: ${c.why})`);
    for (const total of t.totals) lines.push(`  total: ${total}`);
  }
  lines.push('', 'Checks:');
  for (const c of report.checks) lines.push(`  [${OUTCOME_WORD[c.outcome].padEnd(7)}] ${c.title}: ${c.summary}`);
  if (report.refusals.length > 0) {
    lines.push('', 'Refused because:');
    for (const r of report.refusals) lines.push(`  - ${r.reason}`);
  }
  if (report.findings.length > 0) {
    lines.push('', 'Findings for the reviewers (each must be addressed in the approving note; a disclosive one needs an override with a reason):');
    for (const f of report.findings) {
      const where = f.cells.length === 0 ? '' : ` [cells: ${f.cells.map((c) => (c.row === 0 ? `header ${c.column}` : `row ${c.row} ${c.column}`)).join('; ')}]`;
      lines.push(`  ${f.id} (${f.severity.toUpperCase()}, ${RULES[f.rule].title}): ${f.message}${where}`);
    }
  }
  const visible = report.changes.filter((c) => c.action !== 'normalised');
  if (visible.length > 0) {
    lines.push('', 'Changes, cell by cell:');
    for (const c of visible) lines.push(`  row ${c.row}, ${c.column}: ${c.from === '' ? '(blank)' : c.from} -> ${c.to} (${RULES[c.rule].title}: ${c.why})`);
  }
  const normalised = report.changes.length - visible.length;
  if (normalised > 0) lines.push('', `${normalised} cell(s) rewritten in plain form (numbers in plain digits, text without invisible characters).`);
  const grid = renderGrid(report);
  if (grid.length > 0) lines.push('', 'The table, cell by cell (-> what is released; ?F a finding):', ...grid);
  if (report.warnings.length > 0) {
    lines.push('', 'For the reviewers:');
    for (const w of report.warnings) lines.push(`  - ${w}`);
  }
  const rules = [...new Set([...report.checks.map((c) => c.id), ...report.findings.map((f) => f.rule)])];
  lines.push('', 'Rules applied:');
  for (const id of rules) lines.push(`  - ${ruleLine(id, s)}`);
  return lines.join('\n') + '\n';
}
