/**
 * A replacement for s3rver's "GET Bucket" (ListObjects / ListObjectsV2) handler.
 *
 * Why: s3rver 3.7.1 (the last release) breaks listing in two ways that the local runtime
 * would hit as soon as a zone holds more than one page of objects:
 *  - it encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node
 *    17 and later) no longer offers, so every truncated V2 page is a 500 InternalError;
 *  - it walks its folders in directory order and stops after max-keys, so a page is not
 *    the first keys in S3's (UTF-8 byte) order and paging can skip or repeat keys
 *    (`a-b` sorts before `a/x` in S3, after it on disk).
 * Everything else (signature checks, errors, XML) stays s3rver's own: this handler runs
 * s3rver's authentication first and throws s3rver's S3Error, and the response object has
 * the shape s3rver's XML encoder already writes.
 *
 * The continuation token is the last key or common prefix of the page, base64-encoded:
 * opaque to clients, as in S3, and stable across restarts of the local server.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  authentication,
  BUCKET_SUBRESOURCES,
  DUMMY_ACCOUNT,
  KoaMiddleware,
  OBJECT_SUFFIX,
  queryValue,
  S3Error,
  S3rverContext,
  UPLOADS_DIR,
} from './s3rver-internals';

const MAX_KEYS = 1000;

/** S3 orders keys by their UTF-8 bytes (JavaScript's `<` compares UTF-16 units). */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Every key in the bucket under `prefix`, in S3 order. Only folders that can hold such keys are read. */
function keysUnder(bucketPath: string, prefix: string): string[] {
  const lastSlash = prefix.lastIndexOf('/');
  const startRel = lastSlash >= 0 ? prefix.slice(0, lastSlash) : '';
  const start = path.join(bucketPath, ...startRel.split('/').filter(Boolean));
  const keys: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (entry.name !== UPLOADS_DIR) walk(path.join(dir, entry.name), `${rel}${entry.name}/`);
      } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        const key = `${rel}${entry.name.slice(0, -OBJECT_SUFFIX.length)}`;
        if (key.startsWith(prefix)) keys.push(key);
      }
    }
  };
  walk(start, startRel === '' ? '' : `${startRel}/`);
  return keys.sort(compareKeys);
}

export interface ListPage {
  readonly keys: readonly string[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts. */
  readonly last?: string;
}

/**
 * One page of a listing, S3 semantics: keys after `startAfter`, keys holding the delimiter
 * (after the prefix) rolled up into one common prefix, and keys and prefixes together
 * counting towards `maxKeys`. A `startAfter` equal to a common prefix skips that prefix.
 */
export function listPage(sortedKeys: readonly string[], options: { prefix: string; delimiter: string; startAfter: string; maxKeys: number }): ListPage {
  const { prefix, delimiter, startAfter, maxKeys } = options;
  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  for (const key of sortedKeys) {
    if (!key.startsWith(prefix) || compareKeys(key, startAfter) <= 0) continue;
    let entry = key;
    let isPrefix = false;
    if (delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        entry = key.slice(0, at + delimiter.length);
        isPrefix = true;
        // Keys under one prefix are adjacent in sorted order, so comparing with the last
        // entry (or with where the previous page stopped) is enough to roll them up.
        if (entry === last || entry === startAfter) continue;
      }
    }
    if (keys.length + commonPrefixes.length >= maxKeys) return { keys, commonPrefixes, isTruncated: true, last };
    (isPrefix ? commonPrefixes : keys).push(entry);
    last = entry;
  }
  return { keys, commonPrefixes, isTruncated: false, last };
}

function parseMaxKeys(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_KEYS;
  if (!/^-?\d+$/.test(raw)) {
    throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: raw });
  }
  const n = Number(raw);
  if (n < 0 || n > 2147483647)
    throw new S3Error('InvalidArgument', 'Argument maxKeys must be an integer between 0 and 2147483647', { ArgumentName: 'maxKeys', ArgumentValue: n });
  return Math.min(MAX_KEYS, n);
}

const encodeToken = (entry: string) => Buffer.from(entry, 'utf8').toString('base64');
function decodeToken(token: string): string {
  const entry = Buffer.from(token, 'base64').toString('utf8');
  if (token === '' || encodeToken(entry) !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return entry;
}

async function listBucket(ctx: S3rverContext, bucket: string): Promise<void> {
  if (!(await ctx.store.getBucket(bucket))) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  const v2 = queryValue(ctx, 'list-type') === '2';
  const maxKeys = parseMaxKeys(queryValue(ctx, 'max-keys'));
  const prefix = queryValue(ctx, 'prefix') ?? '';
  const delimiter = queryValue(ctx, 'delimiter') ?? '';
  const token = queryValue(ctx, 'continuation-token');
  let startAfter: string;
  if (v2) {
    if ('marker' in ctx.query) throw new S3Error('InvalidArgument', 'Marker unsupported with REST.GET.BUCKET in list-type=2', { ArgumentName: 'marker' });
    startAfter = token !== undefined ? decodeToken(token) : (queryValue(ctx, 'start-after') ?? '');
  } else {
    if ('continuation-token' in ctx.query)
      throw new S3Error('InvalidArgument', 'continuation-token only supported in REST.GET.BUCKET with list-type=2', { ArgumentName: 'continuation-token' });
    if ('start-after' in ctx.query)
      throw new S3Error('InvalidArgument', 'startAfter only supported in REST.GET.BUCKET with list-type=2', { ArgumentName: 'start-after' });
    startAfter = queryValue(ctx, 'marker') ?? '';
  }

  const page =
    maxKeys === 0
      ? { keys: [], commonPrefixes: [], isTruncated: false, last: undefined }
      : listPage(keysUnder(ctx.store.getBucketPath(bucket), prefix), { prefix, delimiter, startAfter, maxKeys });
  const fetchOwner = v2 ? queryValue(ctx, 'fetch-owner') === 'true' : true;
  const contents = [];
  for (const key of page.keys) {
    let metadata: Record<string, string | number>;
    try {
      metadata = await ctx.store.getMetadata(bucket, key);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted while listing
      throw e;
    }
    contents.push({
      Key: key,
      LastModified: new Date(String(metadata['last-modified'])).toISOString(),
      ETag: metadata.etag,
      Size: Number(metadata['content-length']),
      Owner: fetchOwner ? { ID: DUMMY_ACCOUNT.id, DisplayName: DUMMY_ACCOUNT.displayName } : undefined,
      StorageClass: 'STANDARD',
    });
  }
  const next = page.isTruncated ? page.last : undefined;
  ctx.body = {
    ListBucketResult: {
      '@': { xmlns: 'http://doc.s3.amazonaws.com/2006-03-01/' },
      Name: bucket,
      Prefix: prefix,
      ...(v2
        ? {
            StartAfter: token !== undefined ? undefined : queryValue(ctx, 'start-after'),
            ContinuationToken: token,
            NextContinuationToken: next === undefined ? undefined : encodeToken(next),
            KeyCount: page.keys.length + page.commonPrefixes.length,
          }
        : { Marker: startAfter, NextMarker: delimiter !== '' ? next : undefined }),
      MaxKeys: queryValue(ctx, 'max-keys') ?? MAX_KEYS,
      Delimiter: delimiter === '' ? undefined : delimiter,
      IsTruncated: page.isTruncated,
      Contents: contents,
      CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: p })),
    },
  };
}

/** Koa middleware that answers path-style ListObjects(V2) requests; everything else passes through. */
export function listObjectsMiddleware(): KoaMiddleware {
  const authenticate = authentication();
  return async (ctx, next) => {
    const match = /^\/([^/]+)\/?$/.exec(ctx.path);
    if (ctx.method !== 'GET' || match === null || ctx.state.vhost === true || BUCKET_SUBRESOURCES.some((m) => m in ctx.query)) return next();
    const bucket = decodeURIComponent(match[1]);
    ctx.params = { ...(ctx.params ?? {}), bucket };
    await authenticate(ctx, () => listBucket(ctx, bucket));
  };
}
