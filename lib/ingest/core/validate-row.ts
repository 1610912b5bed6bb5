/**
 * Validates one parsed CSV record against its dataset's columns and returns either the
 * typed row or every reason it is refused.
 *
 * The control: no row reaches de-identification unless each value is what its column
 * says it is (an NHS number with a valid check digit, a real and plausible date, ...), so
 * the rules downstream never meet a value they could mishandle into an identifying one.
 *
 * No personal data in errors: a reason names the column and the rule broken, never the
 * value. That holds for every column, not only identifiers, because reasons are counted in
 * manifests and logs that are less restricted than the quarantine zone.
 */
import { isMonthPrecision, optOutColumn } from '../../config/curated';
import type { ColumnConfig, ColumnFormat, DatasetConfig } from '../../config/schema';
import type { CsvRecordErrorCode } from './csv-reader';
import { compileFormat, FORMAT_FAILURE_CODES, PSEUDONYMISED_RECORD_KEY, safePlaceholders } from './formats';
import { findIdentifierInValue, IdentifierKind } from './identifiers';
import { addDays, isIsoDate, parseDateAs, parseTimestampParts } from './iso-date';
import { normaliseNhsNumber } from './nhs-number';
import { normaliseText } from './normalise';

/**
 * A typed value: strings for text, dates (`YYYY-MM-DD`, or `YYYY-MM` for a column whose
 * dateFormat carries the month only) and timestamps (ISO 8601 as written:
 * the local date and time and the offset, `2025-01-01T00:30:00.000+01:00`, so a year or
 * month is taken from the date the supplier wrote); null when empty.
 */
export type CellValue = string | number | boolean | null;
/** Typed values by source column position (the order of `dataset.columns`). */
export type TypedRow = CellValue[];

export const VALIDATION_CODES = [
  'ragged_row',
  'nul_byte',
  'control_character',
  'field_too_large',
  'missing_required',
  'non_numeric',
  'not_integer',
  'integer_out_of_range',
  'out_of_range',
  'not_boolean',
  'unparseable_date',
  'unparseable_timestamp',
  'future_date_of_birth',
  'date_of_birth_too_early',
  'date_in_future',
  'date_too_early',
  'date_before_birth',
  ...FORMAT_FAILURE_CODES,
  'identifier_in_text',
  'no_nhs_number_for_opt_out',
] as const;
export type ValidationCode = (typeof VALIDATION_CODES)[number];

/** Every reason a row can be rejected for: malformed CSV, a failed check, or (never expected) a de-identification fault. */
export type RowProblemCode = CsvRecordErrorCode | ValidationCode | 'deidentification_failed';

export interface RowProblem {
  readonly code: RowProblemCode;
  /** The source column, when the problem is one column's. */
  readonly column?: string;
  /** For people: the column and the rule broken. Never the value. */
  readonly message: string;
}

export type RowValidation =
  | {
      readonly ok: true;
      readonly row: TypedRow;
      /** Positions of the columns whose value was a declared null placeholder (`nulls:`), when any. */
      readonly nulled?: readonly number[];
    }
  | { readonly ok: false; readonly line: number; readonly problems: readonly RowProblem[] };

export interface ValidateOptions {
  /** The batch's load date (`YYYY-MM-DD`): dates are judged plausible against it. */
  readonly loadDate: string;
}

export type RowValidator = (fields: readonly string[], line: number) => RowValidation;

/** A single field larger than this is refused: no legitimate value in these datasets comes near it. */
export const MAX_FIELD_BYTES = 1024 * 1024;
/** Nobody alive was born before this; a date of birth earlier than it is a keying error. */
export const EARLIEST_BIRTH = '1890-01-01';
/** Earliest plausible date for any other event in these records. */
export const EARLIEST_EVENT = '1900-01-01';

/** Whether a date column holds a date of birth (stricter limits, and the anchor of age bands). */
export function isDateOfBirth(column: ColumnConfig): boolean {
  return column.rule === 'age_band' || /birth|(^|_)dob(_|$)/.test(column.name);
}

/**
 * The format a string column is checked against: its declared one, or the one its rule
 * needs (a pseudonym is keyed on an NHS number; a postcode rule needs a postcode), so a
 * config that forgets `format:` cannot let an unchecked value into a rule.
 */
export function effectiveFormat(column: ColumnConfig): ColumnFormat | undefined {
  if (column.type !== 'string') return undefined;
  if (column.format !== undefined) return column.format;
  if (column.rule === 'pseudonymise') return 'nhs_number';
  if (column.rule === 'postcode_outward' || column.rule === 'postcode_lsoa') return 'postcode';
  return undefined;
}

/** A refusal prepared at compile time, so failing rows cost no allocation either. */
class Failure {
  constructor(readonly problem: RowProblem) {}
}

type Check = (value: string) => CellValue | Failure;

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// A Map, not an object literal: `constructor` or `__proto__` in a cell must not look like a boolean.
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['y', true],
  ['n', false],
]);

function failure(column: ColumnConfig, code: ValidationCode, what: string): Failure {
  return new Failure({ code, column: column.name, message: `column "${column.name}" ${what}` });
}

function typeCheck(column: ColumnConfig, loadDate: string): Check {
  const latest = addDays(loadDate, 1);
  const dob = isDateOfBirth(column);
  const futureBirth = failure(column, 'future_date_of_birth', `is a date of birth after the load date (${loadDate})`);
  const earlyBirth = failure(column, 'date_of_birth_too_early', `is a date of birth before ${EARLIEST_BIRTH}`);
  const future = failure(column, 'date_in_future', `is a date more than a day after the load date (${loadDate})`);
  const early = failure(column, 'date_too_early', `is a date before ${EARLIEST_EVENT}`);
  const plausible = (date: string): Failure | undefined => {
    if (dob) return date > loadDate ? futureBirth : date < EARLIEST_BIRTH ? earlyBirth : undefined;
    return date > latest ? future : date < EARLIEST_EVENT ? early : undefined;
  };
  // A month (`YYYY-MM`) compares with the months of the same limits.
  const loadMonth = loadDate.slice(0, 7);
  const plausibleMonth = (month: string): Failure | undefined => {
    if (dob) return month > loadMonth ? futureBirth : month < EARLIEST_BIRTH.slice(0, 7) ? earlyBirth : undefined;
    return month > latest.slice(0, 7) ? future : month < EARLIEST_EVENT.slice(0, 7) ? early : undefined;
  };

  const kept = column.rule === 'keep';
  switch (column.type) {
    case 'integer': {
      const nonNumeric = failure(column, 'non_numeric', 'is not a number');
      const notInteger = failure(column, 'not_integer', 'is not a whole number');
      const range = failure(column, 'integer_out_of_range', 'is a whole number too large to hold exactly');
      const bounds = boundsCheck(column, kept);
      return (v) => {
        if (!INTEGER.test(v)) return DECIMAL.test(v) ? notInteger : nonNumeric;
        const n = Number(v);
        return Number.isSafeInteger(n) ? bounds(n, v) : range;
      };
    }
    case 'decimal': {
      const nonNumeric = failure(column, 'non_numeric', 'is not a number');
      const bounds = boundsCheck(column, kept);
      return (v) => {
        if (!DECIMAL.test(v)) return nonNumeric;
        const n = Number(v);
        return Number.isFinite(n) ? bounds(n, v) : nonNumeric;
      };
    }
    case 'boolean': {
      const bad = failure(column, 'not_boolean', 'is not a boolean (true/false, 1/0, Y/N)');
      return (v) => BOOLEANS.get(v.toLowerCase()) ?? bad;
    }
    case 'date': {
      const format = column.dateFormat ?? 'YYYY-MM-DD';
      const bad = failure(column, 'unparseable_date', `is not a calendar ${isMonthPrecision(column) ? 'month' : 'date'} written ${format}`);
      if (format === 'YYYY-MM-DD') return (v) => (isIsoDate(v) ? (plausible(v) ?? v) : bad);
      if (isMonthPrecision(column)) {
        return (v) => {
          const month = parseDateAs(format, v);
          return month === undefined ? bad : (plausibleMonth(month) ?? month);
        };
      }
      return (v) => {
        const date = parseDateAs(format, v);
        return date === undefined ? bad : (plausible(date) ?? date);
      };
    }
    case 'timestamp': {
      const bad = failure(column, 'unparseable_timestamp', 'is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM])');
      return (v) => {
        const parts = parseTimestampParts(v);
        if (parts === undefined) return bad;
        // The supplier's own date is judged and kept: a year or month is the one written.
        return plausible(parts.written.slice(0, 10)) ?? parts.written;
      };
    }
    case 'string': {
      const format = effectiveFormat(column);
      if (format === undefined) {
        // Only a dropped column may have no domain (the config check and compileDeidPlan refuse the rest).
        if (column.rule !== 'drop')
          throw new Error(`column "${column.name}" is kept as a string with no format: the config validation should have refused this`);
        return (v) => v;
      }
      if (format === 'free_text') return (v) => v;
      if (format === 'record_id' && column.rule === 'pseudonymise') {
        // Only its keyed pseudonym reaches curated, so it may hold any digits (no identifier guard).
        const bad = failure(column, PSEUDONYMISED_RECORD_KEY.code, `is not ${PSEUDONYMISED_RECORD_KEY.expected}`);
        return (v) => PSEUDONYMISED_RECORD_KEY.normalise(v) ?? bad;
      }
      if (format === 'nhs_number') {
        const shape = failure(column, 'bad_nhs_number', 'is not an NHS number (10 digits; spaces and hyphens allowed)');
        const check = failure(column, 'bad_nhs_check_digit', 'is an NHS number whose Modulus 11 check digit is wrong');
        const rule = compileFormat(format);
        return (v) => rule.normalise(v) ?? (normaliseNhsNumber(v) === undefined ? shape : check);
      }
      const rule = compileFormat(format, safePlaceholders(column.rule === 'keep' ? column.placeholders : undefined));
      const bad = failure(column, rule.code, `is not ${rule.expected}`);
      return (v) => rule.normalise(v) ?? bad;
    }
  }
}

const IDENTIFIER_LABELS: Readonly<Record<IdentifierKind, string>> = {
  email: 'an e-mail address',
  phone: 'a phone number',
  nhsNumber: 'an NHS number',
  date: 'a date',
  postcode: 'a postcode',
  name: 'a name',
  number: 'a long number',
};

/**
 * A number's range (`min`, `max`), and for a number kept in clear a guard on its digits: an
 * NHS number or a compact date written as a number (`9434765919`, `19610403`, `943476.5919`)
 * is refused whatever the range, since the digits reach curated as they are.
 */
function boundsCheck(column: ColumnConfig, kept: boolean): (n: number, written: string) => CellValue | Failure {
  const { min, max } = column;
  const outOfRange = failure(
    column,
    'out_of_range',
    `is outside the column's range (${min ?? 'no minimum'} to ${max ?? 'no maximum'}); correct the row, or the range in the dataset config`,
  );
  const identifiers = new Map(
    (Object.keys(IDENTIFIER_LABELS) as IdentifierKind[]).map((kind) => [
      kind,
      failure(column, 'identifier_in_text', `holds what reads as ${IDENTIFIER_LABELS[kind]}; a number kept in clear must not carry identifiers`),
    ]),
  );
  return (n, written) => {
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) return outOfRange;
    if (kept && written.length >= 8) {
      const kind = findIdentifierInValue(written);
      if (kind !== undefined) return identifiers.get(kind)!;
    }
    return n;
  };
}

interface CompiledColumn {
  readonly name: string;
  /** Dropped and used by no other rule: only the row's structure (its field count) is checked. */
  readonly unused: boolean;
  /** Declared null placeholders (`nulls:`), compared after normalisation and trimming. */
  readonly nulls: ReadonlySet<string> | undefined;
  readonly freeText: boolean;
  readonly control: Failure;
  /** No type or format check: only here can a NUL byte slip through unless looked for. */
  readonly acceptsAnyText: boolean;
  readonly check: Check;
  readonly missing: Failure;
  readonly required: boolean;
  readonly tooLarge: Failure;
  readonly nul: Failure;
}

/** An age band needs its reference date on or after the birth: checked across the two columns. */
interface BirthOrder {
  readonly birth: number;
  readonly at: number;
  readonly failure: Failure;
}

/**
 * Padding that is trimmed from values: spaces, tabs, line ends and Unicode spaces. Not
 * U+FEFF (which String.prototype.trim would remove): a byte-order mark inside a field means
 * files were glued together, and the value is refused rather than quietly repaired.
 */
function isPad(c: number): boolean {
  // Space, tab, LF, VT, FF, CR; never NUL or another control character, which must stay visible to the checks.
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

function trimPadding(v: string): string {
  let start = 0;
  let end = v.length;
  while (start < end && isPad(v.charCodeAt(start))) start++;
  while (end > start && isPad(v.charCodeAt(end - 1))) end--;
  return start === 0 && end === v.length ? v : v.slice(start, end);
}

/**
 * Compiles a dataset's columns into one row validator, so the hot loop does no config
 * lookups. Throws on a config the validator cannot honour (these are refused by
 * `sde validate` too; this is the belt to its braces).
 */
export function compileRowValidator(dataset: DatasetConfig, options: ValidateOptions): RowValidator {
  if (!isIsoDate(options.loadDate)) throw new Error(`the load date must be a date written YYYY-MM-DD`);
  // A dropped column is still read when another rule needs it: the age reference, the opt-out's NHS number.
  const used = new Set<string>(dataset.columns.flatMap((c) => (c.rule === 'age_band' && c.ageAt !== undefined ? [c.ageAt] : [])));
  const optOut = optOutColumn(dataset);
  if (dataset.nationalDataOptOut && optOut !== undefined) used.add(optOut.name);
  const columns: CompiledColumn[] = dataset.columns.map((column) => ({
    name: column.name,
    unused: column.rule === 'drop' && !used.has(column.name),
    nulls: column.nulls === undefined ? undefined : new Set(column.nulls),
    freeText: column.format === 'free_text',
    acceptsAnyText: column.type === 'string' && (effectiveFormat(column) ?? 'free_text') === 'free_text',
    check: typeCheck(column, options.loadDate),
    required: column.required,
    missing: failure(column, 'missing_required', 'is required but empty'),
    tooLarge: failure(column, 'field_too_large', `is larger than ${MAX_FIELD_BYTES} bytes`),
    nul: failure(column, 'nul_byte', 'contains a NUL byte'),
    control: failure(
      column,
      'control_character',
      `contains a control character${column.format === 'free_text' ? ' other than tab and line breaks' : ' other than tab'} (is the file's encoding right?)`,
    ),
  }));
  const index = new Map(dataset.columns.map((c, i) => [c.name, i]));
  const birthOrders: BirthOrder[] = [];
  for (const [i, column] of dataset.columns.entries()) {
    if (column.rule !== 'age_band' || column.ageAt === undefined) continue;
    const at = index.get(column.ageAt);
    if (at === undefined) throw new Error(`dataset ${dataset.name}: column "${column.name}" measures age at "${column.ageAt}", which is not a column`);
    const atColumn = dataset.columns[at];
    birthOrders.push({ birth: i, at, failure: failure(atColumn, 'date_before_birth', `is before the date of birth in column "${column.name}"`) });
  }
  const count = columns.length;
  const raggedMessage = (got: number) => `the record has ${got} field${got === 1 ? '' : 's'}; the dataset has ${count} columns`;

  return (fields, line) => {
    if (fields.length !== count) return { ok: false, line, problems: [{ code: 'ragged_row', message: raggedMessage(fields.length) }] };
    const row: TypedRow = new Array(count);
    let problems: RowProblem[] | undefined;
    let nulled: number[] | undefined;
    for (let i = 0; i < count; i++) {
      const c = columns[i];
      const raw = fields[i];
      let value: CellValue | Failure;
      if (c.unused) {
        // Nothing of it is kept or used: a placeholder or a bad value in it costs the row nothing.
        row[i] = null;
        continue;
      }
      if (raw.length > MAX_FIELD_BYTES / 3 && Buffer.byteLength(raw, 'utf8') > MAX_FIELD_BYTES) value = c.tooLarge;
      else if (c.acceptsAnyText && raw.indexOf('\u0000') !== -1) value = c.nul;
      else {
        // One normalisation before every check (normalise.ts); a control character refuses the value.
        const normal = normaliseText(raw, c.freeText);
        if (normal === undefined) {
          (problems ??= []).push((raw.indexOf('\u0000') !== -1 ? c.nul : c.control).problem);
          row[i] = null;
          continue;
        }
        // Free text keeps its spacing; every other value is trimmed of padding.
        const v = c.freeText ? normal : trimPadding(normal);
        if (v.length === 0 || (c.freeText && trimPadding(v).length === 0)) value = c.required ? c.missing : null;
        else if (c.nulls !== undefined && c.nulls.has(c.freeText ? trimPadding(v) : v)) {
          // The supplier's "not known": null, counted; a required column must have a real value.
          value = c.required ? c.missing : null;
          if (!c.required) (nulled ??= []).push(i);
        } else {
          value = c.check(v);
          // A typed check refuses a NUL anyway; name the real cause.
          if (value instanceof Failure && v.indexOf('\u0000') !== -1) value = c.nul;
        }
      }
      if (value instanceof Failure) {
        (problems ??= []).push(value.problem);
        row[i] = null;
      } else row[i] = value;
    }
    for (const order of birthOrders) {
      const birth = row[order.birth];
      const at = row[order.at];
      if (typeof birth === 'string' && typeof at === 'string' && at.slice(0, 10) < birth) (problems ??= []).push(order.failure.problem);
    }
    if (problems !== undefined) return { ok: false, line, problems };
    return nulled === undefined ? { ok: true, row } : { ok: true, row, nulled };
  };
}

/** Validates one record; compile once with `compileRowValidator` when there are many. */
export function validateRow(dataset: DatasetConfig, fields: readonly string[], line: number, options: ValidateOptions): RowValidation {
  return compileRowValidator(dataset, options)(fields, line);
}
