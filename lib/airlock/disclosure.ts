/**
 * The disclosure check of one output file: every rule in order, and the checked file that
 * may be released. Pure: bytes in, result and report out.
 *
 * Order matters:
 * 1. the file's format (formats.ts): only a CSV table is checked cell by cell; anything
 *    else goes to a reviewer, never to automatic release;
 * 2. the table (csv-table.ts) within the size limit; its header and cells normalised
 *    (numbers.ts) and the columns' roles decided from the data (table-shape.ts);
 * 3. row-level output is refused outright (identifiers.ts);
 * 4. counts: primary suppression (1..threshold, negative ones by their size, and any count
 *    that rounding would carry into 1..threshold), then secondary suppression on the grid;
 *    zeros, negatives and missing values flagged for review;
 * 5. statistics against their group sizes (means, medians, percentages and their
 *    numerators, rates, spreads), minimum and maximum suppressed, survival tables, model
 *    outputs' residual degrees of freedom, histograms' extreme edges;
 * 6. linked cells: magnitudes and statistics in a row whose count is suppressed;
 * 7. magnitudes: too few contributors, dominance (n, k), p-ratio, then secondary
 *    suppression on the magnitude grid;
 * 8. free text and numbers that may be categories, for the reviewer;
 * 9. differencing against the project's memory (memory.ts);
 * 10. the remaining counts are rounded. Rounding comes last so that secondary suppression
 *     chooses complements by the true values.
 */
import { createHash } from 'node:crypto';
import type { AirlockSettings } from '../config/airlock-settings';
import { formatCsvTable, parseCsvTable, type Table } from './csv-table';
import { checkMagnitudeCell } from './dominance';
import { describeUncheckedText, detectFormat } from './formats';
import { rowLevelFindings } from './identifiers';
import { differencingHits, memoryTable, type MemoryTable } from './memory';
import { normaliseCell, readCell, textNumbers, textWords, type CellValue } from './numbers';
import type { CellChange, CheckEntry, CheckSettings, FileDigest, FileOutcome, FileReport, Finding, RefusalEntry } from './report';
import { RULES, type RuleId } from './rules';
import { GridCell, isPrimarySuppressed, roundToBase, secondarySuppression, type SecondaryResult } from './suppression';
import {
  classifyTable,
  headerTokens,
  isGroupSizeHeader,
  isTotalLabel,
  numericValue,
  SUPPRESSED_MARK,
  type ColumnInfo,
  type ReviewerClassification,
  type TableShape,
  type TableSpec,
} from './table-shape';

export interface FileCheckInput {
  /** The file's name (for the report, and its format). */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Column labels from the requester: they can only add checks. */
  readonly spec?: TableSpec;
  /** Reviewers' classifications of columns, with their reasons. */
  readonly classifications?: readonly ReviewerClassification[];
  /**
   * For a magnitude table: a CSV with the table's category columns and the magnitude
   * columns, one row per contributor to a cell. Never released.
   */
  readonly contributions?: Uint8Array;
  /** What the project released before (and the other files of the request): differencing. */
  readonly memory?: readonly MemoryTable[];
  /**
   * The requester's words that leave with the release (the request's statement and the file's
   * description go into the manifest): a count can hide there too.
   */
  readonly words?: { readonly statement?: string; readonly description?: string };
}

export interface FileCheckResult {
  readonly outcome: FileOutcome;
  /** The file that may be released: the input bytes when unchanged; absent when refused. */
  readonly output?: Uint8Array;
  readonly report: FileReport;
  /** The table's true cells for the project's memory (absent for files that are not tables). */
  readonly memory?: MemoryTable;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function digest(bytes: Uint8Array): FileDigest {
  return { bytes: bytes.length, sha256: sha256Hex(bytes) };
}

/** Mutable working state of one check run. */
class Run {
  readonly checks = new Map<RuleId, Omit<CheckEntry, 'id' | 'title'>>();
  readonly changes: CellChange[] = [];
  readonly refusals: RefusalEntry[] = [];
  readonly warnings: string[] = [];
  private readonly findingsById = new Map<
    string,
    { rule: RuleId; severity: Finding['severity']; column?: string; cells: Finding['cells'][number][]; messages: string[] }
  >();
  format = 'csv';

  constructor(
    readonly input: FileCheckInput,
    readonly settings: AirlockSettings,
  ) {}

  set(id: RuleId, outcome: CheckEntry['outcome'], summary: string): void {
    this.checks.set(id, { outcome, summary });
  }

  refuse(check: RuleId, rule: string, reason: string, where: { column?: string; row?: number } = {}): void {
    this.refusals.push({ check, rule, reason, ...where });
  }

  /** Adds cells (and a message) to the finding of this rule on this column, creating it. */
  find(
    rule: RuleId,
    severity: Finding['severity'],
    column: string | undefined,
    cells: readonly { row: number; column: string }[],
    message: string,
    idSuffix?: string,
  ): void {
    const id = `${rule}:${idSuffix ?? column ?? '*'}`;
    const f = this.findingsById.get(id) ?? { rule, severity, ...(column === undefined ? {} : { column }), cells: [], messages: [] };
    f.cells.push(...cells);
    if (!f.messages.includes(message)) f.messages.push(message);
    if (severity === 'disclosive') f.severity = 'disclosive';
    this.findingsById.set(id, f);
  }

  get findings(): Finding[] {
    return [...this.findingsById].map(([id, f]) => ({
      id,
      rule: f.rule,
      severity: f.severity,
      ...(f.column === undefined ? {} : { column: f.column }),
      cells: f.cells,
      message: f.messages.length <= 3 ? f.messages.join('; ') : `${f.messages.slice(0, 3).join('; ')}; and ${f.messages.length - 3} more`,
    }));
  }

  change(c: CellChange): void {
    this.changes.push(c);
  }

  result(shape: TableShape | undefined, table: Table | undefined, output: Uint8Array | undefined, memory?: MemoryTable): FileCheckResult {
    const refused = this.refusals.length > 0;
    const findings = this.findings;
    const outcome: FileOutcome = refused ? 'refused' : findings.length > 0 ? 'review' : this.changes.length > 0 ? 'changed' : 'unchanged';
    const checks: CheckEntry[] = [...this.checks].map(([id, c]) => ({ id, title: RULES[id].title, ...c }));
    const { reviewers: _reviewers, ...settings } = this.settings;
    const released = refused ? undefined : output;
    const report: FileReport = {
      reportVersion: 2,
      file: this.input.name,
      format: this.format,
      outcome,
      input: digest(this.input.bytes),
      ...(released ? { output: digest(released) } : {}),
      settings: settings as CheckSettings,
      ...(shape && table
        ? {
            table: {
              rows: table.rows.length,
              kind: shape.kind,
              columns: shape.columns.map((c) => ({
                name: c.name,
                role:
                  c.role === 'statistic'
                    ? `statistic (${c.statistic ?? 'unknown'})${c.alsoCount ? ' and count' : ''}`
                    : c.role + (c.magnitude && c.role !== 'magnitude' ? ' and magnitude' : ''),
                decidedBy: c.decidedBy,
                why: c.why,
              })),
              categoryColumns: [...shape.categoryColumns],
              countColumns: [...shape.countColumns],
              magnitudeColumns: [...shape.magnitudeColumns],
              statisticColumns: [...shape.statisticColumns],
              totals: [...shape.notes],
            },
            grid: [table.columns.map((c) => c), ...table.rows.map((r) => [...r])],
          }
        : {}),
      checks,
      // A refused file releases nothing, so its would-be changes would only confuse.
      changes: refused ? [] : [...this.changes].sort((a, b) => a.row - b.row || a.column.localeCompare(b.column)),
      findings: refused ? [] : findings,
      refusals: this.refusals,
      warnings: this.warnings,
    };
    return { outcome, output: released, report, ...(memory && !refused ? { memory } : {}) };
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function checkOutputFile(input: FileCheckInput, settings: AirlockSettings): FileCheckResult {
  const run = new Run(input, settings);
  if (input.bytes.length > settings.maxFileBytes) {
    const reason = `the file is ${input.bytes.length} bytes; the airlock checks files of at most ${settings.maxFileBytes} bytes (a results table that large is almost certainly row-level data)`;
    run.set('file_format', 'refused', reason);
    run.refuse('file_format', 'too_large', `not a file that can be checked: ${reason}`);
    return run.result(undefined, undefined, undefined);
  }
  // A file named .csv is read as a table or refused (it claims to be one); any other file
  // goes to a reviewer whatever it holds.
  const format = isCsvName(input.name) ? { kind: 'csv' } : detectFormat(input.name, input.bytes);
  run.format = format.kind === 'csv' ? 'CSV table' : format.kind;
  if (format.kind !== 'csv') return uncheckedFormat(run, 'text' in format ? format.text : undefined);

  const parsed = parseCsvTable(input.bytes, settings.maxFileBytes);
  if (!parsed.ok) {
    run.set('file_format', 'refused', parsed.reason);
    run.refuse('file_format', parsed.code, `not a table that can be checked: ${parsed.reason}`);
    return run.result(undefined, undefined, undefined);
  }
  const table = parsed.table;
  run.set('file_format', 'passed', `a CSV table of ${plural(table.rows.length, 'data row')} and ${plural(table.columns.length, 'column')}`);

  const shape = classifyTable(table, input.spec, input.classifications);
  if (shape.problems.length > 0) {
    run.set('threshold', 'refused', shape.problems.join('; '));
    for (const p of shape.problems) run.refuse('threshold', 'column_roles', p);
    return run.result(shape, table, undefined);
  }

  const findings = rowLevelFindings(table, {
    aggregateColumns: [...shape.countColumns, ...shape.magnitudeColumns, ...shape.statisticColumns],
    minRows: settings.rowLevelMinRows,
  });
  if (findings.length > 0) {
    run.set('row_level', 'refused', `${plural(findings.length, 'sign')} of row-level (per-person) output`);
    for (const f of findings) run.refuse('row_level', f.rule, f.reason, { column: f.column, ...(f.row === undefined ? {} : { row: f.row }) });
    return run.result(shape, table, undefined);
  }
  run.set('row_level', 'passed', 'no identifiers, pseudonyms, full postcodes, dates of birth or one-row-per-person listing found');
  if (shape.countColumns.length === 0 && shape.magnitudeColumns.length === 0 && shape.statisticColumns.length === 0) {
    run.find(
      'row_level',
      'review',
      undefined,
      [],
      'the table has no numbers, so no cell could be checked: a table of categories alone can be a listing of people, and a reviewer must judge it as a whole',
      'no_numbers',
    );
  }

  const out: string[][] = table.rows.map((row) => row.map((v) => normaliseCell(v)));
  const ctx: Ctx = { run, table, shape, out, settings };
  const countSuppressedRows = protectCounts(ctx);
  checkStatistics(ctx);
  checkModelAndSurvival(ctx);
  linkToSuppressedCounts(ctx, countSuppressedRows);
  protectMagnitudes(ctx);
  flagTextAndCategories(ctx);
  flagRepeatedRows(ctx);
  protectRemainders(ctx);
  flagSparseTable(ctx);
  flagRequesterWords(ctx);
  const memory = memoryTable(shape, `file ${input.name}`, (r) => groupSize(shape, r));
  checkDifferencing(ctx, memory);
  roundCounts(ctx);
  markNormalised(ctx);
  neutraliseFormulas(ctx);

  if (run.refusals.length > 0) return run.result(shape, table, undefined);
  const header = table.columns.map((c) => normaliseCell(c)).map((h) => (isFormulaLike(h) ? `'${h}` : h));
  header.forEach((h, c) => {
    if (h !== table.columns[c])
      run.change({ row: 0, column: table.columns[c], action: 'normalised', rule: 'normalised', from: table.columns[c], to: h, why: 'written in plain form' });
  });
  const output = run.changes.length === 0 ? input.bytes : new TextEncoder().encode(formatCsvTable({ columns: header, rows: out }));
  return run.result(shape, table, output, memory);
}

/** The only files read as tables: named .csv (any case). */
export function isCsvName(name: string): boolean {
  return /\.csv$/i.test(name);
}

/**
 * The memory entry of a submitted file (its true cells with the roles the check gives
 * them), or undefined when it is not a CSV table the checker reads.
 */
export function tableMemory(
  input: Pick<FileCheckInput, 'name' | 'bytes' | 'spec' | 'classifications'>,
  maxBytes: number,
  source: string,
): MemoryTable | undefined {
  if (input.bytes.length > maxBytes || !isCsvName(input.name)) return undefined;
  const parsed = parseCsvTable(input.bytes, maxBytes);
  if (!parsed.ok) return undefined;
  const shape = classifyTable(parsed.table, input.spec, input.classifications);
  if (shape.problems.length > 0) return undefined;
  return memoryTable(shape, source, (r) => groupSize(shape, r));
}

/** A file that is not a CSV table: a reviewer must look at it, and is told what the checker could read. */
function uncheckedFormat(run: Run, text: string | undefined): FileCheckResult {
  const what = run.format;
  let detail = 'the checker cannot read it';
  if (text !== undefined) {
    const d = describeUncheckedText(text, run.settings.suppressionThreshold);
    detail =
      d.numbers === 0
        ? `its text holds ${plural(d.words, 'word')} and no numbers`
        : `its text holds ${plural(d.numbers, 'number')}` +
          (d.small.length > 0 ? `, among them ${d.small.length === 1 ? 'the small number' : 'the small numbers'} ${d.small.slice(0, 10).join(', ')}` : '');
  }
  run.set('file_format', 'needs_review', `${what}: only CSV tables are checked automatically`);
  run.find(
    'file_format',
    'review',
    undefined,
    [],
    `a ${what} is not checked automatically (${detail}): a reviewer must look at every figure, label and number in it and record a note; to have a table checked, submit it as CSV`,
  );
  return run.result(undefined, undefined, run.input.bytes);
}

interface Ctx {
  readonly run: Run;
  readonly table: Table;
  readonly shape: TableShape;
  readonly out: string[][];
  readonly settings: AirlockSettings;
}

const num = (c: CellValue): number | null => (c.kind === 'number' ? c.value : null);

/** The largest absolute value in a column. */
function columnMax(shape: TableShape, col: ColumnInfo): number {
  return Math.max(0, ...shape.cells.map((row) => Math.abs(num(row[col.index]) ?? 0)));
}

/**
 * The number of people a row's statistics are over: the smallest non-zero count of the
 * row's group-size columns (n, count, patients, ...), or of all its count columns when none
 * is named so (the conservative choice). Undefined when the row has no count.
 */
export function groupSize(shape: TableShape, r: number): number | undefined {
  const counts = shape.columns.filter((c) => c.role === 'count' || (c.alsoCount && c.role !== 'statistic'));
  const named = counts.filter((c) => isGroupSizeHeader(c.name));
  const pool = named.length > 0 ? named : counts;
  const values = pool.flatMap((c) => {
    const v = num(shape.cells[r][c.index]);
    return v === null ? [] : [Math.abs(v)];
  });
  if (values.length === 0) return undefined;
  const positive = values.filter((v) => v > 0);
  return positive.length > 0 ? Math.min(...positive) : 0;
}

/** The grid coordinates of a row's cells: its category values (or its position, with no categories). */
function rowCoords(shape: TableShape, r: number): string[] {
  const cats = shape.columns.filter((c) => c.role === 'category');
  if (cats.length === 0) return [`#${r}`];
  return cats.map((c) => shape.text[r][c.index]);
}

interface GridRef {
  readonly row: number;
  readonly column: string;
}

function buildGrid(shape: TableShape, columns: readonly string[], value: (c: CellValue) => number | null): { cells: GridCell[]; refs: GridRef[] } {
  const cells: GridCell[] = [];
  const refs: GridRef[] = [];
  const totalRows = new Set(shape.totalRows);
  const index = new Map(shape.columns.map((c) => [c.name, c.index]));
  shape.cells.forEach((row, r) => {
    for (const column of columns) {
      cells.push({
        coords: [...rowCoords(shape, r), ...(columns.length > 1 ? [column] : [])],
        value: value(row[index.get(column)!]),
        isTotal: totalRows.has(r) || shape.totalColumns.includes(column),
      });
      refs.push({ row: r, column });
    }
  });
  return { cells, refs };
}

function colIndex(ctx: Ctx, column: string): number {
  return ctx.table.columns.indexOf(column);
}

function suppress(ctx: Ctx, r: number, column: string, rule: RuleId, why: string): boolean {
  const c = colIndex(ctx, column);
  if (ctx.out[r][c] === SUPPRESSED_MARK) return false;
  const from = ctx.table.rows[r][c].trim();
  ctx.out[r][c] = SUPPRESSED_MARK;
  ctx.run.change({ row: r + 1, column, action: 'suppressed', rule, from, to: SUPPRESSED_MARK, why });
  return true;
}

/** Zeros, negatives, missing values and text in a numeric column: each flagged as the settings say. */
function flagCell(ctx: Ctx, r: number, col: ColumnInfo, cell: CellValue, asCount: boolean): void {
  const { run, settings } = ctx;
  const where = [{ row: r + 1, column: col.name }];
  // A blank count can be a zero in disguise (an empty group); a blank statistic is usually
  // "not applicable" (a model's summary row). Written-out NA, NaN or infinity always needs a look.
  if (cell.kind === 'missing' && settings.missingValues === 'review' && (asCount || !cell.blank)) {
    run.find(
      'missing',
      'review',
      col.name,
      where,
      `column "${col.name}" has missing values (${asCount ? 'blank, ' : ''}NA, NaN, null or infinity): a reviewer checks they disclose nothing (an empty group, a division by zero)`,
    );
  } else if (cell.kind === 'text') {
    run.find(
      'mixed_column',
      'review',
      col.name,
      where,
      col.mixed
        ? `column "${col.name}" holds numbers and also text that is not a number or a suppression mark`
        : `column "${col.name}" is checked as a count (the requester named it one) but holds text`,
    );
  } else if (cell.kind === 'number') {
    if (asCount && cell.value < 0 && settings.negativeValues === 'review') {
      run.find(
        'negative',
        'review',
        col.name,
        where,
        `column "${col.name}" has negative values where counts are expected (read by their size for the threshold)`,
      );
    }
    if (asCount && cell.value === 0 && settings.zeros === 'review') {
      run.find(
        'zeros',
        'review',
        col.name,
        where,
        `column "${col.name}" has zero counts: a zero says nobody in the group has the attribute (note why each is safe, e.g. a structural zero)`,
      );
    }
  }
}

function protectCounts(ctx: Ctx): Set<number> {
  const { run, shape, settings } = ctx;
  const suppressedRows = new Set<number>();
  if (shape.countColumns.length === 0) {
    for (const id of ['threshold', 'secondary', 'rounding'] as const) run.set(id, 'not_applicable', 'no count columns');
    return suppressedRows;
  }
  const { suppressionThreshold: threshold, roundingBase: base } = settings;
  const { cells, refs } = buildGrid(shape, shape.countColumns, (c) => (c.kind === 'number' ? Math.abs(c.value) : null));
  const byName = new Map(shape.columns.map((c) => [c.name, c]));
  const primary = new Set<number>();
  let already = 0;
  let fresh = 0;
  cells.forEach((cell, i) => {
    const { row: r, column } = refs[i];
    const col = byName.get(column)!;
    const value = shape.cells[r][col.index];
    flagCell(ctx, r, col, value, true);
    if (value.kind === 'suppressed') {
      primary.add(i);
      already++;
      return;
    }
    if (cell.value === null) return;
    const a = cell.value;
    const small = a > 0 && a <= threshold;
    const roundsInto = !small && isPrimarySuppressed(roundToBase(Math.round(a), base), threshold);
    if (small || roundsInto) {
      primary.add(i);
      fresh++;
      suppress(
        ctx,
        r,
        column,
        'threshold',
        small
          ? `a count from 1 to ${threshold}${value.kind === 'number' && value.value < 0 ? ' (by its size: it is negative)' : ''}`
          : `rounding to the nearest ${base} would give a count from 1 to ${threshold}`,
      );
    }
  });
  run.set(
    'threshold',
    fresh > 0 ? 'changed' : 'passed',
    `${plural(fresh, 'count')} from 1 to ${threshold} suppressed in ${shape.countColumns.map((c) => `"${c}"`).join(', ')}` +
      (already > 0 ? `; ${already} already suppressed by the requester` : ''),
  );

  const secondary = applySecondarySuppression(ctx, { cells, refs }, primary, {
    check: 'secondary',
    unprotectable: (ref) =>
      `the suppressed cell in row ${ref.row + 1}, ${ref.column} is the only suppressed cell of a line with no other cell that could be suppressed to protect it`,
  });
  run.set(
    'secondary',
    secondary.unprotectable.length > 0 ? 'refused' : secondary.steps.length > 0 ? 'changed' : 'passed',
    secondary.steps.length > 0
      ? `${plural(secondary.steps.length, 'more cell')} suppressed so that no row or column has exactly one suppressed cell`
      : 'no row or column has exactly one suppressed cell',
  );
  for (const i of secondary.suppressed) suppressedRows.add(refs[i].row);
  return suppressedRows;
}

function lineName(shape: TableShape, dimension: number): string {
  const cats = shape.categoryColumns;
  if (cats.length === 0) return dimension === 0 ? 'the column total' : 'the row total';
  if (dimension < cats.length) return `the total over "${cats[dimension]}"`;
  return 'the row total across the columns';
}

/**
 * Secondary suppression on one grid (counts or magnitudes): suppresses the complements that
 * keep every primary-suppressed cell from being worked out from a line total, records each
 * as a change, refuses the cells no complement can protect, and writes the marks.
 */
function applySecondarySuppression(
  ctx: Ctx,
  grid: { readonly cells: readonly GridCell[]; readonly refs: readonly GridRef[] },
  primary: ReadonlySet<number>,
  how: { readonly check: 'secondary' | 'nk_dominance'; readonly unprotectable: (ref: GridRef) => string },
): SecondaryResult {
  const { refs } = grid;
  const secondary = secondarySuppression(grid.cells, primary);
  for (const step of secondary.steps) {
    const ref = refs[step.cell];
    const protectedRef = refs[step.protects];
    suppress(
      ctx,
      ref.row,
      ref.column,
      'secondary',
      `otherwise the suppressed cell in row ${protectedRef.row + 1}, ${protectedRef.column} could be worked out from ${lineName(ctx.shape, step.dimension)}`,
    );
  }
  for (const i of secondary.unprotectable) {
    ctx.run.refuse(how.check, 'unprotectable', how.unprotectable(refs[i]), { row: refs[i].row + 1, column: refs[i].column });
  }
  for (const i of secondary.suppressed) ctx.out[refs[i].row][colIndex(ctx, refs[i].column)] = SUPPRESSED_MARK;
  return secondary;
}

function checkStatistics(ctx: Ctx): void {
  const { run, shape, settings } = ctx;
  const threshold = settings.suppressionThreshold;
  const stats = shape.columns.filter((c) => c.role === 'statistic' || (c.role === 'magnitude' && !c.alsoCount));
  if (stats.length === 0) {
    run.set('group_size', 'not_applicable', 'no statistic columns');
    return;
  }
  let suppressed = 0;
  let minMax = 0;
  let numerators = 0;
  for (const col of stats) {
    const noGroup: { row: number; column: string }[] = [];
    shape.cells.forEach((row, r) => {
      const cell = row[col.index];
      if (col.role === 'statistic') flagCell(ctx, r, col, cell, false);
      if (cell.kind !== 'number') return;
      if (col.statistic === 'min_max') {
        if (suppress(ctx, r, col.name, 'min_max', "a minimum or maximum is one person's value")) minMax++;
        return;
      }
      if (col.statistic === 'estimate') return;
      const n = groupSize(shape, r);
      if (n === undefined) {
        noGroup.push({ row: r + 1, column: col.name });
        return;
      }
      if (n === 0) {
        run.find('zeros', 'review', col.name, [{ row: r + 1, column: col.name }], `column "${col.name}" has a value in a row whose group size is 0`);
        return;
      }
      if (n >= 1 && n <= threshold) {
        if (suppress(ctx, r, col.name, 'group_size', `a ${col.statistic ?? 'statistic'} over a group of ${n} (1 to ${threshold} is too few)`)) suppressed++;
        return;
      }
      const v = Math.abs(cell.value);
      if ((col.statistic === 'percentage' || col.statistic === 'proportion' || col.statistic === 'rate') && col.scale !== undefined) {
        // A "share" may be written out of 1 or of 100: every scale the column's values allow is tried.
        const scales = col.statistic === 'rate' ? [col.scale] : [...new Set([col.scale, ...(columnMax(shape, col) <= 1.0001 ? [1] : []), 100])];
        let done = false;
        for (const scale of scales) {
          if (done || v > scale * 1.0001) continue;
          const numerator = Math.round((v * n) / scale);
          const complement = n - numerator;
          if (numerator >= 1 && numerator <= threshold) {
            if (suppress(ctx, r, col.name, 'percentage_numerator', `about ${numerator} of the ${n} people (1 to ${threshold} is too few)`)) numerators++;
            done = true;
          } else if (complement >= 1 && complement <= threshold) {
            if (suppress(ctx, r, col.name, 'percentage_numerator', `all but about ${complement} of the ${n} people (1 to ${threshold} is too few)`))
              numerators++;
            done = true;
          }
        }
        if (!done && (v === 0 || v === col.scale) && settings.zeros === 'review') {
          run.find('zeros', 'review', col.name, [{ row: r + 1, column: col.name }], `column "${col.name}" says nobody or everybody in a group (0 or 100%)`);
        }
      } else if (col.statistic === 'rate') {
        run.find(
          'percentage_numerator',
          'review',
          col.name,
          [{ row: r + 1, column: col.name }],
          `column "${col.name}" is a rate whose base (per 100, per 1000, ...) the header does not say, so its numerator cannot be checked`,
        );
      } else if (col.statistic === 'spread' && v === 0 && settings.zeros === 'review') {
        run.find(
          'zeros',
          'review',
          col.name,
          [{ row: r + 1, column: col.name }],
          `column "${col.name}" has a spread of 0: every value in the group is the same`,
        );
      }
    });
    if (col.role === 'statistic' && col.statistic === 'unknown' && col.decidedBy === 'platform' && !col.alsoCount) {
      run.find(
        'unknown_statistic',
        'review',
        col.name,
        [],
        `column "${col.name}" holds fractions that are not named as a mean, median, percentage, rate or spread: a reviewer says what it is (sde output classify --column "${col.name}" --role statistic --statistic KIND) or checks every value`,
      );
    }
    if (noGroup.length > 0) {
      run.find(
        'no_group_size',
        'review',
        col.name,
        noGroup,
        `column "${col.name}" (${col.statistic ?? 'a statistic'}) has no count in its row saying how many people it is over: add the group size (n) as a column, or a reviewer checks every value`,
      );
    }
  }
  run.set(
    'group_size',
    suppressed > 0 ? 'changed' : 'passed',
    `${plural(suppressed, 'statistic')} over groups of 1 to ${threshold} suppressed in ${stats.map((c) => `"${c.name}"`).join(', ')}`,
  );
  if (numerators > 0 || stats.some((c) => c.statistic === 'percentage' || c.statistic === 'proportion' || c.statistic === 'rate'))
    run.set(
      'percentage_numerator',
      numerators > 0 ? 'changed' : 'passed',
      `${plural(numerators, 'percentage or rate')} of 1 to ${threshold} people (or all but 1 to ${threshold}) suppressed`,
    );
  if (stats.some((c) => c.statistic === 'min_max')) run.set('min_max', minMax > 0 ? 'changed' : 'passed', `${plural(minMax, 'minimum or maximum')} suppressed`);
}

const DOF_LABEL = /^(df|dof|d\.?f\.?|df[ _-]?resid(uals?)?|resid(ual)?[ _-]?df|degrees of freedom|residual degrees of freedom|df residuals?)$/i;
const NOBS_LABEL = /^(n|nobs|no\.? ?observations|observations|number of observations|n obs)$/i;

function checkModelAndSurvival(ctx: Ctx): void {
  const { run, shape, settings, table } = ctx;
  if (shape.kind === 'regression') {
    let dof: number | undefined;
    const dofCols = shape.columns.filter((c) => headerTokens(c.name).some((t) => ['df', 'dof', 'degrees'].includes(t)));
    for (const c of dofCols) for (const row of shape.cells) if (row[c.index].kind === 'number') dof = Math.min(dof ?? Infinity, Math.abs(num(row[c.index])!));
    let nobs: number | undefined;
    shape.cells.forEach((row, r) => {
      const label = shape.text[r].find((t) => t !== '' && readCell(t).kind === 'text');
      const first = row.find((c) => c.kind === 'number');
      if (label === undefined || first?.kind !== 'number') return;
      if (DOF_LABEL.test(label)) dof = Math.min(dof ?? Infinity, Math.abs(first.value));
      if (NOBS_LABEL.test(label)) nobs = first.value;
    });
    const nobsCol = shape.columns.find((c) => headerTokens(c.name).some((t) => ['nobs', 'observations'].includes(t)));
    if (nobs === undefined && nobsCol) for (const row of shape.cells) if (row[nobsCol.index].kind === 'number') nobs = num(row[nobsCol.index])!;
    if (dof === undefined && nobs !== undefined) {
      const estimate = shape.columns.find((c) => c.statistic === 'estimate');
      const params = estimate ? shape.cells.filter((row) => row[estimate.index].kind === 'number').length : 0;
      dof = nobs - params;
    }
    if (dof === undefined) {
      run.set('regression_dof', 'needs_review', 'no residual degrees of freedom in the output');
      run.find(
        'regression_dof',
        'review',
        undefined,
        [],
        'a model output without its residual degrees of freedom (or number of observations): a reviewer checks the model is fitted on enough people',
      );
    } else if (dof < settings.regressionDof) {
      run.set('regression_dof', 'needs_review', `${dof} residual degrees of freedom, below ${settings.regressionDof}`);
      run.find(
        'regression_dof',
        'disclosive',
        undefined,
        [],
        `the model has ${dof} residual degrees of freedom (fewer than ${settings.regressionDof}): its estimates come close to describing individuals`,
      );
    } else {
      run.set('regression_dof', 'passed', `${dof} residual degrees of freedom (at least ${settings.regressionDof})`);
    }
  }
  if (shape.kind === 'survival') {
    const atRisk = shape.columns.find((c) => shape.countColumns.includes(c.name) && headerTokens(c.name).includes('risk'));
    const survival = shape.columns.filter((c) => c.role === 'statistic');
    if (!atRisk) {
      run.set('survival', 'needs_review', 'no number at risk in the table');
      run.find(
        'survival',
        'review',
        undefined,
        [],
        `a survival table without a number-at-risk column: a reviewer checks that no step of the curve is made by 1 to ${settings.survivalThreshold} people`,
      );
    } else {
      let n = 0;
      for (let r = 1; r < shape.cells.length; r++) {
        const before = num(shape.cells[r - 1][atRisk.index]);
        const now = num(shape.cells[r][atRisk.index]);
        if (before === null || now === null) continue;
        const left = Math.abs(before) - Math.abs(now);
        if (left >= 1 && left <= settings.survivalThreshold) {
          for (const c of survival)
            if (suppress(ctx, r, c.name, 'survival', `${left} people left the risk set at this step (1 to ${settings.survivalThreshold})`)) n++;
        }
      }
      run.set(
        'survival',
        n > 0 ? 'changed' : 'passed',
        `${plural(n, 'survival figure')} suppressed at steps where 1 to ${settings.survivalThreshold} people left the risk set`,
      );
    }
  }
  if (shape.kind === 'histogram') {
    const edges = shape.columns.filter((c) => !shape.countColumns.includes(c.name) || c.looksCategorical);
    const last = table.rows.length;
    run.set('histogram', 'needs_review', 'the extreme bin edges are for a reviewer');
    run.find(
      'histogram',
      'review',
      undefined,
      edges.flatMap((c) => [
        { row: 1, column: c.name },
        { row: last, column: c.name },
      ]),
      "a histogram: its first and last bin edges are a minimum and a maximum; a reviewer checks they are not one person's value (top- and bottom-code them)",
    );
  }
}

function linkToSuppressedCounts(ctx: Ctx, rows: ReadonlySet<number>): void {
  const { run, shape } = ctx;
  const linked = shape.columns.filter((c) => (c.role === 'statistic' || c.role === 'magnitude' || c.magnitude) && !shape.countColumns.includes(c.name));
  if (linked.length === 0 || shape.countColumns.length === 0) {
    run.set('linked', 'not_applicable', linked.length === 0 ? 'no magnitude or statistic columns' : 'no count columns');
    return;
  }
  let n = 0;
  for (const r of [...rows].sort((a, b) => a - b)) {
    for (const col of linked) {
      const cell = shape.cells[r][col.index];
      if (cell.kind !== 'number') continue;
      if (suppress(ctx, r, col.name, 'linked', 'a count in the same row is suppressed')) n++;
    }
  }
  run.set('linked', n > 0 ? 'changed' : 'passed', `${plural(n, 'magnitude or statistic cell')} suppressed in rows with a suppressed count`);
}

function decimals(raw: string): number {
  const c = readCell(raw);
  return c.kind === 'number' ? c.decimals : 0;
}

function protectMagnitudes(ctx: Ctx): void {
  const { run, shape, table, settings } = ctx;
  const magnitudes = shape.magnitudeColumns;
  if (magnitudes.length === 0) {
    run.set('nk_dominance', 'not_applicable', 'no magnitude columns');
    return;
  }
  if (!run.input.contributions) {
    run.set('nk_dominance', 'needs_review', 'no contributions were given');
    run.find(
      'magnitude_unchecked',
      'review',
      undefined,
      [],
      `magnitude column(s) ${magnitudes.map((c) => `"${c}"`).join(', ')} (sums of money or amounts) cannot be checked for dominance without the contributions to each cell: submit them with --contributions, or a reviewer judges every cell`,
    );
    return;
  }
  const parsed = parseCsvTable(run.input.contributions, settings.maxFileBytes);
  if (!parsed.ok) {
    run.set('nk_dominance', 'refused', `the contributions file is not usable: ${parsed.reason}`);
    run.refuse('nk_dominance', 'bad_contributions', `the contributions file is not a table that can be read: ${parsed.reason}`);
    return;
  }
  const contrib = parsed.table;
  const lower = contrib.columns.map((c) => normaliseCell(c).toLowerCase());
  const missing = [...shape.categoryColumns, ...magnitudes].filter((c) => !lower.includes(normaliseCell(c).toLowerCase()));
  if (missing.length > 0) {
    run.set('nk_dominance', 'refused', `the contributions file lacks column(s) ${missing.join(', ')}`);
    run.refuse(
      'nk_dominance',
      'bad_contributions',
      `the contributions file must have the table's category columns and magnitude columns; it lacks ${missing.join(', ')}`,
    );
    return;
  }
  const catIdx = shape.categoryColumns.map((c) => lower.indexOf(normaliseCell(c).toLowerCase()));
  const magIdx = new Map(magnitudes.map((c) => [c, lower.indexOf(normaliseCell(c).toLowerCase())]));
  const totalRows = new Set(shape.totalRows);

  // A total row's contributions are every contribution matching its non-total categories.
  const contributionsFor = (r: number, column: string): number[] | { problem: string } => {
    const coords = rowCoords(shape, r);
    const isTotalRow = totalRows.has(r);
    const values: number[] = [];
    for (let i = 0; i < contrib.rows.length; i++) {
      const row = contrib.rows[i];
      const matches = catIdx.every((ci, k) => normaliseCell(row[ci]) === coords[k] || (isTotalRow && isTotalLabel(coords[k])));
      if (!matches) continue;
      const v = numericValue(row[magIdx.get(column)!]);
      if (v === null) return { problem: `contributions row ${i + 1}, ${column}: not a number` };
      values.push(v);
    }
    return values;
  };

  const { cells, refs } = buildGrid(shape, magnitudes, (c) => (c.kind === 'number' ? c.value : null));
  const primary = new Set<number>();
  let sensitive = 0;
  let problems = 0;
  cells.forEach((cell, i) => {
    const { row: r, column } = refs[i];
    const c = colIndex(ctx, column);
    const raw = table.rows[r][c].trim();
    if (ctx.out[r][c] === SUPPRESSED_MARK || readCell(raw).kind === 'suppressed') {
      primary.add(i);
      return;
    }
    if (cell.value === null) return;
    const found = contributionsFor(r, column);
    if (!Array.isArray(found)) {
      problems++;
      run.refuse('nk_dominance', 'bad_contributions', found.problem);
      return;
    }
    const sum = found.reduce((a, b) => a + b, 0);
    const tolerance = 0.5 * 10 ** -decimals(raw) + 1e-9 * Math.abs(cell.value);
    if (found.length === 0 && cell.value !== 0) {
      problems++;
      run.refuse('nk_dominance', 'bad_contributions', `no contributions were given for row ${r + 1}, ${column}`, { row: r + 1, column });
      return;
    }
    if (Math.abs(sum - cell.value) > tolerance) {
      problems++;
      run.refuse('nk_dominance', 'bad_contributions', `the contributions for row ${r + 1}, ${column} do not add up to the value in the table`, {
        row: r + 1,
        column,
      });
      return;
    }
    const result = checkMagnitudeCell(found, {
      n: settings.dominance.n,
      k: settings.dominance.k,
      p: settings.pRatio,
      threshold: settings.suppressionThreshold,
    });
    if (result.negative && settings.negativeValues === 'review') {
      run.find(
        'negative',
        'review',
        column,
        [{ row: r + 1, column }],
        `the contributions to "${column}" include negative values (dominance is judged on their sizes; ACRO sends these to review)`,
      );
    }
    if (result.sensitive) {
      primary.add(i);
      sensitive++;
      const why =
        result.reason === 'magnitude_contributors'
          ? `${plural(result.contributors, 'contributor')} (1 to ${settings.suppressionThreshold} is too few)`
          : result.reason === 'nk_dominance'
            ? `the ${settings.dominance.n} largest contribution${settings.dominance.n === 1 ? '' : 's'} make up ${(result.topShare * 100).toFixed(1)}% of the cell (${settings.dominance.k}% or more)`
            : `the contributions other than the two largest are ${((result.pRatio ?? 0) * 100).toFixed(1)}% of the largest (less than ${settings.pRatio}%)`;
      suppress(ctx, r, column, result.reason!, why);
    }
  });
  if (problems > 0) {
    run.set('nk_dominance', 'refused', `${plural(problems, 'cell')} could not be checked against the contributions`);
    return;
  }
  const secondary = applySecondarySuppression(ctx, { cells, refs }, primary, {
    check: 'nk_dominance',
    unprotectable: (ref) => `the suppressed magnitude cell in row ${ref.row + 1}, ${ref.column} cannot be protected by suppressing another cell of its line`,
  });
  run.set(
    'nk_dominance',
    secondary.unprotectable.length > 0 ? 'refused' : sensitive + secondary.steps.length > 0 ? 'changed' : 'passed',
    `${plural(sensitive, 'sensitive magnitude cell')} (1 to ${settings.suppressionThreshold} contributors, the ${settings.dominance.n} largest at ${settings.dominance.k}% or more, or p-ratio below ${settings.pRatio}%) and ${secondary.steps.length} more to protect them`,
  );
  run.set('p_ratio', 'passed', `applied with the dominance rule (p = ${settings.pRatio}%)`);
}

/** Number words: a count can be written in words as well as digits. */
const NUMBER_WORDS = new Set([
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'single',
  'sole',
  'only',
  'once',
  'twice',
  'couple',
  'few',
  'handful',
  'dozen',
  'none',
  'nobody',
  'noone',
  'unique',
]);

/** A cell that is one of these words alone is a count written in words ("single" alone is a marital status). */
const CARDINALS = new Set([...NUMBER_WORDS].filter((w) => !['single', 'sole', 'only', 'once', 'twice', 'unique', 'few', 'couple', 'handful'].includes(w)));

/** Why a text (a cell or a header) may carry a number or a description past the checks, or undefined. */
function proseReason(text: string, header: boolean): string | undefined {
  const words = textWords(text);
  const numbers = textNumbers(text);
  if (words.length >= (header ? 4 : 5)) return `reads as a sentence (${words.length} words)`;
  if (header) {
    if (/[=:]\s*\d/.test(normaliseCell(text))) return 'gives a number (n=..., x: ...)';
    if (words.length >= 1 && numbers.some((n) => n >= 1 && n <= 10) && !/^[a-z]+(_\d+)+$/i.test(normaliseCell(text))) return 'mixes words and a small number';
    if (words.some((w) => NUMBER_WORDS.has(w)) && words.length >= 2) return 'has a number in words';
    return undefined;
  }
  if (words.length >= 1 && numbers.length >= 1) return 'mixes words and numbers';
  if (/^[<>≤≥]=?\s*\d/.test(normaliseCell(text))) return 'gives a number as a bound (<5): how small a group is';
  if (words.some((w) => NUMBER_WORDS.has(w)) && words.length >= 2) return 'has a number in words';
  if (/^\p{L}+$/u.test(normaliseCell(text)) && CARDINALS.has(words[0])) return 'is a number in words';
  return undefined;
}

function flagTextAndCategories(ctx: Ctx): void {
  const { run, shape, table } = ctx;
  table.columns.forEach((h) => {
    const why = proseReason(h, true);
    if (why) run.find('free_text', 'review', h, [{ row: 0, column: h }], `the header "${normaliseCell(h).slice(0, 60)}" ${why}`, `header:${h}`);
  });
  let texts = 0;
  for (const col of shape.columns) {
    if (col.role !== 'category' && !col.mixed) continue;
    const cells: { row: number; column: string }[] = [];
    let reason: string | undefined;
    shape.cells.forEach((row, r) => {
      if (row[col.index].kind !== 'text') return;
      const why = proseReason(table.rows[r][col.index], false);
      if (why) {
        cells.push({ row: r + 1, column: col.name });
        reason ??= why;
      }
    });
    if (cells.length > 0) {
      texts += cells.length;
      run.find(
        'free_text',
        'review',
        col.name,
        cells,
        `column "${col.name}" has free text (it ${reason}): a count or a description of a person can hide in words; a reviewer reads each cell`,
      );
    }
  }
  const categorical = shape.columns.filter(
    (c) => c.decidedBy === 'platform' && c.role === 'count' && c.looksCategorical && shape.cells.some((row) => row[c.index].kind === 'number'),
  );
  for (const col of categorical) {
    run.find(
      'numeric_category',
      'review',
      col.name,
      [],
      `column "${col.name}" holds numbers, so it was checked as a count (small values suppressed, others rounded), though its name or values suggest a category: if it is one (a year, an age, a code), a reviewer classifies it (sde output classify --column "${col.name}" --role category --reason ...) and the file is checked again`,
    );
  }
  run.set('free_text', texts > 0 ? 'needs_review' : 'passed', `${plural(texts, 'cell')} of free text`);
}

/**
 * Rows whose categories repeat: a table that lists the same group twice counts people by
 * repetition (a listing dressed as a table), whatever its numbers say.
 */
/**
 * A table whose rows are mostly suppressed: each row still shows which combination of
 * categories exists (someone has it), so a sparse table of rare combinations is a listing in
 * all but its counts. Half the rows or more with every count suppressed goes to a reviewer.
 */
function flagSparseTable(ctx: Ctx): void {
  const { run, shape, out } = ctx;
  const counts = shape.countColumns.map((c) => ctx.table.columns.indexOf(c));
  if (counts.length === 0 || shape.categoryColumns.length === 0 || out.length < 4) return;
  const empty = out.flatMap((row, r) => (counts.every((c) => row[c] === SUPPRESSED_MARK) ? [{ row: r + 1, column: shape.countColumns[0] }] : []));
  if (empty.length * 2 >= out.length)
    run.find(
      'row_level',
      'review',
      undefined,
      empty,
      `${empty.length} of ${out.length} rows have every count suppressed: their categories alone show which combinations of people exist (a listing in all but its counts); coarsen the categories`,
      'sparse',
    );
}

function flagRepeatedRows(ctx: Ctx): void {
  const { run, shape } = ctx;
  const cats = shape.columns.filter((c) => c.role === 'category');
  if (cats.length === 0) return;
  const seen = new Map<string, number>();
  const repeated: { row: number; column: string }[] = [];
  shape.text.forEach((row, r) => {
    const key = JSON.stringify(cats.map((c) => row[c.index].toLowerCase()));
    const first = seen.get(key);
    if (first === undefined) seen.set(key, r);
    else repeated.push({ row: r + 1, column: cats[0].name });
  });
  if (repeated.length > 0)
    run.find(
      'row_level',
      'review',
      undefined,
      repeated,
      `${plural(repeated.length, 'row')} repeat${repeated.length === 1 ? 's' : ''} the categories of an earlier row: how often a group appears is itself a count (aggregate the table so each group appears once)`,
      'repeated_rows',
    );
}

/**
 * A total that leaves a small remainder: when a total row (or column) is 1..threshold more
 * than the cells it totals, the table hides a small group that subtraction reveals; the
 * total is suppressed (and secondary suppression is not needed: the group is not shown).
 */
function protectRemainders(ctx: Ctx): void {
  const { shape, settings, table } = ctx;
  const threshold = settings.suppressionThreshold;
  const counts = shape.columns.filter((c) => shape.countColumns.includes(c.name));
  const n = (r: number, c: ColumnInfo) => num(shape.cells[r][c.index]);
  // Total columns, row by row.
  for (const total of counts.filter((c) => shape.totalColumns.includes(c.name))) {
    const parts = counts.filter((c) => !shape.totalColumns.includes(c.name));
    if (parts.length === 0) continue;
    shape.cells.forEach((_, r) => {
      const t = n(r, total);
      const values = parts.map((p) => n(r, p));
      if (t === null || values.some((v) => v === null)) return;
      const rest = Math.abs(t) - values.reduce<number>((a, b) => a + Math.abs(b ?? 0), 0);
      if (rest >= 1 && rest <= threshold)
        suppress(ctx, r, total.name, 'threshold', `the total is ${rest} more than the cells it adds up: a hidden group of 1 to ${threshold}`);
    });
  }
  // Total rows of a table with one category.
  const cats = shape.columns.filter((c) => c.role === 'category');
  if (cats.length !== 1) return;
  const totalRows = new Set(shape.totalRows);
  for (const t of totalRows) {
    for (const c of counts) {
      const tv = n(t, c);
      const values = table.rows
        .map((_, r) => r)
        .filter((r) => !totalRows.has(r))
        .map((r) => n(r, c));
      if (tv === null || values.some((v) => v === null)) continue;
      const rest = Math.abs(tv) - values.reduce<number>((a, b) => a + Math.abs(b ?? 0), 0);
      if (rest >= 1 && rest <= threshold)
        suppress(ctx, t, c.name, 'threshold', `the total is ${rest} more than the rows it adds up: a hidden group of 1 to ${threshold}`);
    }
  }
}

/** The statement and the description leave in the release manifest: numbers in them go to a reviewer. */
function flagRequesterWords(ctx: Ctx): void {
  const words = ctx.run.input.words;
  if (!words) return;
  for (const [what, text] of [
    ['statement', words.statement],
    ['description', words.description],
  ] as const) {
    if (text === undefined) continue;
    const small = textNumbers(text).filter((v) => v >= 1 && v <= ctx.settings.suppressionThreshold);
    if (small.length > 0)
      ctx.run.find(
        'free_text',
        'review',
        undefined,
        [],
        `the request's ${what} (which the release manifest carries out) holds ${small.length === 1 ? 'the small number' : 'the small numbers'} ${small.join(', ')}: a reviewer checks it is not a count`,
        what,
      );
  }
}

function checkDifferencing(ctx: Ctx, current: MemoryTable): void {
  const { run, settings } = ctx;
  const memory = run.input.memory ?? [];
  if (memory.length === 0) {
    run.set('differencing', 'passed', 'nothing released before to compare with');
    return;
  }
  const hits = differencingHits(current, memory, settings.suppressionThreshold);
  hits.forEach((h, i) => run.find('differencing', 'disclosive', undefined, h.cells, h.message, `${i + 1}:${h.source}`));
  run.set(
    'differencing',
    hits.length > 0 ? 'needs_review' : 'passed',
    `compared with ${plural(memory.length, 'earlier table')}: ${plural(hits.length, 'hit')}`,
  );
}

function roundCounts(ctx: Ctx): void {
  const { run, shape, settings, table } = ctx;
  if (shape.countColumns.length === 0) return;
  const base = settings.roundingBase;
  let n = 0;
  for (const column of shape.countColumns) {
    const c = colIndex(ctx, column);
    shape.cells.forEach((row, r) => {
      if (ctx.out[r][c] === SUPPRESSED_MARK) return;
      const cell = row[c];
      if (cell.kind !== 'number') return;
      const sign = cell.value < 0 ? -1 : 1;
      const rounded = sign * roundToBase(Math.round(Math.abs(cell.value)), base);
      const text = String(rounded === 0 ? 0 : rounded);
      ctx.out[r][c] = text;
      if (rounded !== cell.value) {
        n++;
        run.change({ row: r + 1, column, action: 'rounded', rule: 'rounding', from: table.rows[r][c].trim(), to: text, why: `rounded to the nearest ${base}` });
      }
    });
  }
  run.set('rounding', n > 0 ? 'changed' : 'passed', base <= 1 ? 'rounding is off (base 1)' : `${plural(n, 'count')} rounded to the nearest ${base}`);
}

/** Records every cell whose released text differs from what was submitted only in its spelling. */
/** A cell a spreadsheet would run as a formula: = + - @ tab or CR first, unless it is a plain number (`-5`). */
function isFormulaLike(cell: string): boolean {
  return /^[=+\-@\t\r]/.test(cell) && !/^[+-]?\d+(\.\d+)?$/.test(cell);
}

/**
 * Curated data holds values as the supplier sent them (`-`, and text that may start with
 * `=`), so a released CSV is where a formula is made harmless: such a cell gets a leading
 * quote, as query results do (lib/reports/format.ts), and the change is listed.
 */
function neutraliseFormulas(ctx: Ctx): void {
  ctx.out.forEach((row, r) =>
    row.forEach((cell, c) => {
      if (!isFormulaLike(cell)) return;
      row[c] = `'${cell}`;
      ctx.run.change({
        row: r + 1,
        column: ctx.table.columns[c],
        action: 'normalised',
        rule: 'normalised',
        from: cell,
        to: row[c],
        why: 'a spreadsheet would run it as a formula: prefixed with a quote',
      });
    }),
  );
}

function markNormalised(ctx: Ctx): void {
  const changed = new Set(ctx.run.changes.map((c) => `${c.row}\u0000${c.column}`));
  let n = 0;
  ctx.table.rows.forEach((row, r) =>
    row.forEach((raw, c) => {
      const column = ctx.table.columns[c];
      if (changed.has(`${r + 1}\u0000${column}`) || ctx.out[r][c] === raw) return;
      n++;
      ctx.run.change({ row: r + 1, column, action: 'normalised', rule: 'normalised', from: raw, to: ctx.out[r][c], why: 'written in plain form' });
    }),
  );
  if (n > 0) ctx.run.set('normalised', 'changed', `${plural(n, 'cell')} rewritten in plain form`);
}
