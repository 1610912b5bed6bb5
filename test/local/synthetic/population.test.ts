import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isTestRangeNhsNumber, isValidNhsNumber } from '../../../lib/ingest/core/nhs-number';
import { loadConfig } from '../../../lib/config';
import type { SdeConfig } from '../../../lib/config/model';
import type { DatasetConfig } from '../../../lib/config/schema';
import { BAD_ROW_KINDS, BadRowKind, generatePopulation, PopulationGeneration } from '../../../lib/local/synthetic/population';
import { SYNTHETIC_NHS_CAPACITY, syntheticNhsNumbers } from '../../../lib/local/synthetic/values';
import { ConfigFixture, EXAMPLE_CONFIG, REPO_ROOT, SECOND_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { parseCsv } from '../../helpers/csv';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const YESTERDAY = '2026-11-21';
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-gen-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const dataset = (cfg: SdeConfig, name: string) => cfg.datasets.find((d) => d.name === name)!;
const generated = (population: PopulationGeneration, name: string) => population.datasets.find((d) => d.dataset === name)!;

/** A file's data rows, decoded and parsed as its config says, independently of the generator. */
function readRows(file: string, ds: DatasetConfig): string[][] {
  const encoding = ds.source.encoding === 'utf-16le' ? 'utf16le' : ds.source.encoding === 'latin1' ? 'latin1' : 'utf8';
  const rows = parseCsv(fs.readFileSync(file, encoding).replace(/^\uFEFF/, ''), ds.source.delimiter);
  if (ds.source.header) expect(rows[0]).toEqual(ds.columns.map((c) => c.name));
  return ds.source.header ? rows.slice(1) : rows;
}

const isCalendarDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().startsWith(v);
const isBirthColumn = (name: string) => /birth|dob/.test(name);

/**
 * What a validator would say about a row: good, or the one kind of problem it has. A row
 * with two problems fails the test (the generator promises exactly one per bad row).
 */
function classify(ds: DatasetConfig, row: string[], today: string): BadRowKind | 'good' {
  if (row.length !== ds.columns.length) return 'ragged_row';
  const problems = new Set<BadRowKind>();
  // A dropped column no rule uses is not read by ingestion: whatever it holds is no problem.
  const used = new Set([
    ...ds.columns.flatMap((c) => (c.ageAt === undefined ? [] : [c.ageAt])),
    ...(ds.optOut?.nhsNumber === undefined ? [] : [ds.optOut.nhsNumber]),
  ]);
  ds.columns.forEach((c, i) => {
    const v = row[i];
    if (c.rule === 'drop' && !used.has(c.name)) return;
    const date = c.type === 'date' ? asIso(v, c.dateFormat) : undefined;
    if (v === '') {
      if (c.required) problems.add('missing_required');
    } else if (c.format === 'nhs_number' && !isValidNhsNumber(v)) problems.add('bad_nhs_check_digit');
    else if (c.type === 'date' && (date === undefined || !isCalendarDate(date.length === 7 ? `${date}-01` : date))) problems.add('unparseable_date');
    else if (c.type === 'date' && isBirthColumn(c.name) && date! > today.slice(0, date!.length)) problems.add('future_date_of_birth');
    else if (c.type === 'integer' && !/^-?\d+$/.test(v)) problems.add('non_numeric');
    else if (c.type === 'decimal' && !/^-?\d+(\.\d+)?$/.test(v)) problems.add('non_numeric');
    else if (c.format !== undefined && typeof c.format === 'object' && 'codes' in c.format && !c.format.codes!.includes(v)) problems.add('not_in_code_list');
    else if (c.format === 'record_id' && c.rule === 'keep' && holdsNhsNumber(v)) problems.add('bad_record_id');
  });
  if (problems.size > 1) throw new Error(`a row with ${problems.size} problems (${[...problems].join(', ')}): ${row.join('|')}`);
  return [...problems][0] ?? 'good';
}

/** A date as written in a dateFormat, as `YYYY-MM-DD` (or `YYYY-MM` for a month); undefined when its shape is not the format's. */
function asIso(v: string, format: string | undefined): string | undefined {
  const shapes: Record<string, string[] | undefined> = {
    'YYYY-MM-DD': /^(\d{4})-(\d{2})-(\d{2})$/.exec(v)?.slice(1),
    'DD/MM/YYYY': /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(v)?.slice(1).reverse(),
    YYYYMMDD: /^(\d{4})(\d{2})(\d{2})$/.exec(v)?.slice(1),
    MMYYYY: /^(\d{2})(\d{4})$/.exec(v)?.slice(1).reverse(),
    'YYYY-MM': /^(\d{4})-(\d{2})$/.exec(v)?.slice(1),
  };
  const m = shapes[format ?? 'YYYY-MM-DD'];
  return m?.join('-');
}

/** Any ten of the value's digits in a row, read through everything else, that pass Modulus 11 (the record_id rule, written again independently). */
function holdsNhsNumber(v: string): boolean {
  const digits = v.replace(/\D/g, '');
  for (let i = 0; i + 10 <= digits.length; i++) if (isValidNhsNumber(digits.slice(i, i + 10))) return true;
  return false;
}

/** The planted counts must be exactly what re-reading the files finds. */
function expectCountsMatch(cfg: SdeConfig, population: PopulationGeneration) {
  for (const d of population.datasets) {
    const found: Partial<Record<BadRowKind, number>> = {};
    let good = 0;
    const rows = readRows(d.file, dataset(cfg, d.dataset));
    for (const row of rows) {
      const kind = classify(dataset(cfg, d.dataset), row, TEST_TODAY);
      if (kind === 'good') good++;
      else found[kind] = (found[kind] ?? 0) + 1;
    }
    expect({ dataset: d.dataset, rows: rows.length, good, bad: found }).toEqual({ dataset: d.dataset, rows: d.rows, good: d.goodRows, bad: d.badRows });
    expect(d.badRowCount).toBe(d.rows - d.goodRows);
    expect(d.bytes).toBe(fs.statSync(d.file).size);
  }
}

describe('synthetic population', () => {
  let first: PopulationGeneration;
  beforeAll(async () => {
    first = await generatePopulation({ config, outDir: tempDir(), people: 400, seed: 7, today: TEST_TODAY });
  });

  test('the same seed gives byte-identical files', async () => {
    const second = await generatePopulation({ config, outDir: tempDir(), people: 400, seed: 7, today: TEST_TODAY });
    for (const [i, d] of first.datasets.entries()) {
      expect(fs.readFileSync(second.datasets[i].file).equals(fs.readFileSync(d.file))).toBe(true);
    }
    expect(fs.readFileSync(second.optOutFile).equals(fs.readFileSync(first.optOutFile))).toBe(true);
  });

  test('another seed gives other data', async () => {
    const other = await generatePopulation({ config, outDir: tempDir(), people: 400, seed: 8, today: TEST_TODAY });
    expect(fs.readFileSync(other.datasets[0].file).equals(fs.readFileSync(first.datasets[0].file))).toBe(false);
  });

  test('the first synthetic NHS numbers are the published test numbers', () => {
    const published = fs
      .readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'health', 'nhs-number', 'testdata-9-valid-nhs-numbers.csv'), 'utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .filter(Boolean);
    const ours = syntheticNhsNumbers();
    expect(published.map(() => ours.next().value)).toEqual(published);
  });

  test('the 999 test range holds the number of people the generator allows', () => {
    // Counted independently: 999 + six digits, weights 10..2, valid unless the check is 10.
    // (Plain arithmetic: a global like Math in a hot loop is slow under jest's vm context.)
    let count = 0;
    for (let six = 0; six < 1_000_000; six++) {
      let sum = 9 * 10 + 9 * 9 + 9 * 8;
      for (let i = 0, n = six; i < 6; i++, n = (n - (n % 10)) / 10) sum += (n % 10) * (2 + i);
      if (11 - (sum % 11) !== 10) count++;
    }
    expect(count).toBe(SYNTHETIC_NHS_CAPACITY);
  });

  test('every NHS number written is from the 999 test range, and every good one is valid', () => {
    for (const d of first.datasets) {
      const ds = dataset(config, d.dataset);
      const nhsColumn = ds.columns.findIndex((c) => c.format === 'nhs_number');
      const rows = readRows(d.file, ds);
      // A supplier's extract with no NHS number (HES: its own pseudonym instead) has none to check.
      if (nhsColumn < 0) continue;
      const values = rows.map((r) => r[nhsColumn]).filter((n) => n !== undefined && n !== '');
      expect(values.every((n) => n.startsWith('999'))).toBe(true);
      const good = rows.filter((r) => classify(ds, r, TEST_TODAY) === 'good');
      expect(good.length).toBe(d.goodRows);
      expect(good.every((r) => isTestRangeNhsNumber(r[nhsColumn]))).toBe(true);
    }
  });

  test('the planted bad rows, by kind, are exactly the rows a validator finds bad', () => {
    expectCountsMatch(config, first);
    for (const d of first.datasets) {
      expect(d.badRowCount / d.rows).toBeGreaterThan(0.01);
      expect(d.badRowCount / d.rows).toBeLessThan(0.06);
    }
    // Across the four datasets every kind is planted at least once.
    const kinds = new Set(first.datasets.flatMap((d) => Object.keys(d.badRows)));
    expect([...kinds].sort()).toEqual([...BAD_ROW_KINDS].sort());
  });

  test('the bad-row rate can be turned off, or up', async () => {
    const none = await generatePopulation({ config, outDir: tempDir(), people: 50, seed: 1, today: TEST_TODAY, badRowRate: 0 });
    expect(none.datasets.every((d) => d.badRowCount === 0 && d.goodRows === d.rows)).toBe(true);
    const all = await generatePopulation({ config, outDir: tempDir(), people: 50, seed: 1, today: TEST_TODAY, badRowRate: 1 });
    expect(all.datasets.every((d) => d.goodRows === 0)).toBe(true);
    expectCountsMatch(config, all);
  });

  test('one row per person in demographics, several events per person elsewhere, linked by NHS number', () => {
    const demographics = generated(first, 'demographics');
    const episodes = generated(first, 'hospital_episodes');
    expect(demographics.personLevel).toBe(true);
    expect(demographics.rows).toBe(400);
    expect(episodes.personLevel).toBe(false);
    expect(episodes.rows).toBeGreaterThan(800);
    const people = new Set(readRows(demographics.file, dataset(config, 'demographics')).map((r) => r[0]));
    const episodeRows = readRows(episodes.file, dataset(config, 'hospital_episodes'));
    expect(episodeRows.filter((r) => people.has(r[1])).length).toBeGreaterThan(episodes.goodRows * 0.95);
    // The same person has the same date of birth in both files.
    const birth = new Map(readRows(demographics.file, dataset(config, 'demographics')).map((r) => [r[0], r[3]]));
    const good = episodeRows.filter((r) => classify(dataset(config, 'hospital_episodes'), r, TEST_TODAY) === 'good' && birth.has(r[1]));
    expect(good.filter((r) => birth.get(r[1]) === r[2]).length).toBeGreaterThan(good.length * 0.95);
  });

  test('dates are plausible: births 1920-2024, events from 2019 to yesterday, discharge after admission', () => {
    const ds = dataset(config, 'hospital_episodes');
    const col = (name: string) => ds.columns.findIndex((c) => c.name === name);
    const good = readRows(generated(first, 'hospital_episodes').file, ds).filter((r) => classify(ds, r, TEST_TODAY) === 'good');
    const wrong = good.filter((r) => {
      const [birth, admitted, discharged] = [r[col('date_of_birth')], r[col('admission_date')], r[col('discharge_date')]];
      const days = (Date.parse(discharged) - Date.parse(admitted)) / 86_400_000;
      return !(
        birth >= '1920-01-01' &&
        birth <= '2024-12-31' &&
        admitted >= '2019-01-01' &&
        admitted >= birth &&
        discharged >= admitted &&
        discharged <= YESTERDAY &&
        r[col('length_of_stay')] === String(days) &&
        /^[129]$/.test(r[col('sex')]) &&
        /^E(\d{9}|X[A-Z]+)$/.test(r[col('episode_id')]) &&
        /^[A-HJ-NPRSZ]$/.test(r[col('ethnicity')]) &&
        /^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/.test(r[col('postcode')]) &&
        /^E01\d{6}$/.test(r[col('lsoa_code')]) &&
        /^[A-Z]\d{2}[\dX]$/.test(r[col('primary_diagnosis')])
      );
    });
    expect(good.length).toBeGreaterThan(800);
    expect(wrong).toEqual([]);
    const demographics = dataset(config, 'demographics');
    const dcol = (name: string) => demographics.columns.findIndex((c) => c.name === name);
    const people = readRows(generated(first, 'demographics').file, demographics).filter((x) => classify(demographics, x, TEST_TODAY) === 'good');
    const birth = (r: string[]) => r[dcol('date_of_birth')];
    expect(people.filter((r) => r[dcol('registration_date')] < birth(r) || (r[dcol('date_of_death')] !== '' && r[dcol('date_of_death')] < birth(r)))).toEqual(
      [],
    );
  });

  test('the opt-out list holds about 2% of people, and the opted-out good rows are counted', () => {
    const list = fs.readFileSync(first.optOutFile, 'utf8').trim().split('\n');
    expect(list.length).toBe(first.optOutCount);
    expect(list.length).toBeGreaterThan(2);
    expect(list.length).toBeLessThan(24);
    expect(list.every(isTestRangeNhsNumber)).toBe(true);
    const optedOut = new Set(list);
    for (const d of first.datasets) {
      const ds = dataset(config, d.dataset);
      const key = ds.columns.findIndex((c) => c.name === ds.personKey);
      const counted = readRows(d.file, ds).filter((r) => classify(ds, r, TEST_TODAY) === 'good' && optedOut.has(r[key])).length;
      expect(counted).toBe(d.goodRowsOptedOut);
    }
    expect(generated(first, 'hospital_episodes').goodRowsOptedOut).toBeGreaterThan(0);
  });

  test('refuses options that cannot make a population, saying why', async () => {
    const outDir = tempDir();
    await expect(generatePopulation({ config, outDir, people: 0, seed: 1 })).rejects.toThrow('people must be a positive whole number, not 0');
    await expect(generatePopulation({ config, outDir, people: 10, seed: 1.5 })).rejects.toThrow(/seed must be a whole number/);
    await expect(generatePopulation({ config, outDir, people: 10, seed: 1, badRowRate: 3 })).rejects.toThrow(
      'badRowRate must be a share between 0 and 1, not 3',
    );
    await expect(generatePopulation({ config, outDir, people: 10, seed: 1, eventsPerPerson: 0 })).rejects.toThrow('eventsPerPerson must be at least 1');
    await expect(generatePopulation({ config, outDir, people: 1_000_000, seed: 1 })).rejects.toThrow(
      'people must be at most 909091: the 999 test range holds no more valid NHS numbers',
    );
  });
});

describe('a config with a dataset the examples do not have', () => {
  const fixture = new ConfigFixture(EXAMPLE_CONFIG);
  afterAll(() => fixture.cleanup());
  // The example population, to show that adding a dataset changes no other file.
  let example: PopulationGeneration;
  beforeAll(async () => {
    example = await generatePopulation({ config, outDir: tempDir(), people: 400, seed: 7, today: TEST_TODAY });
  });

  test('gets data shaped by its own columns, delimiter and encoding, and leaves the other datasets unchanged', async () => {
    // An emergency department feed: semicolons, UTF-16, timestamps, booleans, an age and a cost.
    fixture.write(
      'datasets/ae_attendances.yaml',
      `name: ae_attendances
title: Emergency department attendances
description: One row per attendance at a type 1 emergency department (ECDS-shaped).
supplier: London acute trusts
personKey: patient_nhs_number
source:
  delimiter: ";"
  encoding: utf-16le
columns:
  - { name: attendance_id, description: Attendance key, type: string, required: true, format: record_id, classification: other, rule: keep }
  - { name: patient_nhs_number, description: NHS number, type: string, required: true, format: nhs_number, classification: direct_identifier, rule: pseudonymise }
  - { name: arrival_time, description: Arrival, type: timestamp, required: true, classification: quasi_identifier, rule: date_to_month }
  - { name: age_at_arrival, description: Age in years, type: integer, min: 0, max: 120, classification: quasi_identifier, rule: keep }
  - { name: provider_code, description: Trust, type: string, format: ods_code, classification: other, rule: keep }
  - { name: chief_complaint, description: SNOMED chief complaint, type: string, format: snomed, classification: sensitive, rule: keep }
  - { name: diagnosis, description: ICD-10 diagnosis, type: string, format: icd10, classification: sensitive, rule: keep }
  - { name: admitted, description: Admitted to a ward, type: boolean, classification: other, rule: keep }
  - { name: tariff_cost, description: Cost in pounds, type: decimal, min: 0, max: 100000, classification: other, rule: keep }
  - { name: triage_notes, description: Triage notes, type: string, format: free_text, classification: sensitive, rule: drop }
`,
    );
    const cfg = loadConfig(fixture.dir, { today: TEST_TODAY });
    const result = await generatePopulation({ config: cfg, outDir: tempDir(), people: 400, seed: 7, today: TEST_TODAY });
    expectCountsMatch(cfg, result);

    const ae = generated(result, 'ae_attendances');
    expect(fs.readFileSync(ae.file).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfe]));
    const ds = dataset(cfg, 'ae_attendances');
    const good = readRows(ae.file, ds).filter((r) => classify(ds, r, TEST_TODAY) === 'good');
    expect(good.length).toBeGreaterThan(800);
    const wrong = good.filter(
      (r) =>
        !(
          /^A(\d{9}|X[A-Z]+)$/.test(r[0]) &&
          isTestRangeNhsNumber(r[1]) &&
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(r[2]) &&
          Number(r[3]) >= 0 &&
          Number(r[3]) <= 107 &&
          /^R[A-Z0-9]{2}$/.test(r[4]) &&
          /^\d{6,18}$/.test(r[5]) &&
          ['true', 'false'].includes(r[7]) &&
          /^\d+\.\d{2}$/.test(r[8])
        ),
    );
    expect(wrong).toEqual([]);

    // Each dataset has its own random stream: adding one changes no other file.
    for (const d of example.datasets) {
      expect(fs.readFileSync(generated(result, d.dataset).file).equals(fs.readFileSync(d.file))).toBe(true);
    }
  });
});

describe('the second region', () => {
  test('gets maternity bookings of women of childbearing age, pipe-delimited in Latin-1', async () => {
    const second = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
    const result = await generatePopulation({ config: second, outDir: tempDir(), people: 300, seed: 3, today: TEST_TODAY });
    expect(result.datasets.map((d) => d.dataset).sort()).toEqual(['maternity_bookings', 'social_care_assessments']);
    expectCountsMatch(second, result);

    const ds = dataset(second, 'maternity_bookings');
    const good = readRows(generated(result, 'maternity_bookings').file, ds).filter((r) => classify(ds, r, TEST_TODAY) === 'good');
    expect(good.length).toBeGreaterThan(20);
    const ageAtBooking = (r: string[]) => Number(r[3].slice(0, 4)) - Number(r[2].slice(0, 4)) - (r[3].slice(5) < r[2].slice(5) ? 1 : 0);
    expect(good.filter((r) => ageAtBooking(r) < 16 || ageAtBooking(r) > 48)).toEqual([]);
    expect(good.filter((r) => !(Number(r[4]) >= 8 && Number(r[4]) <= 40) || !['true', 'false'].includes(r[5]))).toEqual([]);
    // Mothers are women: their demographics would say sex 2. Fewer mothers than people.
    expect(new Set(good.map((r) => r[1])).size).toBeLessThan(300 / 2);
  });
});
