/**
 * The controls every bucket of the platform has, whatever it holds (SecureBucket,
 * AuditBucket, AccessLogBucket): in one function, so a new bucket construct cannot forget
 * one and the three cannot drift apart.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The settings a bucket construct chooses; everything else is fixed by `platformBucket`. */
export type PlatformBucketProps = Pick<
  s3.BucketProps,
  'encryption' | 'encryptionKey' | 'bucketKeyEnabled' | 'serverAccessLogsBucket' | 'serverAccessLogsPrefix' | 'lifecycleRules'
>;

/**
 * A bucket with the platform's fixed controls: TLS 1.2+ only, all public access blocked,
 * ACLs disabled, versioning, Object Lock (no default retention: it lets security place a
 * legal hold on evidence, and it can only be switched on when a bucket is created),
 * RETAIN on stack deletion, object events to EventBridge, and cross-region replication
 * acknowledged for data residency. The caller chooses encryption, access logs and
 * lifecycle; it cannot switch a fixed control off.
 */
export function platformBucket(scope: Construct, id: string, props: PlatformBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    ...props,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    objectLockEnabled: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  sendEventsToEventBridge(bucket);
  acknowledgeNoCrossRegionReplication(bucket);
  return bucket;
}

/**
 * Object events go to EventBridge natively (no notification-handler Lambda): ingestion
 * triggers and security monitoring subscribe there. Set on the L1 resource because the L2
 * option adds a custom-resource Lambda.
 */
function sendEventsToEventBridge(bucket: s3.Bucket): void {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  cfn.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
}

/**
 * Cross-region replication is acknowledged on each bucket, one rule at a time, because
 * copying health data to a second region would move it out of the deployment region
 * (for a UK deployment, out of the UK: eu-west-2 is the only UK region).
 */
function acknowledgeNoCrossRegionReplication(bucket: s3.Bucket): void {
  const reason =
    'Data residency: health and care data must stay in the deployment region, so it is not replicated to another region. Versioning, Object Lock, RETAIN and KMS key retention protect against loss instead.';
  Validations.of(bucket.node.defaultChild as s3.CfnBucket).acknowledge(
    { id: 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', reason },
    { id: 'NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled', reason },
  );
}
