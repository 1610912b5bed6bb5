/**
 * `ObjectStore` over the AWS SDK v3 S3 client: the same code runs in the Lambdas against
 * AWS and locally against the S3 API on loopback (pass a client from `localS3Client`).
 *
 * Not handled here, on purpose: objects over 5 GiB cannot be copied with one CopyObject
 * (S3's limit). Ingestion copies only its own Parquet parts (one per chunk, far below
 * that); a whole file going to quarantine is streamed through instead (see batch.ts), and
 * `compose` copies ranges of any size in parts of at most 5 GiB (compose-parts.ts).
 *
 * The local S3 API (s3rver) decodes `x-amz-copy-source` with decodeURI, so a copy whose
 * source key holds `#`, `+` or `&` fails there (AWS is right); ingestion's own keys never do.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { planComposeParts } from './compose-parts';
import { mapConcurrently } from './concurrently';
import {
  asReadPin,
  readPiecesToBuffer,
  type ReadPin,
  type ByteRange,
  type ComposePiece,
  type ComposeResult,
  type ObjectHead,
  type ObjectRef,
  type ObjectStore,
  type ObjectSummary,
  type PutBody,
  type PutOptions,
} from './object-store';

/** Stream bodies of unknown length go up in parts of this size (S3: 5 MiB to 5 GiB, 10,000 parts at most, so up to ~160 GB). */
const PART_BYTES = 16 * 1024 * 1024;
/** The largest single PutObject S3 accepts; longer streams go up in parts. */
const MAX_SINGLE_PUT = 5 * 1024 * 1024 * 1024;

/** Parts of a composed object sent at once: copies are server-side, uploads hold at most ~5 MiB each. */
const COMPOSE_CONCURRENCY = 8;

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404;
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client) {}

  async head(ref: ObjectRef, versionId?: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...(versionId ? { VersionId: versionId } : {}) }));
      return {
        bucket: ref.bucket,
        key: ref.key,
        size: out.ContentLength ?? 0,
        etag: unquote(out.ETag),
        ...(out.VersionId ? { versionId: out.VersionId } : {}),
      };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async get(ref: ObjectRef, range?: ByteRange, pin?: string | ReadPin): Promise<AsyncIterable<Uint8Array>> {
    if (range !== undefined && range.end !== undefined && range.end <= range.start) return emptyIterable();
    const header = range === undefined ? undefined : `bytes=${range.start}-${range.end === undefined ? '' : range.end - 1}`;
    const { versionId, etag } = asReadPin(pin);
    const out = await this.client.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        Range: header,
        ...(versionId ? { VersionId: versionId } : {}),
        // S3 answers 412 when the object is no longer these bytes.
        ...(etag ? { IfMatch: `"${etag}"` } : {}),
      }),
    );
    if (out.Body === undefined) return emptyIterable();
    return out.Body as Readable;
  }

  async put(ref: ObjectRef, body: PutBody, options: PutOptions = {}): Promise<{ etag: string }> {
    const contentType = options.contentType ?? 'application/octet-stream';
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const out = await this.client.send(new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: bytes, ContentType: contentType }));
      return { etag: unquote(out.ETag) };
    }
    if (options.contentLength !== undefined && options.contentLength <= MAX_SINGLE_PUT) {
      const out = await this.client.send(
        new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentLength: options.contentLength, ContentType: contentType }),
      );
      return { etag: unquote(out.ETag) };
    }
    // Parts big enough that 10,000 of them hold the whole stream when its length is known.
    const partBytes = Math.max(PART_BYTES, Math.ceil((options.contentLength ?? 0) / 10_000));
    return this.putInParts(ref, body, contentType, partBytes);
  }

  async putIfAbsent(ref: ObjectRef, body: string | Uint8Array, options: PutOptions = {}): Promise<boolean> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          Body: bytes,
          ContentType: options.contentType ?? 'application/octet-stream',
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (e) {
      // 412: the object exists; 409: another conditional write to the key was in flight (it wins).
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw e;
    }
  }

  /** A stream of unknown length: buffered one part at a time, so memory stays at one part. */
  private async putInParts(ref: ObjectRef, body: Readable, contentType: string, partBytes: number): Promise<{ etag: string }> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag?: string }[] = [];
    const flushPart = async () => {
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      if (uploadId === undefined) {
        const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: ref.bucket, Key: ref.key, ContentType: contentType }));
        if (!created.UploadId) throw new Error(`s3://${ref.bucket}/${ref.key}: CreateMultipartUpload returned no upload id`);
        uploadId = created.UploadId;
      }
      const { ETag } = await this.client.send(
        new UploadPartCommand({ Bucket: ref.bucket, Key: ref.key, UploadId: uploadId, PartNumber: parts.length + 1, Body: data }),
      );
      parts.push({ PartNumber: parts.length + 1, ETag });
    };
    try {
      for await (const chunk of body) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= partBytes) await flushPart();
      }
      if (uploadId === undefined) {
        // Small enough for one request after all.
        const out = await this.client.send(
          new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: Buffer.concat(pending, pendingBytes), ContentType: contentType }),
        );
        return { etag: unquote(out.ETag) };
      }
      if (pendingBytes > 0) await flushPart();
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: ref.bucket, Key: ref.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      return { etag: unquote(done.ETag) };
    } catch (e) {
      if (uploadId !== undefined) {
        // Best effort: parts of an abandoned upload are billed until aborted.
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: ref.bucket, Key: ref.key, UploadId: uploadId })).catch(() => undefined);
      }
      throw e;
    }
  }

  async compose(to: ObjectRef, pieces: readonly ComposePiece[], options: PutOptions = {}): Promise<ComposeResult> {
    const parts = planComposeParts(pieces);
    const contentType = options.contentType ?? 'application/octet-stream';
    const only = parts.length === 1 ? parts[0] : undefined;
    if (parts.length === 0 || only?.kind === 'upload') {
      // Small enough for one PutObject (an empty object included).
      return { ...(await this.put(to, await readPiecesToBuffer(this, only?.kind === 'upload' ? only.pieces : []), { contentType })), multipart: false };
    }
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, ContentType: contentType }));
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error(`s3://${to.bucket}/${to.key}: CreateMultipartUpload returned no upload id`);
    try {
      const etags = await mapConcurrently(parts, COMPOSE_CONCURRENCY, async (part, i) => {
        const target = { Bucket: to.bucket, Key: to.key, UploadId: uploadId, PartNumber: i + 1 };
        if (part.kind === 'upload')
          return (await this.client.send(new UploadPartCommand({ ...target, Body: await readPiecesToBuffer(this, part.pieces) }))).ETag;
        const { from, start, end } = part.piece;
        const out = await this.client.send(
          new UploadPartCopyCommand({ ...target, CopySource: copySource(from), CopySourceRange: `bytes=${start}-${end - 1}` }),
        );
        return out.CopyPartResult?.ETag;
      });
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: to.bucket,
          Key: to.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
        }),
      );
      return { etag: unquote(done.ETag), multipart: true };
    } catch (e) {
      // Best effort: parts of an abandoned upload are billed until aborted (the curated bucket's lifecycle rule also aborts them).
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId: uploadId })).catch(() => undefined);
      throw e;
    }
  }

  async list(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    const out: ObjectSummary[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async copy(from: ObjectRef & { readonly versionId?: string }, to: ObjectRef): Promise<void> {
    await this.client.send(new CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource: copySource(from) }));
  }

  async delete(ref: ObjectRef): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  }
}

/** CopySource is "bucket/key" with the key URL-encoded (slashes kept): odd characters in keys must survive. */
function copySource(from: ObjectRef & { readonly versionId?: string }): string {
  const version = from.versionId === undefined ? '' : `?versionId=${encodeURIComponent(from.versionId)}`;
  return `${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}${version}`;
}

async function* emptyGen(): AsyncGenerator<Uint8Array> {}
function emptyIterable(): AsyncIterable<Uint8Array> {
  return emptyGen();
}
