/**
 * Property: whatever identifiers arrive, in whatever disguise and in whatever column, none
 * reaches curated. Generated identifiers (valid NHS numbers, dates of birth, postcodes,
 * e-mail addresses, phone numbers) are written with separators of every kind, digits of
 * several scripts, invisible format characters, numbers in words and glued text
 * (test/helpers/disguise.ts), planted into every kind of column of a dataset that has every
 * rule and format, ingested through the batch functions, and the curated Parquet is read
 * back with DuckDB. An oracle written independently of the code under test reads each
 * curated value as a person would (compatibility forms folded, invisible characters gone,
 * digits of any script and in words as digits) and checks that no planted identifier can be
 * read from it, and that no ten digits anywhere in a value pass the NHS number check.
 * Every row is written, rejected or opted out; the good rows around the planted ones all
 * reach curated.
 */
import { platformAppliesOptOut } from '../../lib/config/curated';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../lib/config';
import type { DatasetConfig } from '../../lib/config/schema';
import { pseudonymise } from '../../lib/ingest/core/deidentify';
import { generatePopulation } from '../../lib/local/synthetic/population';
import { parseCsv } from '../helpers/csv';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { birthDate, disguisedIdentifier, givesAway, glued, holdsAnyNhsNumber, nhsNumber, Planted, postcode } from '../helpers/disguise';
import { csvLine, dataset, KEY, OTHER_KEY } from './core/datasets';
import { MemoryStore } from './helpers/memory-store';
import { readParquet } from './helpers/read-parquet';
import { BUCKETS, runBatch } from './helpers/run-batch';

/** A dataset with every kind of column: each format, each rule, kept and dropped. */
const EVERY_KIND = dataset(
  'every_kind',
  [
    { name: 'episode_id', type: 'string', required: true, format: 'record_id', classification: 'other', rule: 'keep' },
    { name: 'nhs_number', type: 'string', required: true, format: 'nhs_number', classification: 'direct_identifier', rule: 'pseudonymise', as: 'person_id' },
    { name: 'patient_name', type: 'string', classification: 'direct_identifier', rule: 'drop' },
    { name: 'date_of_birth', type: 'date', required: true, classification: 'quasi_identifier', rule: 'age_band', ageAt: 'admission_date', as: 'age_band' },
    { name: 'postcode', type: 'string', format: 'postcode', classification: 'quasi_identifier', rule: 'postcode_outward', as: 'district' },
    { name: 'admission_date', type: 'date', required: true, classification: 'quasi_identifier', rule: 'date_to_month', as: 'admission_month' },
    { name: 'arrival_time', type: 'timestamp', classification: 'quasi_identifier', rule: 'date_to_year', as: 'arrival_year' },
    { name: 'sex', type: 'string', format: { codes: ['1', '2', '9'] }, classification: 'quasi_identifier', rule: 'keep' },
    { name: 'unit', type: 'string', format: { codes: ['mmHg', 'kg', 'mmol/L'] }, classification: 'other', rule: 'keep' },
    { name: 'diagnoses', type: 'string', format: { list: 'icd10', separator: '|' }, classification: 'sensitive', rule: 'keep' },
    { name: 'primary_diagnosis', type: 'string', format: 'icd10', classification: 'sensitive', rule: 'keep' },
    { name: 'procedure', type: 'string', format: 'opcs4', classification: 'sensitive', rule: 'keep' },
    { name: 'snomed_code', type: 'string', format: 'snomed', classification: 'sensitive', rule: 'keep' },
    { name: 'bnf_code', type: 'string', format: 'bnf', classification: 'sensitive', rule: 'keep' },
    { name: 'practice', type: 'string', format: 'ods_code', classification: 'quasi_identifier', rule: 'keep' },
    { name: 'lsoa', type: 'string', format: 'lsoa', classification: 'quasi_identifier', rule: 'keep' },
    { name: 'msoa', type: 'string', format: 'msoa', classification: 'quasi_identifier', rule: 'keep' },
    { name: 'emergency', type: 'boolean', classification: 'other', rule: 'keep' },
    { name: 'length_of_stay', type: 'integer', min: 0, max: 10000, classification: 'other', rule: 'keep' },
    { name: 'cost', type: 'decimal', min: 0, max: 10000000000, classification: 'other', rule: 'keep' },
    { name: 'notes', type: 'string', format: 'free_text', classification: 'sensitive', rule: 'scrub_free_text' },
    { name: 'comments', type: 'string', format: 'free_text', classification: 'sensitive', rule: 'drop' },
  ],
  { personKey: 'nhs_number', nationalDataOptOut: true },
);

const HEADER = csvLine(EVERY_KIND.columns.map((c) => c.name));
const PSEUDONYM = 'person_id';

interface Person {
  readonly nhs: string;
  readonly dob: string;
  readonly postcode: string;
}

const person: fc.Arbitrary<Person> = fc
  .record({ nhs: nhsNumber, dob: birthDate, postcode })
  .map(({ nhs, dob, postcode: pc }) => ({ nhs, dob: `${dob.y}-${String(dob.m).padStart(2, '0')}-${String(dob.d).padStart(2, '0')}`, postcode: pc }));

/** A good row: values whose digits give nothing away, so only what is planted could. */
function goodFields(p: Person, i: number): Record<string, string> {
  return {
    episode_id: `E${String(i).padStart(6, '0')}`,
    nhs_number: p.nhs,
    patient_name: 'Test Patient',
    date_of_birth: p.dob,
    postcode: p.postcode,
    admission_date: '2025-03-04',
    arrival_time: '2025-03-04T08:30:00+01:00',
    sex: '2',
    unit: 'kg',
    diagnoses: 'E119|J449',
    primary_diagnosis: 'I10X',
    procedure: 'W371',
    snomed_code: '38341003',
    bnf_code: '0208020Z0AAAAAA',
    practice: 'F83001',
    lsoa: 'E01000001',
    msoa: 'E02000001',
    emergency: 'true',
    length_of_stay: '5',
    cost: '1234.5',
    notes: `Reviewed in clinic, ${p.postcode} and ${p.dob} on file.`,
    comments: `Patient ${p.nhs}`,
  };
}

const COLUMNS = EVERY_KIND.columns.map((c) => c.name);

async function ingest(ds: DatasetConfig, lines: string[], key = KEY) {
  const store = new MemoryStore();
  const source = { bucket: BUCKETS.landing, key: `${ds.name}/delivery.csv` };
  await store.put(source, [HEADER, ...lines].join('\r\n') + '\r\n');
  const { manifest } = await runBatch(store, source, ds, { key, loadDate: TEST_TODAY });
  const content =
    manifest.outputs.length === 0
      ? { columns: [] as { name: string }[], rows: [] as unknown[][] }
      : await readParquet(manifest.outputs.map((o) => store.objects.get(`${BUCKETS.curated}\u0000${o.key}`)!));
  return { manifest, content };
}

/** Every curated value but the pseudonym (random characters hold digit runs by chance), as text. */
function curatedTexts(content: { columns: { name: string }[]; rows: unknown[][] }): string[] {
  const skip = content.columns.findIndex((c) => c.name === PSEUDONYM);
  return content.rows.flatMap((r) => r.filter((_, i) => i !== skip).map((v) => (v === null ? '' : String(v))));
}

test('property: an identifier in disguise, planted in any column, never reaches curated', async () => {
  const planting = fc.record({ column: fc.constantFrom(...COLUMNS), planted: glued(disguisedIdentifier) });
  const row = fc.record({ person, plant: fc.option(planting, { nil: undefined, freq: 2 }) });
  await fc.assert(
    fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 12 }), async (rows) => {
      const lines = rows.map((r, i) => {
        const values = goodFields(r.person, i);
        if (r.plant !== undefined) values[r.plant.column] = r.plant.planted.text;
        return csvLine(COLUMNS.map((c) => values[c]));
      });
      const { manifest, content } = await ingest(EVERY_KIND, lines);
      expect(manifest.status).toBe('committed');
      expect(manifest.rowsRead).toBe(rows.length);
      expect(manifest.rowsWritten + manifest.rowsRejected).toBe(rows.length);
      // Every row with nothing planted reaches curated.
      expect(manifest.rowsWritten).toBeGreaterThanOrEqual(rows.filter((r) => r.plant === undefined).length);
      const planted: Planted[] = rows.flatMap((r) => (r.plant === undefined ? [] : [r.plant.planted]));
      const people = rows.map((r) => r.person);
      for (const value of curatedTexts(content)) {
        expect([value, holdsAnyNhsNumber(value)]).toEqual([value, false]);
        for (const p of planted) expect([value, p.text, givesAway(value, p)]).toEqual([value, p.text, false]);
        for (const p of people) {
          expect(givesAway(value, { kind: 'nhsNumber', plain: p.nhs, text: '' })).toBe(false);
          expect(givesAway(value, { kind: 'date', plain: p.dob, text: '' })).toBe(false);
          expect(givesAway(value, { kind: 'postcode', plain: p.postcode, text: '' })).toBe(false);
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('property: the London example datasets, rows from the synthetic population, take no disguised identifier in any column', async () => {
  const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-disguise-'));
  const population = await generatePopulation({ config, outDir, people: 30, seed: 5, today: TEST_TODAY, badRowRate: 0 });
  // Good rows of each dataset, as the generator writes them (no header).
  const templates = new Map(population.datasets.map((d) => [d.dataset, parseCsv(fs.readFileSync(d.file, 'utf8')).slice(1, 31)] as const));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...config.datasets).chain((ds) =>
        fc.tuple(
          fc.constant(ds),
          fc.array(fc.record({ row: fc.nat(29), column: fc.nat(ds.columns.length - 1), planted: glued(disguisedIdentifier) }), {
            minLength: 1,
            maxLength: 8,
          }),
        ),
      ),
      async ([ds, plants]) => {
        const rows = templates.get(ds.name)!;
        const lines = plants.map((p) => {
          const fields = [...rows[p.row % rows.length]];
          fields[p.column] = p.planted.text;
          return csvLine(fields);
        });
        const store = new MemoryStore();
        const source = { bucket: BUCKETS.landing, key: `${ds.name}/planted.csv` };
        await store.put(source, [csvLine(ds.columns.map((c) => c.name)), ...lines].join('\n') + '\n');
        // An empty list where the platform applies the opt-out; none where the supplier did (HES).
        const optOut = platformAppliesOptOut(ds) ? new Set<string>() : undefined;
        const { manifest } = await runBatch(store, source, ds, { key: KEY, loadDate: TEST_TODAY, optOut });
        expect(manifest.rowsRead).toBe(plants.length);
        if (manifest.outputs.length === 0) return;
        const content = await readParquet(manifest.outputs.map((o) => store.objects.get(`${BUCKETS.curated}\u0000${o.key}`)!));
        for (const value of curatedTexts(content)) {
          expect(holdsAnyNhsNumber(value)).toBe(false);
          for (const p of plants) expect([value, givesAway(value, p.planted)]).toEqual([value, false]);
        }
      },
    ),
    { numRuns: 40 },
  );
  fs.rmSync(outDir, { recursive: true, force: true });
});

test('pseudonyms are stable under one key and differ under another', async () => {
  const people = fc.sample(person, { numRuns: 20, seed: 42 });
  const lines = people.map((p, i) => csvLine(COLUMNS.map((c) => goodFields(p, i)[c])));
  const column = (content: { columns: { name: string }[]; rows: unknown[][] }) =>
    content.rows.map((r) => r[content.columns.findIndex((c) => c.name === PSEUDONYM)] as string);
  const a = column((await ingest(EVERY_KIND, lines)).content);
  const b = column((await ingest(EVERY_KIND, lines)).content);
  const c = column((await ingest(EVERY_KIND, lines, OTHER_KEY)).content);
  expect(b).toEqual(a);
  expect(c.every((p, i) => p !== a[i])).toBe(true);
  expect(a).toEqual(people.map((p) => pseudonymise(KEY, p.nhs)));
});
