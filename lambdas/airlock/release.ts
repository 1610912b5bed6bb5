/**
 * The airlock's release service (AirlockReleaseService construct): an IAM-authorised
 * function URL that reviewers call to check, classify, override, review and release. The
 * config snapshot comes from the bundle (built in at synth), the bucket and signing key
 * from the environment; lib/airlock/release-service.ts runs the local airlock's own
 * service and workflow over the S3 store and the KMS signer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { kmsSigner } from '../../lib/airlock/kms-signer';
import { AIRLOCK_SNAPSHOT_FILE, createReleaseHandler, type AirlockConfigSnapshot } from '../../lib/airlock/release-service';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set (the AirlockReleaseService construct sets it)`);
  return value;
}

const signingKey = required('SIGNING_KEY_ARN');
const kms = new KMSClient({});

export const handler = createReleaseHandler({
  // Built into the bundle next to this code at synth (lib/constructs/airlock/airlock-release-service.ts).
  snapshot: JSON.parse(fs.readFileSync(path.join(__dirname, AIRLOCK_SNAPSHOT_FILE), 'utf8')) as AirlockConfigSnapshot,
  s3: new S3Client({}),
  bucket: required('AIRLOCK_BUCKET'),
  signer: () => kmsSigner(kms, signingKey),
});
