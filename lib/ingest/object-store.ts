/**
 * The few object-store operations ingestion needs, as an interface, so the pipeline
 * (batch.ts) is written once against it: `S3ObjectStore` implements it with the AWS SDK
 * for both AWS and the local S3 API on loopback; tests may wrap it (e.g. to count or
 * audit writes) without mocking the SDK.
 */
import type { Readable } from 'node:stream';

export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
}

export interface ObjectHead extends ObjectRef {
  readonly size: number;
  /** The ETag as S3 returns it, quotes removed. */
  readonly etag: string;
  /** Set when the bucket is versioned (always on AWS here; never on the local S3 API). */
  readonly versionId?: string;
}

export interface ObjectSummary {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** A byte range: `start` inclusive, `end` exclusive (undefined: to the end of the object). */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

/**
 * Which stored bytes a read must see: a version (versioned buckets, AWS) and/or the ETag
 * (`If-Match`: the local S3 API, which has no versions). A read whose object no longer
 * matches fails (412) instead of returning other bytes.
 */
export interface ReadPin {
  readonly versionId?: string;
  readonly etag?: string;
}

/** The pin of an object as headed: its version where there is one, and its ETag. */
export function pinOf(head: { readonly etag: string; readonly versionId?: string }): ReadPin {
  return { etag: head.etag, ...(head.versionId === undefined ? {} : { versionId: head.versionId }) };
}

/** A pin given as a bare version id (older callers) or as a `ReadPin`. */
export function asReadPin(pin: string | ReadPin | undefined): ReadPin {
  return typeof pin === 'string' ? { versionId: pin } : (pin ?? {});
}

export type PutBody = Buffer | Uint8Array | string | Readable;

export interface PutOptions {
  /** @default 'application/octet-stream' */
  readonly contentType?: string;
  /** Bytes in a stream body, when known (lets one PutObject carry it; otherwise it goes up in parts). */
  readonly contentLength?: number;
}

/**
 * A piece of a composed object: literal bytes, or the range `[start, end)` of a stored object
 * (pinned to `from.versionId` when given, so the bytes are those of the version planned on).
 */
export type ComposePiece =
  { readonly bytes: Uint8Array } | { readonly from: ObjectRef & { readonly versionId?: string }; readonly start: number; readonly end: number };

export interface ComposeResult {
  readonly etag: string;
  /** True when the object went up as a multipart upload (CloudTrail: CompleteMultipartUpload), false for one PutObject. */
  readonly multipart: boolean;
}

export interface ObjectStore {
  /** The object's size and identity (of `versionId` when given), or undefined when there is no such object. */
  head(ref: ObjectRef, versionId?: string): Promise<ObjectHead | undefined>;
  /**
   * The object's bytes (a range of them) as a stream. When `pin` is given (a version id, or
   * a version and/or ETag) the read is pinned to it, so a supplier overwriting the key
   * mid-batch cannot mix files: a changed object fails the read. Stop early by breaking
   * out of the iteration: the rest is not downloaded.
   */
  get(ref: ObjectRef, range?: ByteRange, pin?: string | ReadPin): Promise<AsyncIterable<Uint8Array>>;
  /** Writes a whole object (a single object appears whole or not at all, to every reader). */
  put(ref: ObjectRef, body: PutBody, options?: PutOptions): Promise<{ readonly etag: string }>;
  /**
   * Writes a small object only if there is none under the key (S3: a conditional PutObject,
   * `If-None-Match: *`), atomically: of two racing writers exactly one wins. True when written.
   */
  putIfAbsent(ref: ObjectRef, body: string | Uint8Array, options?: PutOptions): Promise<boolean>;
  /** Every object under a prefix, in key order. */
  list(bucket: string, prefix: string): Promise<ObjectSummary[]>;
  /** Copies one object (pinned to `from.versionId` when given) within or across buckets. */
  copy(from: ObjectRef & { readonly versionId?: string }, to: ObjectRef): Promise<void>;
  /**
   * Writes one object made of `pieces` in order, which appears whole or not at all (on S3, a
   * multipart upload whose large pieces are server-side copies: see compose-parts.ts).
   */
  compose(to: ObjectRef, pieces: readonly ComposePiece[], options?: PutOptions): Promise<ComposeResult>;
  /** Deleting a missing object is not an error (S3 semantics), so retries are safe. */
  delete(ref: ObjectRef): Promise<void>;
}

/** Reads a whole (small) object: manifests, chunk results, error reports. */
export async function readSmallObject(store: ObjectStore, ref: ObjectRef, maxBytes = 16 * 1024 * 1024): Promise<Buffer | undefined> {
  if ((await store.head(ref)) === undefined) return undefined;
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of await store.get(ref)) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`s3://${ref.bucket}/${ref.key} is larger than ${maxBytes} bytes: not a manifest or report ingestion wrote`);
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(parts);
}

/** The bytes of `pieces`, in order, read from `store` range by range: for stores that compose by writing. */
export async function* readPieces(store: ObjectStore, pieces: readonly ComposePiece[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) {
    if ('bytes' in piece) {
      if (piece.bytes.length > 0) yield piece.bytes;
      continue;
    }
    let read = 0;
    for await (const chunk of await store.get(piece.from, { start: piece.start, end: piece.end }, piece.from.versionId)) {
      read += chunk.byteLength;
      yield chunk;
    }
    if (read !== piece.end - piece.start) {
      throw new Error(`s3://${piece.from.bucket}/${piece.from.key}: read ${read} bytes of the range [${piece.start}, ${piece.end}) (is the object shorter?)`);
    }
  }
}

/** The bytes of `pieces` in one buffer (each range's length checked by `readPieces`): for small reads only. */
export async function readPiecesToBuffer(store: ObjectStore, pieces: readonly ComposePiece[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readPieces(store, pieces)) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return Buffer.concat(chunks);
}
