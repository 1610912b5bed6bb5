/**
 * Property: whatever valid identifiers arrive, none reaches curated. Random people (valid
 * NHS numbers, dates of birth, postcodes) are written as a hospital-episodes delivery with
 * the identifiers also planted in the free-text notes, ingested through the batch
 * functions, and the curated Parquet is read back with DuckDB: no NHS number (spaced or
 * not), no full date of birth and no full postcode appears in any value, and no
 * 10-digit string with a valid Modulus 11 check digit appears at all. Pseudonyms are
 * stable under one key and differ under another. Identifiers keyed into columns kept in
 * clear (coded fields, record keys) send their row to quarantine.
 */
import fc from 'fast-check';
import { loadConfig } from '../../lib/config';
import { nhsNumberFromBase, isValidNhsNumber } from '../../lib/ingest/core/nhs-number';
import { csvLine, KEY, OTHER_KEY } from './core/datasets';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { MemoryStore } from './helpers/memory-store';
import { readParquet } from './helpers/read-parquet';
import { BUCKETS, runBatch } from './helpers/run-batch';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const episodes = config.datasets.find((d) => d.name === 'hospital_episodes')!;

const nhsNumber = fc
  .integer({ min: 100_000_000, max: 999_999_999 })
  .map((base) => nhsNumberFromBase(String(base)))
  .filter((n): n is string => n !== undefined);
const day = (from: number, to: number) => fc.integer({ min: from, max: to }).map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));
const postcode = fc
  .tuple(
    fc.constantFrom('SE', 'N', 'SW', 'E', 'W', 'NW', 'EC', 'B', 'M'),
    fc.integer({ min: 1, max: 28 }),
    fc.integer({ min: 0, max: 9 }),
    fc.constantFrom(...'ABDEFGHJLNPQRSTUWXYZ'),
    fc.constantFrom(...'ABDEFGHJLNPQRSTUWXYZ'),
  )
  .map(([area, district, sector, u1, u2]) => `${area}${district} ${sector}${u1}${u2}`);
const person = fc.record({
  nhs: nhsNumber,
  dob: day(-18_000, 19_000), // 1920 .. 2022
  postcode,
  spaced: fc.boolean(),
});

function rowFields(p: { nhs: string; dob: string; postcode: string; spaced: boolean }, i: number): string[] {
  const admission = '2025-03-04';
  const nhs = p.spaced ? `${p.nhs.slice(0, 3)} ${p.nhs.slice(3, 6)} ${p.nhs.slice(6)}` : p.nhs;
  const values: Record<string, string> = {
    episode_id: `E${String(i).padStart(9, '0')}`,
    nhs_number: nhs,
    date_of_birth: p.dob,
    sex: '2',
    ethnicity: 'A',
    postcode: p.postcode,
    lsoa_code: 'E01000001',
    gp_practice_code: 'F83001',
    provider_code: 'RJ1',
    admission_date: admission,
    discharge_date: '2025-03-09',
    admission_method: '21',
    primary_diagnosis: 'I10X',
    secondary_diagnoses: 'E119|J449',
    primary_procedure: 'W371',
    length_of_stay: '5',
    clinical_notes: `Patient ${nhs}, born ${p.dob}, lives at ${p.postcode}.`,
  };
  return episodes.columns.map((c) => values[c.name]);
}

const row = (p: { nhs: string; dob: string; postcode: string; spaced: boolean }, i: number) => csvLine(rowFields(p, i));

function hasValidNhsNumber(text: string): boolean {
  return (text.match(/\d{10}/g) ?? []).some((n) => isValidNhsNumber(n));
}

/** The columns that reach curated as they arrive: strings kept in clear with no format to check. */
const KEPT_TEXT = episodes.columns.filter((c) => c.type === 'string' && c.rule === 'keep' && c.format === undefined).map((c) => c.name);

/** An identifier as people key it, in one of its usual layouts. */
const keyedIdentifier = fc.oneof(
  fc.tuple(nhsNumber, fc.constantFrom('', ' ', '-')).map(([n, sep]) => `${n.slice(0, 3)}${sep}${n.slice(3, 6)}${sep}${n.slice(6)}`),
  day(-18_000, 19_000).chain((d) => fc.constantFrom(d, `${d.slice(8)}/${d.slice(5, 7)}/${d.slice(0, 4)}`, `${d.slice(8)}.${d.slice(5, 7)}.${d.slice(0, 4)}`)),
  postcode.chain((pc) => fc.constantFrom(pc, pc.replace(' ', ''), pc.toLowerCase())),
);
/** Text around it, as in a coded field: codes and words, set apart by a space, a bar or a comma. */
const around = fc.array(fc.constantFrom('A', 'I10X', 'E119', 'ward', 'see', '21', 'x'), { maxLength: 3 }).map((words) => words.join(' '));
const planted = fc.record({
  column: fc.constantFrom(...KEPT_TEXT),
  // '' glues the identifier onto the code or word beside it (`x1961-04-03`, `wardSE5 8AF`).
  text: fc
    .tuple(around, fc.constantFrom(' ', '|', ', ', ''), keyedIdentifier, fc.constantFrom(' ', '|', ', ', ''), around)
    .map(([a, s1, id, s2, b]) => `${a}${a ? s1 : ''}${id}${b ? s2 : ''}${b}`),
});

async function curatedValues(people: { nhs: string; dob: string; postcode: string; spaced: boolean }[], key: Buffer) {
  const adults = people.filter((p) => p.dob < '2025-03-04');
  const body = [csvLine(episodes.columns.map((c) => c.name)), ...adults.map((p, i) => row(p, i))].join('\n') + '\n';
  const store = new MemoryStore();
  await store.put({ bucket: BUCKETS.landing, key: 'hospital_episodes/delivery.csv' }, body);
  const { manifest } = await runBatch(store, { bucket: BUCKETS.landing, key: 'hospital_episodes/delivery.csv' }, episodes, { key, loadDate: TEST_TODAY });
  expect(manifest).toMatchObject({ status: 'committed', rowsRejected: 0, rowsWritten: adults.length });
  const content = await readParquet(manifest.outputs.map((o) => store.objects.get(`${BUCKETS.curated}\u0000${o.key}`)!));
  return { adults, content };
}

test('property: no NHS number, full date of birth or full postcode ever reaches curated Parquet', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(person, { minLength: 1, maxLength: 40 }), async (people) => {
      const { adults, content } = await curatedValues(people, KEY);
      // A pseudonym is 64 hex characters: runs of ten digits occur in it by chance, so the
      // generic NHS-number scan skips it (the exact-match checks below still cover it).
      const pseudonym = content.columns.findIndex((c) => c.name === 'person_id');
      for (const r of content.rows)
        for (const [i, v] of r.entries()) if (i !== pseudonym) expect(hasValidNhsNumber(String(v).replace(/[\s-]/g, ''))).toBe(false);
      const text = content.rows.flat().map((v) => String(v));
      for (const v of text) {
        for (const p of adults) {
          expect(v.includes(p.nhs)).toBe(false);
          expect(v.includes(p.dob)).toBe(false);
          expect(v.replace(/\s/g, '').includes(p.postcode.replace(/\s/g, ''))).toBe(false);
        }
      }
    }),
    { numRuns: 12 },
  );
});

test('pseudonyms are stable under one key and differ under another', async () => {
  const people = fc.sample(person, { numRuns: 20, seed: 42 }).map((p) => ({ ...p, dob: '1970-01-01' }));
  const column = (rows: unknown[][], columns: { name: string }[]) => rows.map((r) => r[columns.findIndex((c) => c.name === 'person_id')] as string);
  const a = await curatedValues(people, KEY);
  const b = await curatedValues(people, KEY);
  const c = await curatedValues(people, OTHER_KEY);
  const pa = column(a.content.rows, a.content.columns);
  expect(column(b.content.rows, b.content.columns)).toEqual(pa);
  const pc = column(c.content.rows, c.content.columns);
  expect(pc.every((p, i) => p !== pa[i])).toBe(true);
  expect(pa.every((p) => /^[0-9a-f]{64}$/.test(p))).toBe(true);
});

test('property: an identifier keyed into a column kept in clear sends the row to quarantine, never to curated', async () => {
  const people = fc.array(fc.record({ person, spoil: fc.option(planted, { nil: undefined, freq: 3 }) }), { minLength: 1, maxLength: 30 });
  await fc.assert(
    fc.asyncProperty(people, async (rows) => {
      const adults = rows.filter((r) => r.person.dob < '2025-03-04');
      const lines = adults.map((r, i) => {
        const fields = rowFields(r.person, i);
        if (r.spoil !== undefined) fields[episodes.columns.findIndex((c) => c.name === r.spoil!.column)] = r.spoil.text;
        return csvLine(fields);
      });
      const body = [csvLine(episodes.columns.map((c) => c.name)), ...lines].join('\n') + '\n';
      const store = new MemoryStore();
      await store.put({ bucket: BUCKETS.landing, key: 'hospital_episodes/keyed.csv' }, body);
      const { manifest } = await runBatch(store, { bucket: BUCKETS.landing, key: 'hospital_episodes/keyed.csv' }, episodes, { key: KEY, loadDate: TEST_TODAY });
      const spoilt = adults.filter((r) => r.spoil !== undefined);
      expect(manifest.rowsRejected).toBe(spoilt.length);
      expect(manifest.rejectedByReason.identifier_in_text ?? 0).toBe(spoilt.length);
      expect(manifest.rowsWritten).toBe(adults.length - spoilt.length);
      if (manifest.rowsWritten === 0) return;
      const content = await readParquet(manifest.outputs.map((o) => store.objects.get(`${BUCKETS.curated}\u0000${o.key}`)!));
      const kept = content.columns.flatMap((c, i) => (KEPT_TEXT.includes(c.name) ? [i] : []));
      for (const r of content.rows) for (const i of kept) expect(String(r[i])).toMatch(/^[^0-9]*(?:\d[^0-9]*){0,9}$/);
    }),
    { numRuns: 12 },
  );
});

test('property: a record key (format record_id) holding an NHS number goes to quarantine; any other key reaches curated as it came', async () => {
  const keyWithNhsNumber = fc
    .tuple(fc.constantFrom('', 'EP-', 'E', 'x/'), nhsNumber, fc.constantFrom('', '-1', '.a'))
    .map(([before, n, after]) => ({ text: `${before}${n}${after}`, bad: true }));
  // Letters and digits with no run of exactly ten digits: runs of up to nine, or of eleven and more.
  const safeKey = fc
    .tuple(fc.constantFrom('E', 'EP-', 'ADM.', ''), fc.oneof(fc.stringMatching(/^[1-9][0-9]{0,8}$/), fc.stringMatching(/^[1-9][0-9]{10,20}$/)))
    .map(([prefix, digits]) => ({ text: `${prefix}${digits}`, bad: false }));
  const rows = fc.array(fc.record({ person, key: fc.oneof(keyWithNhsNumber, safeKey) }), { minLength: 1, maxLength: 25 });
  await fc.assert(
    fc.asyncProperty(rows, async (all) => {
      const adults = all.filter((r) => r.person.dob < '2025-03-04');
      const lines = adults.map((r, i) => {
        const fields = rowFields(r.person, i);
        fields[episodes.columns.findIndex((c) => c.name === 'episode_id')] = r.key.text;
        return csvLine(fields);
      });
      const store = new MemoryStore();
      await store.put(
        { bucket: BUCKETS.landing, key: 'hospital_episodes/keys.csv' },
        [csvLine(episodes.columns.map((c) => c.name)), ...lines].join('\n') + '\n',
      );
      const { manifest } = await runBatch(store, { bucket: BUCKETS.landing, key: 'hospital_episodes/keys.csv' }, episodes, { key: KEY, loadDate: TEST_TODAY });
      const bad = adults.filter((r) => r.key.bad);
      expect([manifest.rowsRejected, manifest.rejectedByReason.bad_record_id ?? 0]).toEqual([bad.length, bad.length]);
      expect(manifest.rowsWritten).toBe(adults.length - bad.length);
      if (manifest.rowsWritten === 0) return;
      const content = await readParquet(manifest.outputs.map((o) => store.objects.get(`${BUCKETS.curated}\u0000${o.key}`)!));
      const keys = content.rows.map((r) => String(r[content.columns.findIndex((c) => c.name === 'episode_id')]));
      expect(keys).toEqual(adults.filter((r) => !r.key.bad).map((r) => r.key.text));
    }),
    { numRuns: 12 },
  );
});
