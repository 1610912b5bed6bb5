/**
 * The disclosure check of one output file: every rule in order, and the checked file that
 * may be released. Pure: bytes in, result and report out.
 *
 * Order matters:
 * 1. the file must be a table (csv-table.ts) within the size limit;
 * 2. its columns are classified (table-shape.ts);
 * 3. row-level output is refused outright (identifiers.ts);
 * 4. counts: primary suppression (1..threshold, and any count that rounding would carry
 *    into 1..threshold), then secondary suppression on the count grid;
 * 5. linked cells: magnitudes and statistics in a row whose count is suppressed are
 *    suppressed too (a mean over 3 people discloses as much as the 3);
 * 6. magnitudes: too few contributors or dominance (n, k), then secondary suppression on
 *    the magnitude grid;
 * 7. the remaining counts are rounded. Rounding comes last so that secondary suppression
 *    chooses complements by the true values.
 */
import { createHash } from 'node:crypto';
import { formatCsvTable, parseCsvTable, type Table } from './csv-table';
import { checkMagnitudeCell } from './dominance';
import { rowLevelFindings } from './identifiers';
import type { CellChange, CheckEntry, CheckSettings, FileDigest, FileOutcome, FileReport, RefusalEntry } from './report';
import type { AirlockSettings } from '../config/airlock-settings';
import { GridCell, isPrimarySuppressed, roundToBase, secondarySuppression, type SecondaryResult } from './suppression';
import { classifyTable, countValue, isSuppressedMark, isTotalLabel, numericValue, SUPPRESSED_MARK, type TableShape, type TableSpec } from './table-shape';

export interface FileCheckInput {
  /** The file's name (for the report). */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Column roles named by the requester; absent: inferred. */
  readonly spec?: TableSpec;
  /**
   * For a magnitude table: a CSV with the table's category columns and the magnitude
   * columns, one row per contributor to a cell. Never released.
   */
  readonly contributions?: Uint8Array;
}

export interface FileCheckResult {
  readonly outcome: FileOutcome;
  /** The file that may be released: the input bytes when unchanged; absent when refused. */
  readonly output?: Uint8Array;
  readonly report: FileReport;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function digest(bytes: Uint8Array): FileDigest {
  return { bytes: bytes.length, sha256: sha256Hex(bytes) };
}

const TITLES = {
  file_format: 'file is a table',
  table_shape: 'column roles',
  row_level: 'no row-level output',
  primary_suppression: 'primary suppression',
  secondary_suppression: 'secondary suppression',
  rounding: 'rounding',
  dominance: 'magnitude cells (contributors and dominance)',
  linked_cells: 'cells linked to suppressed counts',
  statistics: 'other statistics',
} as const;

type Checks = { -readonly [K in keyof typeof TITLES]?: Omit<CheckEntry, 'id' | 'title'> };

/** Mutable working state of one check run. */
class Run {
  readonly checks: Checks = {};
  readonly changes: CellChange[] = [];
  readonly refusals: RefusalEntry[] = [];
  readonly warnings: string[] = [];
  constructor(
    readonly input: FileCheckInput,
    readonly settings: AirlockSettings,
  ) {}

  set(id: keyof typeof TITLES, outcome: CheckEntry['outcome'], summary: string): void {
    this.checks[id] = { outcome, summary };
  }

  refuse(check: keyof typeof TITLES, rule: string, reason: string, where: { column?: string; row?: number } = {}): void {
    this.refusals.push({ check, rule, reason, ...where });
  }

  result(shape: TableShape | undefined, table: Table | undefined, output: Uint8Array | undefined): FileCheckResult {
    const refused = this.refusals.length > 0;
    const outcome: FileOutcome = refused ? 'refused' : this.changes.length > 0 ? 'changed' : 'unchanged';
    const checks: CheckEntry[] = (Object.keys(TITLES) as (keyof typeof TITLES)[])
      .filter((id) => this.checks[id] !== undefined)
      .map((id) => ({ id, title: TITLES[id], ...this.checks[id]! }));
    const { reviewers: _reviewers, ...settings } = this.settings;
    const released = refused ? undefined : output;
    const report: FileReport = {
      reportVersion: 1,
      file: this.input.name,
      outcome,
      input: digest(this.input.bytes),
      ...(released ? { output: digest(released) } : {}),
      settings: settings as CheckSettings,
      ...(shape && table
        ? {
            table: {
              rows: table.rows.length,
              columns: [...table.columns],
              classification: shape.classification,
              categoryColumns: [...shape.categoryColumns],
              countColumns: [...shape.countColumns],
              magnitudeColumns: [...shape.magnitudeColumns],
              statisticColumns: [...shape.statisticColumns],
              totals: [...shape.notes],
            },
          }
        : {}),
      checks,
      // A refused file releases nothing, so its would-be changes would only confuse.
      changes: refused ? [] : [...this.changes].sort((a, b) => a.row - b.row || a.column.localeCompare(b.column)),
      refusals: this.refusals,
      warnings: this.warnings,
    };
    return { outcome, output: released, report };
  }
}

export function checkOutputFile(input: FileCheckInput, settings: AirlockSettings): FileCheckResult {
  const run = new Run(input, settings);
  const parsed = parseCsvTable(input.bytes, settings.maxFileBytes);
  if (!parsed.ok) {
    run.set('file_format', 'refused', parsed.reason);
    run.refuse('file_format', parsed.code, `not a table that can be checked: ${parsed.reason}`);
    return run.result(undefined, undefined, undefined);
  }
  const table = parsed.table;
  run.set(
    'file_format',
    'passed',
    `a table of ${table.rows.length} data row${table.rows.length === 1 ? '' : 's'} and ${table.columns.length} column${table.columns.length === 1 ? '' : 's'}`,
  );

  const shape = classifyTable(table, input.spec);
  if (shape.problems.length > 0) {
    run.set('table_shape', 'refused', shape.problems.join('; '));
    for (const p of shape.problems) run.refuse('table_shape', 'column_roles', p);
    return run.result(shape, table, undefined);
  }
  run.set(
    'table_shape',
    'passed',
    `${shape.classification}: ${shape.countColumns.length} count, ${shape.magnitudeColumns.length} magnitude, ${shape.statisticColumns.length} statistic, ${shape.categoryColumns.length} category column(s)` +
      (shape.notes.length > 0 ? `; ${shape.notes.length} total(s) found` : ''),
  );

  const findings = rowLevelFindings(table, { aggregateColumns: [...shape.countColumns, ...shape.magnitudeColumns], minRows: settings.rowLevelMinRows });
  if (findings.length > 0) {
    run.set('row_level', 'refused', `${findings.length} sign${findings.length === 1 ? '' : 's'} of row-level (per-person) output`);
    for (const f of findings) run.refuse('row_level', f.rule, f.reason, { column: f.column, ...(f.row === undefined ? {} : { row: f.row }) });
    return run.result(shape, table, undefined);
  }
  run.set('row_level', 'passed', 'no identifiers, pseudonyms, full postcodes, dates of birth or one-row-per-person listing found');

  const cells: string[][] = table.rows.map((row) => [...row]);
  const countSuppressedRows = protectCounts(run, table, shape, cells);
  linkToSuppressedCounts(run, table, shape, cells, countSuppressedRows);
  protectMagnitudes(run, table, shape, cells);
  roundCounts(run, table, shape, cells);

  if (shape.statisticColumns.length > 0) {
    run.set(
      'statistics',
      'needs_review',
      `${shape.statisticColumns.join(', ')}: not checked automatically; reviewers check each is computed over more than ${settings.suppressionThreshold} people`,
    );
    run.warnings.push(
      `statistic column(s) ${shape.statisticColumns.map((c) => `"${c}"`).join(', ')} (means, rates, ...) are not checked automatically: check that none is computed over ${settings.suppressionThreshold} people or fewer, or name them as magnitude columns with their contributions`,
    );
  }
  if (shape.countColumns.length === 0 && shape.magnitudeColumns.length === 0) {
    run.warnings.push('the table has no count or magnitude column, so nothing was suppressed: the reviewers must judge it as a whole');
  }
  if (run.refusals.length > 0) return run.result(shape, table, undefined);
  const changed = run.changes.length > 0;
  const output = changed ? new TextEncoder().encode(formatCsvTable({ columns: table.columns, rows: cells })) : input.bytes;
  return run.result(shape, table, output);
}

/** The grid coordinates of a row's cells: its category values (or its position, with no categories). */
function rowCoords(table: Table, shape: TableShape, r: number): string[] {
  if (shape.categoryColumns.length === 0) return [`#${r}`];
  return shape.categoryColumns.map((c) => table.rows[r][table.columns.indexOf(c)].trim());
}

interface GridRef {
  readonly row: number;
  readonly column: string;
}

function buildGrid(table: Table, shape: TableShape, columns: readonly string[], value: (raw: string) => number | null): { cells: GridCell[]; refs: GridRef[] } {
  const cells: GridCell[] = [];
  const refs: GridRef[] = [];
  const totalRows = new Set(shape.totalRows);
  table.rows.forEach((row, r) => {
    for (const column of columns) {
      const raw = row[table.columns.indexOf(column)];
      cells.push({
        coords: [...rowCoords(table, shape, r), ...(columns.length > 1 ? [column] : [])],
        value: value(raw),
        isTotal: totalRows.has(r) || shape.totalColumns.includes(column),
      });
      refs.push({ row: r, column });
    }
  });
  return { cells, refs };
}

function protectCounts(run: Run, table: Table, shape: TableShape, out: string[][]): Set<number> {
  const suppressedRows = new Set<number>();
  const none = shape.countColumns.length === 0;
  if (none) {
    for (const id of ['primary_suppression', 'secondary_suppression', 'rounding'] as const) run.set(id, 'not_applicable', 'no count columns');
    return suppressedRows;
  }
  const { threshold, base } = { threshold: run.settings.suppressionThreshold, base: run.settings.roundingBase };
  const { cells, refs } = buildGrid(table, shape, shape.countColumns, countValue);
  const primary = new Set<number>();
  let alreadySuppressed = 0;
  cells.forEach((cell, i) => {
    const raw = table.rows[refs[i].row][table.columns.indexOf(refs[i].column)];
    if (isSuppressedMark(raw)) {
      primary.add(i);
      alreadySuppressed++;
      return;
    }
    if (cell.value === null) return;
    const roundsInto = isPrimarySuppressed(roundToBase(cell.value, base), threshold);
    if (isPrimarySuppressed(cell.value, threshold) || roundsInto) {
      primary.add(i);
      run.changes.push({
        row: refs[i].row + 1,
        column: refs[i].column,
        action: 'suppressed',
        rule: 'primary',
        from: raw.trim(),
        to: SUPPRESSED_MARK,
        why: isPrimarySuppressed(cell.value, threshold)
          ? `a count from 1 to ${threshold}`
          : `rounding to the nearest ${base} would give a count from 1 to ${threshold}`,
      });
    }
  });
  const fresh = primary.size - alreadySuppressed;
  run.set(
    'primary_suppression',
    fresh > 0 ? 'changed' : 'passed',
    `${fresh} count${fresh === 1 ? '' : 's'} from 1 to ${threshold} suppressed` +
      (alreadySuppressed > 0 ? `; ${alreadySuppressed} already suppressed by the requester` : ''),
  );

  const secondary = applySecondarySuppression(run, table, shape, out, { cells, refs }, primary, {
    check: 'secondary_suppression',
    unprotectable: (ref) =>
      `the suppressed cell in row ${ref.row + 1}, ${ref.column} is the only suppressed cell of a line with no other cell that could be suppressed to protect it`,
  });
  run.set(
    'secondary_suppression',
    secondary.unprotectable.length > 0 ? 'refused' : secondary.steps.length > 0 ? 'changed' : 'passed',
    secondary.steps.length > 0
      ? `${secondary.steps.length} more cell${secondary.steps.length === 1 ? '' : 's'} suppressed so that no row or column has exactly one suppressed cell`
      : 'no row or column has exactly one suppressed cell',
  );
  for (const i of secondary.suppressed) suppressedRows.add(refs[i].row);
  return suppressedRows;
}

function lineName(shape: TableShape, dimension: number): string {
  if (shape.categoryColumns.length === 0) return dimension === 0 ? 'the column total' : 'the row total';
  if (dimension < shape.categoryColumns.length) return `the total over "${shape.categoryColumns[dimension]}"`;
  return 'the row total across the columns';
}

/**
 * Secondary suppression on one grid (counts or magnitudes): suppresses the complements that
 * keep every primary-suppressed cell from being worked out from a line total, records each
 * as a change, refuses the cells no complement can protect, and writes the marks into `out`.
 */
function applySecondarySuppression(
  run: Run,
  table: Table,
  shape: TableShape,
  out: string[][],
  grid: { readonly cells: readonly GridCell[]; readonly refs: readonly GridRef[] },
  primary: ReadonlySet<number>,
  how: { readonly check: 'secondary_suppression' | 'dominance'; readonly unprotectable: (ref: GridRef) => string },
): SecondaryResult {
  const { refs } = grid;
  const secondary = secondarySuppression(grid.cells, primary);
  for (const step of secondary.steps) {
    const ref = refs[step.cell];
    const protectedRef = refs[step.protects];
    run.changes.push({
      row: ref.row + 1,
      column: ref.column,
      action: 'suppressed',
      rule: 'secondary',
      from: table.rows[ref.row][table.columns.indexOf(ref.column)].trim(),
      to: SUPPRESSED_MARK,
      why: `otherwise the suppressed cell in row ${protectedRef.row + 1}, ${protectedRef.column} could be worked out from ${lineName(shape, step.dimension)}`,
    });
  }
  for (const i of secondary.unprotectable) {
    run.refuse(how.check, 'unprotectable', how.unprotectable(refs[i]), { row: refs[i].row + 1, column: refs[i].column });
  }
  for (const i of secondary.suppressed) out[refs[i].row][table.columns.indexOf(refs[i].column)] = SUPPRESSED_MARK;
  return secondary;
}

function linkToSuppressedCounts(run: Run, table: Table, shape: TableShape, out: string[][], rows: ReadonlySet<number>): void {
  const linked = [...shape.magnitudeColumns, ...shape.statisticColumns];
  if (linked.length === 0 || shape.countColumns.length === 0) {
    run.set('linked_cells', 'not_applicable', linked.length === 0 ? 'no magnitude or statistic columns' : 'no count columns');
    return;
  }
  let n = 0;
  for (const r of [...rows].sort((a, b) => a - b)) {
    for (const column of linked) {
      const c = table.columns.indexOf(column);
      const raw = table.rows[r][c].trim();
      if (raw === '' || isSuppressedMark(raw)) continue;
      out[r][c] = SUPPRESSED_MARK;
      n++;
      run.changes.push({
        row: r + 1,
        column,
        action: 'suppressed',
        rule: 'linked',
        from: raw,
        to: SUPPRESSED_MARK,
        why: 'a count in the same row is suppressed',
      });
    }
  }
  run.set('linked_cells', n > 0 ? 'changed' : 'passed', `${n} magnitude or statistic cell${n === 1 ? '' : 's'} suppressed in rows with a suppressed count`);
}

function decimals(raw: string): number {
  const m = /\.(\d+)/.exec(raw);
  return m ? m[1].length : 0;
}

function protectMagnitudes(run: Run, table: Table, shape: TableShape, out: string[][]): void {
  if (shape.magnitudeColumns.length === 0) {
    run.set('dominance', 'not_applicable', 'no magnitude columns');
    return;
  }
  if (!run.input.contributions) {
    run.set('dominance', 'refused', 'no contributions were given');
    run.refuse(
      'dominance',
      'no_contributions',
      `magnitude column(s) ${shape.magnitudeColumns.join(', ')} cannot be checked without the contributions to each cell: submit them with the request`,
    );
    return;
  }
  const parsed = parseCsvTable(run.input.contributions, run.settings.maxFileBytes);
  if (!parsed.ok) {
    run.set('dominance', 'refused', `the contributions file is not usable: ${parsed.reason}`);
    run.refuse('dominance', 'bad_contributions', `the contributions file is not a table that can be read: ${parsed.reason}`);
    return;
  }
  const contrib = parsed.table;
  const lower = contrib.columns.map((c) => c.toLowerCase());
  const missing = [...shape.categoryColumns, ...shape.magnitudeColumns].filter((c) => !lower.includes(c.toLowerCase()));
  if (missing.length > 0) {
    run.set('dominance', 'refused', `the contributions file lacks column(s) ${missing.join(', ')}`);
    run.refuse(
      'dominance',
      'bad_contributions',
      `the contributions file must have the table's category columns and magnitude columns; it lacks ${missing.join(', ')}`,
    );
    return;
  }
  const catIdx = shape.categoryColumns.map((c) => lower.indexOf(c.toLowerCase()));
  const magIdx = new Map(shape.magnitudeColumns.map((c) => [c, lower.indexOf(c.toLowerCase())]));
  const totalRows = new Set(shape.totalRows);

  // A total row's contributions are every contribution matching its non-total categories.
  const contributionsFor = (r: number, column: string): number[] | { problem: string } => {
    const coords = rowCoords(table, shape, r);
    const isTotalRow = totalRows.has(r);
    const values: number[] = [];
    for (let i = 0; i < contrib.rows.length; i++) {
      const row = contrib.rows[i];
      const matches = catIdx.every((ci, k) => row[ci].trim() === coords[k] || (isTotalRow && isTotalLabel(coords[k])));
      if (!matches) continue;
      const v = numericValue(row[magIdx.get(column)!]);
      if (v === null) return { problem: `contributions row ${i + 1}, ${column}: not a number` };
      values.push(v);
    }
    return values;
  };

  const { cells, refs } = buildGrid(table, shape, shape.magnitudeColumns, numericValue);
  const primary = new Set<number>();
  let sensitive = 0;
  let problems = 0;
  cells.forEach((cell, i) => {
    const { row: r, column } = refs[i];
    const raw = table.rows[r][table.columns.indexOf(column)].trim();
    if (out[r][table.columns.indexOf(column)] === SUPPRESSED_MARK || isSuppressedMark(raw)) {
      primary.add(i);
      return;
    }
    if (cell.value === null) return;
    const found = contributionsFor(r, column);
    if (!Array.isArray(found)) {
      problems++;
      run.refuse('dominance', 'bad_contributions', found.problem);
      return;
    }
    const sum = found.reduce((a, b) => a + b, 0);
    const tolerance = 0.5 * 10 ** -decimals(raw) + 1e-9 * Math.abs(cell.value);
    if (found.length === 0 && cell.value !== 0) {
      problems++;
      run.refuse('dominance', 'bad_contributions', `no contributions were given for row ${r + 1}, ${column}`, { row: r + 1, column });
      return;
    }
    if (Math.abs(sum - cell.value) > tolerance) {
      problems++;
      run.refuse('dominance', 'bad_contributions', `the contributions for row ${r + 1}, ${column} do not add up to the value in the table`, {
        row: r + 1,
        column,
      });
      return;
    }
    const result = checkMagnitudeCell(found, { n: run.settings.dominance.n, k: run.settings.dominance.k, threshold: run.settings.suppressionThreshold });
    if (result.sensitive) {
      primary.add(i);
      sensitive++;
      run.changes.push({
        row: r + 1,
        column,
        action: 'suppressed',
        rule: result.reason!,
        from: raw,
        to: SUPPRESSED_MARK,
        why:
          result.reason === 'too_few_contributors'
            ? `${result.contributors} contributor${result.contributors === 1 ? '' : 's'} (1 to ${run.settings.suppressionThreshold} is too few)`
            : `the ${run.settings.dominance.n} largest contribution${run.settings.dominance.n === 1 ? '' : 's'} make up ${(result.topShare * 100).toFixed(1)}% of the cell (more than ${run.settings.dominance.k}%)`,
      });
    }
  });
  if (problems > 0) {
    run.set('dominance', 'refused', `${problems} cell${problems === 1 ? '' : 's'} could not be checked against the contributions`);
    return;
  }
  const secondary = applySecondarySuppression(run, table, shape, out, { cells, refs }, primary, {
    check: 'dominance',
    unprotectable: (ref) => `the suppressed magnitude cell in row ${ref.row + 1}, ${ref.column} cannot be protected by suppressing another cell of its line`,
  });
  run.set(
    'dominance',
    secondary.unprotectable.length > 0 ? 'refused' : sensitive + secondary.steps.length > 0 ? 'changed' : 'passed',
    `${sensitive} sensitive magnitude cell${sensitive === 1 ? '' : 's'} (fewer than ${run.settings.suppressionThreshold + 1} contributors, or the ${run.settings.dominance.n} largest over ${run.settings.dominance.k}%) and ${secondary.steps.length} more to protect them`,
  );
}

function roundCounts(run: Run, table: Table, shape: TableShape, out: string[][]): void {
  if (shape.countColumns.length === 0) return;
  const base = run.settings.roundingBase;
  let n = 0;
  table.rows.forEach((row, r) => {
    for (const column of shape.countColumns) {
      const c = table.columns.indexOf(column);
      if (out[r][c] === SUPPRESSED_MARK) continue;
      const value = countValue(row[c]);
      if (value === null) continue;
      const rounded = roundToBase(value, base);
      if (String(rounded) !== row[c].trim()) {
        out[r][c] = String(rounded);
        n++;
        run.changes.push({
          row: r + 1,
          column,
          action: 'rounded',
          rule: 'rounding',
          from: row[c].trim(),
          to: String(rounded),
          why: `rounded to the nearest ${base}`,
        });
      }
    }
  });
  run.set('rounding', n > 0 ? 'changed' : 'passed', base <= 1 ? 'rounding is off (base 1)' : `${n} count${n === 1 ? '' : 's'} rounded to the nearest ${base}`);
}
