/**
 * CloudTrail deliveries signed as CloudTrail signs them, with a key we generate: gzipped
 * log files, hourly digest files chained by previousDigestSignature / HashValue, each
 * digest's RSA signature (SHA256withRSA over AWS's data signing string) in the next digest
 * and in its S3 object metadata, and the public key exported as `aws cloudtrail
 * list-public-keys` prints it (PKCS #1 DER in base64, fingerprint = MD5 of the DER).
 */
import { createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { digestSigningString } from '../../../lib/audit/cloudtrail-digest';

export interface CloudTrailKey {
  readonly privateKey: KeyObject;
  readonly fingerprint: string;
  /** The JSON `aws cloudtrail list-public-keys` prints. */
  readonly listPublicKeys: { PublicKeyList: { Value: string; ValidityStartTime: number; ValidityEndTime: number; Fingerprint: string }[] };
}

export function cloudTrailKey(validFrom = '2026-01-01T00:00:00Z', validTo = '2027-01-01T00:00:00Z'): CloudTrailKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'pkcs1', format: 'der' });
  const fingerprint = createHash('md5').update(der).digest('hex');
  return {
    privateKey,
    fingerprint,
    listPublicKeys: {
      PublicKeyList: [
        {
          Value: der.toString('base64'),
          ValidityStartTime: Date.parse(validFrom) / 1000,
          ValidityEndTime: Date.parse(validTo) / 1000,
          Fingerprint: fingerprint,
        },
      ],
    },
  };
}

export interface TrailObject {
  readonly key: string;
  readonly body: Buffer;
  /** S3 user metadata (digests: signature and signature-algorithm). */
  readonly metadata?: Record<string, string>;
}

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-2';
export const BUCKET = 'audit-bucket';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export const logKey = (day: string, hhmm: string, account = ACCOUNT, region = REGION) => {
  const [y, m, d] = day.split('-');
  return `AWSLogs/${account}/CloudTrail/${region}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${y}${m}${d}T${hhmm}Z_abcdefghijklmnop.json.gz`;
};
export const digestKey = (endIso: string, account = ACCOUNT, region = REGION) => {
  const [y, m, d] = endIso.slice(0, 10).split('-');
  const stamp = endIso.replace(/[-:]/g, '');
  return `AWSLogs/${account}/CloudTrail-Digest/${region}/${y}/${m}/${d}/${account}_CloudTrail-Digest_${region}_sde-audit_${region}_${stamp}.json.gz`;
};

export interface HourOfRecords {
  /** Delivery time of the hour's one log file, e.g. `2026-05-01T10:05:00Z`. */
  readonly delivered: string;
  readonly records: readonly Record<string, unknown>[];
}

/** Signs `digest` (its canonical text) as CloudTrail would. */
export function signDigest(digest: Record<string, unknown>, text: string, key: KeyObject): string {
  const message = digestSigningString(digest as never, sha(text));
  return sign('sha256', message, key).toString('hex');
}

/**
 * One log file per delivery, and one digest covering it, chained to the one before: the
 * digest ends at the top of the hour after the delivery and, when `contiguous`, starts
 * where the previous one ended (so deliveries days apart still make one unbroken chain);
 * otherwise it starts at the top of the delivery's hour.
 */
export function signedTrail(key: CloudTrailKey, hours: readonly HourOfRecords[], bucket = BUCKET, contiguous = true): TrailObject[] {
  const objects: TrailObject[] = [];
  let previous: { key: string; text: string; signature: string; end: string } | undefined;
  for (const hour of hours) {
    const hourStart = `${hour.delivered.slice(0, 13)}:00:00Z`;
    const start = contiguous && previous ? previous.end : hourStart;
    const end = new Date(Date.parse(hourStart) + 3_600_000).toISOString().replace('.000Z', 'Z');
    const log = JSON.stringify({ Records: hour.records });
    const lk = logKey(hour.delivered.slice(0, 10), hour.delivered.slice(11, 16).replace(':', ''));
    objects.push({ key: lk, body: gzipSync(log) });
    const dk = digestKey(end);
    const digest: Record<string, unknown> = {
      awsAccountId: ACCOUNT,
      digestStartTime: start,
      digestEndTime: end,
      digestS3Bucket: bucket,
      digestS3Object: dk,
      digestPublicKeyFingerprint: key.fingerprint,
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: null,
      oldestEventTime: null,
      previousDigestS3Bucket: previous ? bucket : null,
      previousDigestS3Object: previous?.key ?? null,
      previousDigestHashValue: previous ? sha(previous.text) : null,
      previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
      previousDigestSignature: previous?.signature ?? null,
      logFiles: [{ s3Bucket: bucket, s3Object: lk, hashValue: sha(log), hashAlgorithm: 'SHA-256' }],
    };
    const text = JSON.stringify(digest);
    const signature = signDigest(digest, text, key.privateKey);
    objects.push({ key: dk, body: gzipSync(text), metadata: { signature, 'signature-algorithm': 'SHA256withRSA' } });
    previous = { key: dk, text, signature, end };
  }
  return objects;
}

/**
 * Writes the objects into `root` as `aws s3 sync` would (keys as paths, no metadata), plus
 * each digest's metadata as `aws s3api head-object` prints it, beside the newest digest
 * only (`withSidecar`), as a careful copier would keep it.
 */
export function writeTrailFolder(root: string, objects: readonly TrailObject[], withSidecar = true): void {
  const digests = objects.filter((o) => o.metadata);
  const newest = digests.at(-1);
  for (const o of objects) {
    const file = path.join(root, o.key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, o.body);
    if (withSidecar && o === newest) {
      fs.writeFileSync(`${file}.metadata.json`, JSON.stringify({ ContentType: 'application/json', Metadata: o.metadata }, null, 2));
    }
  }
}

export const readJsonGz = (file: string) => JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8'));
export const writeJsonGz = (file: string, value: unknown) => fs.writeFileSync(file, gzipSync(JSON.stringify(value)));
export const sha256 = sha;

/** A GetObject-like record for tests: one S3 data event. */
export function s3Record(eventID: string, eventTime: string, key = 'ring.txt'): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    eventTime,
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    awsRegion: REGION,
    requestParameters: { bucketName: 'data-bucket', key },
    eventID,
    eventCategory: 'Data',
  };
}

/** A stand-in CloudTrail client: ListPublicKeys answers with the key, as the SDK returns it (DER bytes, Dates). */
export function standInCloudTrail(...keys: CloudTrailKey[]) {
  const calls: { StartTime?: Date; EndTime?: Date }[] = [];
  return {
    calls,
    send: async (command: { input: { StartTime?: Date; EndTime?: Date } }) => {
      calls.push(command.input);
      return {
        PublicKeyList: keys.flatMap((k) =>
          k.listPublicKeys.PublicKeyList.map((p) => ({
            Value: new Uint8Array(Buffer.from(p.Value, 'base64')),
            Fingerprint: p.Fingerprint,
            ValidityStartTime: new Date(p.ValidityStartTime * 1000),
            ValidityEndTime: new Date(p.ValidityEndTime * 1000),
          })),
        ),
      };
    },
  };
}
