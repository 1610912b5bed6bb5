import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { billingInputs } from '../billing/inputs';
import type { SdeConfig } from '../config/model';
import { projectWorkgroupNamePattern, stackName } from '../config/naming';
import { BillingJob } from '../constructs/billing/billing-job';
import { PlatformDeadLetterQueue } from '../constructs/shared/platform-dead-letter-queue';
import { AccessLogBucket } from '../constructs/storage/access-log-bucket';
import { PlatformKey } from '../constructs/storage/platform-key';
import { SecureBucket } from '../constructs/storage/secure-bucket';

export interface BillingStackProps extends StackProps {
  readonly config: SdeConfig;
  /** When the monthly job runs. @default 03:00 UTC on the 1st of each month (within Athena's 45-day history) */
  readonly schedule?: events.Schedule;
}

/**
 * Monthly statements on AWS: the billing key, an encrypted statements bucket with its own
 * access-log sink, a dead-letter queue, and the monthly BillingJob (a scheduled function
 * that prices each project workgroup's Athena usage with the tiers in platform.yaml and
 * writes CSV and HTML statements under `billing/`).
 */
export class BillingStack extends Stack {
  /** Encrypts statements, logs and the dead-letter queue (billing data, no health data). */
  readonly key: kms.Key;
  readonly accessLogs: s3.Bucket;
  readonly bucket: s3.Bucket;
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  readonly job: BillingJob;

  constructor(scope: Construct, id: string, props: BillingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { platform } = config;

    this.key = new PlatformKey(this, 'BillingKey', {
      alias: `alias/${platform.name}/billing`,
      description: `${platform.displayName}: encrypts billing statements, the billing job's logs and its dead-letter queue`,
    }).key;
    this.accessLogs = new AccessLogBucket(this, 'BillingAccessLogs', { retentionDays: platform.retention.accessLogsDays }).bucket;
    this.bucket = new SecureBucket(this, 'Statements', {
      encryptionKey: this.key,
      accessLogsBucket: this.accessLogs,
      accessLogsPrefix: 'billing/',
      infrequentAccessAfterDays: 90,
    }).bucket;
    this.deadLetterQueue = new PlatformDeadLetterQueue(this, 'DeadLetterQueue', { encryptionKey: this.key });

    // 'Default': the job's function and schedule keep the logical ids they had when this
    // stack built them itself, so moving them into a construct replaces nothing deployed.
    this.job = new BillingJob(this, 'Default', {
      platformName: platform.name,
      inputs: billingInputs(config),
      workgroupNamePattern: projectWorkgroupNamePattern(config),
      statementsBucket: this.bucket,
      key: this.key,
      deadLetterQueue: this.deadLetterQueue,
      schedule: props.schedule,
    });

    new CfnOutput(this, 'BillingBucketName', { value: this.bucket.bucketName });
  }
}

/** The billing stack as createStacks would add it: `<platform>-billing`. */
export function createBillingStack(scope: Construct, config: SdeConfig, options: Omit<BillingStackProps, 'config'> = {}): BillingStack {
  return new BillingStack(scope, 'Billing', {
    stackName: stackName(config, 'billing'),
    description: `${config.platform.displayName}: monthly billing statements (scheduled Lambda over Athena query metadata, encrypted statements bucket)`,
    ...options,
    config,
  });
}
