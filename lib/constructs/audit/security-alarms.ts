import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { allowAlarmsToPublishWith } from '../shared/key-policy';
import { ACCESS_DENIED_ALARM_THRESHOLD, ALARM_PERIOD_MINUTES } from '../../audit/audit-settings';
import { accessDeniedCodeVariants } from '../../audit/cloudtrail-record';

export interface SecurityAlarmsProps {
  /** The trail's CloudWatch Logs group. */
  readonly logGroup: logs.ILogGroup;
  /** Encrypts the alert topic (the audit key). */
  readonly encryptionKey: kms.IKey;
  /** The security team's addresses (platform.yaml alerts.securityEmails). */
  readonly securityEmails: readonly string[];
  /** CloudWatch namespace of the alarm metrics, e.g. `onelondon-sde/security`. */
  readonly metricNamespace: string;
  /** The role CloudFormation deploys with: its Lake Formation grants are deployments, not alarms. */
  readonly deployRoleArn: string;
  /** Names of buckets whose policy changes raise an alarm (data zones, audit store). */
  readonly watchedBucketNames: readonly string[];
  /** Refusals in one period that count as "repeated". @default ACCESS_DENIED_ALARM_THRESHOLD */
  readonly accessDeniedThreshold?: number;
}

/** One alarm: one or more metric filters (each at most 1024 characters) feeding one metric. */
export interface SecurityAlarmSpec {
  readonly id: string;
  readonly description: string;
  readonly patterns: readonly string[];
  readonly threshold: number;
}

const LAKE_FORMATION_GRANT_EVENTS = ['GrantPermissions', 'RevokePermissions', 'BatchGrantPermissions', 'BatchRevokePermissions'];
const BUCKET_POLICY_EVENTS = ['PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl', 'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock'];
/** Bucket names per filter, so each pattern stays under CloudWatch's 1024-character limit. */
const BUCKETS_PER_FILTER = 3;

const anyOf = (field: string, values: readonly string[]) => `(${values.map((v) => `($.${field} = "${v}")`).join(' || ')})`;

/** The alarms, as metric filter patterns (pure: the tests read them). */
export function securityAlarmSpecs(props: Pick<SecurityAlarmsProps, 'deployRoleArn' | 'watchedBucketNames' | 'accessDeniedThreshold'>): SecurityAlarmSpec[] {
  const iamAllowed = '"IAM_ALLOWED_PRINCIPALS"';
  const buckets = [...props.watchedBucketNames];
  const bucketChunks: string[][] = [];
  for (let i = 0; i < buckets.length; i += BUCKETS_PER_FILTER) bucketChunks.push(buckets.slice(i, i + BUCKETS_PER_FILTER));
  return [
    {
      id: 'TrailChanged',
      description: 'The CloudTrail trail was stopped, deleted or changed (what is recorded may have been reduced).',
      patterns: [
        `{ ($.eventSource = "cloudtrail.amazonaws.com") && ${anyOf('eventName', ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors'])} }`,
      ],
      threshold: 1,
    },
    {
      id: 'LakeFormationGrantOutsideDeployment',
      description:
        'A Lake Formation grant or revoke was made by someone other than the CloudFormation deployment role: access changes must go through the config and a deployment.',
      patterns: [
        `{ ($.eventSource = "lakeformation.amazonaws.com") && ${anyOf('eventName', LAKE_FORMATION_GRANT_EVENTS)} && (($.userIdentity.sessionContext.sessionIssuer.arn NOT EXISTS) || ($.userIdentity.sessionContext.sessionIssuer.arn != "${props.deployRoleArn}")) }`,
      ],
      threshold: 1,
    },
    {
      id: 'IamAllowedPrincipalsGranted',
      description:
        'IAMAllowedPrincipals was granted (directly, as a data lake default, or as a database default): it would let IAM policies alone read tables, bypassing column grants.',
      patterns: [
        `{ ($.eventSource = "lakeformation.amazonaws.com") && ((($.eventName = "GrantPermissions") && ($.requestParameters.principal.dataLakePrincipalIdentifier = ${iamAllowed})) || (($.eventName = "BatchGrantPermissions") && ($.requestParameters.entries[0].principal.dataLakePrincipalIdentifier = ${iamAllowed}))) }`,
        `{ ($.eventSource = "lakeformation.amazonaws.com") && ($.eventName = "PutDataLakeSettings") && (($.requestParameters.dataLakeSettings.createDatabaseDefaultPermissions[0].principal.dataLakePrincipalIdentifier = ${iamAllowed}) || ($.requestParameters.dataLakeSettings.createTableDefaultPermissions[0].principal.dataLakePrincipalIdentifier = ${iamAllowed})) }`,
        `{ ($.eventSource = "glue.amazonaws.com") && (($.eventName = "CreateDatabase") || ($.eventName = "UpdateDatabase")) && ($.requestParameters.databaseInput.createTableDefaultPermissions[0].principal.dataLakePrincipalIdentifier = ${iamAllowed}) }`,
      ],
      threshold: 1,
    },
    {
      id: 'RootAccountUsed',
      description: 'The account root user made a call (CIS AWS Foundations): the root user should never be used day to day.',
      patterns: ['{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }'],
      threshold: 1,
    },
    {
      id: 'RepeatedAccessDenied',
      description: `At least ${props.accessDeniedThreshold ?? ACCESS_DENIED_ALARM_THRESHOLD} calls were refused for lack of permission within ${ALARM_PERIOD_MINUTES} minutes: someone may be probing the controls.`,
      patterns: [`{ ${anyOf('errorCode', accessDeniedCodeVariants())} }`],
      threshold: props.accessDeniedThreshold ?? ACCESS_DENIED_ALARM_THRESHOLD,
    },
    {
      id: 'KmsKeyDisabledOrDeleted',
      description: 'A KMS key was disabled or scheduled for deletion: data it encrypts would become unreadable.',
      patterns: [`{ ($.eventSource = "kms.amazonaws.com") && ${anyOf('eventName', ['DisableKey', 'ScheduleKeyDeletion'])} }`],
      threshold: 1,
    },
    {
      id: 'DataBucketPolicyChanged',
      description: 'The policy, ACL or public access block of a data or audit bucket was changed or deleted.',
      patterns: bucketChunks.map(
        (chunk) => `{ ($.eventSource = "s3.amazonaws.com") && ${anyOf('eventName', BUCKET_POLICY_EVENTS)} && ${anyOf('requestParameters.bucketName', chunk)} }`,
      ),
      threshold: 1,
    },
  ];
}

/**
 * The security team's alarms: metric filters on the trail's log group, a CloudWatch alarm
 * on each, and a KMS-encrypted SNS topic (TLS-only publishing) that e-mails the security
 * team. Each alarm fires on the first matching event within a five-minute period (or on
 * the threshold for repeated refusals) and stays quiet when nothing happens.
 */
export class SecurityAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;
  readonly specs: readonly SecurityAlarmSpec[];

  constructor(scope: Construct, id: string, props: SecurityAlarmsProps) {
    super(scope, id);
    if (props.securityEmails.length === 0) throw new Error('SecurityAlarms: name at least one security e-mail address (platform.yaml alerts.securityEmails)');

    // CloudWatch publishes to an encrypted topic only if the key lets it make data keys.
    allowAlarmsToPublishWith(this, props.encryptionKey, 'CloudWatchAlarmsPublishToEncryptedTopic');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Secure Data Environment security alerts',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of props.securityEmails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    const action = new cwActions.SnsAction(this.topic);

    this.specs = securityAlarmSpecs(props);
    const alarms = new Map<string, cloudwatch.Alarm>();
    for (const spec of this.specs) {
      spec.patterns.forEach((pattern, i) => {
        new logs.MetricFilter(this, `${spec.id}Filter${i === 0 ? '' : i + 1}`, {
          logGroup: props.logGroup,
          filterPattern: logs.FilterPattern.literal(pattern),
          metricNamespace: props.metricNamespace,
          metricName: spec.id,
          metricValue: '1',
        });
      });
      const alarm = new cloudwatch.Alarm(this, `${spec.id}Alarm`, {
        alarmDescription: spec.description,
        metric: new cloudwatch.Metric({
          namespace: props.metricNamespace,
          metricName: spec.id,
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(ALARM_PERIOD_MINUTES),
        }),
        threshold: spec.threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarms.set(spec.id, alarm);
    }
    this.alarms = alarms;
  }
}
