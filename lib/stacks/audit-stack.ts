import { CfnOutput, DefaultStackSynthesizer, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TRAIL_LOG_GROUP_RETENTION_DAYS } from '../audit/audit-settings';
import { auditQueryContext } from '../audit/named-queries';
import type { SdeConfig } from '../config/model';
import { AccessLogBucket } from '../constructs/storage/access-log-bucket';
import { AuditBucket } from '../constructs/audit/audit-bucket';
import { AuditTrail } from '../constructs/audit/audit-trail';
import { CloudTrailTable } from '../constructs/audit/cloudtrail-table';
import { PlatformKey } from '../constructs/storage/platform-key';
import { SecurityAlarms } from '../constructs/audit/security-alarms';
import { SecurityWorkgroup } from '../constructs/audit/security-workgroup';
import type { DataLakeStack } from './data-lake-stack';

export interface AuditStackProps extends StackProps {
  readonly config: SdeConfig;
  /** The data lake whose zones the trail records (data events) and whose bucket policies the alarms watch. */
  readonly dataLake: DataLakeStack;
  /**
   * The output airlock's bucket: submissions, reviews and releases are object reads and
   * writes there, recorded like the data zones'. @default - not recorded
   */
  readonly airlockBucket?: s3.IBucket;
}

/**
 * Commercial regions a multi-region trail may write folders for: the audit table's region
 * projection enumerates them (a region missing here would be invisible to queries).
 */
export const TRAIL_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
] as const;

/** Glue names allow a-z, 0-9 and _ only. */
export function auditDatabaseName(config: SdeConfig): string {
  return `${config.platform.name.replace(/-/g, '_')}_audit`;
}

/**
 * Tamper-evident audit: the CloudTrail trail (all regions, validated, KMS, CloudWatch
 * Logs, data events on every data zone), its Object Lock store, the security team's
 * audit table, workgroup and named queries, and the alarms that tell the security team
 * at once when someone weakens the controls.
 *
 * It has its own key and its own access-log sink, so that the data lake's administrators
 * cannot read or rewrite the evidence of what they did through the keys and buckets they
 * manage.
 */
export class AuditStack extends Stack {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly trail: AuditTrail;
  readonly table: CloudTrailTable;
  readonly workgroup: SecurityWorkgroup;
  readonly alarms: SecurityAlarms;
  readonly retentionYears: number;

  constructor(scope: Construct, id: string, props: AuditStackProps) {
    super(scope, id, props);
    const { config, dataLake } = props;
    const { platform } = config;
    this.retentionYears = platform.retention.auditYears;
    this.addStackDependency(dataLake, 'the trail records the data zones, and the audit grants need the Lake Formation settings');

    this.key = new PlatformKey(this, 'AuditKey', {
      alias: `alias/${platform.name}/audit`,
      description: `${platform.displayName}: encrypts the audit trail, its log group, alert topic and security query results`,
    }).key;
    this.accessLogs = new AccessLogBucket(this, 'AuditAccessLogs', {
      retentionDays: Math.max(platform.retention.accessLogsDays, this.retentionYears * 366),
    }).bucket;
    this.bucket = new AuditBucket(this, 'AuditStore', {
      encryptionKey: this.key,
      accessLogsBucket: this.accessLogs,
      retentionYears: this.retentionYears,
    }).bucket;

    this.trail = new AuditTrail(this, 'Trail', {
      trailName: `${platform.name}-audit`,
      bucket: this.bucket,
      encryptionKey: this.key,
      readWriteDataBuckets: [dataLake.landing, dataLake.curated, dataLake.quarantine, dataLake.results, ...(props.airlockBucket ? [props.airlockBucket] : [])],
      readOnlyDataBuckets: [this.bucket, this.accessLogs, dataLake.accessLogs],
      logGroupName: `/${platform.name}/audit/cloudtrail`,
      logRetention: TRAIL_LOG_GROUP_RETENTION_DAYS as logs.RetentionDays,
    });

    this.alarms = new SecurityAlarms(this, 'Alarms', {
      logGroup: this.trail.logGroup,
      encryptionKey: this.key,
      securityEmails: platform.alerts.securityEmails,
      metricNamespace: `${platform.name}/security`,
      deployRoleArn: deployRoleArn(this),
      watchedBucketNames: [
        dataLake.landing,
        dataLake.curated,
        dataLake.quarantine,
        dataLake.results,
        dataLake.accessLogs,
        this.bucket,
        this.accessLogs,
        ...(props.airlockBucket ? [props.airlockBucket] : []),
      ].map((b) => b.bucketName),
    });

    const databaseName = auditDatabaseName(config);
    this.table = new CloudTrailTable(this, 'AuditTable', {
      databaseName,
      bucket: this.bucket,
      regions: [...new Set([...(platform.aws.region ? [platform.aws.region] : []), ...TRAIL_REGIONS])],
      yearsBack: this.retentionYears,
      readers: platform.admins,
      dataLakeSettings: dataLake.governance.settings,
    });

    this.workgroup = new SecurityWorkgroup(this, 'SecurityQueries', {
      workgroupName: `${platform.name}-security`,
      encryptionKey: this.key,
      accessLogsBucket: this.accessLogs,
      resultsExpireAfterDays: platform.retention.queryResultsDays,
      databaseName,
      queryContext: auditQueryContext(config, { curatedBuckets: [dataLake.curated.bucketName] }),
    });
    for (const q of this.workgroup.namedQueries.values()) q.addResourceDependency(this.table.table);

    new CfnOutput(this, 'TrailArn', { value: this.trail.trailArn });
    new CfnOutput(this, 'AuditBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'SecurityWorkgroupName', { value: this.workgroup.workgroup.ref });
    new CfnOutput(this, 'AlertTopicArn', { value: this.alarms.topic.topicArn });
  }
}

/** The role CloudFormation deploys with (as in DataLakeStack): its Lake Formation grants are deployments. */
function deployRoleArn(stack: Stack): string {
  const synthesizer = stack.synthesizer;
  if (synthesizer instanceof DefaultStackSynthesizer) return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
  throw new Error('AuditStack needs the DefaultStackSynthesizer to know the deploying role (its Lake Formation grants must not raise the alarm)');
}
