/**
 * The CloudTrail record shape this platform reads and writes, and the few rules every
 * consumer (reader, local writer, named queries, alarms) must agree on.
 *
 * Real records vary by service and by eventVersion (1.0 to 1.11): almost every field is
 * optional, values are sometimes anonymised (regions like `megov-westwest-1r`, invalid
 * IPs), and CloudTrail adds fields over time. So the type is deliberately open: only the
 * three fields every query needs are required, everything else is read leniently.
 */
import { createHash } from 'node:crypto';

/** A CloudTrail event record as delivered (`Records[]` element). */
export interface CloudTrailRecord {
  readonly eventVersion?: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly awsRegion?: string;
  readonly sourceIPAddress?: string;
  readonly userAgent?: string;
  readonly userIdentity?: UserIdentity;
  readonly requestParameters?: Record<string, unknown> | null;
  readonly responseElements?: Record<string, unknown> | null;
  readonly additionalEventData?: Record<string, unknown>;
  readonly resources?: readonly CloudTrailResource[];
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestID?: string;
  readonly eventID?: string;
  readonly readOnly?: boolean;
  readonly eventType?: string;
  readonly managementEvent?: boolean;
  readonly recipientAccountId?: string;
  readonly eventCategory?: string;
  readonly [field: string]: unknown;
}

export interface UserIdentity {
  readonly type?: string;
  readonly principalId?: string;
  readonly arn?: string;
  readonly accountId?: string;
  readonly accessKeyId?: string;
  readonly userName?: string;
  readonly invokedBy?: string;
  readonly sessionContext?: {
    readonly sessionIssuer?: {
      readonly type?: string;
      readonly principalId?: string;
      readonly arn?: string;
      readonly accountId?: string;
      readonly userName?: string;
    };
    readonly attributes?: { readonly creationDate?: string; readonly mfaAuthenticated?: string };
    readonly sourceIdentity?: string;
    readonly [field: string]: unknown;
  };
  readonly [field: string]: unknown;
}

export interface CloudTrailResource {
  readonly type?: string;
  readonly ARN?: string;
  readonly accountId?: string;
  readonly [field: string]: unknown;
}

/** The fields without which a record cannot be placed in time or named: queries need all three. */
export const REQUIRED_FIELDS = ['eventTime', 'eventSource', 'eventName'] as const;

/**
 * CloudTrail writes eventTime as `YYYY-MM-DDTHH:MM:SSZ` (UTC). Queries compare its first
 * ten characters with approved periods, so a record whose time is in another form would
 * give a silently wrong answer: it is refused instead.
 */
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** CloudTrail Insights events describe unusual call rates; they are not API calls. */
export const INSIGHT_EVENT_TYPE = 'AwsCloudTrailInsight';

export type RecordCheck =
  | {
      readonly ok: true;
      readonly record: CloudTrailRecord;
      /** Set when the record was read from an export that renamed a field (see RENAMED_TIME_FIELDS): what was done. */
      readonly adjusted?: string;
    }
  | { readonly ok: false; readonly kind: 'not-a-record' | 'missing-fields' | 'insight'; readonly detail: string };

/**
 * Logstash's CloudTrail codec moves `eventTime` into its own `@timestamp` (the event's
 * time, with milliseconds) and adds `@version`: such a record is read with its time put
 * back, in CloudTrail's form. The field is Logstash's event time by definition, so this
 * is a rename, not a guess.
 */
export const LOGSTASH_TIME_FIELD = '@timestamp';
const LOGSTASH_FIELDS = ['@timestamp', '@version'];
const LOGSTASH_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?Z$/;

/**
 * Time fields other exports use whose meaning is not certain (an ingestion time, a local
 * time zone, epoch milliseconds): such a record is refused with this reason rather than
 * read with a time that may be wrong.
 */
const OTHER_TIME_FIELDS = ['EventTime', 'eventtime', 'event_time', 'timestamp', 'time', '_time', 'Timestamp'];

function withoutLogstashFields(v: Record<string, unknown>, eventTime: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(v)) if (!LOGSTASH_FIELDS.includes(k)) out[k] = value;
  out.eventTime = eventTime;
  return out;
}

/** Why a record without eventTime cannot be read, naming what it holds instead. */
function missingTimeReason(v: Record<string, unknown>): string | undefined {
  if (typeof v.CloudTrailEvent === 'string') {
    return 'a CloudTrail LookupEvents result (the record is the JSON text in CloudTrailEvent): export the records from the trail instead';
  }
  if (typeof v['detail-type'] === 'string' && v.detail !== null && typeof v.detail === 'object') {
    return 'an EventBridge event (the record is in its detail field): read the trail in S3 instead';
  }
  const other = OTHER_TIME_FIELDS.find((f) => f in v);
  return other === undefined
    ? undefined
    : `no eventTime but a field "${other}", as an export renames it: its meaning (event or ingestion time, time zone) is not certain, so the record is not read`;
}

/** Decides whether a parsed JSON value is a usable CloudTrail API-call record. */
export function checkRecord(value: unknown): RecordCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      kind: 'not-a-record',
      detail: `a ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value} where a record object was expected`,
    };
  }
  let v = value as Record<string, unknown>;
  if (v.eventType === INSIGHT_EVENT_TYPE) {
    return { ok: false, kind: 'insight', detail: 'CloudTrail Insights event (a call-rate summary, not an API call)' };
  }
  let adjusted: string | undefined;
  if (v.eventTime === undefined && typeof v[LOGSTASH_TIME_FIELD] === 'string') {
    const m = LOGSTASH_TIME.exec(v[LOGSTASH_TIME_FIELD] as string);
    if (!m)
      return { ok: false, kind: 'missing-fields', detail: `no eventTime, and ${LOGSTASH_TIME_FIELD} is not a UTC time written YYYY-MM-DDTHH:MM:SS[.fff]Z` };
    // CloudTrail writes whole seconds; Logstash adds .000: drop a fraction of zeros only.
    const fraction = m[2] !== undefined && /[1-9]/.test(m[2]) ? m[2] : '';
    v = withoutLogstashFields(v, `${m[1]}${fraction}Z`);
    adjusted = `eventTime taken from Logstash's ${LOGSTASH_TIME_FIELD} (its @timestamp and @version fields dropped)`;
  }
  const missing = REQUIRED_FIELDS.filter((f) => typeof v[f] !== 'string' || (v[f] as string).length === 0);
  if (missing.length > 0) {
    const reason = missing.includes('eventTime') ? missingTimeReason(v) : undefined;
    return { ok: false, kind: 'missing-fields', detail: reason ?? `missing ${missing.join(', ')}` };
  }
  if (!EVENT_TIME.test(v.eventTime as string)) {
    return { ok: false, kind: 'missing-fields', detail: 'eventTime is not a UTC time written YYYY-MM-DDTHH:MM:SSZ' };
  }
  return adjusted === undefined ? { ok: true, record: v as CloudTrailRecord } : { ok: true, record: v as CloudTrailRecord, adjusted };
}

/**
 * Error codes that mean "the caller was not authorised", as opposed to a bad request or a
 * missing resource. Each service family spells it differently:
 * - `AccessDenied`: S3, STS, IAM, Organizations and most query-protocol APIs;
 * - `AccessDeniedException`: JSON-protocol APIs (KMS, Athena, Glue, Lake Formation,
 *   Secrets Manager, Lambda, ...);
 * - `UnauthorizedOperation`: EC2 (and `Client.UnauthorizedOperation`, its older form);
 * - `AuthorizationError`: SNS.
 * Any of them may carry the `Client.` prefix EC2 uses. Authentication failures
 * (e.g. `NotAuthorizedException` from Cognito, a wrong password) and throttling are not
 * access denials. The named query and the alarm both use this list.
 */
export const ACCESS_DENIED_CODES = ['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError'] as const;

/** Every spelling of ACCESS_DENIED_CODES, with and without the `Client.` prefix. */
export function accessDeniedCodeVariants(): string[] {
  return ACCESS_DENIED_CODES.flatMap((c) => [c, `Client.${c}`]);
}

/** CloudTrail's time form: UTC, whole seconds. */
export function cloudTrailTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A stable, made-up IAM unique id (`prefix` such as AROA for a role or AIDA for a user, then
 * 17 characters derived from `seed`), so records written locally look like AWS's and the
 * same principal always gets the same id.
 */
export function stableIamUniqueId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = prefix;
  for (let i = 0; i < 17; i++) id += alphabet[digest[i] % alphabet.length];
  return id;
}
