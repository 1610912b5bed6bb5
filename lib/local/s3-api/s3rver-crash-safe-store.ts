/**
 * s3rver's filesystem store, made to survive a kill at any point and concurrent writers,
 * as S3 does: an object appears whole or not at all.
 *
 * s3rver 3.7.1 writes an object's bytes, its MD5 and its metadata in place, one file each:
 * a reader meanwhile sees a half-written object, and a process killed meanwhile leaves a
 * 0-byte object (every query of it fails) or 0-byte metadata (HEAD, GET and list answer
 * 500 until the file is deleted by hand). Here:
 *  - every file is written to a temporary name in the same folder, then renamed into place
 *    (rename is atomic: a reader sees the old file or the new one, never part of one); a
 *    reader that opened the old file keeps reading the old bytes;
 *  - the object's MD5 (its ETag) is stored with the identity (inode, size, mtime) of the
 *    bytes it was computed from, and recomputed when they differ: a kill between renaming
 *    the bytes and their MD5, or two writers of one key finishing in either order, can
 *    never pair an ETag with other bytes. Metadata files that are empty or cut short (left
 *    by a killed process before this store) are read as no metadata, not as an error;
 *  - temporary names (`.sde-<random>.tmp`) never end in `._S3rver_object`, so listings
 *    never show them, and are short, so any key the API accepts can be written.
 * A temporary file left by a kill is garbage nobody reads; `sweepTemporaryFiles` removes
 * those old enough that no live writer can still be filling them (each server start does).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// s3rver's own store and object model: the methods below replace its writes only.
const FilesystemStore = require('s3rver/lib/stores/filesystem') as new (root: string) => S3rverFilesystemStore;
const S3Object = require('s3rver/lib/models/object') as {
  ALLOWED_METADATA: string[];
  new (
    bucket: string,
    key: string,
    content: NodeJS.ReadableStream | null,
    metadata: Record<string, string | number>,
  ): { content: NodeJS.ReadableStream | null; range?: unknown };
};

interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: Buffer | NodeJS.ReadableStream;
  readonly metadata: Record<string, unknown>;
}

interface S3rverFilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<{ content: NodeJS.ReadableStream | null } | null>;
}

/** What the MD5 file holds: the MD5 and the identity of the bytes it was computed from. */
interface Md5Record {
  readonly md5: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

const tempName = (file: string) => path.join(path.dirname(file), `.sde-${randomBytes(8).toString('hex')}.tmp`);
const TEMP_FILE = /^\.sde-[0-9a-f]{16}\.tmp$/;

/** Temporary files left by killed writers: untouched for this long, no live writer is filling them. */
export const STALE_TEMPORARY_FILE_MS = 60 * 60 * 1000;

/** Removes the temporary files under `root` that killed writers left (older than `olderThanMs`); returns how many. */
export function sweepTemporaryFiles(root: string, olderThanMs = STALE_TEMPORARY_FILE_MS): number {
  if (!fs.existsSync(root)) return 0;
  let removed = 0;
  const cutoff = Date.now() - olderThanMs;
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !TEMP_FILE.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    try {
      if (fs.statSync(file).mtimeMs <= cutoff) {
        fs.rmSync(file);
        removed++;
      }
    } catch {
      // Renamed into place or removed meanwhile.
    }
  }
  return removed;
}

/** Writes a small file whole: temporary file, then rename. */
async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const tmp = tempName(file);
  try {
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const piece of fs.createReadStream(file)) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** The MD5 of an open file, read by position (the handle stays open for the caller). */
async function md5OfHandle(handle: fs.promises.FileHandle): Promise<string> {
  const hash = createHash('md5');
  const buf = Buffer.alloc(1 << 20);
  for (let pos = 0; ;) {
    const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest('hex');
}

function storedMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) if (S3Object.ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-')) out[k] = v;
  return out;
}

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    // Empty or cut short by a kill before this store existed: as good as none.
    return undefined;
  }
}

export class CrashSafeStore extends FilesystemStore {
  private paths(bucket: string, key: string) {
    return {
      object: this.getResourcePath(bucket, key, 'object'),
      md5: this.getResourcePath(bucket, key, 'object.md5'),
      metadata: this.getResourcePath(bucket, key, 'metadata.json'),
    };
  }

  /** The object's MD5, from its MD5 file when that was computed from these very bytes, else computed now (and stored). */
  private async md5Of(object: string | fs.promises.FileHandle, md5File: string, stat: fs.Stats): Promise<string> {
    let text: string | undefined;
    try {
      text = await fs.promises.readFile(md5File, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      try {
        const r = JSON.parse(text) as Partial<Md5Record>;
        if (typeof r.md5 === 'string' && r.ino === stat.ino && r.size === stat.size && r.mtimeMs === stat.mtimeMs) return r.md5;
      } catch {
        // s3rver's own plain MD5, or a file cut short: computed again below.
      }
    }
    const md5 = typeof object === 'string' ? await md5OfFile(object) : await md5OfHandle(object);
    await this.writeMd5(md5File, md5, stat);
    return md5;
  }

  private writeMd5(md5File: string, md5: string, stat: fs.Stats): Promise<void> {
    const record: Md5Record = { md5, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
    return writeAtomically(md5File, JSON.stringify(record));
  }

  /**
   * Reads from one open file: its size, ETag and bytes all belong to the object as it was
   * when opened, even if another writer renames a new one into place meanwhile (s3rver
   * stats the path, then opens it: a response could then promise one length and send another).
   */
  async getObject(
    bucket: string,
    key: string,
    options?: { start?: number; end?: number },
  ): Promise<{ content: NodeJS.ReadableStream | null; range?: unknown } | null> {
    const p = this.paths(bucket, key);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(p.object, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      const stat = await handle.stat();
      const [stored, md5] = await Promise.all([readJsonFile(p.metadata), this.md5Of(handle, p.md5, stat)]);
      const metadata = {
        ...((stored ?? {}) as Record<string, string | number>),
        etag: JSON.stringify(md5),
        'last-modified': stat.mtime.toUTCString(),
        'content-length': stat.size,
      };
      // The range as s3rver computes it.
      const lastByte = Math.max(0, stat.size - 1);
      const range = { start: options?.start ?? 0, end: Math.min(options?.end ?? Infinity, lastByte) };
      const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
      if (range.start < 0 || Math.min(range.end, lastByte) < range.start) {
        await handle.close();
        const object = new S3Object(bucket, key, null, metadata);
        if (ranged) object.range = range;
        return object;
      }
      const object = new S3Object(bucket, key, handle.createReadStream({ start: range.start, end: range.end }), metadata);
      if (ranged) object.range = range;
      return object;
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
  }

  async getMetadata(bucket: string, key: string): Promise<Record<string, string | number>> {
    const p = this.paths(bucket, key);
    // Throws ENOENT when there is no object, as s3rver's does.
    const stat = await fs.promises.stat(p.object);
    const [stored, md5] = await Promise.all([readJsonFile(p.metadata), this.md5Of(p.object, p.md5, stat)]);
    return {
      ...((stored ?? {}) as Record<string, string | number>),
      etag: JSON.stringify(md5),
      'last-modified': stat.mtime.toUTCString(),
      'content-length': stat.size,
    };
  }

  async putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void> {
    const p = this.paths(bucket, key);
    await writeAtomically(p.metadata, JSON.stringify(storedMetadata(metadata), null, 2));
    if (md5) await this.writeMd5(p.md5, md5, await fs.promises.stat(p.object));
  }

  async putObject(object: StoredObject): Promise<{ size: number; md5: string }> {
    const p = this.paths(object.bucket, object.key);
    await fs.promises.mkdir(path.dirname(p.object), { recursive: true });
    const tmp = tempName(p.object);
    const hash = createHash('md5');
    let size = 0;
    try {
      if (Buffer.isBuffer(object.content)) {
        hash.update(object.content);
        size = object.content.length;
        await fs.promises.writeFile(tmp, object.content);
      } else {
        const meter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        });
        await pipeline(object.content, meter, fs.createWriteStream(tmp));
      }
      // The metadata first (an older object with newer metadata is harmless), then the bytes.
      await writeAtomically(p.metadata, JSON.stringify(storedMetadata(object.metadata), null, 2));
      await fs.promises.rename(tmp, p.object);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    const md5 = hash.digest('hex');
    // Bound to the bytes just renamed: if another writer's bytes replaced them already, the
    // record does not match and the MD5 is computed from what is there.
    const stat = await fs.promises.stat(p.object);
    if (stat.size === size) await this.writeMd5(p.md5, md5, stat);
    return { size, md5 };
  }

  async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, unknown>,
  ): Promise<Record<string, string | number>> {
    const src = this.paths(srcBucket, srcKey);
    const dest = this.paths(destBucket, destKey);
    if (src.object === dest.object) {
      if (replacementMetadata) await this.putMetadata(destBucket, destKey, replacementMetadata);
      return this.getMetadata(destBucket, destKey);
    }
    const metadata = replacementMetadata ?? ((await readJsonFile(src.metadata)) as Record<string, unknown> | undefined) ?? {};
    await this.putObject({ bucket: destBucket, key: destKey, content: fs.createReadStream(src.object), metadata });
    return this.getMetadata(destBucket, destKey);
  }

  async putSubresource(bucket: string, key: string, resource: { type: string; toXML(indent: number): string }): Promise<void> {
    await writeAtomically(this.getResourcePath(bucket, key, `${resource.type}.xml`), resource.toXML(2));
  }
}
