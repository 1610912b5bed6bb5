/**
 * The opt-out job on the local S3 API (a real S3 protocol server on loopback), after the
 * synthetic population was ingested through the real pipeline:
 * - a run cut between batches, and a run cut between a batch's replacement and its
 *   manifest, each end, when run again, in the same state as a run that was never cut;
 * - the replacement is conditional: an object changed since it was read is not overwritten;
 * - a list that would remove more than the configured share is refused, nothing changed;
 * - the audit trail holds the run's trace (counts in the key) and no pseudonym or NHS number.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readTrail } from '../../lib/audit/cloudtrail-reader';
import { closeAllAuditWriters } from '../../lib/audit/local-audit-writer';
import { runCli } from '../../lib/cli/cli';
import { loadConfig } from '../../lib/config';
import type { SdeConfig } from '../../lib/config/model';
import { pseudonymise } from '../../lib/ingest/core/deidentify';
import { isValidNhsNumber } from '../../lib/ingest/core/nhs-number';
import { MANIFEST_PREFIX } from '../../lib/ingest/layout';
import type { Manifest } from '../../lib/ingest/manifest';
import { readSmallObject } from '../../lib/ingest/object-store';
import { S3ObjectStore } from '../../lib/ingest/s3-object-store';
import { ingestStep, type LandedObject } from '../../lib/local/runners/ingest';
import { localOptOutStore, runLocalOptOut } from '../../lib/local/runners/optout';
import { startLocalS3, type LocalS3 } from '../../lib/local/s3-api/server';
import { uploadFile } from '../../lib/local/s3-api/upload';
import { generatePopulation } from '../../lib/local/synthetic/population';
import { bucketNames, ensurePseudonymKey, workdirLayout } from '../../lib/local/workdir';
import { applyOptOut } from '../../lib/optout/apply';
import { s3ReplaceIfMatch } from '../../lib/optout/conditional-put';
import { APPLIED_PREFIX, parseAppliedTraceKey } from '../../lib/optout/layout';
import { listPseudonyms, readList } from '../../lib/optout/list';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { parseCsv } from '../helpers/csv';
import { readParquet } from '../ingest/helpers/read-parquet';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-optout-local-'));
const config: SdeConfig = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const buckets = bucketNames(config);
const seeded = path.join(root, 'seeded');
let laterList: string;
let laterNumbers: string[];
let wholePopulation: string;

/** A fresh workdir holding the ingested population (a copy of the one ingested once). */
function workdirCopy(name: string): string {
  const dir = path.join(root, name);
  fs.cpSync(seeded, dir, { recursive: true });
  return dir;
}

async function withS3<T>(workdir: string, body: (s3: LocalS3) => Promise<T>): Promise<T> {
  const s3 = await startLocalS3({ directory: workdirLayout(workdir).s3, buckets: Object.values(buckets) });
  try {
    return await body(s3);
  } finally {
    await s3.stop();
  }
}

/** Every committed batch: its manifest (appliedAt left out: runs at different times) and its rows as read by DuckDB. */
async function curatedState(workdir: string): Promise<Record<string, { manifest: unknown; rows: unknown[][] }>> {
  return withS3(workdir, async (s3) => {
    const store = new S3ObjectStore(s3.client);
    const out: Record<string, { manifest: unknown; rows: unknown[][] }> = {};
    for (const o of await store.list(buckets.curated, `${MANIFEST_PREFIX}/`)) {
      if (!/^_manifests\/[a-z_]+\/[0-9a-f]{24}\.json$/.test(o.key)) continue;
      const m = JSON.parse((await readSmallObject(store, { bucket: buckets.curated, key: o.key }))!.toString('utf8')) as Manifest;
      const rows: unknown[][] = [];
      for (const output of m.outputs) {
        const bytes = await readSmallObject(store, { bucket: buckets.curated, key: output.key }, 1 << 30);
        rows.push(...(await readParquet(bytes!)).rows);
      }
      const { committedAt: _c, optOutApplied, ...rest } = m;
      out[o.key] = { manifest: { ...rest, optOutApplied: optOutApplied?.map(({ appliedAt: _a, ...a }) => a) }, rows };
    }
    return out;
  });
}

beforeAll(async () => {
  const layout = workdirLayout(seeded);
  const population = await generatePopulation({ config, outDir: path.join(root, 'generated'), people: 400, seed: 11 });
  await withS3(seeded, async (s3) => {
    const landed: LandedObject[] = [];
    for (const d of population.datasets) {
      const key = `${d.dataset}/${TEST_TODAY}-synthetic-11.csv`;
      await uploadFile(s3.client, { bucket: buckets.landing, key, file: d.file, contentType: 'text/csv' });
      landed.push({ dataset: d.dataset, bucket: buckets.landing, key, bytes: d.bytes });
    }
    await ingestStep({ s3, config, layout, landed, optOutFile: population.optOutFile, log: () => undefined });
  });
  closeAllAuditWriters();
  // A later list: the earlier one and 6 more people from the population; and a wrong file (everyone).
  const demographics = population.datasets.find((d) => d.dataset === 'demographics')!;
  const [header, ...rows] = parseCsv(fs.readFileSync(demographics.file, 'utf8'));
  const nhs = [...new Set(rows.map((r) => r[header.indexOf('nhs_number')]).filter((v) => v !== undefined && isValidNhsNumber(v)))];
  const earlier = fs.readFileSync(population.optOutFile, 'utf8').split('\n').filter(Boolean);
  laterNumbers = [...earlier, ...nhs.filter((n) => !earlier.includes(n)).slice(0, 6)];
  laterList = path.join(root, 'later.txt');
  fs.writeFileSync(laterList, `${laterNumbers.join('\n')}\n`);
  wholePopulation = path.join(root, 'everyone.txt');
  fs.writeFileSync(wholePopulation, `${nhs.join('\n')}\n`);
}, 300_000);

afterAll(() => {
  closeAllAuditWriters();
  fs.rmSync(root, { recursive: true, force: true });
});

test('a run cut between batches, run again, ends in the same state as a run never cut', async () => {
  const whole = workdirCopy('whole');
  const first = await runLocalOptOut({ config, workdir: whole, file: laterList, date: '2026-11-23' });
  expect(first.status === 'applied' && first.record.rowsRemoved).toBeGreaterThan(0);
  expect(first.status === 'applied' && first.record.people).toBe(6);

  const cut = workdirCopy('cut');
  let seen = 0;
  await expect(
    runLocalOptOut({
      config,
      workdir: cut,
      file: laterList,
      date: '2026-11-23',
      onBatch: () => {
        if (++seen === 1) throw new Error('cut after the first batch');
      },
    }),
  ).rejects.toThrow('cut after the first batch');
  const resumed = await runLocalOptOut({ config, workdir: cut, file: laterList, date: '2026-11-23' });
  expect(resumed.status === 'applied' && resumed.resumed).toBe(true);
  expect(resumed.record.rowsRemoved).toBe(first.record.rowsRemoved);
  expect(resumed.record.people).toBe(first.record.people);
  expect(await curatedState(cut)).toEqual(await curatedState(whole));
}, 300_000);

test('a run cut after a batch was replaced but before its manifest, run again, finishes it with the same counts', async () => {
  const whole = workdirCopy('whole-2');
  const first = await runLocalOptOut({ config, workdir: whole, file: laterList, date: '2026-11-23' });
  const cut = workdirCopy('cut-2');
  const key = ensurePseudonymKey(workdirLayout(cut));
  const list = await readList(fs.createReadStream(laterList), '2026-11-23');
  const common = { curatedBucket: buckets.curated, datasets: config.datasets, list, pseudonyms: listPseudonyms(list, key), maxRemovedShare: 0.05 };
  await withS3(cut, async (s3) => {
    const store = localOptOutStore(s3, config, cut);
    let cutOnce = false;
    const cutting = {
      ...store,
      replaceIfMatch: async (...args: Parameters<typeof store.replaceIfMatch>) => {
        if (!cutOnce && args[0].key.startsWith(`${MANIFEST_PREFIX}/`)) {
          cutOnce = true;
          throw new Error('cut before the manifest');
        }
        return store.replaceIfMatch(...args);
      },
    };
    await expect(applyOptOut({ ...common, store: cutting })).rejects.toThrow('cut before the manifest');
    const again = await applyOptOut({ ...common, store });
    expect(again.status === 'applied' && again.record.rowsRemoved).toBe(first.record.rowsRemoved);
  });
  expect(await curatedState(cut)).toEqual(await curatedState(whole));
}, 300_000);

test('the replacement is conditional on the ETag read: a changed object is not overwritten', async () => {
  const dir = workdirCopy('conditional');
  await withS3(dir, async (s3) => {
    const ref = { bucket: buckets.curated, key: 'conditional/probe.bin' };
    const first = await s3.client.send(new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: 'one' }));
    await s3.client.send(new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: 'two' }));
    const replace = s3ReplaceIfMatch(s3.client);
    expect(await replace(ref, Buffer.from('three'), first.ETag!.replace(/"/g, ''), { contentType: 'text/plain' })).toBeUndefined();
    const store = new S3ObjectStore(s3.client);
    expect((await readSmallObject(store, ref))?.toString()).toBe('two');
    const head = await store.head(ref);
    expect(await replace(ref, Buffer.from('three'), head!.etag, { contentType: 'text/plain' })).toBeDefined();
    expect((await readSmallObject(store, ref))?.toString()).toBe('three');
  });
}, 120_000);

test('a list that would remove more than the configured share is refused with nothing changed, unless overridden', async () => {
  const dir = workdirCopy('refused');
  const before = await curatedState(dir);
  const lines: string[] = [];
  const code = await runCli(['optout', 'apply', '--opt-out', wholePopulation, '--config', EXAMPLE_CONFIG, '--workdir', dir], {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
  });
  expect(code).toBe(2);
  expect(lines.join('\n')).toMatch(/would remove more than 5\.0% of demographics/);
  expect(lines.join('\n')).toMatch(/--override/);
  expect(await curatedState(dir)).toEqual(before);
  const overridden = await runLocalOptOut({ config, workdir: dir, file: wholePopulation, date: '2026-11-23', override: true });
  expect(overridden.status === 'applied' && overridden.record.override).toBe(true);
  const after = await curatedState(dir);
  expect(after[Object.keys(after).find((k) => k.includes('/demographics/'))!].rows).toEqual([]);
}, 300_000);

test('the audit trail records the run by its counts, and holds no pseudonym or NHS number of the list', async () => {
  const dir = workdirCopy('audited');
  const lines: string[] = [];
  const code = await runCli(['optout', 'apply', '--opt-out', laterList, '--date', '2026-11-23', '--config', EXAMPLE_CONFIG, '--workdir', dir], {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
  });
  expect(code).toBe(0);
  expect(lines.join('\n')).toMatch(/6 people's records removed/);
  closeAllAuditWriters();
  const records = (await readTrail(path.join(workdirLayout(dir).root, 'audit'))).records.map((r) => r.record);
  const traces = records.flatMap((r) => {
    const key = String((r.requestParameters as { key?: string } | undefined)?.key ?? '');
    return r.eventName === 'PutObject' && key.startsWith(APPLIED_PREFIX) ? [parseAppliedTraceKey(key)] : [];
  });
  expect(traces).toEqual([expect.objectContaining({ listDate: '2026-11-23', people: 6 })]);
  const text = JSON.stringify(records) + lines.join('\n');
  const key = ensurePseudonymKey(workdirLayout(dir));
  for (const n of laterNumbers) {
    expect(text).not.toContain(n);
    expect(text).not.toContain(pseudonymise(key, n));
  }
  // Later ingestion uses the new list.
  expect(fs.readFileSync(path.join(workdirLayout(dir).keys, 'national-data-opt-out.txt'), 'utf8')).toBe(fs.readFileSync(laterList, 'utf8'));
}, 300_000);
