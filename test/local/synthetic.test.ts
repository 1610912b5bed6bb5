import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isValidNhsNumber } from '../../lambdas/core/nhs-number';
import { loadConfig } from '../../lib/config';
import { generatePopulation, PopulationGeneration } from '../../lib/local/synthetic';
import { EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { parseCsv } from '../helpers/csv';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-gen-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (v: string | undefined) => v !== undefined && isoDate.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().startsWith(v);

/** Re-derives, from the CSV alone, how many rows are bad: the generator's counts must match. */
function countBadRows(datasetName: string, rows: string[][], today: string) {
  const dataset = config.datasets.find((d) => d.name === datasetName)!;
  const [header, ...data] = rows;
  expect(header).toEqual(dataset.columns.map((c) => c.name));
  let bad = 0;
  for (const row of data) {
    if (row.length !== dataset.columns.length) {
      bad++;
      continue;
    }
    const problems = dataset.columns.filter((c, i) => {
      const v = row[i];
      if (v === '') return c.required;
      if (c.format === 'nhs_number') return !isValidNhsNumber(v);
      if (c.type === 'date') return !validDate(v) || (/birth/.test(c.name) && v > today);
      if (c.type === 'integer') return !/^-?\d+$/.test(v);
      if (c.type === 'decimal') return !/^-?\d+(\.\d+)?$/.test(v);
      return false;
    });
    if (problems.length > 0) bad++;
  }
  return { rows: data.length, bad };
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
    expect(fs.readFileSync(second.optOutFile, 'utf8')).toBe(fs.readFileSync(first.optOutFile, 'utf8'));
  });

  test('another seed gives other data', async () => {
    const other = await generatePopulation({ config, outDir: tempDir(), people: 400, seed: 8, today: TEST_TODAY });
    expect(fs.readFileSync(other.datasets[0].file).equals(fs.readFileSync(first.datasets[0].file))).toBe(false);
  });

  test('every good NHS number is valid and from the 999 test range', () => {
    for (const d of first.datasets) {
      const dataset = config.datasets.find((x) => x.name === d.dataset)!;
      const nhsColumn = dataset.columns.findIndex((c) => c.format === 'nhs_number');
      const numbers = parseCsv(fs.readFileSync(d.file, 'utf8'))
        .slice(1)
        .map((r) => r[nhsColumn])
        .filter((n) => n !== undefined && n !== '' && isValidNhsNumber(n));
      expect(numbers.length).toBeGreaterThan(d.goodRows * 0.95);
      expect(numbers.every((n) => n.startsWith('999'))).toBe(true);
    }
  });

  test('the planted bad rows are exactly the rows a validator finds bad', () => {
    for (const d of first.datasets) {
      const planted = Object.values(d.badRows).reduce((a, b) => a + (b ?? 0), 0);
      const found = countBadRows(d.dataset, parseCsv(fs.readFileSync(d.file, 'utf8')), TEST_TODAY);
      expect({ dataset: d.dataset, rows: found.rows, bad: found.bad }).toEqual({ dataset: d.dataset, rows: d.rows, bad: planted });
      expect(d.goodRows + planted).toBe(d.rows);
      expect(planted / d.rows).toBeGreaterThan(0.01);
      expect(planted / d.rows).toBeLessThan(0.06);
    }
  });

  test('one row per person in demographics, several events per person elsewhere, linked by NHS number', () => {
    const demographics = first.datasets.find((d) => d.dataset === 'demographics')!;
    const episodes = first.datasets.find((d) => d.dataset === 'hospital_episodes')!;
    expect(demographics.rows).toBe(400);
    expect(episodes.rows).toBeGreaterThan(400);
    const people = new Set(parseCsv(fs.readFileSync(demographics.file, 'utf8')).slice(1).map((r) => r[0]));
    const linked = parseCsv(fs.readFileSync(episodes.file, 'utf8'))
      .slice(1)
      .filter((r) => people.has(r[1]));
    expect(linked.length).toBeGreaterThan(episodes.goodRows * 0.9);
  });

  test('discharge is never before admission, and the age at admission is never negative', () => {
    const episodes = first.datasets.find((d) => d.dataset === 'hospital_episodes')!;
    const rows = parseCsv(fs.readFileSync(episodes.file, 'utf8'));
    const col = (name: string) => rows[0].indexOf(name);
    const good = rows.slice(1).filter((x) => x.length === rows[0].length && validDate(x[col('admission_date')]) && validDate(x[col('date_of_birth')]) && x[col('date_of_birth')] <= TEST_TODAY);
    expect(good.length).toBeGreaterThan(rows.length * 0.9);
    for (const r of good) {
      expect(r[col('admission_date')] >= r[col('date_of_birth')]).toBe(true);
      if (validDate(r[col('discharge_date')])) expect(r[col('discharge_date')] >= r[col('admission_date')]).toBe(true);
    }
  });

  test('the opt-out list holds about 2% of people, each a valid number', () => {
    const list = fs.readFileSync(first.optOutFile, 'utf8').trim().split('\n');
    expect(list.length).toBe(first.optOutCount);
    expect(list.length).toBeGreaterThan(2);
    expect(list.length).toBeLessThan(24);
    expect(list.every(isValidNhsNumber)).toBe(true);
    expect(first.datasets.find((d) => d.dataset === 'hospital_episodes')!.goodRowsOptedOut).toBeGreaterThan(0);
  });
});

describe('a second region with other datasets', () => {
  test('gets data shaped by its own columns, delimiter and encoding', async () => {
    const second = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
    const result = await generatePopulation({ config: second, outDir: tempDir(), people: 200, seed: 3, today: TEST_TODAY });
    const maternity = result.datasets.find((d) => d.dataset === 'maternity_bookings')!;
    const rows = parseCsv(fs.readFileSync(maternity.file, 'latin1'), '|');
    expect(rows[0]).toEqual(second.datasets.find((d) => d.name === 'maternity_bookings')!.columns.map((c) => c.name));
    const good = rows.slice(1).filter((r) => r.length === rows[0].length);
    expect(good.every((r) => ['true', 'false'].includes(r[5]))).toBe(true);
    expect(good.filter((r) => /^\d+$/.test(r[4])).every((r) => Number(r[4]) >= 8 && Number(r[4]) <= 40)).toBe(true);
    expect(result.datasets.map((d) => d.dataset).sort()).toEqual(['maternity_bookings', 'social_care_assessments']);
  });
});
