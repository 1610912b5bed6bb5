/**
 * PutObject as S3 does it, on two points s3rver 3.7.1 leaves out, so code that relies on
 * them (the airlock's concurrency control and its staged egress) is tested against a
 * server that enforces them rather than against injected answers:
 *
 *  - conditional writes: `If-None-Match: *` fails with 412 PreconditionFailed when the key
 *    exists; `If-Match: <etag>` fails with 412 when the object's ETag is another, and 404
 *    NoSuchKey when there is no object. Every PUT of one key is serialised (check, then
 *    write, as one step), so of two racing conditional writes exactly one wins, as on S3.
 *    Each `sde` process runs its own server over the same folder, so a conditional write
 *    also holds a lock file beside the folder (`<folder>.conditional-put.lock`, taken with
 *    proper-lockfile: a lock left by a killed process is stale after 5 s and broken), and
 *    the check and the write are one step across processes too;
 *  - `x-amz-tagging` on PUT: the object is stored with those tags (s3rver dropped them), and
 *    a PUT without the header leaves the new object untagged (s3rver kept the old
 *    object's tags).
 *
 * Everything else (authentication, errors, XML, the write itself) is s3rver's own, as in
 * s3rver-list.ts. CopyObject and CompleteMultipartUpload conditions are not evaluated.
 */
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { authentication, headerValue, KoaMiddleware, objectPath, S3Error, S3rverContext } from './s3rver-internals';

const { TaggingConfiguration } = require('s3rver/lib/models/config') as { TaggingConfiguration: new (xml: string) => { type: string } };

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `k1=v1&k2=v2` (URL-encoded, as the header carries it) as s3rver's tagging subresource. */
function taggingFromHeader(header: string): { type: string } {
  const tags = new URLSearchParams(header);
  const xml = [...tags].map(([k, v]) => `<Tag><Key>${xmlEscape(k)}</Key><Value>${xmlEscape(v)}</Value></Tag>`).join('');
  return new TaggingConfiguration(`<Tagging><TagSet>${xml}</TagSet></Tagging>`);
}

async function currentEtag(ctx: S3rverContext, bucket: string, key: string): Promise<string | undefined> {
  try {
    return String((await ctx.store.getMetadata(bucket, key)).etag);
  } catch {
    return undefined;
  }
}

const unquote = (etag: string) => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

async function checkConditions(ctx: S3rverContext, bucket: string, key: string): Promise<void> {
  const ifNoneMatch = headerValue(ctx, 'if-none-match');
  const ifMatch = headerValue(ctx, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  }
  const etag = await currentEtag(ctx, bucket, key);
  if (ifNoneMatch !== undefined && etag !== undefined) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
  }
  if (ifMatch !== undefined) {
    if (etag === undefined) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
    if (!ifMatch.split(',').some((m) => unquote(m) === unquote(etag))) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
    }
  }
}

interface TaggingStore {
  putSubresource(bucket: string, key: string, resource: { type: string }): Promise<void>;
  deleteSubresource(bucket: string, key: string, type: string): Promise<void>;
}

/** A lock older than this was left by a killed process (the holder refreshes it while it lives). */
export const CONDITIONAL_PUT_STALE_MS = 5_000;

/**
 * Holds the folder's cross-process lock around `fn`. Waiters retry for longer than the stale
 * threshold, so a lock left by a killed process delays them by at most that, never fails them.
 */
async function withFolderLock<T>(directory: string, fn: () => Promise<T>): Promise<T> {
  const target = path.resolve(directory);
  const release = await lockfile.lock(target, {
    realpath: false,
    lockfilePath: `${target}.conditional-put.lock`,
    stale: CONDITIONAL_PUT_STALE_MS,
    retries: { retries: 2_000, factor: 1.3, minTimeout: 5, maxTimeout: 50 },
    // A holder that could not refresh in time (a stalled machine) lost the lock: its write
    // is already checked and under way; the next writer checks again after it.
    onCompromised: () => undefined,
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

export function conditionalPutMiddleware(directory?: string): KoaMiddleware {
  const authenticate = authentication();
  /** The last write queued per bucket and key: each PUT of a key waits for the one before. */
  const queues = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    const target = objectPath(ctx);
    // PutObject only: no subresource or upload query (the SDK adds `x-id`), no copy source.
    const plainPut = ctx.method === 'PUT' && Object.keys(ctx.query).every((q) => q === 'x-id');
    if (target === undefined || !plainPut || 'x-amz-copy-source' in ctx.headers) return next();
    const { bucket, key } = target;
    ctx.params = { ...(ctx.params ?? {}), bucket, key };
    const id = `${bucket}/${key}`;
    const before = queues.get(id) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    queues.set(id, mine);
    try {
      await before;
      const conditional = headerValue(ctx, 'if-none-match') !== undefined || headerValue(ctx, 'if-match') !== undefined;
      await authenticate(ctx, async () => {
        const checkAndWrite = async () => {
          await checkConditions(ctx, bucket, key);
          await next();
        };
        if (conditional && directory !== undefined) await withFolderLock(directory, checkAndWrite);
        else await checkAndWrite();
        const store = ctx.store as unknown as TaggingStore;
        const tagging = headerValue(ctx, 'x-amz-tagging');
        if (tagging !== undefined) await store.putSubresource(bucket, key, taggingFromHeader(tagging));
        else await store.deleteSubresource(bucket, key, 'tagging');
      });
    } finally {
      done();
      if (queues.get(id) === mine) queues.delete(id);
    }
  };
}
