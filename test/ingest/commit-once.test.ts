/**
 * Commit once, read exactly, on the real local S3 API:
 * - several committers of one batch at once: one writes the manifest (If-None-Match: *),
 *   the others report "already committed" with the winner's manifest; one data object;
 * - a landed object replaced after the plan (same size, other bytes) fails the batch (the
 *   read is pinned to the planned ETag), and nothing is committed;
 * - a read that returns fewer bytes than planned (a cut connection) fails the batch;
 * - rejected-row files no manifest names are removed when the batch is committed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commitBatch, LandedObjectReadError, planBatch, processChunk } from '../../lib/ingest/batch';
import { committedKeys, readManifest } from '../../lib/ingest/commit-protocol';
import { curatedBatchKey, manifestKey, rejectedKey } from '../../lib/ingest/layout';
import type { ByteRange, ObjectRef, ObjectStore, PutOptions, ReadPin } from '../../lib/ingest/object-store';
import { S3ObjectStore } from '../../lib/ingest/s3-object-store';
import { LocalS3, startLocalS3 } from '../../lib/local/s3-api/server';
import { csvLine, EPISODES, episodeFields, KEY, LOAD_DATE } from './core/datasets';
import { BUCKETS } from './helpers/run-batch';

const HEADER = csvLine(EPISODES.columns.map((c) => c.name));
const rows = (n: number, tag: string) =>
  [HEADER, ...Array.from({ length: n }, (_, i) => csvLine(episodeFields({ episode_id: `${tag}${String(i).padStart(6, '0')}` })))].join('\n') + '\n';

let dir: string;
let s3: LocalS3;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-commit-once-'));
  s3 = await startLocalS3({ directory: dir, buckets: Object.values(BUCKETS) });
});
afterAll(async () => {
  await s3.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Counts the manifest writes that took effect (a refused conditional write is not one). */
class CountingStore extends S3ObjectStore {
  manifestWrites = 0;
  async putIfAbsent(ref: ObjectRef, body: string | Uint8Array, options?: PutOptions): Promise<boolean> {
    const written = await super.putIfAbsent(ref, body, options);
    if (written && ref.key.startsWith('_manifests/') && !ref.key.includes('_deliveries')) this.manifestWrites++;
    return written;
  }
}

async function land(key: string, body: string): Promise<ObjectRef> {
  const ref = { bucket: BUCKETS.landing, key };
  await new S3ObjectStore(s3.client).put(ref, body, { contentType: 'text/csv' });
  return ref;
}

async function ingest(store: ObjectStore, source: ObjectRef, chunkBytes?: number) {
  const plan = await planBatch({ store, source, dataset: EPISODES, buckets: BUCKETS, loadDate: LOAD_DATE, chunkBytes });
  for (const c of plan.chunks) await processChunk({ store, plan, chunk: c.index, dataset: EPISODES, key: KEY, optOut: new Set() });
  return commitBatch({ store, plan });
}

test('five committers of one batch at once: one manifest write, one data object, the others already committed', async () => {
  const source = await land('episodes/race.csv', rows(3000, 'R'));
  const stores = Array.from({ length: 5 }, () => new CountingStore(s3.client));
  const results = await Promise.all(stores.map((store) => ingest(store, source, 50_000)));
  expect(stores.reduce((n, s) => n + s.manifestWrites, 0)).toBe(1);
  expect(results.filter((r) => !r.alreadyCommitted)).toHaveLength(1);
  const winner = results.find((r) => !r.alreadyCommitted)!.manifest;
  for (const r of results) expect(r.manifest).toEqual(winner);
  expect(winner).toMatchObject({ status: 'committed', rowsRead: 3000, rowsWritten: 3000 });
  const store = new S3ObjectStore(s3.client);
  const data = await store.list(BUCKETS.curated, 'episodes/');
  expect(data.map((o) => o.key)).toEqual([curatedBatchKey('episodes', LOAD_DATE, winner.batchId)]);
  expect(data[0].size).toBe(winner.outputs[0].bytes);
  expect(await store.list(BUCKETS.curated, '_staging/')).toEqual([]);
  expect([...(await committedKeys(store, BUCKETS.curated, 'episodes'))]).toEqual([winner.outputs[0].key]);
});

test('concurrent runs of one batch chunked differently never commit part of it', async () => {
  const source = await land('episodes/mixed.csv', rows(3000, 'M'));
  const stores = Array.from({ length: 5 }, () => new CountingStore(s3.client));
  const settled = await Promise.allSettled(stores.map((store, i) => ingest(store, source, [undefined, 40_000, 47_000, 61_000, 90_000][i])));
  expect(stores.reduce((n, s) => n + s.manifestWrites, 0)).toBeLessThanOrEqual(1);
  // A run may fail (its chunking is not the one another run's results hold), never commit part of the file.
  for (const r of settled) if (r.status === 'fulfilled') expect(r.value.manifest).toMatchObject({ status: 'committed', rowsRead: 3000, rowsWritten: 3000 });
  // Whatever happened, a run now ends with the whole file committed once.
  const { manifest } = await ingest(new S3ObjectStore(s3.client), source, 50_000);
  expect(manifest).toMatchObject({ status: 'committed', rowsRead: 3000, rowsWritten: 3000 });
  const data = await new S3ObjectStore(s3.client).list(BUCKETS.curated, `episodes/load_date=${LOAD_DATE}/${manifest.batchId}`);
  expect(data.map((o) => o.size)).toEqual([manifest.outputs[0].bytes]);
});

test('a landed object replaced after its plan, same size, other bytes: the batch fails and nothing is committed', async () => {
  const store = new S3ObjectStore(s3.client);
  const source = await land('episodes/replaced.csv', rows(50, 'A'));
  const plan = await planBatch({ store, source, dataset: EPISODES, buckets: BUCKETS, loadDate: LOAD_DATE });
  await land('episodes/replaced.csv', rows(50, 'B'));
  expect((await store.head(source))?.size).toBe(plan.source.size);
  await expect(processChunk({ store, plan, chunk: 0, dataset: EPISODES, key: KEY, optOut: new Set() })).rejects.toThrow(LandedObjectReadError);
  expect(await readManifest(store, plan)).toBeUndefined();
});

/** A read that stops early, as a cut connection would, after `keep` bytes. */
class ShortReads extends S3ObjectStore {
  constructor(
    client: LocalS3['client'],
    private readonly keep: number,
  ) {
    super(client);
  }
  async get(ref: ObjectRef, range?: ByteRange, pin?: string | ReadPin): Promise<AsyncIterable<Uint8Array>> {
    const body = await super.get(ref, range, pin);
    if (ref.bucket !== BUCKETS.landing) return body;
    const keep = this.keep;
    return (async function* () {
      let left = keep;
      for await (const piece of body) {
        if (left <= 0) return;
        yield piece.subarray(0, left);
        left -= piece.byteLength;
      }
    })();
  }
}

test.each([
  ['one chunk', undefined],
  ['several chunks', 20_000],
])('a short read of the landed object (%s) fails the batch: no partial batch is committed', async (_label, chunkBytes) => {
  const body = rows(600, chunkBytes === undefined ? 'S' : 'T');
  const source = await land(`episodes/short-${chunkBytes ?? 'one'}.csv`, body);
  // Cut at a record boundary, so the CSV reader alone could not tell.
  const cut = body.indexOf('\n', Math.floor(body.length / 3)) + 1;
  const store = new ShortReads(s3.client, chunkBytes === undefined ? cut : 9_000);
  const failed = ingest(store, source, chunkBytes);
  await expect(failed).rejects.toThrow(LandedObjectReadError);
  await expect(failed).rejects.toThrow(/read \d+ bytes of the planned range/);
  const plan = await planBatch({ store: new S3ObjectStore(s3.client), source, dataset: EPISODES, buckets: BUCKETS, loadDate: LOAD_DATE, chunkBytes });
  expect(await readManifest(new S3ObjectStore(s3.client), plan)).toBeUndefined();
  // Run again without the fault: the whole file, once.
  const again = await ingest(new S3ObjectStore(s3.client), source, chunkBytes);
  expect(again.manifest).toMatchObject({ status: 'committed', rowsRead: 600, rowsWritten: 600 });
});

test('rejected-row files the manifest does not name are removed at the commit', async () => {
  const store = new S3ObjectStore(s3.client);
  const source = await land('episodes/orphans.csv', rows(20, 'O'));
  const plan = await planBatch({ store, source, dataset: EPISODES, buckets: BUCKETS, loadDate: LOAD_DATE });
  // As a losing concurrent run's chunk would leave one.
  const stray = { bucket: BUCKETS.quarantine, key: rejectedKey('episodes', plan.batchId, 7) };
  await store.put(stray, 'line,reasons\n');
  await processChunk({ store, plan, chunk: 0, dataset: EPISODES, key: KEY, optOut: new Set() });
  const { manifest } = await commitBatch({ store, plan });
  expect(await store.head(stray)).toBeUndefined();
  expect(await store.head({ bucket: BUCKETS.curated, key: manifestKey('episodes', plan.batchId) })).toBeDefined();
  expect(manifest.rejectedFiles).toEqual([]);
});
