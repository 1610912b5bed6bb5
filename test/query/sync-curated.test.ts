/**
 * The local query reads committed data only: a data object is brought into the query cache
 * only when a committed batch's manifest names it; one whose commit died before its manifest
 * (or a quarantined batch's) is not read, and leaves the cache if it was there. And the cache
 * follows the curated zone: an object replaced in place (a later opt-out rewrites a batch) is
 * fetched again even when its size did not change, so a query never reads rows that were removed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { curatedBatchKey, deliveryKey, manifestKey } from '../../lib/ingest/layout';
import { S3ObjectStore } from '../../lib/ingest/s3-object-store';
import { startLocalS3 } from '../../lib/local/s3-api/server';
import { syncCurated } from '../../lib/query/sync-curated';

const BUCKET = 'sync-curated';

test('only objects a committed manifest names reach the cache', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-sync-'));
  const s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  try {
    const store = new S3ObjectStore(s3.client);
    const cache = path.join(dir, 'cache');
    const key = (batch: string) => curatedBatchKey('episodes', '2026-11-22', batch);
    const manifest = (batch: string, status: string) =>
      JSON.stringify({ batchId: batch, status, outputs: status === 'committed' ? [{ key: key(batch), bytes: 4, rows: 1 }] : [] });
    await store.put({ bucket: BUCKET, key: key('aaaaaaaaaaaaaaaaaaaaaaaa') }, 'PAR1');
    await store.put({ bucket: BUCKET, key: manifestKey('episodes', 'aaaaaaaaaaaaaaaaaaaaaaaa') }, manifest('aaaaaaaaaaaaaaaaaaaaaaaa', 'committed'));
    // A commit that died after its data object, before its manifest.
    await store.put({ bucket: BUCKET, key: key('bbbbbbbbbbbbbbbbbbbbbbbb') }, 'PAR1');
    // A stray object under the table location that no batch names.
    await store.put({ bucket: BUCKET, key: 'episodes/load_date=2026-11-22/copied-by-hand.parquet' }, 'PAR1');
    await store.put({ bucket: BUCKET, key: deliveryKey('episodes', 'f'.repeat(64)) }, '{"batchId":"aaaaaaaaaaaaaaaaaaaaaaaa"}');
    await syncCurated(s3.client, BUCKET, cache);
    const parquetIn = () =>
      (fs.readdirSync(cache, { recursive: true }) as string[])
        .filter((f) => f.endsWith('.parquet'))
        .map((f) => path.basename(f))
        .sort();
    expect(parquetIn()).toEqual(['aaaaaaaaaaaaaaaaaaaaaaaa.parquet']);
    // The interrupted commit is finished: now it is read.
    await store.put({ bucket: BUCKET, key: manifestKey('episodes', 'bbbbbbbbbbbbbbbbbbbbbbbb') }, manifest('bbbbbbbbbbbbbbbbbbbbbbbb', 'committed'));
    await syncCurated(s3.client, BUCKET, cache);
    expect(parquetIn()).toEqual(['aaaaaaaaaaaaaaaaaaaaaaaa.parquet', 'bbbbbbbbbbbbbbbbbbbbbbbb.parquet']);
    // A cached object whose manifest is gone (the batch was removed) leaves the cache.
    await store.delete({ bucket: BUCKET, key: manifestKey('episodes', 'aaaaaaaaaaaaaaaaaaaaaaaa') });
    await syncCurated(s3.client, BUCKET, cache);
    expect(parquetIn()).toEqual(['bbbbbbbbbbbbbbbbbbbbbbbb.parquet']);
  } finally {
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an object replaced with another of the same size is fetched again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-sync-'));
  const s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  try {
    const batch = 'cccccccccccccccccccccccc';
    const key = curatedBatchKey('episodes', '2026-11-22', batch);
    const put = (body: string) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const manifest = JSON.stringify({ batchId: batch, status: 'committed', outputs: [{ key, bytes: 8, rows: 1 }] });
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey('episodes', batch), Body: manifest }));
    const cache = path.join(dir, 'cache');
    const file = path.join(cache, ...key.split('/'));
    await put('old rows');
    // The manifest and the data object.
    expect(await syncCurated(s3.client, BUCKET, cache)).toEqual({ downloaded: 2, kept: 0, removed: 0 });
    expect(await syncCurated(s3.client, BUCKET, cache)).toEqual({ downloaded: 0, kept: 2, removed: 0 });
    // A later write gets a later time (S3 keeps milliseconds; wait past one second for servers that keep seconds).
    await new Promise((r) => setTimeout(r, 1100));
    await put('new rows');
    expect(await syncCurated(s3.client, BUCKET, cache)).toEqual({ downloaded: 1, kept: 1, removed: 0 });
    expect(fs.readFileSync(file, 'utf8')).toBe('new rows');
  } finally {
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
