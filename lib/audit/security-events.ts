/**
 * The security alarms, counted from audit records: for each alarm of
 * lib/constructs/audit/security-alarms.ts (same ids, same conditions), how many five-minute
 * periods met its condition, which is how often CloudWatch would have raised it. Used by
 * the scrutiny report, which publishes counts only (never who, what or where).
 *
 * It reads the verified trail, not CloudWatch's alarm history: the same figure on AWS and
 * locally, and one a reader can recompute. test/audit/security-events.test.ts holds the ids
 * equal to the alarms', so an alarm added there must be added here.
 */
import { ACCESS_DENIED_ALARM_THRESHOLD, ALARM_PERIOD_MINUTES } from './audit-settings';
import { accessDeniedCodeVariants, type CloudTrailRecord } from './cloudtrail-record';

export interface SecurityEventOptions {
  /** The CloudFormation deployment role: its Lake Formation grants are deployments. @default any role named like CDK's `cdk-*-cfn-exec-role-*` */
  readonly deployRoleArn?: string;
  /** Whether a bucket's policy is watched (data zones, audit store). */
  readonly watchedBucket: (name: string) => boolean;
  /** @default ACCESS_DENIED_ALARM_THRESHOLD */
  readonly accessDeniedThreshold?: number;
}

export interface SecurityAlarmCount {
  readonly id: string;
  /** What it means, in plain English. */
  readonly meaning: string;
  /** Five-minute periods in which the alarm's condition was met. */
  readonly raised: number;
}

const LAKE_FORMATION_GRANT_EVENTS = new Set(['GrantPermissions', 'RevokePermissions', 'BatchGrantPermissions', 'BatchRevokePermissions']);
const BUCKET_POLICY_EVENTS = new Set(['PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl', 'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock']);
const TRAIL_EVENTS = new Set(['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors']);
const DENIED = new Set(accessDeniedCodeVariants());
const IAM_ALLOWED = 'IAM_ALLOWED_PRINCIPALS';

function get(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

interface AlarmRule {
  readonly id: string;
  readonly meaning: string;
  /** Events in one period needed to raise it. */
  readonly threshold: (o: SecurityEventOptions) => number;
  readonly matches: (r: CloudTrailRecord, o: SecurityEventOptions) => boolean;
}

/** The alarms' conditions, in the order of securityAlarmSpecs. */
export const SECURITY_ALARM_RULES: readonly AlarmRule[] = [
  {
    id: 'TrailChanged',
    meaning: 'The audit trail was stopped, deleted or changed',
    threshold: () => 1,
    matches: (r) => r.eventSource === 'cloudtrail.amazonaws.com' && TRAIL_EVENTS.has(r.eventName),
  },
  {
    id: 'LakeFormationGrantOutsideDeployment',
    meaning: 'Access to data was granted or removed outside a reviewed deployment',
    threshold: () => 1,
    matches: (r, o) => {
      if (r.eventSource !== 'lakeformation.amazonaws.com' || !LAKE_FORMATION_GRANT_EVENTS.has(r.eventName)) return false;
      const issuer = get(r.userIdentity, 'sessionContext', 'sessionIssuer', 'arn');
      if (typeof issuer !== 'string') return true;
      return o.deployRoleArn !== undefined ? issuer !== o.deployRoleArn : !/:role\/cdk-[^/]*-cfn-exec-role-/.test(issuer);
    },
  },
  {
    id: 'IamAllowedPrincipalsGranted',
    meaning: 'A setting that would let permissions bypass the column grants was switched on',
    threshold: () => 1,
    matches: (r) => {
      const p = r.requestParameters;
      if (r.eventSource === 'lakeformation.amazonaws.com') {
        if (r.eventName === 'GrantPermissions') return get(p, 'principal', 'dataLakePrincipalIdentifier') === IAM_ALLOWED;
        if (r.eventName === 'BatchGrantPermissions') return get(p, 'entries', 0, 'principal', 'dataLakePrincipalIdentifier') === IAM_ALLOWED;
        if (r.eventName === 'PutDataLakeSettings')
          return (
            get(p, 'dataLakeSettings', 'createDatabaseDefaultPermissions', 0, 'principal', 'dataLakePrincipalIdentifier') === IAM_ALLOWED ||
            get(p, 'dataLakeSettings', 'createTableDefaultPermissions', 0, 'principal', 'dataLakePrincipalIdentifier') === IAM_ALLOWED
          );
      }
      return (
        r.eventSource === 'glue.amazonaws.com' &&
        (r.eventName === 'CreateDatabase' || r.eventName === 'UpdateDatabase') &&
        get(p, 'databaseInput', 'createTableDefaultPermissions', 0, 'principal', 'dataLakePrincipalIdentifier') === IAM_ALLOWED
      );
    },
  },
  {
    id: 'RootAccountUsed',
    meaning: "The AWS account's root user was used",
    threshold: () => 1,
    matches: (r) => r.userIdentity?.type === 'Root' && get(r.userIdentity, 'invokedBy') === undefined && r.eventType !== 'AwsServiceEvent',
  },
  {
    id: 'RepeatedAccessDenied',
    meaning: `Repeated refusals: at least ${ACCESS_DENIED_ALARM_THRESHOLD} requests refused for lack of permission within ${ALARM_PERIOD_MINUTES} minutes`,
    threshold: (o) => o.accessDeniedThreshold ?? ACCESS_DENIED_ALARM_THRESHOLD,
    matches: (r) => r.errorCode !== undefined && DENIED.has(r.errorCode),
  },
  {
    id: 'KmsKeyDisabledOrDeleted',
    meaning: 'An encryption key was disabled or scheduled for deletion',
    threshold: () => 1,
    matches: (r) => r.eventSource === 'kms.amazonaws.com' && (r.eventName === 'DisableKey' || r.eventName === 'ScheduleKeyDeletion'),
  },
  {
    id: 'DataBucketPolicyChanged',
    meaning: 'The access policy of a data or audit store was changed',
    threshold: () => 1,
    matches: (r, o) => {
      const bucket = get(r.requestParameters, 'bucketName');
      return r.eventSource === 's3.amazonaws.com' && BUCKET_POLICY_EVENTS.has(r.eventName) && typeof bucket === 'string' && o.watchedBucket(bucket);
    },
  },
];

/** The start of the alarm period an event falls in (UTC, periods aligned as CloudWatch aligns them). */
function periodOf(eventTime: string): number | undefined {
  const t = Date.parse(eventTime);
  if (Number.isNaN(t)) return undefined;
  const period = ALARM_PERIOD_MINUTES * 60_000;
  return Math.floor(t / period) * period;
}

/** How many alarm periods met each alarm's condition, among `records`. */
export function countSecurityAlarms(records: Iterable<CloudTrailRecord>, options: SecurityEventOptions): SecurityAlarmCount[] {
  const perPeriod = SECURITY_ALARM_RULES.map(() => new Map<number, number>());
  for (const r of records) {
    SECURITY_ALARM_RULES.forEach((rule, i) => {
      if (!rule.matches(r, options)) return;
      const p = periodOf(r.eventTime);
      if (p !== undefined) perPeriod[i].set(p, (perPeriod[i].get(p) ?? 0) + 1);
    });
  }
  return SECURITY_ALARM_RULES.map((rule, i) => ({
    id: rule.id,
    meaning: rule.meaning,
    raised: [...perPeriod[i].values()].filter((n) => n >= rule.threshold(options)).length,
  }));
}
