/**
 * Uploading a local file to S3 without holding it in memory: one PutObject for a small
 * file, a multipart upload (one part in memory at a time) for a large one. Plain SDK
 * calls, so the same code works against AWS and against the loopback server.
 */
import * as fs from 'node:fs';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3_PART_LIMITS } from '../../ingest/compose-parts';

/** S3's smallest part (all but the last), and its largest number of parts (compose-parts.ts states S3's limits once). */
export const MIN_PART_SIZE = S3_PART_LIMITS.minPartBytes;
const MAX_PARTS = S3_PART_LIMITS.maxParts;

export interface UploadFileOptions {
  readonly bucket: string;
  readonly key: string;
  readonly file: string;
  /** @default 'application/octet-stream' */
  readonly contentType?: string;
  /** Files larger than this go up in parts of this size (at least 5 MiB). @default 16 MiB */
  readonly partSize?: number;
}

export interface UploadFileResult {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  /** 1 for a single PutObject. */
  readonly parts: number;
}

async function readChunk(handle: fs.promises.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`file shrank while uploading (expected ${length} bytes at offset ${position})`);
    filled += bytesRead;
  }
  return buffer;
}

export async function uploadFile(client: S3Client, options: UploadFileOptions): Promise<UploadFileResult> {
  const { bucket, key, file } = options;
  const contentType = options.contentType ?? 'application/octet-stream';
  const requested = options.partSize ?? 16 * 1024 * 1024;
  if (!Number.isInteger(requested) || requested < MIN_PART_SIZE)
    throw new Error(`partSize must be a whole number of bytes, at least ${MIN_PART_SIZE} (5 MiB, the S3 minimum), not ${requested}`);
  const bytes = (await fs.promises.stat(file)).size;
  const handle = await fs.promises.open(file, 'r');
  try {
    if (bytes <= requested) {
      // A Buffer, not a stream: a body of known length is sent as is, with no chunked encoding.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readChunk(handle, 0, bytes), ContentType: contentType }));
      return { bucket, key, bytes, parts: 1 };
    }
    const partSize = Math.max(requested, Math.ceil(bytes / MAX_PARTS));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
    if (!UploadId) throw new Error(`s3://${bucket}/${key}: CreateMultipartUpload returned no upload id`);
    try {
      const parts: { PartNumber: number; ETag?: string }[] = [];
      for (let offset = 0, n = 1; offset < bytes; offset += partSize, n++) {
        const body = await readChunk(handle, offset, Math.min(partSize, bytes - offset));
        const { ETag } = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body }));
        parts.push({ PartNumber: n, ETag });
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      return { bucket, key, bytes, parts: parts.length };
    } catch (e) {
      // Parts of an abandoned upload are stored (and billed) until aborted. Abort is best
      // effort: the original error is the one worth reporting (and s3rver cannot abort).
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
      throw e;
    }
  } finally {
    await handle.close();
  }
}
