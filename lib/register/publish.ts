/**
 * Publishing the register on AWS: read the CloudTrail files from the audit bucket, build
 * the register and put its three files in the register bucket (served by CloudFront).
 *
 * Why S3 and not an Athena query over the trail: the audit trail is already in S3 in
 * CloudTrail's own layout, so the function needs only s3:ListBucket/GetObject on the trail
 * prefix and kms:Decrypt, and no query permissions, Glue, results bucket or Lake Formation
 * (its one Athena call is BatchGetQueryExecution, query metadata, below). The cost is
 * that every run reads the trail from the first project's start: fine for a regional
 * platform's management and data events for years, but the Athena named query over the
 * AuditStack's CloudTrail table is the way to go when the trail grows past what one
 * 15-minute invocation can read (see README, "Transparency register").
 *
 * Data scanned: the trail gives each query's execution id, Athena its bytes scanned
 * (BatchGetQueryExecution, for the 45 days it keeps history), and the previously published
 * register.json the figures of months Athena has forgotten (carry.ts): so it is read first.
 * Releases: the airlock bucket's S3 data events in the trail (activity.ts, the retag of a
 * release's manifest).
 *
 * The S3 and Athena clients are passed in, so the same code runs against the local S3 API
 * and a stand-in Athena in tests.
 */
import { gunzipSync } from 'node:zlib';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AIRLOCK_EVENT_SOURCE } from '../airlock/audit-events';
import { checkRecord, CloudTrailRecord } from '../audit/cloudtrail-record';
import { classifyRecord, queriesToMeasure } from './activity';
import { ATHENA_HISTORY_DAYS, bytesFromExecutions, fetchQueryExecutions } from './athena';
import { PublishedScans, publishedScans } from './carry';
import { activityInput, buildRegister } from './model';
import { REGISTER_FILES, renderRegisterFiles } from './render';
import { configFromSnapshot, RegisterConfigSnapshot } from './snapshot';

/** `AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`: the month of a log file. */
const TRAIL_KEY = /(?:^|\/)CloudTrail\/[a-z0-9-]+\/(\d{4})\/(\d{2})\/\d{2}\/[^/]+\.json(?:\.gz)?$/;

export function trailObjectMonth(key: string): string | undefined {
  const m = TRAIL_KEY.exec(key);
  return m ? `${m[1]}-${m[2]}` : undefined;
}

/** The usable records of one CloudTrail file (`{"Records":[...]}`, gzipped or not); the rest are counted. */
export function recordsFromObject(body: Uint8Array): { records: CloudTrailRecord[]; skipped: number } {
  let buf = Buffer.from(body);
  try {
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
    const parsed = JSON.parse(buf.toString('utf8')) as { Records?: unknown };
    const values = Array.isArray(parsed.Records) ? parsed.Records : [];
    const records: CloudTrailRecord[] = [];
    let skipped = 0;
    for (const v of values) {
      const check = checkRecord(v);
      if (check.ok) records.push(check.record);
      else skipped++;
    }
    return { records, skipped };
  } catch {
    // A corrupt or cut-short file: none of it is used, and the run says how many.
    return { records: [], skipped: 1 };
  }
}

/** The event sources `summariseActivity` counts (Athena queries, airlock releases). */
const REGISTER_SOURCES: ReadonlySet<string> = new Set(['athena.amazonaws.com', AIRLOCK_EVENT_SOURCE]);

const CONTENT_TYPES: Record<string, string> = {
  [REGISTER_FILES.html]: 'text/html; charset=utf-8',
  [REGISTER_FILES.json]: 'application/json; charset=utf-8',
  [REGISTER_FILES.csv]: 'text/csv; charset=utf-8',
};

export interface PublishOptions {
  readonly s3: S3Client;
  /** Asked for the bytes scanned of the trail's project queries. @default none: not measured */
  readonly athena?: Pick<AthenaClient, 'send'>;
  /** The AirlockStack's bucket: its manifest retags in the trail are releases. @default none counted from S3 */
  readonly airlockBucket?: string;
  readonly auditBucket: string;
  /** @default 'AWSLogs/' */
  readonly auditPrefix?: string;
  readonly registerBucket: string;
  readonly snapshot: RegisterConfigSnapshot;
  /** YYYY-MM-DD (UTC) the statuses are judged on. */
  readonly today: string;
  /** Files fetched at once. @default 16 */
  readonly concurrency?: number;
}

export interface PublishResult {
  readonly filesRead: number;
  readonly recordsRead: number;
  /** Records and whole files that could not be used. */
  readonly skipped: number;
  readonly projects: number;
  readonly keys: readonly string[];
  /** Query ids asked of Athena, and how many it measured. */
  readonly queriesAsked: number;
  readonly queriesMeasured: number;
  /** The previous register.json was found and its figures considered. */
  readonly previousRead: boolean;
}

/**
 * The data-scanned figures of the register.json already published; none on the first run.
 * Any other failure (no permission, a file that is not a register) stops the run: publishing
 * without it would replace figures Athena can no longer give with "not recorded".
 */
export async function readPublishedScans(s3: S3Client, bucket: string, key: string): Promise<PublishedScans | undefined> {
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await object.Body!.transformToString();
  } catch (e) {
    if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') return undefined;
    throw e;
  }
  return publishedScans(JSON.parse(text));
}

async function listTrailKeys(s3: S3Client, bucket: string, prefix: string, fromMonth: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const month = o.Key === undefined ? undefined : trailObjectMonth(o.Key);
      if (month !== undefined && month >= fromMonth) keys.push(o.Key!);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

export async function publishRegister(options: PublishOptions): Promise<PublishResult> {
  const { s3, snapshot } = options;
  const config = configFromSnapshot(snapshot, options.today);
  // Before anything is overwritten: the figures only the previous register still holds.
  const published = await readPublishedScans(s3, options.registerBucket, REGISTER_FILES.json);
  const input = activityInput(config, { airlockBucket: options.airlockBucket });
  // Use before the first approved period cannot be project use: no need to read it.
  const fromMonth = snapshot.projects.map((p) => p.period.start.slice(0, 7)).sort()[0] ?? '9999-12';
  const keys = await listTrailKeys(s3, options.auditBucket, options.auditPrefix ?? 'AWSLogs/', fromMonth);
  const records: CloudTrailRecord[] = [];
  let skipped = 0;
  const concurrency = options.concurrency ?? 16;
  for (let i = 0; i < keys.length; i += concurrency) {
    const batch = await Promise.all(
      keys.slice(i, i + concurrency).map(async (key) => {
        const object = await s3.send(new GetObjectCommand({ Bucket: options.auditBucket, Key: key }));
        return recordsFromObject(await object.Body!.transformToByteArray());
      }),
    );
    for (const b of batch) {
      // Keep only what the register counts: the trail is mostly other events (S3 data
      // events above all, of which only release manifests' retags count).
      for (const r of b.records)
        if (REGISTER_SOURCES.has(r.eventSource) || (r.eventSource === 's3.amazonaws.com' && classifyRecord(r, input) !== undefined)) records.push(r);
      skipped += b.skipped;
    }
  }
  // Athena keeps 45 days of query history: older ids would only come back unprocessed.
  const since = new Date(Date.parse(`${options.today}T00:00:00Z`) - ATHENA_HISTORY_DAYS * 86_400_000).toISOString();
  const toMeasure = options.athena === undefined ? new Map<string, string>() : queriesToMeasure(records, input, since);
  const fetched = options.athena === undefined || toMeasure.size === 0 ? undefined : await fetchQueryExecutions(options.athena, [...toMeasure.keys()]);
  const bytesByQueryId = bytesFromExecutions(fetched?.executions ?? [], toMeasure);
  const register = buildRegister(config, records, { threshold: snapshot.threshold, airlockBucket: options.airlockBucket, bytesByQueryId, published });
  const files = renderRegisterFiles(register);
  // Data files first, the page last: a reader never follows a link to a file older than the page.
  const order = [REGISTER_FILES.json, REGISTER_FILES.csv, REGISTER_FILES.html];
  for (const key of order) {
    await s3.send(
      new PutObjectCommand({
        Bucket: options.registerBucket,
        Key: key,
        Body: files[key],
        ContentType: CONTENT_TYPES[key],
        // Regenerated daily: an hour in caches keeps it fresh without hammering the origin.
        CacheControl: 'public, max-age=3600',
      }),
    );
  }
  return {
    filesRead: keys.length,
    recordsRead: records.length,
    skipped,
    projects: register.projects.length,
    keys: order,
    queriesAsked: toMeasure.size,
    queriesMeasured: bytesByQueryId.size,
    previousRead: published !== undefined,
  };
}
