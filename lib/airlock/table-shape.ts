/**
 * Which columns of a results table are categories, which are counts, which are
 * magnitudes (sums with known contributions) and which are other statistics, and which
 * rows and columns are totals.
 *
 * The rule (also in lib/airlock/README.md):
 * - Explicit: when the request names count columns and/or magnitude columns, those are
 *   exactly the count and magnitude columns; each must exist, and a count column must
 *   hold whole numbers of zero or more (blank and the suppression marks `[c]` and `*`
 *   are allowed). Of the other columns, numbers with a fraction are statistics and the
 *   rest are categories.
 * - Inferred: a column is a count when every value is a whole number of zero or more
 *   written without leading zeros (codes such as BNF "0208" keep their zeros, so stay
 *   categories), at least one value is present, and its name is not a category name
 *   (year, month, age, band, code, id, lsoa, practice, sex, ...: see CATEGORY_NAME).
 *   A column of numbers with fractions is a statistic (a mean, a rate). Every other
 *   column is a category. When in doubt the rule errs towards "count": a category
 *   wrongly treated as a count is merely rounded, a count wrongly treated as a category
 *   would escape suppression. Name the columns explicitly to override it.
 * - Totals: a category value such as "Total" or "All" marks a margin row; a count column
 *   named "total" (or "all", "overall", "sum", or with a `_total` part) or whose values
 *   equal the sum of at least two other count columns in every row is a total column;
 *   in a table with one category column, a row whose counts equal the sum of all the
 *   other rows is a total row even without a label.
 */
import type { Table } from './csv-table';

/** Marks a researcher may already have used for a suppressed cell, and the one we write. */
export const SUPPRESSED_MARK = '[c]';
/**
 * `[c]` is the Government Statistical Service's symbol for "confidential information"
 * (GSS Analysis Function guidance on symbols in tables), so a reader of the output knows
 * the cell was withheld rather than missing.
 */
const ALREADY_SUPPRESSED = new Set([SUPPRESSED_MARK, '*', 'c']);

const WHOLE_NUMBER = /^(0|[1-9]\d*)$/;
const NUMBER_WITH_FRACTION = /^-?\d*\.\d+$|^-?\d+\.\d*$|^-?\d+(\.\d+)?[eE][-+]?\d+$/;
const ANY_NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

const CATEGORY_NAME =
  /(^|_)(year|yr|month|week|day|date|quarter|period|age|ageband|band|code|id|lsoa|msoa|oa|ward|icb|sicbl|pcn|practice|region|sex|gender|ethnicity|group|category|chapter|level|rank|decile|quintile|imd|bnf|icd10|opcs4|snomed)($|_)/i;

const TOTAL_LABEL = /^(total|totals|all|overall|grand total|all persons|all people|all ages|sum)$/i;
const TOTAL_COLUMN_NAME = /^(total|totals|all|overall|sum)$|(^|_)total($|_)/i;

export interface TableSpec {
  /** Count columns named by the requester; when given (or magnitudeColumns is), nothing is inferred. */
  readonly countColumns?: readonly string[];
  /** Magnitude columns (sums over contributors), checked with the dominance rule. */
  readonly magnitudeColumns?: readonly string[];
}

export interface TableShape {
  readonly classification: 'explicit' | 'inferred';
  readonly categoryColumns: readonly string[];
  readonly countColumns: readonly string[];
  readonly magnitudeColumns: readonly string[];
  readonly statisticColumns: readonly string[];
  /** Count columns that total other count columns. */
  readonly totalColumns: readonly string[];
  /** 0-based data rows that are margins (totals) along some category. */
  readonly totalRows: readonly number[];
  /** How each total was recognised, for the report. */
  readonly notes: readonly string[];
  /** Reasons the requested classification cannot be used; non-empty refuses the file. */
  readonly problems: readonly string[];
}

/** A category value that marks a margin row ("Total", "All", ...). */
export function isTotalLabel(value: string): boolean {
  return TOTAL_LABEL.test(value.trim());
}

export function isSuppressedMark(value: string): boolean {
  return ALREADY_SUPPRESSED.has(value.trim());
}

/** A count cell's number, or null for a blank or an already-suppressed cell. */
export function countValue(value: string): number | null {
  const v = value.trim();
  return WHOLE_NUMBER.test(v) ? Number(v) : null;
}

export function numericValue(value: string): number | null {
  const v = value.trim();
  return ANY_NUMBER.test(v) ? Number(v) : null;
}

function columnValues(table: Table, c: number): string[] {
  return table.rows.map((row) => row[c].trim());
}

function isCountLike(values: readonly string[]): boolean {
  const present = values.filter((v) => v !== '' && !isSuppressedMark(v));
  return present.length > 0 && present.every((v) => WHOLE_NUMBER.test(v));
}

function isStatistic(values: readonly string[]): boolean {
  const present = values.filter((v) => v !== '' && !isSuppressedMark(v));
  return present.length > 0 && present.every((v) => ANY_NUMBER.test(v)) && present.some((v) => NUMBER_WITH_FRACTION.test(v) || v.startsWith('-'));
}

export function classifyTable(table: Table, spec: TableSpec = {}): TableShape {
  const problems: string[] = [];
  const explicit = spec.countColumns !== undefined || spec.magnitudeColumns !== undefined;
  const byName = new Map(table.columns.map((c, i) => [c.toLowerCase(), i]));
  const resolve = (names: readonly string[] | undefined, what: string): string[] =>
    (names ?? []).flatMap((name) => {
      const i = byName.get(name.trim().toLowerCase());
      if (i === undefined) {
        problems.push(`the request names ${what} column "${name}", which the table does not have (its columns: ${table.columns.join(', ')})`);
        return [];
      }
      return [table.columns[i]];
    });

  let countColumns: string[];
  let magnitudeColumns: string[];
  if (explicit) {
    countColumns = resolve(spec.countColumns, 'count');
    magnitudeColumns = resolve(spec.magnitudeColumns, 'magnitude');
    for (const c of countColumns) {
      if (magnitudeColumns.includes(c)) problems.push(`column "${c}" is named both a count and a magnitude column`);
      const values = columnValues(table, table.columns.indexOf(c));
      const bad = values.findIndex((v) => v !== '' && !isSuppressedMark(v) && !WHOLE_NUMBER.test(v));
      if (bad >= 0) problems.push(`count column "${c}" holds something other than a whole number of zero or more in data row ${bad + 1}`);
    }
    for (const c of magnitudeColumns) {
      const values = columnValues(table, table.columns.indexOf(c));
      const bad = values.findIndex((v) => v !== '' && !isSuppressedMark(v) && numericValue(v) === null);
      if (bad >= 0) problems.push(`magnitude column "${c}" holds something other than a number in data row ${bad + 1}`);
    }
  } else {
    countColumns = table.columns.filter((c, i) => !CATEGORY_NAME.test(c) && isCountLike(columnValues(table, i)));
    magnitudeColumns = [];
  }
  const taken = new Set([...countColumns, ...magnitudeColumns]);
  const statisticColumns = table.columns.filter((c, i) => !taken.has(c) && isStatistic(columnValues(table, i)));
  const categoryColumns = table.columns.filter((c) => !taken.has(c) && !statisticColumns.includes(c));

  const notes: string[] = [];
  const totalColumns = detectTotalColumns(table, countColumns, notes);
  const totalRows = detectTotalRows(table, categoryColumns, countColumns, notes);

  return {
    classification: explicit ? 'explicit' : 'inferred',
    categoryColumns,
    countColumns,
    magnitudeColumns,
    statisticColumns,
    totalColumns,
    totalRows,
    notes,
    problems,
  };
}

function detectTotalColumns(table: Table, countColumns: readonly string[], notes: string[]): string[] {
  const totals: string[] = [];
  for (const col of countColumns) {
    if (TOTAL_COLUMN_NAME.test(col)) {
      totals.push(col);
      notes.push(`column "${col}" is a total column (by its name)`);
      continue;
    }
    const others = countColumns.filter((c) => c !== col && !TOTAL_COLUMN_NAME.test(c));
    if (others.length < 2) continue;
    const ci = table.columns.indexOf(col);
    const oi = others.map((c) => table.columns.indexOf(c));
    const sums = table.rows.every((row) => {
      const total = countValue(row[ci]);
      const parts = oi.map((i) => countValue(row[i]));
      return total !== null && parts.every((p) => p !== null) && parts.reduce((a, b) => a! + b!, 0) === total;
    });
    if (sums) {
      totals.push(col);
      notes.push(`column "${col}" is a total column (in every row it equals the sum of ${others.map((o) => `"${o}"`).join(', ')})`);
    }
  }
  return totals;
}

function detectTotalRows(table: Table, categoryColumns: readonly string[], countColumns: readonly string[], notes: string[]): number[] {
  const rows = new Set<number>();
  const catIdx = categoryColumns.map((c) => table.columns.indexOf(c));
  table.rows.forEach((row, r) => {
    const labelled = catIdx.filter((i) => TOTAL_LABEL.test(row[i].trim()));
    if (labelled.length > 0) {
      rows.add(r);
      notes.push(`data row ${r + 1} is a total row (labelled in ${labelled.map((i) => `"${table.columns[i]}"`).join(', ')})`);
    }
  });
  // An unlabelled grand total in a one-way table: its counts are the sum of all other rows.
  if (catIdx.length === 1 && countColumns.length > 0 && rows.size === 0 && table.rows.length >= 3) {
    const cols = countColumns.map((c) => table.columns.indexOf(c));
    for (const candidate of [table.rows.length - 1, 0]) {
      const matches = cols.every((ci) => {
        const total = countValue(table.rows[candidate][ci]);
        if (total === null) return false;
        let sum = 0;
        for (let r = 0; r < table.rows.length; r++) {
          if (r === candidate) continue;
          const v = countValue(table.rows[r][ci]);
          if (v === null) return false;
          sum += v;
        }
        return sum === total;
      });
      if (matches) {
        rows.add(candidate);
        notes.push(`data row ${candidate + 1} is a total row (its counts equal the sum of all the other rows)`);
        break;
      }
    }
  }
  return [...rows].sort((a, b) => a - b);
}
