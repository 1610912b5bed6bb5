/**
 * GetObject's `If-Match`, as S3 does it (s3rver 3.7.1 ignores the header): when the
 * object's ETag is another, the read fails with 412 PreconditionFailed instead of
 * returning other bytes. Ingestion pins every read of a landed object to the ETag its
 * plan headed (the local S3 API has no versions), so a file replaced mid-batch fails the
 * batch rather than mixing two files.
 *
 * The check reads the ETag just before s3rver opens the file: objects are replaced by
 * rename (s3rver-crash-safe-store.ts), so a read opened after the check sees one whole object,
 * and ingestion's byte-count check catches a replacement in between.
 */
import { authentication, headerValue, KoaMiddleware, objectPath, S3Error } from './s3rver-internals';

const unquote = (etag: string) => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

export function conditionalGetMiddleware(): KoaMiddleware {
  const authenticate = authentication();
  return async (ctx, next) => {
    const target = objectPath(ctx);
    const ifMatch = headerValue(ctx, 'if-match');
    if (target === undefined || ifMatch === undefined || (ctx.method !== 'GET' && ctx.method !== 'HEAD') || Object.keys(ctx.query).some((q) => q !== 'x-id')) {
      return next();
    }
    ctx.params = { ...(ctx.params ?? {}), bucket: target.bucket, key: target.key };
    await authenticate(ctx, async () => {
      let etag: string | undefined;
      try {
        etag = unquote(String((await ctx.store.getMetadata(target.bucket, target.key)).etag));
      } catch {
        etag = undefined;
      }
      if (etag === undefined) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: target.key });
      if (!ifMatch.split(',').some((m) => m.trim() === '*' || unquote(m) === etag)) {
        throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
      }
      await next();
    });
  };
}
