/**
 * Controls shared by every bucket construct (SecureBucket, AccessLogBucket): set on the
 * L1 resource because the L2 options either do not exist or add a custom-resource Lambda.
 */
import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Object events go to EventBridge natively (no notification-handler Lambda): ingestion
 * triggers and security monitoring subscribe there.
 */
export function sendEventsToEventBridge(bucket: s3.Bucket): void {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  cfn.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
}

/**
 * Cross-region replication is acknowledged on each bucket, one rule at a time, because
 * copying health data to a second region would move it out of the deployment region
 * (for a UK deployment, out of the UK: eu-west-2 is the only UK region).
 */
export function acknowledgeNoCrossRegionReplication(bucket: s3.Bucket): void {
  const reason =
    'Data residency: health and care data must stay in the deployment region, so it is not replicated to another region. Versioning, Object Lock, RETAIN and KMS key retention protect against loss instead.';
  Validations.of(bucket.node.defaultChild as s3.CfnBucket).acknowledge(
    { id: 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', reason },
    { id: 'NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', reason },
  );
}
