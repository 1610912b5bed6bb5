/**
 * End to end on the local S3 API (a real S3 protocol server on loopback): the synthetic
 * population through plan, chunks and commit, exactly as the Lambdas run them.
 * - the rows quarantined are exactly the bad rows the generator planted, kind by kind;
 * - the rows removed are exactly the good rows of people on the opt-out list;
 * - the curated Parquet has the Glue table's columns and types, and no opted-out person;
 * - every write is in the local CloudTrail-format audit trail;
 * - running again changes nothing in curated or quarantine;
 * - `sde ingest` does the same for one file, in several chunks, with an odd file name.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { readTrail } from '../../lib/audit/cloudtrail-reader';
import { closeAllAuditWriters } from '../../lib/audit/local-audit-writer';
import { runCli } from '../../lib/cli/cli';
import { curatedColumns, loadConfig } from '../../lib/config';
import type { LandedObject } from '../../lib/local/runners/ingest';
import { ingestStep } from '../../lib/local/runners/ingest';
import { LocalS3, startLocalS3 } from '../../lib/local/s3-api/server';
import { uploadFile } from '../../lib/local/s3-api/upload';
import { BAD_ROW_KINDS, generatePopulation, PopulationGeneration } from '../../lib/local/synthetic/population';
import { bucketNames, ensurePseudonymKey, workdirLayout } from '../../lib/local/workdir';
import { pseudonymise } from '../../lib/ingest/core/deidentify';
import type { Manifest } from '../../lib/ingest/manifest';
import { readSmallObject } from '../../lib/ingest/object-store';
import { S3ObjectStore } from '../../lib/ingest/s3-object-store';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { parseCsv } from '../helpers/csv';
import { readWithHyparquet } from './helpers/independent-reader';
import { readParquet } from './helpers/read-parquet';

const DUCKDB_TYPE: Record<string, string> = {
  string: 'VARCHAR',
  bigint: 'BIGINT',
  int: 'INTEGER',
  double: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  boolean: 'BOOLEAN',
};

const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-ingest-e2e-'));
const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const buckets = bucketNames(config);
const layout = workdirLayout(workdir);
let population: PopulationGeneration;
let s3: LocalS3;
let landed: LandedObject[];
let manifests: Manifest[];
const log: string[] = [];

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const got = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

async function snapshot(): Promise<string[]> {
  const store = new S3ObjectStore(s3.client);
  const out: string[] = [];
  for (const bucket of [buckets.curated, buckets.quarantine]) for (const o of await store.list(bucket, '')) out.push(`${bucket}/${o.key} ${o.size} ${o.etag}`);
  return out;
}

beforeAll(async () => {
  population = await generatePopulation({ config, outDir: path.join(layout.generated, 'seed-5'), people: 300, seed: 5 });
  s3 = await startLocalS3({ directory: layout.s3, buckets: Object.values(buckets) });
  landed = [];
  for (const d of population.datasets) {
    const key = `${d.dataset}/${TEST_TODAY}-synthetic-5.csv`;
    await uploadFile(s3.client, { bucket: buckets.landing, key, file: d.file, contentType: 'text/csv' });
    landed.push({ dataset: d.dataset, bucket: buckets.landing, key, bytes: d.bytes });
  }
  manifests = await ingestStep({ s3, config, layout, landed, optOutFile: population.optOutFile, log: (l) => log.push(l) });
});

afterAll(async () => {
  await s3?.stop();
  closeAllAuditWriters();
  fs.rmSync(workdir, { recursive: true, force: true });
});

describe('the synthetic population, ingested', () => {
  test('every dataset is committed in one batch', () => {
    expect(manifests.map((m) => [m.dataset, m.status]).sort()).toEqual(config.datasets.map((d) => [d.name, 'committed']).sort());
  });

  test('rejected rows are exactly the planted bad rows, kind by kind; opted-out rows exactly the good rows of opted-out people', () => {
    for (const generated of population.datasets) {
      const m = manifests.find((x) => x.dataset === generated.dataset)!;
      expect(generated.badRowCount).toBeGreaterThan(0);
      expect([m.dataset, m.rowsRead]).toEqual([generated.dataset, generated.rows]);
      expect([m.dataset, m.rowsRejected]).toEqual([generated.dataset, generated.badRowCount]);
      for (const kind of BAD_ROW_KINDS)
        expect([m.dataset, kind, m.rejectedByReason[kind] ?? 0]).toEqual([generated.dataset, kind, generated.badRows[kind] ?? 0]);
      expect([m.dataset, m.rowsOptedOut]).toEqual([generated.dataset, generated.goodRowsOptedOut]);
      expect(m.rowsWritten).toBe(generated.goodRows - generated.goodRowsOptedOut);
    }
    expect(population.datasets.some((d) => d.goodRowsOptedOut > 0)).toBe(true);
  });

  test('the rejected files hold one line per bad row, with its line number and reason codes', async () => {
    for (const m of manifests) {
      const rows = [];
      for (const f of m.rejectedFiles) rows.push(...parseCsv((await objectBytes(buckets.quarantine, f.key)).toString('utf8')).slice(1));
      expect(rows).toHaveLength(m.rowsRejected);
      for (const r of rows) {
        expect(Number(r[0])).toBeGreaterThan(1);
        expect(r[1]).toMatch(/^[a-z_]+(\|[a-z_]+)*$/);
      }
    }
  });

  test('the curated Parquet has the Glue table columns (names, order, types), the written rows, and nobody who opted out', async () => {
    const key = ensurePseudonymKey(layout);
    const optedOut = new Set(
      fs
        .readFileSync(population.optOutFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((n) => pseudonymise(key, n)),
    );
    expect(optedOut.size).toBe(population.optOutCount);
    for (const m of manifests) {
      const dataset = config.datasets.find((d) => d.name === m.dataset)!;
      expect(m.outputs.every((o) => o.key.startsWith(`${m.dataset}/load_date=${TEST_TODAY}/`))).toBe(true);
      const content = await readParquet(await Promise.all(m.outputs.map((o) => objectBytes(buckets.curated, o.key))));
      expect(content.columns).toEqual(curatedColumns(dataset).map((c) => ({ name: c.name, type: DUCKDB_TYPE[c.glueType] })));
      expect(content.rows).toHaveLength(m.rowsWritten);
      const pseudonymColumn = curatedColumns(dataset).findIndex((c) => c.curatedClass === 'pseudonym');
      expect(content.rows.filter((r) => optedOut.has(r[pseudonymColumn] as string))).toEqual([]);
    }
  });

  test('every write is in the local audit trail as a CloudTrail S3 data event by the ingestion role', async () => {
    const trail = await readTrail(path.join(workdir, 'audit'));
    const writes = trail.records.map((r) => r.record).filter((r) => r.eventSource === 's3.amazonaws.com');
    for (const m of manifests) {
      for (const o of m.outputs) {
        const event = writes.find((r) => r.eventName === 'CopyObject' && (r.requestParameters as { key?: string })?.key === o.key);
        expect(event).toMatchObject({ eventCategory: 'Data', readOnly: false, additionalEventData: { sdeDataset: m.dataset, sdeBatchId: m.batchId } });
        expect(event?.userIdentity?.arn).toMatch(/assumed-role\/onelondon-sde-ingest\//);
      }
      expect(
        writes.some((r) => r.eventName === 'PutObject' && (r.requestParameters as { key?: string })?.key === `_manifests/${m.dataset}/${m.batchId}.json`),
      ).toBe(true);
    }
  });

  test('the demo prints the manifest totals', () => {
    const written = manifests.reduce((s, m) => s + m.rowsWritten, 0);
    expect(log[0]).toContain(`Ingested 5 files into s3://${buckets.curated}/`);
    expect(log[0]).toContain(`${written} written`);
  });

  test('running ingestion again changes nothing in curated or quarantine', async () => {
    const before = await snapshot();
    const again = await ingestStep({ s3, config, layout, landed, optOutFile: population.optOutFile, log: () => undefined });
    expect(again).toEqual(manifests);
    expect(await snapshot()).toEqual(before);
    // Staging is empty once committed.
    expect(before.filter((k) => k.includes('/_staging/'))).toEqual([]);
  });
});

describe('sde ingest', () => {
  const cliWorkdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-ingest-cli-'));
  afterAll(() => fs.rmSync(cliWorkdir, { recursive: true, force: true }));
  const previousToday = process.env.SDE_TODAY;
  beforeAll(() => (process.env.SDE_TODAY = TEST_TODAY));
  afterAll(() => (previousToday === undefined ? delete process.env.SDE_TODAY : (process.env.SDE_TODAY = previousToday)));

  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  test('ingests one file in several chunks, under an odd file name, and prints the manifest; a second run changes nothing', async () => {
    const generated = population.datasets.find((d) => d.dataset === 'hospital_episodes')!;
    const odd = path.join(cliWorkdir, "Trust export (v2) #1 + ü & 'final'.csv");
    fs.copyFileSync(generated.file, odd);
    // The demo's pseudonymisation key, so the curated rows can be compared with its one-chunk batch.
    fs.mkdirSync(workdirLayout(cliWorkdir).keys, { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(layout.keys, 'pseudonym.key'), path.join(workdirLayout(cliWorkdir).keys, 'pseudonym.key'));
    const args = [
      'ingest',
      '--dataset',
      'hospital_episodes',
      '--file',
      odd,
      '--config',
      EXAMPLE_CONFIG,
      '--workdir',
      cliWorkdir,
      '--opt-out',
      population.optOutFile,
      '--chunk-size',
      '16384',
    ];
    const first = await run(...args);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const manifest = JSON.parse(first.out) as Manifest;
    const step = manifests.find((m) => m.dataset === 'hospital_episodes')!;
    expect(manifest.chunkCount).toBeGreaterThan(2);
    expect(manifest.source.key).toBe(`hospital_episodes/${TEST_TODAY}-Trust export (v2) #1 + ü & 'final'.csv`);
    const counts = (m: Manifest) => [m.rowsRead, m.rowsWritten, m.rowsRejected, m.rowsOptedOut, m.rejectedByReason];
    expect(counts(manifest)).toEqual(counts(step));
    expect(manifest.source.sha256).toBe(step.source.sha256);

    // The chunks' parts were joined into ONE object (it appears to Athena in one step): the
    // same rows, in the same order, as the one-chunk batch of the same file; one row group per chunk.
    expect(manifest.outputs).toEqual([
      { key: `hospital_episodes/load_date=${TEST_TODAY}/${manifest.batchId}.parquet`, bytes: expect.any(Number), rows: manifest.rowsWritten },
    ]);
    const s3cli = await startLocalS3({ directory: workdirLayout(cliWorkdir).s3 });
    let joined: Buffer;
    try {
      const got = await s3cli.client.send(new GetObjectCommand({ Bucket: buckets.curated, Key: manifest.outputs[0].key }));
      joined = Buffer.from(await got.Body!.transformToByteArray());
    } finally {
      await s3cli.stop();
    }
    expect(joined.length).toBe(manifest.outputs[0].bytes);
    const oneChunk = await readParquet(await objectBytes(buckets.curated, step.outputs[0].key));
    expect(await readParquet(joined)).toEqual(oneChunk);
    const joinedFile = path.join(cliWorkdir, 'joined.parquet');
    fs.writeFileSync(joinedFile, joined);
    expect(readWithHyparquet(joinedFile)).toMatchObject({ rows: manifest.rowsWritten, rowGroups: manifest.chunkCount });
    const trail = await readTrail(path.join(cliWorkdir, 'audit'));
    // Under S3's 5 MiB part minimum the joined object goes up as one PutObject, and is recorded so.
    expect(
      trail.records
        .map((r) => r.record)
        .filter((r) => (r.requestParameters as { key?: string })?.key === manifest.outputs[0].key)
        .map((r) => r.eventName),
    ).toEqual(['PutObject']);

    const second = await run(...args);
    expect(second.code).toBe(0);
    expect(second.err).toContain(`Already ingested (batch ${manifest.batchId}): nothing changed.`);
    expect(JSON.parse(second.out)).toEqual(manifest);
  });

  test('a quarantined file (Latin-1, with # + & in its name) exits 1, says why, and is in quarantine whole', async () => {
    const bad = path.join(cliWorkdir, 'gp export #3 + R&D.csv');
    fs.writeFileSync(bad, Buffer.from('patient,date\nJos\xe9,2026-01-01\n', 'latin1'));
    const r = await run(
      'ingest',
      '--dataset',
      'gp_events',
      '--file',
      bad,
      '--config',
      EXAMPLE_CONFIG,
      '--workdir',
      cliWorkdir,
      '--opt-out',
      population.optOutFile,
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^Quarantined: the file is not utf-8 as the dataset config says: invalid UTF-8 at byte offset 16 \(is it latin1 or windows-1252\?\) \(s3:\/\/onelondon-sde-quarantine\/gp_events\/[0-9a-f]{24}\/error\.json\)$/,
    );
    const manifest = JSON.parse(r.out) as Manifest;
    const s3cli = await startLocalS3({ directory: workdirLayout(cliWorkdir).s3 });
    try {
      const store = new S3ObjectStore(s3cli.client);
      expect(await readSmallObject(store, { bucket: buckets.quarantine, key: manifest.quarantine!.source })).toEqual(fs.readFileSync(bad));
      const report = JSON.parse((await readSmallObject(store, { bucket: buckets.quarantine, key: manifest.quarantine!.errorReport }))!.toString());
      expect(report.error).toMatchObject({ code: 'wrong_encoding', chunk: 0 });
      expect(report.source.key).toBe(`gp_events/${TEST_TODAY}-gp export #3 + R&D.csv`);
    } finally {
      await s3cli.stop();
    }
  });

  test('an empty file is quarantined as empty', async () => {
    const empty = path.join(cliWorkdir, 'empty.csv');
    fs.writeFileSync(empty, '');
    const r = await run(
      'ingest',
      '--dataset',
      'gp_events',
      '--file',
      empty,
      '--config',
      EXAMPLE_CONFIG,
      '--workdir',
      cliWorkdir,
      '--opt-out',
      population.optOutFile,
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Quarantined: the file is empty: not even a header line \(s3:\/\/onelondon-sde-quarantine\/gp_events\/[0-9a-f]{24}\/error\.json\)$/);
  });

  test('refuses an unknown dataset, and a dataset that needs an opt-out list when there is none, naming the fix', async () => {
    const file = population.datasets[0].file;
    const unknown = await run('ingest', '--dataset', 'nope', '--file', file, '--config', EXAMPLE_CONFIG, '--workdir', cliWorkdir);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--dataset: there is no dataset "nope" in .*; datasets: demographics, gp_events, hes_apc, hospital_episodes, prescriptions/);
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-ingest-nolist-'));
    try {
      const noList = await run('ingest', '--dataset', 'gp_events', '--file', file, '--config', EXAMPLE_CONFIG, '--workdir', fresh);
      expect(noList.code).toBe(2);
      expect(noList.err).toMatch(/gp_events\.yaml: nationalDataOptOut: .* no opt-out list at .*national-data-opt-out\.txt: pass --opt-out FILE/);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});
