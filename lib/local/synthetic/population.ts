/**
 * A seeded, deterministic synthetic population for any configuration: one set of people
 * shared by every dataset (so records link across datasets by NHS number, as real ones
 * do), values shaped by each column's name, type and format, and a known share of
 * deliberately bad rows, counted by kind, so ingestion tests can check that exactly those
 * are quarantined.
 *
 * Nobody real is in it: NHS numbers come from the 999 test range (never issued), phone
 * numbers from Ofcom's drama range, names and streets from small made-up lists.
 *
 * How a dataset is shaped, from its config alone:
 *  - person level (one row per person) when its first column is its person key (e.g.
 *    demographics); otherwise events, 1 to 2×average-1 rows per person;
 *  - a maternity-like dataset (name, title or person key mentioning maternity, mother,
 *    pregnancy, antenatal or obstetric) only has women aged 16-48 at the event;
 *  - events fall from 2019 (or birth) to yesterday (or death); an end or discharge date
 *    is the event date plus the length of stay, never after yesterday or death.
 *
 * Memory stays flat however many people: people are regenerated from the seed for each
 * dataset instead of held, and rows are streamed to the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMonthPrecision, optOutAppliedBySupplier, optOutColumn, sourceNameOf } from '../../config/curated';
import type { SdeConfig } from '../../config/model';
import type { ColumnConfig, DatasetConfig } from '../../config/schema';
import { codesOf } from '../../ingest/core/formats';
import { findIdentifierInValue } from '../../ingest/core/identifiers';
import { parseLsoaLookup } from '../../ingest/core/lsoa-lookup';
import {
  addDays,
  addYears,
  ADMISSION_METHODS,
  DOSAGES,
  ETHNIC_CATEGORIES,
  FAMILY_NAMES,
  fnv1a,
  GIVEN_NAMES,
  GP_PRACTICES,
  ICD10,
  maxDate,
  MEASUREMENT_UNITS,
  MEDICINES,
  minDate,
  NOTES,
  Observation,
  OBSERVATIONS,
  OPCS4,
  Random,
  randomDate,
  spacedNhsNumber,
  STREETS,
  SUPPORT_REASONS,
  syntheticLsoa,
  syntheticMsoa,
  SYNTHETIC_NHS_CAPACITY,
  syntheticNhsNumbers,
  syntheticPhone,
  syntheticPostcode,
  TRUSTS,
  yearsBetween,
} from './values';

/** The kinds of bad row planted; ingestion must quarantine each of them. */
export const BAD_ROW_KINDS = [
  'bad_nhs_check_digit',
  'missing_required',
  'future_date_of_birth',
  'unparseable_date',
  'ragged_row',
  'non_numeric',
  'not_in_code_list',
  'bad_record_id',
] as const;
export type BadRowKind = (typeof BAD_ROW_KINDS)[number];

export interface SyntheticPerson {
  readonly nhsNumber: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly dateOfBirth: string;
  /** NHS Data Dictionary person stated gender: 1 male, 2 female, 9 not stated. */
  readonly sex: '1' | '2' | '9';
  readonly ethnicity: string;
  readonly postcode: string;
  readonly lsoa: string;
  readonly practice: string;
  readonly address: string;
  readonly phone: string;
  readonly registrationDate: string;
  /** '' when alive. */
  readonly dateOfDeath: string;
  /** On the (local stand-in for the) national data opt-out list. */
  readonly optedOut: boolean;
}

export interface DatasetGeneration {
  readonly dataset: string;
  readonly file: string;
  /** One row per person (true) or events (false). */
  readonly personLevel: boolean;
  /** Data rows written (good + bad), not counting the header. */
  readonly rows: number;
  readonly goodRows: number;
  /** Good rows of people on the opt-out list: ingestion should remove exactly these (when the dataset applies the opt-out). */
  readonly goodRowsOptedOut: number;
  /** Planted bad rows by kind (kinds not planted are absent); each bad row is bad in exactly one way. */
  readonly badRows: Readonly<Partial<Record<BadRowKind, number>>>;
  readonly badRowCount: number;
  /** File size, header and any byte-order mark included. */
  readonly bytes: number;
}

export interface PopulationGeneration {
  readonly seed: number;
  readonly people: number;
  readonly datasets: readonly DatasetGeneration[];
  /** One NHS number per line: the local stand-in for the national data opt-out list. */
  readonly optOutFile: string;
  readonly optOutCount: number;
}

export interface GenerateOptions {
  readonly config: SdeConfig;
  /** Written: `<dataset>.csv` per dataset and `national-data-opt-out.txt`. */
  readonly outDir: string;
  readonly people: number;
  readonly seed: number;
  /** Share of rows made deliberately bad, 0 to 1. @default 0.03 */
  readonly badRowRate?: number;
  /** Average rows per person in event datasets (at least 1). @default 3 */
  readonly eventsPerPerson?: number;
  /** Share of people who opted out, 0 to 1. @default 0.02 */
  readonly optOutRate?: number;
  /** Dates are generated up to the day before this one (YYYY-MM-DD). @default config.today */
  readonly today?: string;
  readonly onProgress?: (dataset: string, rowsDone: number) => void;
}

const FIRST_EVENT_DAY = '2019-01-01';
const BIRTHS_FROM = '1920-01-01';
const BIRTHS_TO = '2024-12-31';

/**
 * The population, person by person, from the seed alone. Every dataset walks it again
 * from the start, so everyone is the same person in every file.
 */
function* population(count: number, seed: number, today: string, optOutRate: number): Generator<SyntheticPerson> {
  const random = new Random(seed);
  const yesterday = addDays(today, -1);
  const numbers = syntheticNhsNumbers();
  for (let i = 0; i < count; i++) {
    const nhsNumber = numbers.next().value as string;
    const dateOfBirth = randomDate(random, BIRTHS_FROM, minDate(BIRTHS_TO, yesterday));
    const u = random.next();
    const dies = random.chance(0.03);
    const dateOfDeath = dies ? randomDate(random, maxDate('2020-01-01', dateOfBirth), yesterday) : '';
    yield {
      nhsNumber,
      givenName: random.pick(GIVEN_NAMES),
      familyName: random.pick(FAMILY_NAMES),
      dateOfBirth,
      sex: u < 0.49 ? '1' : u < 0.98 ? '2' : '9',
      ethnicity: random.pick(ETHNIC_CATEGORIES),
      postcode: syntheticPostcode(random),
      lsoa: syntheticLsoa(random),
      practice: random.pick(GP_PRACTICES),
      address: `${random.int(1, 250)} ${random.pick(STREETS)}`,
      phone: syntheticPhone(random),
      registrationDate: randomDate(random, maxDate(dateOfBirth, '2000-01-01'), dateOfDeath || yesterday),
      dateOfDeath,
      optedOut: random.chance(optOutRate),
    };
  }
}

/** Per-row state, so related columns agree (discharge after admission, medicine name matches its code). */
interface RowContext {
  readonly person: SyntheticPerson;
  readonly rowNumber: number;
  readonly eventDate: string;
  readonly lengthOfStay: number;
  readonly medicine: (typeof MEDICINES)[number];
  readonly observation: Observation;
}

const isBirthDate = (c: ColumnConfig) => c.type === 'date' && /birth|dob/.test(c.name);
const isEndDate = (name: string) => /discharge|_end|end_date|until/.test(name);
const isMaternity = (d: DatasetConfig) => /matern|mother|pregnan|antenatal|obstetric/.test(`${d.name} ${d.title} ${d.personKey ?? ''}`.toLowerCase());

function idPrefix(name: string): string {
  return name
    .replace(/_(id|code)$/, '')
    .split('_')
    .map((w) => w[0]?.toUpperCase() ?? '')
    .join('');
}

/** The days a person can have events in this dataset, or undefined if none. */
function eventWindow(person: SyntheticPerson, yesterday: string, maternity: boolean): { from: string; to: string } | undefined {
  let from = maxDate(FIRST_EVENT_DAY, person.dateOfBirth);
  let to = person.dateOfDeath || yesterday;
  if (maternity) {
    if (person.sex !== '2') return undefined;
    from = maxDate(from, addYears(person.dateOfBirth, 16));
    to = minDate(to, addYears(person.dateOfBirth, 48));
  }
  return from <= to ? { from, to } : undefined;
}

/** Hospital stays: many day cases, most under two weeks, a long tail. */
function lengthOfStay(random: Random): number {
  if (random.chance(0.35)) return 0;
  return random.int(1, 10) + (random.chance(0.15) ? random.int(0, 45) : 0);
}

/**
 * A short clinical note. About one in ten mentions an identifier (the person's synthetic
 * name, phone number, NHS number or postcode), as real free text does: that is what the
 * scrub_free_text rule exists for, and the local runtime needs something to scrub.
 */
function note(ctx: RowContext, random: Random): string {
  const p = ctx.person;
  if (!random.chance(0.1)) return random.pick(NOTES);
  switch (random.int(0, 3)) {
    case 0:
      return `Spoke to ${p.givenName} ${p.familyName}; ${random.pick(NOTES).toLowerCase()}`;
    case 1:
      return `Call back on ${p.phone}. ${random.pick(NOTES)}`;
    case 2:
      return `NHS no. ${spacedNhsNumber(p.nhsNumber)} confirmed. ${random.pick(NOTES)}`;
    default:
      return `Home visit at ${p.postcode}. ${random.pick(NOTES)}`;
  }
}

function measurement(ctx: RowContext, random: Random, required: boolean): string {
  const obs = ctx.observation.range ? ctx.observation : required ? OBSERVATIONS.find((o) => o.range)! : undefined;
  if (!obs?.range) return '';
  const [lo, hi] = obs.range;
  const scale = 10 ** (obs.decimals ?? 0);
  return (random.int(Math.round(lo * scale), Math.round(hi * scale)) / scale).toFixed(obs.decimals ?? 0);
}

type ValueMaker = (ctx: RowContext, random: Random) => string;

/**
 * How one column's values are made, decided once per column from its name, type and
 * format (not once per row). Never empty for a required column.
 */
/** A date (`YYYY-MM-DD`) written as the column's dateFormat says the supplier writes it. */
export function writeDateAs(date: string, format: ColumnConfig['dateFormat']): string {
  if (date === '') return date;
  const [y, m, d] = [date.slice(0, 4), date.slice(5, 7), date.slice(8, 10)];
  switch (format ?? 'YYYY-MM-DD') {
    case 'DD/MM/YYYY':
      return `${d}/${m}/${y}`;
    case 'YYYYMMDD':
      return `${y}${m}${d}`;
    case 'MMYYYY':
      return `${m}${y}`;
    case 'YYYY-MM':
      return `${y}-${m}`;
    default:
      return date;
  }
}

/** A value for one element of a list-in-cell format. */
function elementValue(element: ListElement, random: Random): string {
  if (typeof element === 'object') return random.pick(codesOf(element) ?? ['']);
  switch (element) {
    case 'icd10':
      return random.pick(ICD10);
    case 'opcs4':
      return random.pick(OPCS4);
    case 'lsoa':
      return syntheticLsoa(random);
    case 'msoa':
      return syntheticMsoa(random);
    case 'ods_code':
      return random.pick(TRUSTS);
    default:
      return random.pick(ICD10);
  }
}

type ListElement = Extract<NonNullable<ColumnConfig['format']>, { list: unknown }>['list'];

function columnValue(column: ColumnConfig, dataset: DatasetConfig, postcodes: PostcodeSource): ValueMaker {
  const maker = shapedValue(column, dataset, postcodes);
  // Written as the supplier writes it; a number within the column's declared range.
  if (column.type === 'date' && column.dateFormat !== undefined) return (ctx, random) => writeDateAs(maker(ctx, random), column.dateFormat);
  if ((column.type === 'integer' || column.type === 'decimal') && column.min !== undefined && column.max !== undefined) {
    const { min, max } = column;
    return (ctx, random) => {
      const v = maker(ctx, random);
      const n = Number(v);
      if (v === '' || (n >= min && n <= max)) return v;
      const within = random.int(Math.ceil(min), Math.floor(max));
      return column.type === 'decimal' ? within.toFixed(1) : String(within);
    };
  }
  return maker;
}

function shapedValue(column: ColumnConfig, dataset: DatasetConfig, postcodes: PostcodeSource): ValueMaker {
  const maker = baseValue(column, dataset, postcodes);
  if (typeof column.format === 'object' && 'list' in column.format) {
    const { list, separator } = column.format;
    return (_, random) => Array.from({ length: random.int(column.required ? 1 : 0, 3) }, () => elementValue(list, random)).join(separator);
  }
  const codes = column.format === undefined ? undefined : codesOf(column.format);
  if (codes === undefined) return maker;
  // A code list column gets its listed codes, whatever its name suggested.
  const allowed = new Set(codes);
  return (ctx, random) => {
    const v = maker(ctx, random);
    return v === '' || allowed.has(v) ? v : random.pick(codes);
  };
}

/** A council's client id for a person (a record key with no identifier in it). */
export function syntheticClientId(nhsNumber: string): string {
  return `CL${nhsNumber.slice(3, 9)}`;
}

/** Whether the (synthetic) council has traced this person's NHS number: four in five. */
const hasTracedNhsNumber = (person: SyntheticPerson) => fnv1a(person.nhsNumber) % 5 !== 0;

/** Postcodes a postcode_lsoa column draws from: those in its lookup, so most rows find an area. */
type PostcodeSource = (column: ColumnConfig) => readonly string[] | undefined;

function baseValue(column: ColumnConfig, dataset: DatasetConfig, postcodes: PostcodeSource): ValueMaker {
  const name = column.name;
  const required = column.required;
  if (name === dataset.personKey && column.format === 'record_id') return (ctx) => syntheticClientId(ctx.person.nhsNumber);
  if (column.format === 'nhs_number') {
    // The person key is always there; an NHS number beside another person key only where traced.
    if (name === dataset.personKey || required) return (ctx) => ctx.person.nhsNumber;
    return (ctx) => (hasTracedNhsNumber(ctx.person) ? ctx.person.nhsNumber : '');
  }
  if (name === dataset.personKey) return (ctx) => ctx.person.nhsNumber;
  if (column.rule === 'postcode_lsoa') {
    const known = postcodes(column);
    if (known !== undefined && known.length > 0) return (ctx) => known[fnv1a(ctx.person.nhsNumber) % known.length];
  }

  switch (column.type) {
    case 'date':
      if (isBirthDate(column)) return (ctx) => ctx.person.dateOfBirth;
      if (/death/.test(name)) return (ctx) => ctx.person.dateOfDeath || (required ? ctx.eventDate : '');
      if (/registration/.test(name)) return (ctx) => ctx.person.registrationDate;
      if (isEndDate(name)) return (ctx) => addDays(ctx.eventDate, ctx.lengthOfStay);
      return (ctx) => ctx.eventDate;
    case 'timestamp': {
      const two = (n: number) => String(n).padStart(2, '0');
      return (ctx, random) => `${ctx.eventDate}T${two(random.int(7, 22))}:${two(random.int(0, 59))}:${two(random.int(0, 59))}Z`;
    }
    case 'boolean':
      return (_, random) => (random.chance(0.15) ? 'true' : 'false');
    case 'integer':
      if (/length_of_stay|^los$|_los$/.test(name)) return (ctx) => String(ctx.lengthOfStay);
      // Most bookings happen in the first trimester.
      if (/gestation/.test(name)) return (_, random) => String(random.chance(0.85) ? random.int(8, 19) : random.int(20, 40));
      if (/(^|_)age($|_)/.test(name)) return (ctx) => String(yearsBetween(ctx.person.dateOfBirth, ctx.eventDate));
      if (/year/.test(name)) return (ctx) => ctx.eventDate.slice(0, 4);
      if (/count|number_of|^num_|_num$/.test(name)) return (_, random) => String(random.int(0, 12));
      return (_, random) => String(random.int(0, 99));
    case 'decimal':
      if (/quantity/.test(name)) return (_, random) => String(random.pick([28, 56, 84, 112]));
      if (/hours/.test(name)) return (_, random) => (random.int(1, 80) / 2).toFixed(1);
      if (/cost|price|amount|fee|charge/.test(name)) return (_, random) => (random.int(100, 50000) / 100).toFixed(2);
      if (/value|result|reading|measure/.test(name)) return (ctx, random) => measurement(ctx, random, required);
      return (_, random) => (random.int(0, 2000) / 10).toFixed(1);
    default:
      break;
  }

  switch (column.format) {
    case 'postcode':
      return (ctx) => ctx.person.postcode;
    case 'lsoa':
      return (ctx) => ctx.person.lsoa;
    case 'msoa':
      return (_, random) => syntheticMsoa(random);
    case 'ods_code':
      return /practice|gp|registered/.test(name) ? (ctx) => ctx.person.practice : (_, random) => random.pick(TRUSTS);
    case 'icd10':
      return (_, random) => random.pick(ICD10);
    case 'opcs4':
      // Most admissions have a procedure; a medical admission may have none.
      return (_, random) => (required || random.chance(0.7) ? random.pick(OPCS4) : '');
    case 'snomed':
      return (ctx) => ctx.observation.code;
    case 'bnf':
      return (ctx) => ctx.medicine.bnf;
    case 'free_text':
      return /dosage|instruction|directions/.test(name) ? (_, random) => random.pick(DOSAGES) : note;
    default:
      break;
  }

  if (/^sex$|gender/.test(name)) return (ctx) => ctx.person.sex;
  if (/ethnic/.test(name)) return (ctx) => ctx.person.ethnicity;
  if (/given|first_name|forename/.test(name)) return (ctx) => ctx.person.givenName;
  if (/family|surname|last_name/.test(name)) return (ctx) => ctx.person.familyName;
  if (/prescriber|clinician|consultant|practitioner/.test(name)) return (_, random) => `Dr ${random.pick(FAMILY_NAMES)}`;
  if (/address/.test(name)) return (ctx) => ctx.person.address;
  if (/phone|mobile|telephone/.test(name)) return (ctx) => ctx.person.phone;
  if (/postcode/.test(name)) return (ctx) => ctx.person.postcode;
  if (/admission_method/.test(name)) return (_, random) => random.pick(ADMISSION_METHODS);
  if (/secondary_diagnos/.test(name)) return (_, random) => Array.from({ length: random.int(required ? 1 : 0, 3) }, () => random.pick(ICD10)).join('|');
  if (/support_reason/.test(name)) return (_, random) => random.pick(SUPPORT_REASONS);
  if (/medicine|drug/.test(name)) return (ctx) => ctx.medicine.name;
  if (/unit/.test(name)) return (ctx, random) => ctx.observation.unit ?? (required ? random.pick(MEASUREMENT_UNITS) : '');
  const prefix = idPrefix(name);
  // Keys are unique within the file: the row number; in letters where its digits would read as an identifier.
  if (/_id$/.test(name)) return (ctx) => recordKey(prefix, ctx.rowNumber);
  if (/_code$/.test(name)) return (_, random) => `${prefix}${String(random.int(1, 20)).padStart(2, '0')}`;
  return (_, random) => `${name}-${random.int(1, 20)}`;
}

/**
 * A record key from a row number: the prefix and nine digits, unless those digits hold what
 * the record_id guard refuses (eight that make a date, say 010119612): then the number in
 * letters (base 26, A-Z), which no reader takes for digits.
 */
export function recordKey(prefix: string, rowNumber: number): string {
  const key = `${prefix}${String(rowNumber).padStart(9, '0')}`;
  if (findIdentifierInValue(key) === undefined) return key;
  let n = rowNumber;
  let letters = '';
  do {
    letters = String.fromCharCode(65 + (n % 26)) + letters;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `${prefix}X${letters}`;
}

/** A string column kept in clear with a code list: where an identifier keyed into the wrong field would go. */
const isCodeListed = (c: ColumnConfig) => c.type === 'string' && c.rule === 'keep' && c.format !== undefined && codesOf(c.format) !== undefined;

/** A supplier's record key kept in clear (`format: record_id`): a pseudonymised one may hold any digits. */
const isRecordKey = (c: ColumnConfig) => c.type === 'string' && c.format === 'record_id' && c.rule === 'keep';

/**
 * The columns ingestion reads: every column but a dropped one no rule uses (validate-row.ts
 * does not read those), so a planted fault lands where it is seen.
 */
function readColumns(dataset: DatasetConfig): (c: ColumnConfig) => boolean {
  const used = new Set(dataset.columns.flatMap((c) => (c.rule === 'age_band' && c.ageAt !== undefined ? [c.ageAt] : [])));
  const optOut = optOutColumn(dataset);
  if (dataset.nationalDataOptOut && optOut !== undefined) used.add(optOut.name);
  return (c) => c.rule !== 'drop' || used.has(c.name);
}

/** Which bad-row kinds a dataset can carry, given its columns. */
function applicableBadKinds(dataset: DatasetConfig): BadRowKind[] {
  const read = readColumns(dataset);
  const columns = dataset.columns.filter(read);
  const kinds: BadRowKind[] = ['ragged_row'];
  if (columns.some(isRequiredNhsNumber)) kinds.push('bad_nhs_check_digit');
  if (columns.some((c) => c.required)) kinds.push('missing_required');
  if (columns.some(isBirthDate)) kinds.push('future_date_of_birth');
  if (columns.some((c) => c.type === 'date')) kinds.push('unparseable_date');
  if (columns.some((c) => c.type === 'integer' || c.type === 'decimal')) kinds.push('non_numeric');
  if (columns.some(isCodeListed)) kinds.push('not_in_code_list');
  if (columns.some(isRecordKey)) kinds.push('bad_record_id');
  return kinds;
}

/** The row's own NHS number (a test-range one), or a fixed valid one where the row has none. */
function personNhsNumber(dataset: DatasetConfig, fields: readonly string[]): string {
  const person = dataset.columns.findIndex((c) => c.format === 'nhs_number');
  return person >= 0 && fields[person] !== '' ? fields[person] : '9990000018';
}

/** The one NHS number column a row can be spoilt in: required, so the row has one. */
const isRequiredNhsNumber = (c: ColumnConfig) => c.format === 'nhs_number' && c.required;

/** Makes a good row bad in exactly one way. */
function spoil(kind: BadRowKind, dataset: DatasetConfig, fields: string[], random: Random, today: string): string[] {
  const out = [...fields];
  const read = readColumns(dataset);
  const indexWhere = (test: (c: ColumnConfig) => boolean) => random.pick(dataset.columns.flatMap((c, i) => (read(c) && test(c) ? [i] : [])));
  switch (kind) {
    case 'ragged_row':
      // A field lost at the end of the line, or one too many (an unquoted delimiter in
      // free text splits a field in two). A one-column row cannot lose its only field.
      if (out.length > 1 && random.chance(0.5)) return out.slice(0, -1);
      out.splice(random.int(1, out.length), 0, 'see notes');
      return out;
    case 'bad_nhs_check_digit': {
      // Any other last digit fails Modulus 11: there is exactly one right one.
      const i = indexWhere(isRequiredNhsNumber);
      out[i] = `${out[i].slice(0, 9)}${(Number(out[i][9]) + random.int(1, 9)) % 10}`;
      return out;
    }
    case 'missing_required':
      out[indexWhere((c) => c.required)] = '';
      return out;
    case 'future_date_of_birth': {
      const i = indexWhere(isBirthDate);
      // A month ahead at least where the birth is known to the month, so it is in the future too.
      out[i] = writeDateAs(addDays(today, random.int(isMonthPrecision(dataset.columns[i]) ? 32 : 1, 3000)), dataset.columns[i].dateFormat);
      return out;
    }
    case 'unparseable_date': {
      const i = indexWhere((c) => c.type === 'date');
      const format = dataset.columns[i].dateFormat ?? 'YYYY-MM-DD';
      // None of them a real date in the column's format ('20210315' is one in YYYYMMDD).
      const choices = isMonthPrecision(dataset.columns[i])
        ? ['132021', 'not-a-date', '2021-13', '00-2021']
        : ['31/02/2021', 'not-a-date', '2021-13-45', '2021-02-30', format === 'YYYYMMDD' ? '20210230' : '20210315'];
      out[i] = random.pick(choices);
      return out;
    }
    case 'non_numeric':
      out[indexWhere((c) => c.type === 'integer' || c.type === 'decimal')] = random.pick(['abc', 'twelve', '1,5x', 'N/A']);
      return out;
    case 'not_in_code_list': {
      // The person's own NHS number (a test-range one), keyed into a coded field.
      const nhs = personNhsNumber(dataset, out);
      const i = indexWhere(isCodeListed);
      out[i] = `${out[i]} ${random.chance(0.5) ? spacedNhsNumber(nhs) : nhs}`.trim();
      return out;
    }
    case 'bad_record_id': {
      // A supplier system that used the patient's NHS number as the record key, bare or prefixed.
      // Ten bare digits, whatever layout the NHS number column was written in.
      const nhs = personNhsNumber(dataset, out).replace(/\D/g, '');
      out[indexWhere(isRecordKey)] = random.chance(0.5) ? nhs : `EP-${nhs}`;
      return out;
    }
  }
}

/** RFC 4180: a field is quoted when it holds the delimiter, the quote or a line break (or edge spaces, which some readers trim). */
export function csvLine(fields: readonly string[], delimiter: string, quote: string): string {
  const needsQuote = (f: string) => f.includes(delimiter) || f.includes(quote) || f.includes('\n') || f.includes('\r') || f !== f.trim();
  return fields.map((f) => (needsQuote(f) ? `${quote}${f.split(quote).join(quote + quote)}${quote}` : f)).join(delimiter);
}

/** Windows-1252's characters at bytes 0x80-0x9F (the rest of its upper half is Latin-1). */
const WINDOWS_1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';

function encodeWindows1252(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const high = WINDOWS_1252_HIGH.indexOf(text[i]);
    if (high >= 0) out[i] = 0x80 + high;
    else if (c < 0x80 || (c >= 0xa0 && c <= 0xff)) out[i] = c;
    else throw new Error(`the character U+${c.toString(16).toUpperCase().padStart(4, '0')} has no Windows-1252 byte`);
  }
  return out;
}

function encode(text: string, encoding: DatasetConfig['source']['encoding']): Buffer {
  if (encoding === 'latin1') return Buffer.from(text, 'latin1');
  if (encoding === 'windows-1252') return encodeWindows1252(text);
  if (encoding === 'utf-16le') return Buffer.from(text, 'utf16le');
  return Buffer.from(text, 'utf8');
}

/** A write stream that waits for the disk (backpressure), so memory stays flat. */
class FileSink {
  private readonly stream: fs.WriteStream;
  bytes = 0;

  constructor(file: string) {
    this.stream = fs.createWriteStream(file, { mode: 0o600 });
  }

  async write(chunk: Buffer): Promise<void> {
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        this.stream.once('error', onError);
        this.stream.once('drain', () => {
          this.stream.off('error', onError);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
}

interface Settings {
  readonly people: number;
  readonly seed: number;
  readonly today: string;
  readonly badRowRate: number;
  readonly eventsPerPerson: number;
  readonly optOutRate: number;
  readonly onProgress?: (dataset: string, rowsDone: number) => void;
  readonly postcodes: PostcodeSource;
}

async function writeDataset(dataset: DatasetConfig, file: string, settings: Settings): Promise<DatasetGeneration> {
  // One random stream per dataset, keyed by its name: adding or reordering datasets
  // leaves every other dataset's file unchanged.
  const random = new Random(settings.seed ^ fnv1a(dataset.name));
  const { delimiter, quote, encoding } = dataset.source;
  const sink = new FileSink(file);
  const lineEnd = '\r\n';
  let pending: string[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    await sink.write(encode(pending.join(''), encoding));
    pending = [];
  };
  // A UTF-16 file needs its byte-order mark; readers guess wrong without it.
  if (encoding === 'utf-16le') await sink.write(Buffer.from([0xff, 0xfe]));
  if (dataset.source.header) pending.push(csvLine(dataset.columns.map(sourceNameOf), delimiter, quote) + lineEnd);

  const personLevel = dataset.personKey !== undefined && dataset.columns[0]?.name === dataset.personKey;
  const maternity = isMaternity(dataset);
  const yesterday = addDays(settings.today, -1);
  const makers = dataset.columns.map((c) => columnValue(c, dataset, settings.postcodes));
  const maxEvents = Math.max(1, Math.round(2 * settings.eventsPerPerson - 1));
  const badKinds = applicableBadKinds(dataset);
  const optOutName = dataset.optOut?.nhsNumber ?? dataset.personKey;
  const optOutOn = dataset.columns.findIndex((c) => c.name === optOutName && c.format === 'nhs_number');
  const badRows: Partial<Record<BadRowKind, number>> = {};
  let rows = 0;
  let goodRows = 0;
  let goodRowsOptedOut = 0;

  // A supplier that applies the opt-out itself never sends the rows of people who opted out.
  const supplierOptOut = optOutAppliedBySupplier(dataset);
  for (const person of population(settings.people, settings.seed, settings.today, settings.optOutRate)) {
    if (supplierOptOut && person.optedOut) continue;
    const window = eventWindow(person, yesterday, maternity);
    if (window === undefined && !personLevel) continue;
    const count = personLevel ? 1 : random.int(1, maxEvents);
    for (let e = 0; e < count; e++) {
      rows++;
      const from = window?.from ?? person.dateOfBirth;
      const to = window?.to ?? from;
      let stay = lengthOfStay(random);
      // The stay must end by the window's end (yesterday, or the day of death).
      if (addDays(from, stay) > to) stay = 0;
      const ctx: RowContext = {
        person,
        rowNumber: rows,
        eventDate: randomDate(random, from, addDays(to, -stay)),
        lengthOfStay: stay,
        medicine: random.pick(MEDICINES),
        observation: random.pick(OBSERVATIONS),
      };
      const fields = makers.map((make) => make(ctx, random));
      if (badKinds.length > 0 && random.chance(settings.badRowRate)) {
        const kind = random.pick(badKinds);
        badRows[kind] = (badRows[kind] ?? 0) + 1;
        pending.push(csvLine(spoil(kind, dataset, fields, random, settings.today), delimiter, quote) + lineEnd);
      } else {
        goodRows++;
        // The opt-out can only remove a row whose NHS number it can see.
        if (person.optedOut && (optOutOn < 0 || fields[optOutOn] !== '')) goodRowsOptedOut++;
        pending.push(csvLine(fields, delimiter, quote) + lineEnd);
      }
      if (pending.length >= 2000) {
        await flush();
        settings.onProgress?.(dataset.name, rows);
      }
    }
  }
  await flush();
  await sink.close();
  settings.onProgress?.(dataset.name, rows);
  const badRowCount = rows - goodRows;
  return { dataset: dataset.name, file, personLevel, rows, goodRows, goodRowsOptedOut, badRows, badRowCount, bytes: sink.bytes };
}

/** The postcodes of each lookup a postcode_lsoa column names (reference/<file> under the config directory), read once. */
function lookupPostcodes(config: SdeConfig): PostcodeSource {
  const byFile = new Map<string, readonly string[] | undefined>();
  return (column) => {
    const name = column.lookup;
    if (name === undefined) return undefined;
    if (!byFile.has(name)) {
      const file = path.join(config.dir, 'reference', name);
      byFile.set(name, fs.existsSync(file) ? [...parseLsoaLookup(fs.readFileSync(file), name).keys()] : undefined);
    }
    return byFile.get(name);
  };
}

function share(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(v >= 0 && v <= 1)) throw new Error(`${name} must be a share between 0 and 1, not ${value}`);
  return v;
}

function validate(options: GenerateOptions): Settings {
  const { people, seed } = options;
  if (!Number.isInteger(people) || people < 1) throw new Error(`people must be a positive whole number, not ${people}`);
  if (people > SYNTHETIC_NHS_CAPACITY) {
    throw new Error(`people must be at most ${SYNTHETIC_NHS_CAPACITY}: the 999 test range holds no more valid NHS numbers`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be a whole number from 0 to ${0xffffffff}, not ${seed}`);
  const eventsPerPerson = options.eventsPerPerson ?? 3;
  if (!(eventsPerPerson >= 1)) throw new Error(`eventsPerPerson must be at least 1, not ${options.eventsPerPerson}`);
  const today = options.today ?? options.config.today;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today) || Number.isNaN(Date.parse(today))) throw new Error(`today must be a date written YYYY-MM-DD, not "${today}"`);
  return {
    people,
    seed,
    today,
    eventsPerPerson,
    badRowRate: share('badRowRate', options.badRowRate, 0.03),
    optOutRate: share('optOutRate', options.optOutRate, 0.02),
    onProgress: options.onProgress,
    postcodes: lookupPostcodes(options.config),
  };
}

/** Generates a CSV file per dataset and an opt-out list under `outDir`. Same options, same bytes. */
export async function generatePopulation(options: GenerateOptions): Promise<PopulationGeneration> {
  const settings = validate(options);
  fs.mkdirSync(options.outDir, { recursive: true, mode: 0o700 });

  const optOutFile = path.join(options.outDir, 'national-data-opt-out.txt');
  const optOut = new FileSink(optOutFile);
  let optOutCount = 0;
  let lines: string[] = [];
  for (const person of population(settings.people, settings.seed, settings.today, settings.optOutRate)) {
    if (!person.optedOut) continue;
    optOutCount++;
    lines.push(`${person.nhsNumber}\n`);
    if (lines.length >= 10_000) {
      await optOut.write(Buffer.from(lines.join('')));
      lines = [];
    }
  }
  await optOut.write(Buffer.from(lines.join('')));
  await optOut.close();

  const datasets: DatasetGeneration[] = [];
  for (const dataset of options.config.datasets) {
    datasets.push(await writeDataset(dataset, path.join(options.outDir, `${dataset.name}.csv`), settings));
  }
  return { seed: settings.seed, people: settings.people, datasets, optOutFile, optOutCount };
}
