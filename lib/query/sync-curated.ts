/**
 * Brings the curated zone's Parquet objects from the (local) S3 API into a cache folder
 * that DuckDB reads, as Athena reads S3: the query engine depends only on S3 semantics,
 * not on how the local object store lays out its files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { MANIFEST_PREFIX } from '../ingest/layout';

export interface SyncResult {
  readonly downloaded: number;
  readonly kept: number;
  readonly removed: number;
}

/** Mirrors every `*.parquet` object and batch manifest of the bucket under `cacheDir` (by key), removing stale copies. */
export async function syncCurated(client: S3Client, bucket: string, cacheDir: string): Promise<SyncResult> {
  // Size and last-modified time: an object replaced in place (a later opt-out rewrites a
  // batch) can keep its size, never its time.
  const wanted = new Map<string, { size: number; modified?: Date }>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const obj of page.Contents ?? []) {
      // The Parquet objects, and the batches' commit manifests (a query's provenance names them).
      if (obj.Key?.endsWith('.parquet') || (obj.Key?.startsWith(`${MANIFEST_PREFIX}/`) && obj.Key.endsWith('.json')))
        wanted.set(obj.Key, { size: obj.Size ?? -1, modified: obj.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  let downloaded = 0;
  let kept = 0;
  for (const [key, { size, modified }] of wanted) {
    const file = path.join(cacheDir, ...key.split('/'));
    if (!file.startsWith(path.resolve(cacheDir) + path.sep)) throw new Error(`refusing an object key that leaves the cache folder: ${key}`);
    const local = fs.existsSync(file) ? fs.statSync(file) : undefined;
    if (local !== undefined && local.size === size && (modified === undefined || local.mtimeMs === modified.getTime())) {
      kept++;
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    // Write beside and rename, so a reader never sees half a file.
    const partial = `${file}.partial`;
    await pipeline(object.Body as Readable, fs.createWriteStream(partial, { mode: 0o600 }));
    if (modified !== undefined) fs.utimesSync(partial, modified, modified);
    fs.renameSync(partial, file);
    downloaded++;
  }

  let removed = 0;
  if (fs.existsSync(cacheDir)) {
    for (const entry of fs.readdirSync(cacheDir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = path.join(entry.parentPath, entry.name);
      const key = path.relative(cacheDir, full).split(path.sep).join('/');
      if (!wanted.has(key)) {
        fs.rmSync(full);
        removed++;
      }
    }
  }
  return { downloaded, kept, removed };
}
