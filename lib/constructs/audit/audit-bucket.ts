import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { platformBucket } from '../storage/bucket-controls';

export interface AuditBucketProps {
  /** The audit key: CloudTrail encrypts log files with it, and it is the bucket default. */
  readonly encryptionKey: kms.IKey;
  /** Where S3 server access logs of this bucket go. */
  readonly accessLogsBucket: s3.IBucket;
  /** Object Lock COMPLIANCE retention of every record, in whole years. */
  readonly retentionYears: number;
  /** Move logs to S3 Standard-IA after this many days. @default 90 */
  readonly infrequentAccessAfterDays?: number;
  /** Move logs to Glacier Instant Retrieval after this many days (Athena still reads it). @default 365 */
  readonly archiveAfterDays?: number;
}

/**
 * The audit store: where CloudTrail delivers the trail, built to survive an attacker or an
 * administrator who wants to erase their tracks.
 * - S3 Object Lock in COMPLIANCE mode with a default retention: no principal, including
 *   the account root, can delete or overwrite a record version before it ends;
 * - a bucket policy that denies object deletion to everyone, on top of the lock;
 * - versioning (required by Object Lock), SSE-KMS with the audit key, TLS 1.2+ only, all
 *   public access blocked, ACLs disabled, server access logs, RETAIN;
 * - lifecycle to cheaper classes that Athena can still query (Standard-IA, then Glacier
 *   Instant Retrieval). Nothing expires: the Records Management Code asks for a review
 *   at the end of retention, not automatic destruction.
 *
 * Unlike SecureBucket it does not refuse non-KMS uploads: CloudTrail writes digest files
 * with SSE-S3 whatever the trail's key, and log file validation needs them.
 */
export class AuditBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AuditBucketProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionYears) || props.retentionYears < 1 || props.retentionYears > 100) {
      throw new Error(`AuditBucket: retentionYears must be a whole number of years from 1 to 100, not ${props.retentionYears}`);
    }
    this.bucket = platformBucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: `${id.toLowerCase()}/`,
      lifecycleRules: [
        {
          id: 'audit-storage-classes',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.infrequentAccessAfterDays ?? 90) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(props.archiveAfterDays ?? 365) },
          ],
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    // Years, not days: the L2 converts to days, which drifts from calendar years by the leap days.
    const cfn = this.bucket.node.defaultChild as s3.CfnBucket;
    cfn.objectLockConfiguration = {
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: 'COMPLIANCE', years: props.retentionYears } },
    };

    // Belt and braces with the lock: even once a version's retention has passed, nobody
    // deletes audit records by hand; ending the retention is a reviewed change to this policy.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyDeletingAuditRecords',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
  }
}
