/**
 * A real S3-compatible API on a loopback port (s3rver), so the same AWS SDK code that
 * runs in the Lambdas runs locally, pointed at this endpoint instead of AWS.
 *
 * Known differences from S3 that matter here (s3rver 3.7.1, its last release):
 *  - listing is replaced by our own handler (see s3rver-list.ts: DES tokens, key order);
 *  - multipart uploads work; UploadPartCopy, AbortMultipartUpload and S3's 5 MiB part
 *    minimum are added by our own handler (see s3rver-multipart.ts); part ETags are not
 *    checked on completion, and the object's ETag is a plain MD5 (S3: MD5 of the part
 *    MD5s, then "-<parts>");
 *  - PutObject's conditions (If-None-Match: *, If-Match) and its x-amz-tagging header are
 *    added by our own handler (see s3rver-conditional-put.ts), and GetObject's If-Match
 *    (s3rver-conditional-get.ts);
 *  - objects are written by temporary file and rename (s3rver-crash-safe-store.ts), so a kill or a
 *    concurrent reader never sees part of one; each `sde` process runs its own server over
 *    the workdir's folder, and conditional writes take a lock file beside that folder, so
 *    they serialise across processes too (s3rver-conditional-put.ts);
 *  - no versioning, encryption, Object Lock or bucket policies: the controls that rely
 *    on them are tested on the CDK templates, not here.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { listObjectsMiddleware } from './s3rver-list';
import { CrashSafeStore, sweepTemporaryFiles } from './s3rver-crash-safe-store';
import { conditionalGetMiddleware } from './s3rver-conditional-get';
import { conditionalPutMiddleware } from './s3rver-conditional-put';
import { keyLengthMiddleware } from './s3rver-key-length';
import { multipartMiddleware } from './s3rver-multipart';

export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** An SDK client for this endpoint (destroyed by `stop`). */
  readonly client: S3Client;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  /** Where objects are stored; they survive restarts. Created (0700) if missing. */
  readonly directory: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Buckets to create (existing ones, and their objects, are kept). @default [] */
  readonly buckets?: readonly string[];
  /** @default 'eu-west-2' */
  readonly region?: string;
}

/** s3rver's fixed development credentials: not a secret, and only good for this loopback server. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * An SDK v3 client for a local endpoint. s3rver needs path-style URLs, and predates the
 * SDK's default request checksums: with them on, a streamed upload is sent aws-chunked
 * with a CRC32 trailer, and s3rver stores the chunk framing and trailer as if they were
 * the object's bytes. WHEN_REQUIRED sends checksums only where S3 demands one.
 */
export function localS3Client(endpoint: string, region: string = 'eu-west-2'): S3Client {
  // The SDK warns on every client that Node 20 support ends in 2027; the warning is about
  // our runtime, not the request, and would bury the CLI's own output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Puts our listing, multipart and conditional-PUT handlers just in front of s3rver's router (the last middleware). */
function installHandlers(server: S3rver, directory: string): void {
  const stack = server.middleware;
  const router = stack[stack.length - 1];
  if (typeof router !== 'function' || router.name !== 'dispatch') {
    throw new Error(
      "s3rver's middleware layout is not the one lib/local/s3-api/s3rver-list.ts was written for (was s3rver upgraded?): check the listing, multipart and conditional-PUT handlers before using this version",
    );
  }
  stack.splice(
    stack.length - 1,
    0,
    keyLengthMiddleware(),
    listObjectsMiddleware(),
    multipartMiddleware(),
    conditionalPutMiddleware(directory),
    conditionalGetMiddleware(),
  );
}

async function ensureBucket(client: S3Client, bucket: string, endpoint: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    const err = e as { name?: string; message?: string };
    if (err.name === 'BucketAlreadyOwnedByYou' || err.name === 'BucketAlreadyExists') return;
    throw new Error(`could not create bucket "${bucket}" on the local S3 API at ${endpoint}: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`, {
      cause: e,
    });
  }
}

/** Listens on 127.0.0.1, failing with a clear error (s3rver's own `run` never settles when the port is taken). */
function listen(server: http.Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on 127.0.0.1 is already in use: choose another, or 0 for any free port`) : err);
    };
    server.once('error', onError);
    // Loopback only: the local platform must never be reachable from the network.
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  fs.mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  // silent: s3rver would otherwise log every request on stdout, mixed into the CLI's output.
  const s3rver = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, silent: true, directory: options.directory });
  // Writes by temporary file and rename, so a kill never leaves a broken object (s3rver-crash-safe-store.ts).
  const store = new CrashSafeStore(options.directory);
  sweepTemporaryFiles(options.directory);
  const internals = s3rver as unknown as { store: unknown; context: { store: unknown } };
  internals.store = internals.context.store = store;
  installHandlers(s3rver, options.directory);
  // s3rver is a Koa app: serve its request handler from our own HTTP server, so that
  // listening errors surface and stopping does not depend on s3rver's bookkeeping.
  const httpServer = http.createServer(s3rver.callback());
  const closeLogger = () => {
    s3rver.logger.exceptions.unhandle();
    s3rver.logger.close();
  };
  let port: number;
  try {
    port = await listen(httpServer, options.port ?? 0);
  } catch (e) {
    closeLogger();
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localS3Client(endpoint, options.region);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      client.destroy();
      // Other clients may hold idle keep-alive connections; they would keep close() waiting.
      httpServer.closeIdleConnections();
      await new Promise<void>((resolve, reject) => httpServer.close((err) => (err ? reject(err) : resolve())));
      closeLogger();
    })());
  try {
    for (const bucket of options.buckets ?? []) await ensureBucket(client, bucket, endpoint);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, port, client, stop };
}
