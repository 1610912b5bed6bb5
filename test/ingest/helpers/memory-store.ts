/** An in-memory ObjectStore for the fast pure-pipeline tests (the end-to-end tests use the real local S3 API). */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  asReadPin,
  readPieces,
  type ReadPin,
  type ByteRange,
  type ComposePiece,
  type ComposeResult,
  type ObjectHead,
  type ObjectRef,
  type ObjectStore,
  type ObjectSummary,
  type PutBody,
} from '../../../lib/ingest/object-store';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  writes = 0;

  private id(ref: ObjectRef): string {
    return `${ref.bucket}\u0000${ref.key}`;
  }

  async head(ref: ObjectRef): Promise<ObjectHead | undefined> {
    const body = this.objects.get(this.id(ref));
    if (body === undefined) return undefined;
    return { bucket: ref.bucket, key: ref.key, size: body.length, etag: createHash('md5').update(body).digest('hex') };
  }

  async get(ref: ObjectRef, range?: ByteRange, pin?: string | ReadPin): Promise<AsyncIterable<Uint8Array>> {
    const body = this.objects.get(this.id(ref));
    if (body === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    const etag = asReadPin(pin).etag;
    if (etag !== undefined && etag !== createHash('md5').update(body).digest('hex')) {
      throw Object.assign(new Error('PreconditionFailed'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    }
    const slice = body.subarray(range?.start ?? 0, range?.end ?? body.length);
    // Small pieces, so readers meet records split across pieces.
    return (async function* () {
      for (let i = 0; i < slice.length; i += 1000) yield slice.subarray(i, i + 1000);
    })();
  }

  async put(ref: ObjectRef, body: PutBody): Promise<{ etag: string }> {
    let bytes: Buffer;
    if (typeof body === 'string') bytes = Buffer.from(body);
    else if (body instanceof Uint8Array) bytes = Buffer.from(body);
    else {
      const parts: Buffer[] = [];
      for await (const p of body) parts.push(Buffer.from(p as Buffer));
      bytes = Buffer.concat(parts);
    }
    this.objects.set(this.id(ref), bytes);
    this.writes++;
    return { etag: createHash('md5').update(bytes).digest('hex') };
  }

  async putIfAbsent(ref: ObjectRef, body: string | Uint8Array): Promise<boolean> {
    if (this.objects.has(this.id(ref))) return false;
    await this.put(ref, body);
    return true;
  }

  async list(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    const out: ObjectSummary[] = [];
    for (const [id, body] of this.objects) {
      const [b, key] = id.split('\u0000');
      if (b === bucket && key.startsWith(prefix)) out.push({ key, size: body.length, etag: createHash('md5').update(body).digest('hex') });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async copy(from: ObjectRef, to: ObjectRef): Promise<void> {
    const body = this.objects.get(this.id(from));
    if (body === undefined) throw new Error(`copy: no ${from.key}`);
    this.objects.set(this.id(to), body);
    this.writes++;
  }

  /** Writes the pieces' bytes in one put: whole or not at all, as on S3. */
  async compose(to: ObjectRef, pieces: readonly ComposePiece[]): Promise<ComposeResult> {
    return { ...(await this.put(to, Readable.from(readPieces(this, pieces)))), multipart: false };
  }

  async delete(ref: ObjectRef): Promise<void> {
    this.objects.delete(this.id(ref));
    this.writes++;
  }

  keys(bucket: string): string[] {
    return [...this.objects.keys()]
      .filter((id) => id.startsWith(`${bucket}\u0000`))
      .map((id) => id.split('\u0000')[1])
      .sort();
  }
}
