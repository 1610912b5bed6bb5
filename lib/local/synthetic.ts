/**
 * A seeded, deterministic synthetic population for any configuration: one set of people
 * shared by every dataset (so records link across datasets, as real ones do), with values
 * shaped by each column's name, type and format, and a known share of deliberately bad
 * rows so ingestion tests can check that exactly those are quarantined.
 *
 * Rules for the shape: a dataset whose first column is its person key holds one row per
 * person (e.g. demographics); any other dataset holds events, 1 to 2×average per person.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SdeConfig } from '../config/model';
import type { ColumnConfig, DatasetConfig } from '../config/schema';
import {
  addDays,
  ADMISSION_METHODS,
  DOSAGES,
  ETHNIC_CATEGORIES,
  FAMILY_NAMES,
  GIVEN_NAMES,
  GP_PRACTICES,
  ICD10,
  MEASUREMENT_UNITS,
  MEDICINES,
  NOTES,
  OPCS4,
  Random,
  randomDate,
  SNOMED,
  STREETS,
  syntheticLsoa,
  syntheticNhsNumbers,
  syntheticPhone,
  syntheticPostcode,
  TRUSTS,
} from './synthetic-values';

export const BAD_ROW_KINDS = ['bad_nhs_check_digit', 'missing_required', 'future_date_of_birth', 'unparseable_date', 'ragged_row', 'non_numeric'] as const;
export type BadRowKind = (typeof BAD_ROW_KINDS)[number];

export interface SyntheticPerson {
  readonly nhsNumber: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly dateOfBirth: string;
  readonly sex: string;
  readonly ethnicity: string;
  readonly postcode: string;
  readonly lsoa: string;
  readonly practice: string;
  readonly address: string;
  readonly phone: string;
  readonly registrationDate: string;
  readonly dateOfDeath: string;
}

export interface DatasetGeneration {
  readonly dataset: string;
  readonly file: string;
  /** Data rows written (good + bad), not counting the header. */
  readonly rows: number;
  readonly goodRows: number;
  /** Good rows of people on the opt-out list: ingestion should remove exactly these (when the dataset applies the opt-out). */
  readonly goodRowsOptedOut: number;
  readonly badRows: Readonly<Partial<Record<BadRowKind, number>>>;
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
  readonly outDir: string;
  readonly people: number;
  readonly seed: number;
  /** Share of rows made deliberately bad. @default 0.03 */
  readonly badRowRate?: number;
  /** Average events per person in event datasets. @default 3 */
  readonly eventsPerPerson?: number;
  /** Share of people who opted out. @default 0.02 */
  readonly optOutRate?: number;
  /** Dates are generated up to this day. @default config.today */
  readonly today?: string;
  readonly onProgress?: (dataset: string, rowsDone: number) => void;
}

function makePeople(count: number, random: Random, today: string): SyntheticPerson[] {
  const numbers = syntheticNhsNumbers(count);
  return numbers.map((nhsNumber) => {
    const dateOfBirth = randomDate(random, '1925-01-01', addDays(today, -1));
    return {
      nhsNumber,
      givenName: random.pick(GIVEN_NAMES),
      familyName: random.pick(FAMILY_NAMES),
      dateOfBirth,
      sex: random.pick(['1', '2', '1', '2', '9']),
      ethnicity: random.pick(ETHNIC_CATEGORIES),
      postcode: syntheticPostcode(random),
      lsoa: syntheticLsoa(random),
      practice: random.pick(GP_PRACTICES),
      address: `${random.int(1, 250)} ${random.pick(STREETS)}`,
      phone: syntheticPhone(random),
      registrationDate: randomDate(random, dateOfBirth < '2000-01-01' ? '2000-01-01' : dateOfBirth, today),
      dateOfDeath: random.chance(0.03) ? randomDate(random, '2020-01-01', today) : '',
    };
  });
}

/** Per-row state, so related columns agree (discharge after admission, medicine name matches its code). */
interface RowContext {
  readonly person: SyntheticPerson;
  readonly rowNumber: number;
  readonly eventDate: string;
  readonly lengthOfStay: number;
  readonly medicine: (typeof MEDICINES)[number];
}

function idPrefix(name: string): string {
  return name
    .replace(/_id$/, '')
    .split('_')
    .map((w) => w[0]?.toUpperCase() ?? '')
    .join('');
}

function valueFor(column: ColumnConfig, ctx: RowContext, random: Random): string {
  const name = column.name;
  const p = ctx.person;
  if (column.format === 'nhs_number') return p.nhsNumber;
  if (column.type === 'date') {
    if (/birth|dob/.test(name)) return p.dateOfBirth;
    if (/death/.test(name)) return p.dateOfDeath;
    if (/registration/.test(name)) return p.registrationDate;
    if (/discharge|_end/.test(name)) return addDays(ctx.eventDate, ctx.lengthOfStay);
    return ctx.eventDate;
  }
  if (column.type === 'timestamp') return `${ctx.eventDate}T${String(random.int(0, 23)).padStart(2, '0')}:${String(random.int(0, 59)).padStart(2, '0')}:00Z`;
  if (column.type === 'boolean') return random.chance(0.2) ? 'true' : 'false';
  if (column.type === 'integer') {
    if (/length_of_stay|los$/.test(name)) return String(ctx.lengthOfStay);
    if (/gestation/.test(name)) return String(random.int(8, 40));
    return String(random.int(0, 99));
  }
  if (column.type === 'decimal') {
    if (/quantity/.test(name)) return String(random.pick([28, 56, 84, 112]));
    if (/hours/.test(name)) return (random.int(0, 80) / 2).toFixed(1);
    return (random.int(0, 2000) / 10).toFixed(1);
  }
  switch (column.format) {
    case 'postcode':
      return p.postcode;
    case 'lsoa':
      return p.lsoa;
    case 'ods_code':
      return /practice|gp/.test(name) ? p.practice : random.pick(TRUSTS);
    case 'icd10':
      return random.pick(ICD10);
    case 'opcs4':
      return random.chance(0.7) ? random.pick(OPCS4) : '';
    case 'snomed':
      return random.pick(SNOMED);
    case 'bnf':
      return ctx.medicine.bnf;
    case 'free_text':
      return /dosage|instruction/.test(name) ? random.pick(DOSAGES) : random.pick(NOTES);
    default:
      break;
  }
  if (/^sex$|gender/.test(name)) return p.sex;
  if (/ethnic/.test(name)) return p.ethnicity;
  if (/given|first_name|forename/.test(name)) return p.givenName;
  if (/family|surname|last_name/.test(name)) return p.familyName;
  if (/prescriber|clinician|consultant/.test(name)) return `Dr ${random.pick(FAMILY_NAMES)}`;
  if (/address/.test(name)) return p.address;
  if (/phone|mobile/.test(name)) return p.phone;
  if (/admission_method/.test(name)) return random.pick(ADMISSION_METHODS);
  if (/secondary_diagnos/.test(name)) return Array.from({ length: random.int(0, 3) }, () => random.pick(ICD10)).join('|');
  if (/medicine|drug/.test(name)) return ctx.medicine.name;
  if (/unit/.test(name)) return random.pick(MEASUREMENT_UNITS);
  if (/_id$/.test(name)) return `${idPrefix(name)}${String(ctx.rowNumber).padStart(9, '0')}`;
  return `${name}-${random.int(1, 20)}`;
}

/** Which bad-row kinds a dataset can carry, given its columns. */
function applicableBadKinds(dataset: DatasetConfig): BadRowKind[] {
  const kinds: BadRowKind[] = ['ragged_row'];
  if (dataset.columns.some((c) => c.format === 'nhs_number')) kinds.push('bad_nhs_check_digit');
  if (dataset.columns.some((c) => c.required)) kinds.push('missing_required');
  if (dataset.columns.some((c) => c.type === 'date' && /birth|dob/.test(c.name))) kinds.push('future_date_of_birth');
  if (dataset.columns.some((c) => c.type === 'date')) kinds.push('unparseable_date');
  if (dataset.columns.some((c) => c.type === 'integer' || c.type === 'decimal')) kinds.push('non_numeric');
  return kinds;
}

/** Makes a good row bad in exactly one way. */
function spoil(kind: BadRowKind, dataset: DatasetConfig, fields: string[], random: Random, today: string): string[] {
  const out = [...fields];
  const indexWhere = (test: (c: ColumnConfig) => boolean) => {
    const candidates = dataset.columns.map((c, i) => (test(c) ? i : -1)).filter((i) => i >= 0);
    return random.pick(candidates);
  };
  switch (kind) {
    case 'ragged_row':
      return out.slice(0, -1);
    case 'bad_nhs_check_digit': {
      const i = indexWhere((c) => c.format === 'nhs_number');
      const digits = out[i];
      out[i] = `${digits.slice(0, 9)}${(Number(digits[9]) + 1 + random.int(0, 8)) % 10}`;
      return out;
    }
    case 'missing_required':
      out[indexWhere((c) => c.required)] = '';
      return out;
    case 'future_date_of_birth':
      out[indexWhere((c) => c.type === 'date' && /birth|dob/.test(c.name))] = addDays(today, random.int(30, 3000));
      return out;
    case 'unparseable_date':
      out[indexWhere((c) => c.type === 'date')] = random.pick(['31/02/2021', 'not-a-date', '2021-13-45']);
      return out;
    case 'non_numeric':
      out[indexWhere((c) => c.type === 'integer' || c.type === 'decimal')] = random.pick(['abc', 'twelve', '1,5x']);
      return out;
  }
}

/** RFC 4180 quoting with the dataset's delimiter and quote character. */
function csvLine(fields: readonly string[], delimiter: string, quote: string): string {
  const needsQuote = (f: string) => f.includes(delimiter) || f.includes(quote) || f.includes('\n') || f.includes('\r') || f !== f.trim();
  return fields.map((f) => (needsQuote(f) ? `${quote}${f.split(quote).join(quote + quote)}${quote}` : f)).join(delimiter);
}

function encode(text: string, encoding: DatasetConfig['source']['encoding']): Buffer {
  if (encoding === 'latin1') return Buffer.from(text, 'latin1');
  if (encoding === 'utf-16le') return Buffer.from(text, 'utf16le');
  return Buffer.from(text, 'utf8');
}

async function writeDataset(
  dataset: DatasetConfig,
  people: readonly SyntheticPerson[],
  optedOut: ReadonlySet<string>,
  file: string,
  options: GenerateOptions,
  random: Random,
  today: string,
): Promise<DatasetGeneration> {
  const stream = fs.createWriteStream(file, { mode: 0o600 });
  const { delimiter, quote, encoding } = dataset.source;
  let bytes = 0;
  let pending: string[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const chunk = encode(`${pending.join('\r\n')}\r\n`, encoding);
    pending = [];
    bytes += chunk.length;
    if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
  };
  if (encoding === 'utf-16le') {
    stream.write(Buffer.from([0xff, 0xfe]));
    bytes += 2;
  }
  if (dataset.source.header) pending.push(csvLine(dataset.columns.map((c) => c.name), delimiter, quote));

  const personLevel = dataset.columns[0]?.name === dataset.personKey;
  const average = options.eventsPerPerson ?? 3;
  const badKinds = applicableBadKinds(dataset);
  const badRate = options.badRowRate ?? 0.03;
  const badRows: Partial<Record<BadRowKind, number>> = {};
  let rows = 0;
  let goodRows = 0;
  let goodRowsOptedOut = 0;

  for (const person of people) {
    const count = personLevel ? 1 : random.int(1, Math.max(1, 2 * average - 1));
    for (let e = 0; e < count; e++) {
      rows++;
      const earliest = person.dateOfBirth > '2019-01-01' ? person.dateOfBirth : '2019-01-01';
      const ctx: RowContext = {
        person,
        rowNumber: rows,
        eventDate: randomDate(random, earliest, addDays(today, -1)),
        lengthOfStay: random.int(0, 21),
        medicine: random.pick(MEDICINES),
      };
      const fields = dataset.columns.map((c) => valueFor(c, ctx, random));
      if (random.chance(badRate)) {
        const kind = random.pick(badKinds);
        badRows[kind] = (badRows[kind] ?? 0) + 1;
        pending.push(csvLine(spoil(kind, dataset, fields, random, today), delimiter, quote));
      } else {
        goodRows++;
        if (optedOut.has(person.nhsNumber)) goodRowsOptedOut++;
        pending.push(csvLine(fields, delimiter, quote));
      }
      if (pending.length >= 2000) {
        await flush();
        options.onProgress?.(dataset.name, rows);
      }
    }
  }
  await flush();
  options.onProgress?.(dataset.name, rows);
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { dataset: dataset.name, file, rows, goodRows, goodRowsOptedOut, badRows, bytes };
}

/** FNV-1a: a stable number per dataset name, so each dataset's rows depend on its name, not its position. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Generates a CSV file per dataset and an opt-out list under `outDir`. Same seed, same bytes. */
export async function generatePopulation(options: GenerateOptions): Promise<PopulationGeneration> {
  if (!Number.isInteger(options.people) || options.people < 1) throw new Error(`people must be a positive whole number, not ${options.people}`);
  const today = options.today ?? options.config.today;
  fs.mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
  // One stream of randomness per purpose, so adding a dataset does not change the people.
  const people = makePeople(options.people, new Random(options.seed), today);
  const optOutRandom = new Random(options.seed ^ 0x5bd1e995);
  const optedOut = new Set(people.filter(() => optOutRandom.chance(options.optOutRate ?? 0.02)).map((p) => p.nhsNumber));
  const optOutFile = path.join(options.outDir, 'national-data-opt-out.txt');
  fs.writeFileSync(optOutFile, [...optedOut].map((n) => `${n}\n`).join(''), { mode: 0o600 });

  const datasets: DatasetGeneration[] = [];
  for (const dataset of options.config.datasets) {
    const file = path.join(options.outDir, `${dataset.name}.csv`);
    datasets.push(await writeDataset(dataset, people, optedOut, file, options, new Random(options.seed ^ fnv1a(dataset.name)), today));
  }
  return { seed: options.seed, people: people.length, datasets, optOutFile, optOutCount: optedOut.size };
}
