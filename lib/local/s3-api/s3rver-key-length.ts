/**
 * Object keys the local S3 API can store. s3rver keeps every object as a file named after
 * the key's last part (between slashes) plus a suffix (`._S3rver_object`,
 * `._S3rver_metadata.json`), so a part longer than the file system allows (255 bytes, suffix
 * included) crashed the server with ENAMETOOLONG. Such a write is now refused up front with
 * S3's own `KeyTooLongError` (400) and a message that says what the limit is; S3 itself takes
 * keys up to 1,024 bytes with parts of any length, so the limit is the local runtime's only.
 */
import { KoaMiddleware, objectPath, S3Error } from './s3rver-internals';

/** The longest suffix s3rver adds to a key part on disk. */
const LONGEST_SUFFIX = '._S3rver_metadata.json';
/** The longest key part, in UTF-8 bytes, the local S3 API stores (255-byte file names). */
export const MAX_LOCAL_KEY_PART_BYTES = 255 - LONGEST_SUFFIX.length;

/** The first part of a key (between slashes) too long for the local S3 API, or undefined. */
export function keyPartTooLong(key: string): string | undefined {
  return key.split('/').find((part) => Buffer.byteLength(part, 'utf8') > MAX_LOCAL_KEY_PART_BYTES);
}

export function keyLengthMiddleware(): KoaMiddleware {
  return async (ctx, next) => {
    const target = ctx.method === 'PUT' || ctx.method === 'POST' ? objectPath(ctx) : undefined;
    if (target !== undefined) {
      const part = keyPartTooLong(target.key);
      if (part !== undefined) {
        throw new S3Error(
          'KeyTooLongError',
          `Your key is too long for the local S3 API: a part of it between slashes is ${Buffer.byteLength(part, 'utf8')} bytes, and each part is stored as a file name, so at most ${MAX_LOCAL_KEY_PART_BYTES} bytes are allowed`,
          { Key: target.key.length > 64 ? `${target.key.slice(0, 64)}...` : target.key },
        );
      }
    }
    await next();
  };
}
