/**
 * The de-identification rules, one pure function each, and the per-dataset plan that
 * applies them to a validated row.
 *
 * The control: the only values that leave ingestion are those a column's rule produces.
 * Which curated columns exist, and their names and types, is decided by
 * `lib/config/curated.ts` alone; this file implements the values.
 */
import { createHmac } from 'node:crypto';
import { curatedColumns, CuratedColumn, DIRECT_IDENTIFIER_RULES } from '../../config/curated';
import type { ColumnConfig, DatasetConfig } from '../../config/schema';
import { ageInYears, ageInYearsFromMonth, isIsoDate, timestampToUtc } from './iso-date';
import { normaliseNhsNumber } from './nhs-number';
import { normalisePostcode, postcodeOutward } from './postcode';
import { scrubFreeText } from './scrub-free-text';
import { effectiveFormat, type CellValue, type TypedRow } from './validate-row';

export { postcodeOutward } from './postcode';
export { scrubFreeText } from './scrub-free-text';

/** A pseudonymisation key shorter than this could be guessed; the platform key is 32 random bytes. */
export const MIN_KEY_BYTES = 32;

function checkKey(key: Buffer): void {
  // The message states the rule only: the key (or any part of it) never goes in an error.
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) throw new Error(`the pseudonymisation key must be at least ${MIN_KEY_BYTES} bytes`);
}

/** Pseudonyms are the HMAC truncated to 128 bits: far beyond any chance of two people sharing one. */
export const PSEUDONYM_BYTES = 16;

/**
 * The text form of a pseudonym: base64url without padding, 22 characters for 128 bits.
 * Chosen by measurement (bench/pseudonym-encoding.ts, docs/ingestion.md): on the benchmark's
 * hospital episodes the person column is 6.1 MB against 6.8 MB as 32 hex characters and
 * 12.7 MB as the 64 hex characters of the full HMAC; 16 raw bytes (5.6 MB) would save a
 * little more, but as text a pseudonym stays a string in every engine, export and filter.
 */
function encodePseudonym(mac: Buffer): string {
  return mac.subarray(0, PSEUDONYM_BYTES).toString('base64url');
}

/**
 * The pseudonym of a supplier's record key used as a person key (a council's client id):
 * HMAC-SHA256 under the platform key of the key in its scope (the dataset), so the same id
 * in two suppliers' systems does not become one person, and no record key can produce an NHS
 * number's pseudonym (the NHS number input is ten digits; this one always holds a NUL).
 */
export function pseudonymiseRecordId(key: Buffer, scope: string, recordId: string): string {
  checkKey(key);
  if (recordId.length === 0) throw new Error('pseudonymise: the record key is empty');
  return encodePseudonym(createHmac('sha256', key).update(`record_id\u0000${scope}\u0000${recordId}`, 'utf8').digest());
}

/**
 * HMAC-SHA256 of the normalised NHS number under the platform key, truncated to 128 bits,
 * as 22 characters of base64url.
 * Deterministic, so one person's records link across datasets and batches; keyed, so
 * nobody without the key can recompute it from a list of NHS numbers (the whole valid
 * range is under a billion values: a plain hash would fall to a dictionary in minutes).
 */
export function pseudonymise(key: Buffer, nhsNumber: string): string {
  checkKey(key);
  const normalised = normaliseNhsNumber(nhsNumber);
  // Never echo the input: it is the identifier being protected.
  if (normalised === undefined) throw new Error('pseudonymise: the value is not an NHS number (10 digits)');
  return encodePseudonym(createHmac('sha256', key).update(normalised, 'latin1').digest());
}

/** The year of a `YYYY-MM-DD` date or ISO timestamp. */
export function dateToYear(date: string): number {
  return Number(date.slice(0, 4));
}

/** `YYYY-MM` of a `YYYY-MM-DD` date or ISO timestamp. */
export function dateToMonth(date: string): string {
  return date.slice(0, 7);
}

/** Ages this old and over share one band: few people are, so finer bands would single them out. */
export const TOP_BAND_START = 90;

/**
 * The age band on `at` of someone born on `birth`: '0-4', '5-9', ... for 5-year bands,
 * then '90+'. Throws when `at` is before the birth (validation rejects such rows first).
 */
export function ageBand(birth: string, at: string, bandYears = 5): string {
  if (!Number.isInteger(bandYears) || bandYears < 1) throw new Error('age bands must be a whole number of years, 1 or more');
  // A birth known to the month (`YYYY-MM`): the years certainly completed (iso-date.ts).
  const age = birth.length === 7 ? ageInYearsFromMonth(birth, at) : ageInYears(birth, at);
  if (age < 0) throw new Error('age band: the reference date is before the date of birth');
  if (age >= TOP_BAND_START) return `${TOP_BAND_START}+`;
  const low = Math.floor(age / bandYears) * bandYears;
  return `${low}-${Math.min(low + bandYears - 1, TOP_BAND_START - 1)}`;
}

/** The LSOA of a postcode from a lookup keyed by normalised postcode ('SE5 8AF'); null when unknown. */
export function postcodeLsoa(postcode: string, lookup: ReadonlyMap<string, string>): string | null {
  const normalised = normalisePostcode(postcode);
  return normalised === undefined ? null : (lookup.get(normalised) ?? null);
}

/**
 * Spreadsheet formula injection: a cell starting with = + - @ (or a tab or carriage
 * return, which some spreadsheets skip before reading a formula) is prefixed with a single
 * quote, so a person opening the file in a spreadsheet sees text, not a formula that runs.
 * Idempotent: a neutralised value starts with a quote and is left alone. Applied where a
 * file leaves for a spreadsheet (the rejected-rows file here; query results and airlock
 * outputs elsewhere), never to stored values: curated holds what the supplier sent.
 */
export function neutraliseFormula(value: string): string {
  const c = value.charCodeAt(0);
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 ? `'${value}` : value;
}

/**
 * `keep`: the typed value as validated (normalised), unchanged: a researcher filtering on
 * `'-'` must find the rows the supplier wrote `-` in. Formulas are neutralised on export.
 */
export function keepValue(value: CellValue): CellValue {
  return value;
}

// ---------------------------------------------------------------------------------------
// The compiled plan.
// ---------------------------------------------------------------------------------------

export type CuratedValue = string | number | boolean | null;
/** A curated row: curated column name -> value, keys in `curatedColumns()` order. */
export type CuratedRow = Record<string, CuratedValue>;

export interface DeidPlanOptions {
  /** The pseudonymisation key (from Secrets Manager; locally the 0600 key file). */
  readonly key: Buffer;
  /** The batch's load date, `YYYY-MM-DD`: the age reference when a column has no `ageAt`. */
  readonly loadDate: string;
  /** Postcode-to-LSOA lookups by file name (a `postcode_lsoa` column's `lookup:`): normalised postcode -> LSOA code. */
  readonly lookups?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /**
   * Distinct NHS numbers whose pseudonyms are remembered: a person has many rows, and the
   * HMAC is the costliest step per row. @default 200000
   */
  readonly pseudonymCacheSize?: number;
}

/** Turns a validated typed source row into its curated row. */
export interface DeidPlan {
  (row: TypedRow): CuratedRow;
  /** The curated columns, in output order (from `curatedColumns`). */
  readonly columns: readonly CuratedColumn[];
  /**
   * The same values by position (`columns` order) into `out`, which a caller may reuse
   * row after row: the bulk writer's path, with no object per row to build and collect.
   */
  readonly values: (row: TypedRow, out: CuratedValue[]) => CuratedValue[];
}

type ValueFn = (row: TypedRow) => CuratedValue;

function str(v: CellValue): string {
  // Validation guarantees the type; this guards the guarantee rather than trusting it.
  if (typeof v !== 'string') throw new Error('de-identification met a value of the wrong type');
  return v;
}

function pseudonymFn(i: number, cacheSize: number, of: (value: string) => string): ValueFn {
  const cache = new Map<string, string>();
  return (row) => {
    const v = row[i];
    if (v === null) return null;
    const id = str(v);
    let p = cache.get(id);
    if (p === undefined) {
      p = of(id);
      // Bounded memory: start afresh rather than track recency (rows of a person cluster in a file).
      if (cache.size >= cacheSize) cache.clear();
      cache.set(id, p);
    }
    return p;
  };
}

function valueFn(column: ColumnConfig, i: number, dataset: DatasetConfig, options: DeidPlanOptions): ValueFn {
  const where = `dataset ${dataset.name}, column "${column.name}"`;
  switch (column.rule) {
    case 'pseudonymise': {
      const cacheSize = options.pseudonymCacheSize ?? 200_000;
      const { key } = options;
      // A record key's pseudonyms are keyed in its scope: datasets naming one scope link the same key.
      const scope = column.scope ?? dataset.name;
      if (effectiveFormat(column) === 'record_id') return pseudonymFn(i, cacheSize, (v) => pseudonymiseRecordId(key, scope, v));
      return pseudonymFn(i, cacheSize, (v) => pseudonymise(key, v));
    }
    case 'date_to_year':
      return (row) => (row[i] === null ? null : dateToYear(str(row[i])));
    case 'date_to_month':
      return (row) => (row[i] === null ? null : dateToMonth(str(row[i])));
    case 'age_band': {
      const band = column.bandYears ?? 5;
      if (column.ageAt === undefined) {
        const at = options.loadDate;
        return (row) => (row[i] === null ? null : ageBand(str(row[i]), at, band));
      }
      const atIndex = dataset.columns.findIndex((c) => c.name === column.ageAt);
      if (atIndex < 0) throw new Error(`${where}: ageAt names "${column.ageAt}", which is not a column`);
      // No reference date on this row: no band, rather than a band at some other date.
      return (row) => (row[i] === null || row[atIndex] === null ? null : ageBand(str(row[i]), str(row[atIndex]).slice(0, 10), band));
    }
    case 'postcode_outward':
      return (row) => (row[i] === null ? null : (postcodeOutward(str(row[i])) ?? null));
    case 'postcode_lsoa': {
      const lookup = column.lookup === undefined ? undefined : options.lookups?.get(column.lookup);
      if (lookup === undefined) {
        throw new Error(`${where}: the postcode_lsoa rule needs its lookup ${column.lookup ?? '(none named: set lookup:)'}, and it was not loaded`);
      }
      return (row) => (row[i] === null ? null : postcodeLsoa(str(row[i]), lookup));
    }
    case 'scrub_free_text':
      return (row) => (row[i] === null ? null : scrubFreeText(str(row[i])));
    case 'keep':
      // A timestamp is typed as written (local time and offset); the column stores the instant.
      if (column.type === 'timestamp') return (row) => (row[i] === null ? null : timestampToUtc(str(row[i])));
      return (row) => keepValue(row[i]);
    case 'drop':
      throw new Error(`${where}: a dropped column has no curated value`);
  }
}

/**
 * Compiles a dataset's rules into one function from a validated typed row (source column
 * order) to the curated row, so the hot loop does no per-row config lookups.
 *
 * Refuses, whatever the config validation said, a direct identifier under any rule but
 * drop or pseudonymise, and free text kept in clear: those would put identifiers in curated.
 */
export function compileDeidPlan(dataset: DatasetConfig, options: DeidPlanOptions): DeidPlan {
  checkKey(options.key);
  if (!isIsoDate(options.loadDate)) throw new Error('the load date must be a date written YYYY-MM-DD');
  for (const column of dataset.columns) {
    if (column.classification === 'direct_identifier' && !DIRECT_IDENTIFIER_RULES.includes(column.rule)) {
      throw new Error(`dataset ${dataset.name}: column "${column.name}" is a direct identifier and must be dropped or pseudonymised, not "${column.rule}"`);
    }
    if (column.format === 'free_text' && column.rule === 'keep') {
      throw new Error(`dataset ${dataset.name}: column "${column.name}" is free text and must be dropped or scrubbed, not kept`);
    }
    if (column.type === 'string' && column.rule === 'keep' && column.format === undefined) {
      throw new Error(`dataset ${dataset.name}: column "${column.name}" is kept in clear with no format (value domain)`);
    }
  }
  const columns = curatedColumns(dataset);
  const bySource = new Map(dataset.columns.map((c, i) => [c.name, i]));
  const names: string[] = [];
  const fns: ValueFn[] = [];
  for (const curated of columns) {
    const i = bySource.get(curated.source);
    if (i === undefined) throw new Error(`dataset ${dataset.name}: curated column "${curated.name}" has no source column`);
    names.push(curated.name);
    fns.push(valueFn(dataset.columns[i], i, dataset, options));
  }
  const count = names.length;
  const plan = (row: TypedRow): CuratedRow => {
    const out: CuratedRow = {};
    for (let k = 0; k < count; k++) out[names[k]] = fns[k](row);
    return out;
  };
  const values = (row: TypedRow, out: CuratedValue[]): CuratedValue[] => {
    for (let k = 0; k < count; k++) out[k] = fns[k](row);
    return out;
  };
  return Object.assign(plan, { columns, values });
}
