/**
 * S3 multipart calls and rules s3rver 3.7.1 leaves out, added in front of its router so the
 * local S3 API behaves as S3 does for the calls ingestion's commit makes:
 *
 *  - UploadPartCopy (`PUT /<bucket>/<key>?partNumber=N&uploadId=U` with
 *    `x-amz-copy-source` and an optional `x-amz-copy-source-range: bytes=a-b`): s3rver
 *    answers NotImplemented. Here the range of the source object is stored as the part,
 *    through s3rver's own part store, and answered with a CopyPartResult as S3 does.
 *  - EntityTooSmall on CompleteMultipartUpload: S3 refuses a completed upload in which a
 *    part other than the last is under 5 MiB; s3rver accepts it, so code that would fail
 *    on AWS passed locally. Here the check runs on the parts stored for the upload (our
 *    clients always complete with every part they uploaded).
 *  - AbortMultipartUpload (`DELETE /<bucket>/<key>?uploadId=U`): s3rver answers
 *    MethodNotAllowed and keeps the parts; here they are removed (204), as on S3, and a
 *    part sent to an upload that does not exist (aborted, completed, never started) is
 *    refused with NoSuchUpload (s3rver started a new upload folder for it).
 *
 * Everything else (authentication, errors, XML) is s3rver's own, as in s3rver-list.ts.
 * Not supported: copying a specific source version (s3rver keeps no versions) and the
 * copy-source conditions (`x-amz-copy-source-if-*`): both answer NotImplemented.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { authentication, headerValue, KoaMiddleware, objectPath, queryValue, S3Error, S3rverContext, UPLOADS_DIR } from './s3rver-internals';

/** S3's smallest part, for every part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** s3rver's upload ids are 32 hex digits; anything else cannot name an upload (nor a path). */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

function uploadDir(ctx: S3rverContext, bucket: string, uploadId: string | undefined): string {
  const dir = uploadId !== undefined && UPLOAD_ID.test(uploadId) ? path.join(ctx.store.getBucketPath(bucket), UPLOADS_DIR, uploadId) : undefined;
  if (dir === undefined || !fs.existsSync(dir)) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
      UploadId: uploadId ?? '',
    });
  }
  return dir;
}

/** `bucket/key` from `x-amz-copy-source` (URL-encoded; a leading slash allowed). */
function copySourceOf(header: string): { bucket: string; key: string } {
  const [location, query] = header.replace(/^\//, '').split('?', 2);
  if (query !== undefined) throw new S3Error('NotImplemented', 'Copying a version of an object is not implemented by the local S3 API (it keeps no versions)');
  const slash = location.indexOf('/');
  if (slash <= 0 || slash === location.length - 1)
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: header,
    });
  return { bucket: decodeURIComponent(location.slice(0, slash)), key: decodeURIComponent(location.slice(slash + 1)) };
}

async function uploadPartCopy(ctx: S3rverContext, target: { bucket: string; key: string }): Promise<void> {
  const uploadId = queryValue(ctx, 'uploadId');
  const partNumber = Number(queryValue(ctx, 'partNumber'));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: queryValue(ctx, 'partNumber') ?? '',
    });
  }
  uploadDir(ctx, target.bucket, uploadId);
  if (Object.keys(ctx.headers).some((h) => h.startsWith('x-amz-copy-source-if-')))
    throw new S3Error('NotImplemented', 'Copy-source conditions are not implemented by the local S3 API');
  const source = copySourceOf(headerValue(ctx, 'x-amz-copy-source') ?? '');
  let size: number;
  try {
    size = Number((await ctx.store.getMetadata(source.bucket, source.key))['content-length']);
  } catch {
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: source.key });
  }
  const rangeHeader = headerValue(ctx, 'x-amz-copy-source-range');
  let range = { start: 0, end: size - 1 };
  if (rangeHeader !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader);
    if (m === null)
      throw new S3Error(
        'InvalidArgument',
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
        { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: rangeHeader },
      );
    range = { start: Number(m[1]), end: Number(m[2]) };
    if (range.end < range.start || range.end >= size) {
      throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, {
        ArgumentName: 'x-amz-copy-source-range',
        ArgumentValue: rangeHeader,
      });
    }
  }
  const object = size === 0 ? undefined : await ctx.store.getObject(source.bucket, source.key, range);
  const content = object?.content ?? fs.createReadStream('/dev/null');
  const { md5 } = await ctx.store.putPart(target.bucket, uploadId!, partNumber, content);
  ctx.body = { CopyPartResult: { LastModified: new Date().toISOString(), ETag: JSON.stringify(md5) } };
}

function checkPartSizes(ctx: S3rverContext, bucket: string): void {
  const dir = uploadDir(ctx, bucket, queryValue(ctx, 'uploadId'));
  const parts = fs
    .readdirSync(dir)
    .filter((name) => /^\d+$/.test(name))
    .map((name) => ({ number: Number(name), size: fs.statSync(path.join(dir, name)).size }))
    .sort((a, b) => a.number - b.number);
  const small = parts.slice(0, -1).find((p) => p.size < MIN_PART_BYTES);
  if (small !== undefined) {
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
      ProposedSize: small.size,
      MinSizeAllowed: MIN_PART_BYTES,
      PartNumber: small.number,
    });
  }
}

export function multipartMiddleware(): KoaMiddleware {
  const authenticate = authentication();
  return async (ctx, next) => {
    const target = objectPath(ctx);
    if (target === undefined || !('uploadId' in ctx.query)) return next();
    const uploadId = () => queryValue(ctx, 'uploadId');
    let handle: (() => Promise<void>) | undefined;
    if (ctx.method === 'PUT' && 'partNumber' in ctx.query && 'x-amz-copy-source' in ctx.headers) handle = () => uploadPartCopy(ctx, target);
    else if (ctx.method === 'PUT' && 'partNumber' in ctx.query) {
      // s3rver would recreate an aborted (or never started) upload's folder and take the part.
      handle = async () => {
        uploadDir(ctx, target.bucket, uploadId());
        await next();
      };
    } else if (ctx.method === 'DELETE') {
      handle = async () => {
        fs.rmSync(uploadDir(ctx, target.bucket, uploadId()), { recursive: true, force: true });
        (ctx as unknown as { status: number }).status = 204;
      };
    } else if (ctx.method === 'POST') {
      // Checked after authentication; then s3rver completes the upload as before.
      handle = async () => {
        checkPartSizes(ctx, target.bucket);
        await next();
      };
    }
    if (handle === undefined) return next();
    ctx.params = { ...(ctx.params ?? {}), ...target };
    return authenticate(ctx, handle);
  };
}
