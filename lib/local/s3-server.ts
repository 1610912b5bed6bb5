/**
 * A real S3-compatible API on a loopback port (s3rver), so the same AWS SDK code that
 * runs in the Lambdas runs locally, pointed at this endpoint instead of AWS.
 */
import * as fs from 'node:fs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface LocalS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly client: S3Client;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  /** Where objects are stored; they survive restarts. */
  readonly directory: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Buckets to create (existing ones are kept). */
  readonly buckets?: readonly string[];
  readonly region?: string;
}

/** An SDK client for a local endpoint. s3rver needs path-style URLs and no default checksums. */
export function localS3Client(endpoint: string, region = 'eu-west-2'): S3Client {
  // The SDK warns on every client that Node 20 support ends in 2027; the warning is about
  // our runtime, not the request, and would bury the CLI's own output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  fs.mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  // Loopback only: the local platform must never be reachable from the network.
  const server = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, silent: true, directory: options.directory });
  const info = await server.run();
  const endpoint = `http://127.0.0.1:${info.port}`;
  const client = localS3Client(endpoint, options.region);
  for (const bucket of options.buckets ?? []) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (e) {
      if ((e as { name?: string }).name !== 'BucketAlreadyOwnedByYou' && (e as { name?: string }).name !== 'BucketAlreadyExists') throw e;
    }
  }
  return {
    endpoint,
    port: info.port,
    client,
    stop: async () => {
      client.destroy();
      await server.close();
    },
  };
}
