/**
 * What each column of a results table is, decided by the platform from the data, and which
 * rows and columns are totals.
 *
 * The rule (also in lib/airlock/README.md):
 * - Every cell is read after normalisation (numbers.ts): `1.0`, `3e0`, `01`, `1,204`,
 *   `-3`, full-width or Arabic-Indic digits are numbers.
 * - A column holding any number is a measure; a column holding none is a category.
 * - A measure is a **count** unless the platform recognises it as a statistic: by its
 *   content (fractions, a percent sign) or by its header (mean, median, pct, rate, sd,
 *   min, max, ...). A header only ever adds checks: a statistic-named column of whole
 *   numbers is checked as a count and as a statistic.
 * - The requester's labels (`--count-columns`, `--magnitude-columns`) only add checks: a
 *   column named a count is checked as a count as well as whatever the platform decided;
 *   a magnitude column gets the dominance checks on top.
 * - Only a reviewer can classify a column otherwise (say a numeric `year` as a category),
 *   with a reason that the request, the report and the release manifest record.
 * - Totals: a category value such as "Total" or "All" marks a margin row; a count column
 *   named "total" (or with a `_total` part) or equal to the sum of two or more other count
 *   columns in every row is a total column; in a table with one category column, a row
 *   whose counts equal the sum of all the other rows is a total row even without a label.
 */
import type { Table } from './csv-table';
import { normaliseCell, readCell, type CellValue } from './numbers';

/** The mark written for a suppressed cell: GSS's symbol for "confidential". */
export const SUPPRESSED_MARK = '[c]';

export const COLUMN_ROLES = ['category', 'count', 'statistic', 'magnitude'] as const;
export type ColumnRole = (typeof COLUMN_ROLES)[number];

export const STATISTIC_KINDS = ['mean', 'median', 'percentage', 'proportion', 'rate', 'spread', 'min_max', 'estimate', 'unknown'] as const;
export type StatisticKind = (typeof STATISTIC_KINDS)[number];

/** What the requester says about the columns: labels that can only add checks. */
export interface TableSpec {
  /** Columns the requester says are counts: checked as counts as well. */
  readonly countColumns?: readonly string[];
  /** Columns the requester says are magnitudes (sums over contributors): the dominance checks are added. */
  readonly magnitudeColumns?: readonly string[];
}

/** A reviewer's decision about one column: the only way a column becomes less strictly checked. */
export interface ReviewerClassification {
  readonly column: string;
  readonly role: ColumnRole;
  /** For role statistic: which kind (its checks depend on it). */
  readonly statistic?: StatisticKind;
  readonly reviewer: string;
  readonly time: string;
  readonly reason: string;
}

export interface ColumnInfo {
  readonly name: string;
  readonly index: number;
  readonly role: ColumnRole;
  readonly statistic?: StatisticKind;
  /** For percentages and rates: what the value is per (100, 1000, ...); 1 for proportions. */
  readonly scale?: number;
  /** A statistic-named column of whole numbers: checked as a count too. */
  readonly alsoCount: boolean;
  /** A magnitude (sum): the dominance checks apply. */
  readonly magnitude: boolean;
  /** A numeric column whose name or values look like a category (year, age, code, ...). */
  readonly looksCategorical: boolean;
  /** Some cells are numbers and some text. */
  readonly mixed: boolean;
  readonly decidedBy: 'platform' | 'reviewer';
  /** Why the column has its role, for the report. */
  readonly why: string;
}

export type TableKind = 'table' | 'regression' | 'survival' | 'histogram';

export interface TableShape {
  readonly kind: TableKind;
  readonly columns: readonly ColumnInfo[];
  /** Every cell read (rows x columns). */
  readonly cells: readonly (readonly CellValue[])[];
  /** Every cell's normalised text (rows x columns). */
  readonly text: readonly (readonly string[])[];
  readonly categoryColumns: readonly string[];
  /** Columns checked as counts (counts, and statistic/magnitude columns of whole numbers named so). */
  readonly countColumns: readonly string[];
  readonly magnitudeColumns: readonly string[];
  readonly statisticColumns: readonly string[];
  /** Count columns that total other count columns. */
  readonly totalColumns: readonly string[];
  /** 0-based data rows that are margins (totals) along some category. */
  readonly totalRows: readonly number[];
  /** How each total was recognised, and each role decided, for the report. */
  readonly notes: readonly string[];
  /** Reasons the requested classification cannot be used; non-empty refuses the file. */
  readonly problems: readonly string[];
}

/** "Total", "All", "All ages", "Grand total", "London total", "Everyone", ...: a margin row, however it is worded. */
const TOTAL_LABEL = /^(total|totals|all|overall|sum|everyone|everybody)$|^(all|grand total|overall)\b|\btotals?$/i;

/** A header's words: NFKC, camelCase split, lower case, split at anything not a letter or digit. */
export function headerTokens(header: string): string[] {
  const s = normaliseCell(header)
    .replace(/%/g, ' pct ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  const tokens = s.split(/[^\p{L}\p{N}]+/u).filter((t) => t !== '');
  // "p25", "q1", "per1000": also the letter and number parts.
  const extra = tokens.flatMap((t) => {
    const m = /^(\p{L}+)(\d+)$/u.exec(t);
    return m ? [m[1], m[2]] : [];
  });
  return [...tokens, ...extra];
}

const has = (tokens: readonly string[], words: readonly string[]) => tokens.some((t) => words.includes(t));

const MEAN = ['mean', 'avg', 'average', 'mu'];
const MEDIAN = [
  'median',
  'p50',
  'q1',
  'q2',
  'q3',
  'iqr',
  'quartile',
  'quartiles',
  'percentile',
  'pctl',
  'quantile',
  'p5',
  'p10',
  'p25',
  'p75',
  'p90',
  'p95',
  'p99',
];
const PERCENT = ['pct', 'percent', 'percentage', 'perc', 'pc'];
const PROPORTION = ['prop', 'proportion', 'share', 'fraction', 'frac'];
const RATE = ['rate', 'rates', 'incidence', 'prevalence', 'ratio', 'odds', 'per'];
const SPREAD = ['sd', 'std', 'stdev', 'stddev', 'variance', 'var', 'sem', 'stderr', 'se', 'ci', 'lcl', 'ucl'];
const MIN_MAX = [
  'min',
  'minimum',
  'max',
  'maximum',
  'youngest',
  'oldest',
  'earliest',
  'latest',
  'highest',
  'lowest',
  'largest',
  'smallest',
  'extreme',
  'range',
  'peak',
  'longest',
  'shortest',
];
const MAGNITUDE = ['sum', 'cost', 'costs', 'spend', 'spending', 'amount', 'price', 'income', 'salary', 'expenditure', 'gbp', 'payment', 'payments', 'revenue'];
const ESTIMATE = ['coef', 'coefficient', 'coefficients', 'estimate', 'estimates', 'beta', 'b'];
const MODEL_SIDE = ['se', 'stderr', 'std', 't', 'z', 'tstat', 'zstat', 'pvalue', 'p', 'pval', 'ci', 'conf', 'lower', 'upper', 'wald'];
const SURVIVAL = ['surv', 'survival', 'km', 'kaplan', 'survivor'];
const HISTOGRAM = ['bin', 'bins', 'bucket', 'buckets', 'edge', 'edges', 'histogram', 'hist'];
/** Words that say "the number of people": the group size a statistic in the same row is over. */
const GROUP_SIZE = [
  'n',
  'count',
  'counts',
  'num',
  'number',
  'denominator',
  'denom',
  'size',
  'people',
  'persons',
  'patients',
  'population',
  'pop',
  'base',
  'total',
  'cases',
  'admissions',
  'episodes',
  'individuals',
  'obs',
  'nobs',
  'observations',
  'respondents',
  'freq',
  'frequency',
  'risk',
];
/** Names of things that are usually categories even when written in digits. */
const CATEGORY_WORDS = [
  'year',
  'yr',
  'month',
  'week',
  'day',
  'date',
  'quarter',
  'period',
  'age',
  'ageband',
  'band',
  'code',
  'id',
  'lsoa',
  'msoa',
  'oa',
  'ward',
  'icb',
  'sicbl',
  'pcn',
  'practice',
  'region',
  'sex',
  'gender',
  'ethnicity',
  'group',
  'category',
  'chapter',
  'level',
  'rank',
  'decile',
  'quintile',
  'imd',
  'bnf',
  'icd10',
  'opcs4',
  'snomed',
  'time',
  'bin',
  'edge',
  'lower',
  'upper',
  'from',
  'to',
  'start',
  'end',
  'los',
];

function statisticByHeader(tokens: readonly string[]): { kind: StatisticKind; scale?: number } | undefined {
  if (has(tokens, MIN_MAX)) return { kind: 'min_max' };
  if (has(tokens, PERCENT)) return { kind: 'percentage', scale: 100 };
  if (has(tokens, PROPORTION)) return { kind: 'proportion', scale: 1 };
  if (has(tokens, RATE)) {
    const per = tokens.indexOf('per');
    const after = per >= 0 ? tokens[per + 1] : undefined;
    const scale =
      after === undefined ? undefined : /^\d+$/.test(after) ? Number(after) : /^(\d+)k$/.exec(after) ? Number(/^(\d+)k$/.exec(after)![1]) * 1000 : undefined;
    return scale === undefined ? { kind: 'rate' } : { kind: 'rate', scale };
  }
  if (has(tokens, MEDIAN)) return { kind: 'median' };
  if (has(tokens, MEAN)) return { kind: 'mean' };
  if (has(tokens, SPREAD)) return { kind: 'spread' };
  return undefined;
}

/** Whether the header names the group size of a row (n, count, patients, ...). */
export function isGroupSizeHeader(header: string): boolean {
  return has(headerTokens(header), GROUP_SIZE);
}

/** A category value that marks a margin row ("Total", "All", ...). */
export function isTotalLabel(value: string): boolean {
  return TOTAL_LABEL.test(normaliseCell(value));
}

export function isSuppressedMark(value: string): boolean {
  return readCell(value).kind === 'suppressed';
}

/** A cell's number (any spelling), or null for a blank, a mark or text. */
export function numericValue(value: string): number | null {
  const c = readCell(value);
  return c.kind === 'number' ? c.value : null;
}

/** A count cell's number (any spelling, negative read by its size is the caller's choice), or null. */
export function countValue(value: string): number | null {
  return numericValue(value);
}

/**
 * A column of fractions that adds up to 100 (or 1), with or without a total of 100 (or 1)
 * among them, is a distribution: percentages (proportions) of a whole, whatever the header.
 */
function shareByContent(values: readonly number[]): { kind: StatisticKind; scale: number } | undefined {
  if (values.length < 2 || values.some((v) => v < 0)) return undefined;
  const sum = values.reduce((a, b) => a + b, 0);
  const max = Math.max(...values);
  const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;
  for (const [scale, kind] of [
    [100, 'percentage'],
    [1, 'proportion'],
  ] as const) {
    const tol = scale * 0.006;
    if (max <= scale + tol && (near(sum, scale, tol) || (near(max, scale, tol) && near(sum, 2 * scale, 2 * tol)))) return { kind, scale };
  }
  return undefined;
}

function looksLikeYears(values: readonly number[]): boolean {
  return values.length > 0 && values.every((v) => Number.isInteger(v) && v >= 1900 && v <= 2100);
}

/**
 * Classifies the table's columns. `spec` (the requester's labels) can only add checks;
 * `classifications` (reviewers') decide a column's role outright.
 */
export function classifyTable(table: Table, spec: TableSpec = {}, classifications: readonly ReviewerClassification[] = []): TableShape {
  const problems: string[] = [];
  const notes: string[] = [];
  const cells = table.rows.map((row) => row.map(readCell));
  const byName = new Map(table.columns.map((c, i) => [normaliseCell(c).toLowerCase(), i]));
  const resolve = (names: readonly string[] | undefined, what: string): Set<number> =>
    new Set(
      (names ?? []).flatMap((name) => {
        const i = byName.get(normaliseCell(name).toLowerCase());
        if (i === undefined) {
          problems.push(`the request names ${what} column "${name}", which the table does not have (its columns: ${table.columns.join(', ')})`);
          return [];
        }
        return [i];
      }),
    );
  const labelledCounts = resolve(spec.countColumns, 'count');
  const labelledMagnitudes = resolve(spec.magnitudeColumns, 'magnitude');
  const reviewed = new Map<number, ReviewerClassification>();
  for (const c of classifications) {
    const i = byName.get(normaliseCell(c.column).toLowerCase());
    if (i === undefined) problems.push(`a reviewer classified column "${c.column}", which the table does not have`);
    else reviewed.set(i, c);
  }

  const headerKinds = table.columns.map((h) => headerTokens(h));
  const isModel = headerKinds.some((t) => has(t, ESTIMATE)) && headerKinds.some((t) => has(t, MODEL_SIDE));
  const isSurvival = headerKinds.some((t) => has(t, SURVIVAL)) || headerKinds.some((t) => t.includes('at') && t.includes('risk'));
  const isHistogram = !isModel && !isSurvival && headerKinds.some((t) => has(t, HISTOGRAM));
  const kind: TableKind = isModel ? 'regression' : isSurvival ? 'survival' : isHistogram ? 'histogram' : 'table';

  const columns: ColumnInfo[] = table.columns.map((name, index) => {
    const values = cells.map((row) => row[index]);
    const numbers = values.flatMap((v) => (v.kind === 'number' ? [v] : []));
    const texts = values.filter((v) => v.kind === 'text').length;
    const tokens = headerKinds[index];
    const labelledMagnitude = labelledMagnitudes.has(index);
    const review = reviewed.get(index);
    if (review) {
      const statistic = review.role === 'statistic' ? (review.statistic ?? 'unknown') : undefined;
      const scale = statistic === 'percentage' ? 100 : statistic === 'proportion' ? 1 : statisticByHeader(tokens)?.scale;
      return {
        name,
        index,
        role: review.role,
        ...(statistic ? { statistic } : {}),
        ...(scale !== undefined && statistic ? { scale } : {}),
        alsoCount: false,
        magnitude: review.role === 'magnitude' || labelledMagnitude,
        looksCategorical: false,
        mixed: false,
        decidedBy: 'reviewer' as const,
        why: `classified as ${review.role}${statistic ? ` (${statistic})` : ''} by reviewer ${review.reviewer}: ${review.reason}`,
      };
    }
    const base = { name, index, decidedBy: 'platform' as const, mixed: numbers.length > 0 && texts > 0 };
    if (numbers.length === 0 && !labelledCounts.has(index) && !labelledMagnitude) {
      return { ...base, role: 'category' as const, alsoCount: false, magnitude: false, looksCategorical: false, why: 'holds no numbers' };
    }
    const whole = numbers.every((n) => n.whole && !n.percent);
    const byHeader = statisticByHeader(tokens);
    const percentSigns = numbers.some((n) => n.percent);
    const magnitude = labelledMagnitude || (has(tokens, MAGNITUDE) && !byHeader);
    if (kind === 'regression' && !whole) {
      return {
        ...base,
        role: 'statistic' as const,
        statistic: 'estimate' as const,
        alsoCount: false,
        magnitude,
        looksCategorical: false,
        why: 'a model output column',
      };
    }
    if (percentSigns) {
      return {
        ...base,
        role: 'statistic' as const,
        statistic: 'percentage' as const,
        scale: 100,
        alsoCount: false,
        magnitude: false,
        looksCategorical: false,
        why: 'written with a percent sign',
      };
    }
    if (!whole) {
      const stat = byHeader ?? shareByContent(numbers.map((n) => n.value)) ?? { kind: 'unknown' as StatisticKind };
      // Every value a hair from a whole number (3.0001): counts dressed as a statistic, checked as counts too.
      const nearWhole = numbers.every((n) => Math.abs(n.value - Math.round(n.value)) <= 0.01) && stat.kind !== 'percentage' && stat.kind !== 'proportion';
      return {
        ...base,
        role: magnitude && !byHeader ? ('magnitude' as const) : ('statistic' as const),
        statistic: stat.kind,
        ...(stat.scale !== undefined ? { scale: stat.scale } : {}),
        alsoCount: labelledCounts.has(index) || nearWhole,
        magnitude,
        looksCategorical: false,
        why: nearWhole
          ? 'numbers a hair from whole numbers: checked as counts too'
          : byHeader
            ? `numbers with fractions, named a ${stat.kind}`
            : magnitude
              ? 'numbers with fractions, named an amount'
              : 'numbers with fractions (not counts)',
      };
    }
    // Whole numbers: a count, whatever the header says; a statistic header adds its checks.
    const values2 = numbers.map((n) => n.value);
    const looksCategorical = has(tokens, CATEGORY_WORDS) || looksLikeYears(values2);
    if (byHeader) {
      return {
        ...base,
        role: 'statistic' as const,
        statistic: byHeader.kind,
        ...(byHeader.scale !== undefined ? { scale: byHeader.scale } : {}),
        alsoCount: true,
        magnitude,
        looksCategorical: false,
        why: `whole numbers named a ${byHeader.kind}: checked as a ${byHeader.kind} and as a count`,
      };
    }
    return {
      ...base,
      role: 'count' as const,
      alsoCount: false,
      magnitude,
      looksCategorical,
      why: labelledCounts.has(index) && numbers.length === 0 ? 'named a count by the requester' : 'whole numbers: every numeric column is a count',
    };
  });
  for (const i of labelledCounts) {
    const c = columns[i];
    if (c.role === 'category') columns[i] = { ...c, role: 'count', why: 'named a count by the requester (it holds no numbers)' };
    else if (c.role === 'statistic' || c.role === 'magnitude') columns[i] = { ...c, alsoCount: true };
  }

  const names = (pred: (c: ColumnInfo) => boolean) => columns.filter(pred).map((c) => c.name);
  const categoryColumns = names((c) => c.role === 'category');
  const countColumns = names((c) => c.role === 'count' || c.alsoCount);
  const magnitudeColumns = names((c) => c.magnitude || c.role === 'magnitude');
  const statisticColumns = names((c) => c.role === 'statistic');
  for (const c of columns) if (c.decidedBy === 'reviewer') notes.push(`column "${c.name}": ${c.why}`);

  const totalColumns = detectTotalColumns(table, cells, countColumns, notes);
  const totalRows = detectTotalRows(table, cells, categoryColumns, countColumns, notes);
  const text = table.rows.map((row) => row.map(normaliseCell));
  return { kind, columns, cells, text, categoryColumns, countColumns, magnitudeColumns, statisticColumns, totalColumns, totalRows, notes, problems };
}

const TOTAL_COLUMN_NAME = /^(total|totals|all|overall|sum)$|(^|_)total($|_)/i;

function cellNumber(c: CellValue): number | null {
  return c.kind === 'number' ? c.value : null;
}

function detectTotalColumns(table: Table, cells: readonly (readonly CellValue[])[], countColumns: readonly string[], notes: string[]): string[] {
  const totals: string[] = [];
  for (const col of countColumns) {
    if (TOTAL_COLUMN_NAME.test(normaliseCell(col))) {
      totals.push(col);
      notes.push(`column "${col}" is a total column (by its name)`);
      continue;
    }
    const others = countColumns.filter((c) => c !== col && !TOTAL_COLUMN_NAME.test(normaliseCell(c)));
    if (others.length < 2) continue;
    const ci = table.columns.indexOf(col);
    const oi = others.map((c) => table.columns.indexOf(c));
    const sums = cells.every((row) => {
      const total = cellNumber(row[ci]);
      const parts = oi.map((i) => cellNumber(row[i]));
      return total !== null && parts.every((p) => p !== null) && parts.reduce((a, b) => a! + b!, 0) === total;
    });
    if (sums) {
      totals.push(col);
      notes.push(`column "${col}" is a total column (in every row it equals the sum of ${others.map((o) => `"${o}"`).join(', ')})`);
    }
  }
  return totals;
}

function detectTotalRows(
  table: Table,
  cells: readonly (readonly CellValue[])[],
  categoryColumns: readonly string[],
  countColumns: readonly string[],
  notes: string[],
): number[] {
  const rows = new Set<number>();
  const catIdx = categoryColumns.map((c) => table.columns.indexOf(c));
  table.rows.forEach((row, r) => {
    const labelled = catIdx.filter((i) => isTotalLabel(row[i]));
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
        const total = cellNumber(cells[candidate][ci]);
        if (total === null) return false;
        let sum = 0;
        for (let r = 0; r < table.rows.length; r++) {
          if (r === candidate) continue;
          const v = cellNumber(cells[r][ci]);
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
