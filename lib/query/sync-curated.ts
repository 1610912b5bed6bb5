/**
 * Brings the curated zone's Parquet objects from the (local) S3 API into a cache folder
 * that DuckDB reads, as Athena reads S3: the query engine depends only on S3 semantics,
 * not on how the local object store lays out its files.
 *
 * Only committed data: a Parquet object is brought in only when a committed batch's
 * manifest names it (lib/ingest/commit-protocol.ts). A data object whose commit died
 * before its manifest, or a batch being committed right now, is not read until its
 * manifest exists (docs/architecture.md, "Committing a batch").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DELIVERIES_PREFIX, MANIFEST_PREFIX } from '../ingest/layout';
import type { Manifest } from '../ingest/manifest';

export interface SyncResult {
  readonly downloaded: number;
  readonly kept: number;
  readonly removed: number;
}

/** Mirrors the committed `*.parquet` objects and the batch manifests of the bucket under `cacheDir` (by key), removing everything else. */
export async function syncCurated(client: S3Client, bucket: string, cacheDir: string): Promise<SyncResult> {
  // Size and last-modified time: an object replaced in place (a later opt-out rewrites a
  // batch) can keep its size, never its time.
  type Listed = { size: number; modified?: Date };
  const manifests = new Map<string, Listed>();
  const parquet = new Map<string, Listed>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const obj of page.Contents ?? []) {
      // The batches' commit manifests (they say what is committed; a query's provenance names them), and the Parquet objects.
      const listed = { size: obj.Size ?? -1, modified: obj.LastModified };
      if (obj.Key?.startsWith(`${MANIFEST_PREFIX}/`) && obj.Key.endsWith('.json')) manifests.set(obj.Key, listed);
      else if (obj.Key?.endsWith('.parquet')) parquet.set(obj.Key, listed);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  let downloaded = 0;
  let kept = 0;
  const fetch = async (key: string, { size, modified }: Listed): Promise<string> => {
    const file = path.join(cacheDir, ...key.split('/'));
    if (!file.startsWith(path.resolve(cacheDir) + path.sep)) throw new Error(`refusing an object key that leaves the cache folder: ${key}`);
    const local = fs.existsSync(file) ? fs.statSync(file) : undefined;
    if (local !== undefined && local.size === size && (modified === undefined || local.mtimeMs === modified.getTime())) {
      kept++;
      return file;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    // Write beside and rename, so a reader never sees half a file.
    const partial = `${file}.partial`;
    await pipeline(object.Body as Readable, fs.createWriteStream(partial, { mode: 0o600 }));
    if (modified !== undefined) fs.utimesSync(partial, modified, modified);
    fs.renameSync(partial, file);
    downloaded++;
    return file;
  };
  // Manifests first: only the data objects a committed batch names are read.
  const wanted = new Set<string>();
  const committed = new Set<string>();
  for (const [key, listed] of manifests) {
    const file = await fetch(key, listed);
    wanted.add(key);
    if (key.startsWith(`${DELIVERIES_PREFIX}/`)) continue;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    if (manifest.status === 'committed') for (const out of manifest.outputs) committed.add(out.key);
  }
  for (const [key, listed] of parquet) {
    if (!committed.has(key)) continue;
    await fetch(key, listed);
    wanted.add(key);
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
