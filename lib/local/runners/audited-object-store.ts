/**
 * An `ObjectStore` that records every write it makes in the local audit trail, as the
 * CloudTrail data events AWS records for the same calls on the platform's buckets
 * (PutObject, CopyObject, DeleteObject by the ingestion role). On AWS, CloudTrail itself
 * does this; locally this wrapper is what puts ingestion into `sde audit`.
 */
import type { Readable } from 'node:stream';
import type { CloudTrailRecord } from '../../audit/cloudtrail-record';
import { ingestionWriteEvent, LocalAuditEnv, LocalAuditWriter, type LocalPrincipal } from '../../audit/local-audit-writer';
import type {
  ByteRange,
  ComposePiece,
  ComposeResult,
  ObjectHead,
  ObjectRef,
  ObjectStore,
  ObjectSummary,
  PutBody,
  PutOptions,
  ReadPin,
} from '../../ingest/object-store';

export interface AuditContext {
  readonly writer: LocalAuditWriter;
  readonly env: LocalAuditEnv;
  readonly dataset?: string;
  /** Who writes. @default the `<platform>-ingest` role */
  readonly principal?: LocalPrincipal;
}

function sizeOf(body: PutBody, options: PutOptions): number {
  if (typeof body === 'string') return Buffer.byteLength(body, 'utf8');
  if (body instanceof Uint8Array) return body.byteLength;
  return options.contentLength ?? 0;
}

/** The batch id is the second path segment of every key ingestion writes (see lib/ingest/layout.ts), where there is one. */
function batchIdIn(key: string): string | undefined {
  return key
    .split('/')
    .find((s) => /^[0-9a-f]{24}(?:[-.]|$)/.test(s))
    ?.slice(0, 24);
}

export class AuditedObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly audit: AuditContext,
  ) {}

  /** Records a write made outside this wrapper (a conditional replacement) as the same data event. */
  record(eventName: 'PutObject' | 'CopyObject' | 'CompleteMultipartUpload' | 'DeleteObject', ref: ObjectRef, bytes: number, copySource?: ObjectRef): void {
    const base = ingestionWriteEvent(this.audit.env, {
      bucket: ref.bucket,
      key: ref.key,
      bytes,
      dataset: this.audit.dataset,
      batchId: batchIdIn(ref.key),
      principal: this.audit.principal,
    });
    const record: CloudTrailRecord =
      eventName === 'PutObject'
        ? base
        : {
            ...base,
            eventName,
            requestParameters: {
              ...(base.requestParameters ?? {}),
              ...(copySource === undefined ? {} : { 'x-amz-copy-source': `${copySource.bucket}/${copySource.key}` }),
            },
          };
    this.audit.writer.append(record);
  }

  head(ref: ObjectRef, versionId?: string): Promise<ObjectHead | undefined> {
    return this.inner.head(ref, versionId);
  }

  get(ref: ObjectRef, range?: ByteRange, pin?: string | ReadPin): Promise<AsyncIterable<Uint8Array>> {
    return this.inner.get(ref, range, pin);
  }

  async put(ref: ObjectRef, body: PutBody, options: PutOptions = {}): Promise<{ etag: string }> {
    const out = await this.inner.put(ref, body as Buffer | Readable, options);
    this.record('PutObject', ref, sizeOf(body, options));
    return out;
  }

  async putIfAbsent(ref: ObjectRef, body: string | Uint8Array, options: PutOptions = {}): Promise<boolean> {
    const written = await this.inner.putIfAbsent(ref, body, options);
    if (written) this.record('PutObject', ref, typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    return written;
  }

  list(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    return this.inner.list(bucket, prefix);
  }

  async copy(from: ObjectRef & { readonly versionId?: string }, to: ObjectRef): Promise<void> {
    await this.inner.copy(from, to);
    const head = await this.inner.head(to);
    this.record('CopyObject', to, head?.size ?? 0, from);
  }

  /** Recorded as the call that made the object appear (for a multipart upload CloudTrail also records its parts). */
  async compose(to: ObjectRef, pieces: readonly ComposePiece[], options?: PutOptions): Promise<ComposeResult> {
    const out = await this.inner.compose(to, pieces, options);
    const head = await this.inner.head(to);
    this.record(out.multipart ? 'CompleteMultipartUpload' : 'PutObject', to, head?.size ?? 0);
    return out;
  }

  async delete(ref: ObjectRef): Promise<void> {
    await this.inner.delete(ref);
    this.record('DeleteObject', ref, 0);
  }
}
