import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { platformBucket } from './bucket-controls';

export interface SecureBucketProps {
  /** Customer-managed key that encrypts every object (SSE-KMS with an S3 bucket key). */
  readonly encryptionKey: kms.IKey;
  /** Where S3 server access logs for this bucket go. */
  readonly accessLogsBucket: s3.IBucket;
  /** Prefix of this bucket's logs in the access-log bucket. @default - the construct id followed by / */
  readonly accessLogsPrefix?: string;
  /** Delete current objects this many days after they are written. @default - never */
  readonly expireAfterDays?: number;
  /** Move current objects to S3 Standard-IA after this many days. @default - never */
  readonly infrequentAccessAfterDays?: number;
  /** Keep overwritten or deleted object versions this many days, for recovery. @default 30 */
  readonly noncurrentVersionDays?: number;
  /** Delete objects under these prefixes this many days after they are written (scratch areas). @default - none */
  readonly expirePrefixes?: readonly { readonly prefix: string; readonly days: number }[];
}

/**
 * The one way this platform stores data in S3. Every control a health-data bucket needs
 * lives here rather than at each call site, so no bucket can be created without them:
 * SSE-KMS with the platform key, TLS 1.2+ only, all public access blocked, ACLs disabled,
 * versioning, Object Lock, server access logs, EventBridge events, lifecycle rules and
 * RETAIN on stack deletion.
 */
export class SecureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const transitions =
      props.infrequentAccessAfterDays === undefined
        ? undefined
        : [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.infrequentAccessAfterDays) }];

    this.bucket = platformBucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: props.accessLogsPrefix ?? `${id.toLowerCase()}/`,
      lifecycleRules: [
        {
          id: 'zone-retention',
          expiration: props.expireAfterDays === undefined ? undefined : Duration.days(props.expireAfterDays),
          transitions,
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        ...(props.expirePrefixes ?? []).map(({ prefix, days }) => ({
          id: `expire-${prefix.replace(/[^A-Za-z0-9-]/g, '')}`,
          prefix,
          expiration: Duration.days(days),
          noncurrentVersionExpiration: Duration.days(1),
        })),
      ],
    });

    // Defence in depth on top of the default encryption: refuse uploads that ask for
    // another key or for SSE-S3, so nobody can store data the platform key does not protect.
    this.denyUploads('DenyUploadsNamingAnotherKmsKey', {
      StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': props.encryptionKey.keyArn },
    });
    this.denyUploads('DenyUploadsAskingForNonKmsEncryption', { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } });
    // `aws:kms` without a key id makes S3 use the AWS-managed aws/s3 key, not this bucket's
    // default: refuse it (send no encryption header, or name the bucket's key).
    this.denyUploads('DenyUploadsAskingForKmsWithoutTheKey', {
      StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
      Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' },
    });
  }

  /** A bucket-policy statement refusing, to every principal, the uploads that meet `conditions`. */
  private denyUploads(sid: string, conditions: Record<string, unknown>): void {
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions,
      }),
    );
  }
}
