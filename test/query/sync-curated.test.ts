/**
 * The local query cache follows the curated zone: an object replaced in place (a later
 * opt-out rewrites a batch) is fetched again even when its size did not change, so a query
 * never reads rows that were removed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../lib/local/s3-api/server';
import { syncCurated } from '../../lib/query/sync-curated';

test('an object replaced with another of the same size is fetched again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-sync-'));
  const s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: ['curated'] });
  try {
    const put = (body: string) => s3.client.send(new PutObjectCommand({ Bucket: 'curated', Key: 'd/load_date=2026-11-22/b.parquet', Body: body }));
    const cache = path.join(dir, 'cache');
    const file = path.join(cache, 'd', 'load_date=2026-11-22', 'b.parquet');
    await put('old rows');
    expect(await syncCurated(s3.client, 'curated', cache)).toEqual({ downloaded: 1, kept: 0, removed: 0 });
    expect(await syncCurated(s3.client, 'curated', cache)).toEqual({ downloaded: 0, kept: 1, removed: 0 });
    // A later write gets a later time (S3 keeps milliseconds; wait past one second for servers that keep seconds).
    await new Promise((r) => setTimeout(r, 1100));
    await put('new rows');
    expect(await syncCurated(s3.client, 'curated', cache)).toEqual({ downloaded: 1, kept: 0, removed: 0 });
    expect(fs.readFileSync(file, 'utf8')).toBe('new rows');
  } finally {
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
