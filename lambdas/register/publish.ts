/**
 * The scheduled Lambda that regenerates the public register (RegisterPublisher construct).
 * Thin: the snapshot of the config comes from the bundle (built in at synth, see
 * lib/register/snapshot.ts), the buckets from the environment; lib/register/publish.ts
 * does the work, as it does for the local `sde register`. A trail that does not verify
 * (digest signatures, chain, log file hashes) fails the run: the previous register stays
 * published and the failure reaches the dead-letter queue.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { S3Client } from '@aws-sdk/client-s3';
import { publishRegister } from '../../lib/register/publish';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REGISTER_SNAPSHOT_FILE, type RegisterConfigSnapshot } from '../../lib/register/snapshot';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set (the RegisterPublisher construct sets it)`);
  return value;
}

export async function handler(): Promise<{
  filesRead: number;
  recordsRead: number;
  skipped: number;
  projects: number;
  queriesAsked: number;
  queriesMeasured: number;
  previousRead: boolean;
  auditVerified: boolean;
  digestFiles: number;
  logFilesVerified: number;
  logFilesPending: number;
}> {
  // Built into the bundle next to this code at synth (lib/constructs/register/register-publisher.ts).
  const snapshot = JSON.parse(fs.readFileSync(path.join(__dirname, REGISTER_SNAPSHOT_FILE), 'utf8')) as RegisterConfigSnapshot;
  const result = await publishRegister({
    s3: new S3Client({}),
    athena: new AthenaClient({}),
    // CloudTrail's public keys, to check the digest signatures before anything is counted.
    cloudtrail: new CloudTrailClient({}),
    // Unset when no airlock is deployed: then no S3 event is read as a release.
    airlockBucket: process.env.AIRLOCK_BUCKET || undefined,
    auditBucket: required('AUDIT_BUCKET'),
    auditPrefix: process.env.AUDIT_PREFIX,
    registerBucket: required('REGISTER_BUCKET'),
    snapshot,
    today: new Date().toISOString().slice(0, 10),
  });
  // Counts only: never record contents, which name researchers.
  const summary = {
    filesRead: result.filesRead,
    recordsRead: result.recordsRead,
    skipped: result.skipped,
    projects: result.projects,
    queriesAsked: result.queriesAsked,
    queriesMeasured: result.queriesMeasured,
    previousRead: result.previousRead,
    auditVerified: result.auditTrail.verified,
    digestFiles: result.digestFiles,
    logFilesVerified: result.logFilesVerified,
    logFilesPending: result.logFilesPending,
  };
  console.log(JSON.stringify({ message: 'register published', ...summary }));
  return summary;
}
