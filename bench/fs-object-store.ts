/**
 * An `ObjectStore` over a local folder (`<root>/<bucket>/<key>`), for the benchmark only:
 * it measures the pipeline, not an HTTP server. The tests and `sde ingest` use the real S3
 * API (s3-object-store.ts against the loopback server).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  readPieces,
  type ByteRange,
  type ComposePiece,
  type ComposeResult,
  type ObjectHead,
  type ObjectRef,
  type ObjectStore,
  type ObjectSummary,
  type PutBody,
} from '../lib/ingest/object-store';

export class FsObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  private file(ref: ObjectRef): string {
    return path.join(this.root, ref.bucket, ...ref.key.split('/'));
  }

  async head(ref: ObjectRef): Promise<ObjectHead | undefined> {
    const f = this.file(ref);
    if (!fs.existsSync(f)) return undefined;
    const st = fs.statSync(f);
    // Not an MD5 like S3's: identity enough for the batch id of a benchmark.
    const etag = createHash('sha256').update(`${st.size}:${st.mtimeMs}`).digest('hex').slice(0, 32);
    return { bucket: ref.bucket, key: ref.key, size: st.size, etag };
  }

  async get(ref: ObjectRef, range?: ByteRange): Promise<AsyncIterable<Uint8Array>> {
    const size = fs.statSync(this.file(ref)).size;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size, size);
    if (end <= start) return Readable.from([]);
    return fs.createReadStream(this.file(ref), { start, end: end - 1, highWaterMark: 1 << 20 });
  }

  async put(ref: ObjectRef, body: PutBody): Promise<{ etag: string }> {
    const f = this.file(ref);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    if (typeof body === 'string' || body instanceof Uint8Array) fs.writeFileSync(f, body);
    else await pipeline(body, fs.createWriteStream(f));
    return { etag: '' };
  }

  async putIfAbsent(ref: ObjectRef, body: string | Uint8Array): Promise<boolean> {
    const f = this.file(ref);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    try {
      fs.writeFileSync(f, body, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }

  async list(bucket: string, prefix: string): Promise<ObjectSummary[]> {
    const dir = path.join(this.root, bucket);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .filter((k) => k.startsWith(prefix))
      .sort()
      .map((key) => ({ key, size: fs.statSync(path.join(dir, key)).size, etag: '' }));
  }

  async copy(from: ObjectRef, to: ObjectRef): Promise<void> {
    fs.mkdirSync(path.dirname(this.file(to)), { recursive: true });
    fs.copyFileSync(this.file(from), this.file(to));
  }

  /** Written beside the target and renamed into place, so it appears whole. */
  async compose(to: ObjectRef, pieces: readonly ComposePiece[]): Promise<ComposeResult> {
    const f = this.file(to);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    await pipeline(Readable.from(readPieces(this, pieces)), fs.createWriteStream(`${f}.composing`));
    fs.renameSync(`${f}.composing`, f);
    return { etag: '', multipart: false };
  }

  async delete(ref: ObjectRef): Promise<void> {
    fs.rmSync(this.file(ref), { force: true });
  }
}
