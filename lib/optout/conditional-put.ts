/**
 * Replacing an object only while it is the version the job read (S3 conditional write,
 * `If-Match: <ETag>`): a batch re-ingested, or rewritten by another run, between the read
 * and the write is never overwritten with rows filtered from the older version, and a
 * manifest is never updated over someone else's update. The local S3 API enforces the same
 * condition on PutObject (lib/local/s3-api/s3rver-conditional-put.ts).
 */
import type { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectRef, ObjectStore } from '../ingest/object-store';

/** The largest object one PutObject carries; a curated batch object larger than this is refused (see docs/ingestion.md). */
export const MAX_REPLACE_BYTES = 5 * 1024 * 1024 * 1024;

export interface ReplaceOptions {
  readonly contentType: string;
  /** Required for a stream body. */
  readonly contentLength?: number;
}

/** Writes `body` to `ref` only while its ETag is `etag`; the new ETag, or undefined when the object changed (or is gone). */
export type ReplaceIfMatch = (ref: ObjectRef, body: Buffer | Readable, etag: string, options: ReplaceOptions) => Promise<{ readonly etag: string } | undefined>;

/** What the job writes through: the ingestion object store, and conditional replacement. */
export interface RewriteStore {
  readonly objects: ObjectStore;
  readonly replaceIfMatch: ReplaceIfMatch;
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

/** `ReplaceIfMatch` over the AWS SDK (AWS, or the local S3 API on loopback). */
export function s3ReplaceIfMatch(client: S3Client): ReplaceIfMatch {
  return async (ref, body, etag, options) => {
    const length = Buffer.isBuffer(body) ? body.length : options.contentLength;
    if (length === undefined) throw new Error('replacing an object from a stream needs its length');
    if (length > MAX_REPLACE_BYTES) throw new Error(`s3://${ref.bucket}/${ref.key}: ${length} bytes is more than one conditional PutObject carries (5 GiB)`);
    try {
      const out = await client.send(
        new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentLength: length, ContentType: options.contentType, IfMatch: `"${etag}"` }),
      );
      return { etag: unquote(out.ETag) };
    } catch (e) {
      // 412: another ETag; 404: no object; 409: a conditional write to the key was in flight.
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 404 || status === 409) return undefined;
      throw e;
    }
  };
}
