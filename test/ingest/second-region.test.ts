/**
 * The second configuration (test/fixtures/configs/second-region) ingests: a Windows-1252,
 * pipe-delimited maternity dataset with a vocabulary code list, and a social-care dataset
 * keyed on the council's client id (pseudonymised), with the opt-out matched on an NHS number
 * where the council has one (rows without one kept and counted), and home postcodes turned
 * into LSOA codes through the lookup under the config directory. The synthetic population's
 * planted bad rows are exactly the rows rejected; the opted-out rows exactly those removed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../lib/cli/cli';
import { loadConfig } from '../../lib/config';
import { parseLsoaLookup } from '../../lib/ingest/core/lsoa-lookup';
import { localLookups } from '../../lib/local/runners/ingest';
import { BAD_ROW_KINDS, generatePopulation, PopulationGeneration, syntheticClientId } from '../../lib/local/synthetic/population';
import { ConfigFixture, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { MemoryStore } from './helpers/memory-store';
import { readParquet } from './helpers/read-parquet';
import { BUCKETS, runBatch } from './helpers/run-batch';

const config = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-second-'));
let population: PopulationGeneration;
let optOut: Set<string>;

beforeAll(async () => {
  population = await generatePopulation({ config, outDir, people: 600, seed: 11, today: TEST_TODAY, optOutRate: 0.1 });
  optOut = new Set(fs.readFileSync(population.optOutFile, 'utf8').trim().split('\n'));
});
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

async function ingestDataset(name: string) {
  const ds = config.datasets.find((d) => d.name === name)!;
  const generated = population.datasets.find((d) => d.dataset === name)!;
  const store = new MemoryStore();
  const source = { bucket: BUCKETS.landing, key: `${name}/delivery.csv` };
  await store.put(source, fs.readFileSync(generated.file));
  const run = await runBatch(store, source, ds, {
    loadDate: TEST_TODAY,
    optOut,
    lookups: localLookups(config, ds),
    chunkBytes: Math.ceil(generated.bytes / 3),
  });
  const content = await readParquet(run.manifest.outputs.map((o) => store.objects.get(`${BUCKETS.curated}\u0000${o.key}`)!));
  return { ds, generated, manifest: run.manifest, content, chunks: run.plan.chunks.length };
}

test.each(['maternity_bookings', 'social_care_assessments'])(
  '%s: the planted bad rows are exactly those rejected, the opted-out rows exactly those removed',
  async (name) => {
    const { generated, manifest, chunks } = await ingestDataset(name);
    expect(chunks).toBeGreaterThan(1);
    expect(manifest.status).toBe('committed');
    expect([manifest.rowsRead, manifest.rowsRejected, manifest.rowsOptedOut]).toEqual([generated.rows, generated.badRowCount, generated.goodRowsOptedOut]);
    for (const kind of BAD_ROW_KINDS) expect([kind, manifest.rejectedByReason[kind] ?? 0]).toEqual([kind, generated.badRows[kind] ?? 0]);
    expect(generated.badRowCount).toBeGreaterThan(0);
  },
);

test('maternity bookings: a Windows-1252 file, ethnicity from the vocabulary', async () => {
  const { content, ds } = await ingestDataset('maternity_bookings');
  expect(ds.source.encoding).toBe('windows-1252');
  const codes = new Set((ds.columns.find((c) => c.name === 'ethnicity')!.format as { codes: string[] }).codes);
  const ethnicity = content.columns.findIndex((c) => c.name === 'ethnicity');
  expect(content.rows.length).toBeGreaterThan(20);
  expect(content.rows.every((r) => r[ethnicity] === null || codes.has(String(r[ethnicity])))).toBe(true);
});

test('social care: the person is the pseudonymised client id; rows without an NHS number are kept and counted; postcodes become LSOA codes', async () => {
  const { content, manifest, generated } = await ingestDataset('social_care_assessments');
  const col = (name: string) => content.columns.findIndex((c) => c.name === name);
  expect(content.columns.map((c) => c.name)).toEqual([
    'assessment_id',
    'person_id',
    'date_of_birth_year',
    'assessment_date_month',
    'home_lsoa',
    'primary_support_reason',
    'weekly_hours',
  ]);
  // A fifth of the (synthetic) council's clients have no traced NHS number: their rows cannot be checked, and are counted.
  expect(manifest.rowsWithoutNhsNumber).toBeGreaterThan(0);
  expect(manifest.rowsWithoutNhsNumber).toBeLessThan(manifest.rowsWritten);
  // Pseudonyms: no client id in clear, one pseudonym per client.
  const ids = content.rows.map((r) => String(r[col('person_id')]));
  expect(ids.every((p) => /^[A-Za-z0-9_-]{22}$/.test(p) && !p.startsWith('CL'))).toBe(true);
  expect(new Set(ids).size).toBeLessThan(ids.length);
  // Every postcode drawn from the lookup maps to its LSOA.
  const lsoas = new Set(parseLsoaLookup(fs.readFileSync(path.join(SECOND_CONFIG, 'reference', 'postcode-lsoa.csv')), 'lookup').values());
  const areas = content.rows.map((r) => r[col('home_lsoa')]);
  expect(areas.filter((a) => a !== null).every((a) => lsoas.has(String(a)))).toBe(true);
  expect(areas.filter((a) => a !== null).length).toBeGreaterThan(content.rows.length * 0.9);
  expect(generated.rows).toBeGreaterThan(100);
  expect(syntheticClientId('9990000018')).toBe('CL000001');
});

test('sde ingest stops with a clear error, not a stack trace, when a postcode_lsoa lookup is not there', async () => {
  const fixture = new ConfigFixture(SECOND_CONFIG).remove('reference/postcode-lsoa.csv');
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-second-cli-'));
  const out: string[] = [];
  const err: string[] = [];
  const file = population.datasets.find((d) => d.dataset === 'social_care_assessments')!.file;
  const code = await runCli(
    ['ingest', '--dataset', 'social_care_assessments', '--file', file, '--config', fixture.dir, '--workdir', workdir, '--opt-out', population.optOutFile],
    {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    },
  );
  const text = err.join('\n');
  expect(code).not.toBe(0);
  expect(text).toMatch(/lookup postcode-lsoa\.csv.*reference.*postcode,lsoa/s);
  expect(text).not.toMatch(/\n\s+at /);
  fixture.cleanup();
  fs.rmSync(workdir, { recursive: true, force: true });
});

test('sde ingest of a file whose name is too long for the local S3 API stops with a clear error, not a stack trace', async () => {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-long-name-'));
  const file = path.join(workdir, `${'a'.repeat(236)}.csv`);
  fs.copyFileSync(population.datasets.find((d) => d.dataset === 'maternity_bookings')!.file, file);
  const err: string[] = [];
  const code = await runCli(
    ['ingest', '--dataset', 'maternity_bookings', '--file', file, '--config', SECOND_CONFIG, '--workdir', workdir, '--opt-out', population.optOutFile],
    {
      out: () => undefined,
      err: (l) => err.push(l),
    },
  );
  expect(code).toBe(2);
  expect(err.join('\n')).toMatch(/240 bytes.*rename the file/);
  expect(err.join('\n')).not.toMatch(/\n\s+at /);
  fs.rmSync(workdir, { recursive: true, force: true });
});
