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
 * Verified first: CloudTrail's own digest chain is the trail's anchor on AWS (log file
 * validation is on, lib/constructs/audit/audit-trail.ts), so the function reads the digest
 * files beside the logs, asks CloudTrail for its public keys (ListPublicKeys), and checks
 * every digest signature, the chain and every log file hash (lib/audit/cloudtrail-digest.ts)
 * before counting anything. Only records of log files a verified digest covers are
 * counted; log files delivered after the newest digest wait for the next run. A trail that
 * does not verify is not published (the run fails, and the previous register stays up),
 * unless `allowUnverified`, when the register says so on every page.
 *
 * The S3, Athena and CloudTrail clients are passed in, so the same code runs against the
 * local S3 API and stand-ins in tests.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { ListPublicKeysCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AIRLOCK_EVENT_SOURCE } from '../airlock/audit-events';
import { checkDigests, cloudTrailPublicKey, CloudTrailPublicKey, DigestFile, LogFileState } from '../audit/cloudtrail-digest';
import { checkRecord, CloudTrailRecord } from '../audit/cloudtrail-record';
import { dedupeByEventId } from '../audit/dedupe';
import { TrailAttestation, UnverifiedTrailError } from '../audit/verified-trail';
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

/** `.../CloudTrail/<region>/YYYY/MM/DD/...`: the day (YYYY-MM-DD) of a log file. */
function trailObjectDay(key: string): string | undefined {
  const m = /(?:^|\/)CloudTrail\/[a-z0-9-]+\/(\d{4})\/(\d{2})\/(\d{2})\/[^/]+\.json(?:\.gz)?$/.exec(key);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/** `AWSLogs/[o-org/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<file>`: the month a digest ended in. */
const DIGEST_KEY = /(?:^|\/)CloudTrail-Digest\/[a-z0-9-]+\/(\d{4})\/(\d{2})\/\d{2}\/[^/]+\.json\.gz$/;

function uncompress(body: Uint8Array): Buffer {
  const buf = Buffer.from(body);
  return buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf;
}

/** The usable records of one CloudTrail file (`{"Records":[...]}`, gzipped or not); the rest are counted. */
export function recordsFromObject(body: Uint8Array): { records: CloudTrailRecord[]; skipped: number } {
  const { sha256: _sha, ...rest } = logObject(body);
  return rest;
}

/** A log file's records, and the SHA-256 of its uncompressed content (undefined when it cannot be decompressed). */
function logObject(body: Uint8Array): { records: CloudTrailRecord[]; skipped: number; sha256?: string } {
  let buf: Buffer;
  try {
    buf = uncompress(body);
  } catch {
    return { records: [], skipped: 1 };
  }
  const sha256 = createHash('sha256').update(buf).digest('hex');
  try {
    const parsed = JSON.parse(buf.toString('utf8')) as { Records?: unknown };
    const values = Array.isArray(parsed.Records) ? parsed.Records : [];
    const records: CloudTrailRecord[] = [];
    let skipped = 0;
    for (const v of values) {
      const check = checkRecord(v);
      if (check.ok) records.push(check.record);
      else skipped++;
    }
    return { records, skipped, sha256 };
  } catch {
    // A corrupt or cut-short file: none of it is used, and the run says how many.
    return { records: [], skipped: 1, sha256 };
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
  /** Asked for CloudTrail's public keys (ListPublicKeys) to check digest signatures. @default none: nothing verifies */
  readonly cloudtrail?: Pick<CloudTrailClient, 'send'>;
  /** Publish from a trail that does not verify, marked unverified on every page. @default false: refuse */
  readonly allowUnverified?: boolean;
  /** The clock the verification time is read from. @default the system clock */
  readonly now?: () => Date;
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
  /** What the counted records were checked against (also in the register). */
  readonly auditTrail: TrailAttestation;
  readonly digestFiles: number;
  /** Log files covered by a verified digest (the only ones counted, when verified). */
  readonly logFilesVerified: number;
  /** Log files delivered after the newest digest: left for the next run. */
  readonly logFilesPending: number;
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

/** The log files from the day before `fromMonth` (a digest early in the month lists files delivered just before it) and the digests from `fromMonth` on. */
async function listTrailKeys(s3: S3Client, bucket: string, prefix: string, fromMonth: string): Promise<{ logs: string[]; digests: string[] }> {
  const logs: string[] = [];
  const digests: string[] = [];
  const fromDay = new Date(Date.parse(`${fromMonth}-01T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      const day = trailObjectDay(o.Key);
      if (day !== undefined && day >= fromDay) logs.push(o.Key);
      const digest = DIGEST_KEY.exec(o.Key);
      if (digest && `${digest[1]}-${digest[2]}` >= fromMonth) digests.push(o.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return { logs, digests };
}

/** CloudTrail's public keys for the period the digests cover (paginated). */
async function listPublicKeys(cloudtrail: Pick<CloudTrailClient, 'send'>, from: Date, to: Date): Promise<CloudTrailPublicKey[]> {
  const keys: CloudTrailPublicKey[] = [];
  let token: string | undefined;
  do {
    const page = await cloudtrail.send(new ListPublicKeysCommand({ StartTime: from, EndTime: to, NextToken: token }));
    for (const k of page.PublicKeyList ?? []) keys.push(cloudTrailPublicKey(k));
    token = page.NextToken;
  } while (token !== undefined);
  return keys;
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
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
  const concurrency = options.concurrency ?? 16;
  const get = async (key: string) => s3.send(new GetObjectCommand({ Bucket: options.auditBucket, Key: key }));

  const digests: DigestFile[] = [];
  const unreadableDigests: string[] = [];
  for (const d of await inBatches(keys.digests, concurrency, async (key) => {
    const object = await get(key);
    const body = await object.Body!.transformToByteArray();
    try {
      return { key, content: uncompress(body), metadata: object.Metadata ?? {} };
    } catch {
      return { key, content: undefined, metadata: {} };
    }
  })) {
    if (d.content === undefined) unreadableDigests.push(d.key);
    else digests.push({ location: d.key, content: d.content, metadataSignature: d.metadata.signature, metadataAlgorithm: d.metadata['signature-algorithm'] });
  }

  // Keep only what the register counts, file by file: the trail is mostly other events (S3
  // data events above all, of which only release manifests' retags count).
  const counted = (r: CloudTrailRecord) =>
    REGISTER_SOURCES.has(r.eventSource) || (r.eventSource === 's3.amazonaws.com' && classifyRecord(r, input) !== undefined);
  const logs = await inBatches(keys.logs, concurrency, async (key) => {
    const l = logObject(await (await get(key)).Body!.transformToByteArray());
    return { key, sha256: l.sha256, skipped: l.skipped, records: l.records.filter(counted) };
  });
  // Log files before fromMonth were read only for the digests that list them.
  const listed = new Set(digests.flatMap((d) => listedLogKeys(d.content)));
  const inRange = (key: string) => (trailObjectMonth(key) ?? '') >= fromMonth;
  const logFiles: LogFileState[] = logs.filter((l) => inRange(l.key) || listed.has(l.key)).map((l) => ({ location: l.key, sha256: l.sha256 }));

  let publicKeys: CloudTrailPublicKey[] | undefined;
  const ends = digests.map((d) => listedEnd(d.content)).filter((t): t is number => t !== undefined);
  if (options.cloudtrail && ends.length > 0) {
    publicKeys = await listPublicKeys(options.cloudtrail, new Date(Math.min(...ends) - 3_600_000), new Date(Math.max(...ends)));
  }
  const present = new Set(keys.logs.concat(keys.digests));
  const check = checkDigests({
    digests,
    logFiles,
    resolve: (bucket, key) => ((bucket === undefined || bucket === options.auditBucket) && present.has(key) ? key : undefined),
    locatedAt: (location, bucket, key) => bucket === options.auditBucket && key === location,
    publicKeys: options.cloudtrail ? (publicKeys ?? []) : undefined,
  });
  const problems = [
    ...unreadableDigests.map((k) => `digest-unreadable: ${k}: not a readable digest file (corrupt gzip)`),
    ...(keys.logs.filter(inRange).length > 0 && digests.length === 0
      ? ['no-digests: there are log files but no digest files: is log file validation on for the trail?']
      : []),
    ...check.findings.filter((f) => f.severity === 'error').map((f) => `${f.kind}: ${f.message}`),
  ];
  const verified = problems.length === 0;
  if (!verified && !options.allowUnverified) throw new UnverifiedTrailError(`s3://${options.auditBucket}/${options.auditPrefix ?? 'AWSLogs/'}`, problems);

  const records: CloudTrailRecord[] = [];
  let skipped = 0;
  for (const l of logs) {
    if (!inRange(l.key) || (verified && !check.verifiedLogFiles.has(l.key))) continue;
    records.push(...l.records);
    skipped += l.skipped;
  }
  const once = dedupeByEventId(records, (r) => r).items;
  const auditTrail: TrailAttestation = {
    verified,
    checkedAt: (options.now?.() ?? new Date()).toISOString(),
    method: 'cloudtrail-digests',
    records: once.length,
    problems: problems.length,
    pendingLogFiles: check.pendingLogFiles.size,
    ...(verified && check.newestAuthenticated ? { newestDigest: check.newestAuthenticated } : {}),
  };

  // Athena keeps 45 days of query history: older ids would only come back unprocessed.
  const since = new Date(Date.parse(`${options.today}T00:00:00Z`) - ATHENA_HISTORY_DAYS * 86_400_000).toISOString();
  const toMeasure = options.athena === undefined ? new Map<string, string>() : queriesToMeasure(once, input, since);
  const fetched = options.athena === undefined || toMeasure.size === 0 ? undefined : await fetchQueryExecutions(options.athena, [...toMeasure.keys()]);
  const bytesByQueryId = bytesFromExecutions(fetched?.executions ?? [], toMeasure);
  const register = buildRegister(config, once, { threshold: snapshot.threshold, airlockBucket: options.airlockBucket, bytesByQueryId, published, auditTrail });
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
    filesRead: keys.logs.length,
    recordsRead: once.length,
    skipped,
    projects: register.projects.length,
    keys: order,
    queriesAsked: toMeasure.size,
    queriesMeasured: bytesByQueryId.size,
    previousRead: published !== undefined,
    auditTrail,
    digestFiles: digests.length,
    logFilesVerified: check.verifiedLogFiles.size,
    logFilesPending: check.pendingLogFiles.size,
  };
}

/** The log file keys a digest lists (for reading the ones delivered just before the period). */
function listedLogKeys(content: Buffer): string[] {
  try {
    const d = JSON.parse(content.toString('utf8')) as { logFiles?: { s3Object?: unknown }[] };
    return (d.logFiles ?? []).map((f) => f.s3Object).filter((k): k is string => typeof k === 'string');
  } catch {
    return [];
  }
}

function listedEnd(content: Buffer): number | undefined {
  try {
    const t = Date.parse((JSON.parse(content.toString('utf8')) as { digestEndTime?: string }).digestEndTime ?? '');
    return Number.isNaN(t) ? undefined : t;
  } catch {
    return undefined;
  }
}
