import { Duration, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { platformBucket } from './bucket-controls';

export interface AccessLogBucketProps {
  /** Delete server access logs after this many days. @default 2555 (7 years) */
  readonly retentionDays?: number;
}

/**
 * The sink for S3 server access logs of every data bucket.
 *
 * It differs from SecureBucket in two ways S3 imposes: log delivery only writes to
 * buckets encrypted with SSE-S3 (not SSE-KMS), and a log bucket cannot usefully log to
 * itself. Everything else (SSL only, no public access, versioning, RETAIN) is the same.
 */
export class AccessLogBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps = {}) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 2555;
    this.bucket = platformBucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(retentionDays),
          noncurrentVersionExpiration: Duration.days(30),
          transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) }],
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    const kmsReason =
      'S3 server access log delivery only supports SSE-S3 target buckets (SSE-KMS is unsupported); the logs hold request metadata, not health data, and the bucket is SSL-only with public access blocked.';
    const selfLogReason =
      'This is the access-log sink itself: logging it to itself would create a feedback loop. Reads of it are recorded by CloudTrail S3 data events instead.';
    Validations.of(cfnBucket).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-S1', reason: selfLogReason },
      { id: 'HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled', reason: selfLogReason },
      { id: 'NIST.800.53.R5::NIST.800.53.R5-S3BucketLoggingEnabled', reason: selfLogReason },
      { id: 'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS', reason: kmsReason },
      { id: 'NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS', reason: kmsReason },
      { id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check', reason: kmsReason },
      { id: 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check', reason: selfLogReason },
    );
  }
}
