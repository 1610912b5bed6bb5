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
  | { readonly ok: true; readonly record: CloudTrailRecord }
  | { readonly ok: false; readonly kind: 'not-a-record' | 'missing-fields' | 'insight'; readonly detail: string };

/** Decides whether a parsed JSON value is a usable CloudTrail API-call record. */
export function checkRecord(value: unknown): RecordCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      kind: 'not-a-record',
      detail: `a ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value} where a record object was expected`,
    };
  }
  const v = value as Record<string, unknown>;
  if (v.eventType === INSIGHT_EVENT_TYPE) {
    return { ok: false, kind: 'insight', detail: 'CloudTrail Insights event (a call-rate summary, not an API call)' };
  }
  const missing = REQUIRED_FIELDS.filter((f) => typeof v[f] !== 'string' || (v[f] as string).length === 0);
  if (missing.length > 0) return { ok: false, kind: 'missing-fields', detail: `missing ${missing.join(', ')}` };
  if (!EVENT_TIME.test(v.eventTime as string)) {
    return { ok: false, kind: 'missing-fields', detail: 'eventTime is not a UTC time written YYYY-MM-DDTHH:MM:SSZ' };
  }
  return { ok: true, record: v as CloudTrailRecord };
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
