import { Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EncryptedLogGroup } from '../shared/encrypted-log-group';

export interface AuditTrailProps {
  /** The trail's name; fixed, because the bucket and key policies name the trail's ARN. */
  readonly trailName: string;
  /** The audit store (AuditBucket): CloudTrail delivers log and digest files to it. */
  readonly bucket: s3.IBucket;
  /** The audit key: log files and the CloudWatch log group are encrypted with it. */
  readonly encryptionKey: kms.IKey;
  /** Buckets whose object reads and writes are recorded (the data zones). */
  readonly readWriteDataBuckets: readonly s3.IBucket[];
  /**
   * Buckets whose object reads only are recorded: the audit store itself and the access-log
   * sinks (who read the evidence). Writes are left out: CloudTrail's own deliveries to its
   * bucket would log themselves in a loop. @default - none
   */
  readonly readOnlyDataBuckets?: readonly s3.IBucket[];
  /** CloudWatch Logs group for the alarms. */
  readonly logGroupName: string;
  /** Days the log group keeps events (the bucket keeps them for the long term). */
  readonly logRetention: logs.RetentionDays;
}

/**
 * The platform's CloudTrail trail: every management event in every region (global
 * services such as IAM and STS included), S3 data events on the data zones, log file
 * integrity validation (signed hourly digests), encryption with the audit key, and
 * delivery to CloudWatch Logs for the alarms. Athena, Glue, Lake Formation (including
 * GetDataAccess), KMS and STS calls are management events, so all are recorded.
 *
 * Written with the L1 resource: the L2 Trail has no advanced event selectors and does not
 * scope the service's bucket and key permissions to this trail (aws:SourceArn), which
 * closes the confused-deputy path of another account's trail writing here or using the key.
 */
export class AuditTrail extends Construct {
  readonly trail: cloudtrail.CfnTrail;
  readonly trailArn: string;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.trailArn = stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: props.trailName });
    const cloudTrail = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    const thisTrail = { StringEquals: { 'aws:SourceArn': this.trailArn } };

    // The bucket accepts deliveries from this trail only, each owned by the bucket owner.
    const aclCheck = props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailAclCheck',
        principals: [cloudTrail],
        actions: ['s3:GetBucketAcl'],
        resources: [props.bucket.bucketArn],
        conditions: thisTrail,
      }),
    );
    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailWrite',
        principals: [cloudTrail],
        actions: ['s3:PutObject'],
        resources: [props.bucket.arnForObjects(`AWSLogs/${stack.account}/*`)],
        conditions: { StringEquals: { 'aws:SourceArn': this.trailArn, 's3:x-amz-acl': 'bucket-owner-full-control' } },
      }),
    );

    // CloudTrail may encrypt with the key for this trail only; readers decrypt through IAM
    // (the key policy delegates to the account), never through a grant.
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailEncryptLogs',
        principals: [cloudTrail],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          ...thisTrail,
          StringLike: {
            'kms:EncryptionContext:aws:cloudtrail:arn': stack.formatArn({ service: 'cloudtrail', region: '*', resource: 'trail', resourceName: '*' }),
          },
        },
      }),
    );
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailDescribeKey',
        principals: [cloudTrail],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: thisTrail,
      }),
    );

    this.logGroup = new EncryptedLogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
      keyStatementSid: 'CloudWatchLogsUseKeyForTrailLogGroup',
    }).logGroup;

    // The trust policy is AWS's documented one, without an aws:SourceArn condition: CloudTrail
    // is not documented to send it when it assumes this role, and a condition it does not
    // meet would stop delivery. The role can only write to this one log group.
    const logsRole = new iam.Role(this, 'LogsRole', {
      assumedBy: cloudTrail,
      description: `Lets CloudTrail trail ${props.trailName} (only) deliver events to its CloudWatch Logs group.`,
    });
    // A managed policy rather than an inline one: HIPAA and NIST controls want permissions
    // reviewable as named policies.
    const deliverPolicy = new iam.ManagedPolicy(this, 'DeliverToLogsPolicy', {
      description: 'Create streams in and put events to the trail log group only.',
      roles: [logsRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'DeliverTrailEvents',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });

    const objectsOf = (buckets: readonly s3.IBucket[]) => buckets.map((b) => `${b.bucketArn}/`);
    const selectors: cloudtrail.CfnTrail.AdvancedEventSelectorProperty[] = [
      { name: 'All management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] },
      {
        name: 'Data zone objects, read and write',
        fieldSelectors: [
          { field: 'eventCategory', equalTo: ['Data'] },
          { field: 'resources.type', equalTo: ['AWS::S3::Object'] },
          { field: 'resources.ARN', startsWith: objectsOf(props.readWriteDataBuckets) },
        ],
      },
    ];
    if ((props.readOnlyDataBuckets ?? []).length > 0) {
      selectors.push({
        name: 'Audit and access-log objects, reads',
        fieldSelectors: [
          { field: 'eventCategory', equalTo: ['Data'] },
          { field: 'resources.type', equalTo: ['AWS::S3::Object'] },
          { field: 'readOnly', equalTo: ['true'] },
          { field: 'resources.ARN', startsWith: objectsOf(props.readOnlyDataBuckets ?? []) },
        ],
      });
    }

    this.trail = new cloudtrail.CfnTrail(this, 'Trail', {
      trailName: props.trailName,
      s3BucketName: props.bucket.bucketName,
      isLogging: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      kmsKeyId: props.encryptionKey.keyArn,
      cloudWatchLogsLogGroupArn: this.logGroup.logGroupArn,
      cloudWatchLogsRoleArn: logsRole.roleArn,
      advancedEventSelectors: selectors,
    });
    // CloudTrail checks it can write to the bucket, key and log group when the trail is created.
    if (aclCheck.policyDependable) this.trail.node.addDependency(aclCheck.policyDependable);
    this.trail.node.addDependency(deliverPolicy, props.encryptionKey);
  }
}
