import * as path from 'node:path';
import { CfnOutput, CfnResource, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { billingInputs } from '../billing/inputs';
import type { SdeConfig } from '../config/model';
import { acknowledgeOnceResolved } from '../constructs/shared/acknowledge-once-resolved';
import { AccessLogBucket } from '../constructs/storage/access-log-bucket';
import { stageBundledJson } from '../constructs/shared/bundled-json';
import { PlatformDeadLetterQueue } from '../constructs/shared/platform-dead-letter-queue';
import { INGESTION_CONFIG_FILE, PlatformFunction } from '../constructs/shared/platform-function';
import { PlatformKey } from '../constructs/storage/platform-key';
import { SecureBucket } from '../constructs/storage/secure-bucket';
import { projectWorkgroupNamePattern, stackName } from '../config/naming';

const HANDLER = path.resolve(__dirname, '..', '..', 'lambdas', 'billing', 'monthly-statements.ts');

/** Where statements are written in the billing bucket: `billing/<YYYY-MM>/<project>.csv|html`. */
export const BILLING_PREFIX = 'billing/';

export interface BillingStackProps extends StackProps {
  readonly config: SdeConfig;
  /** When the monthly job runs. @default 03:00 UTC on the 1st of each month (within Athena's 45-day history) */
  readonly schedule?: events.Schedule;
}

/**
 * Monthly statements on AWS: a scheduled Lambda (lambdas/billing) reads each project
 * workgroup's Athena query metadata, prices it with the tiers in platform.yaml and
 * writes CSV and HTML statements to an encrypted billing bucket. The billing inputs
 * (tiers, organisations, periods, budgets, workgroup names: no researcher ARNs) are
 * bundled with the function, so they change only through a reviewed deployment.
 *
 * The function (the same secure-by-default function construct as ingestion: its own
 * KMS-encrypted log group, one managed policy, reserved concurrency, tracing, a
 * dead-letter queue) may list and read query executions of the project workgroups, read
 * the project budgets' spend, and write under `billing/` only.
 */
export class BillingStack extends Stack {
  /** Encrypts statements, logs and the dead-letter queue (billing data, no health data). */
  readonly key: kms.Key;
  readonly accessLogs: s3.Bucket;
  readonly bucket: s3.Bucket;
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  readonly job: PlatformFunction;
  readonly rule: events.Rule;

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

    const inputs = billingInputs(config);
    this.job = new PlatformFunction(this, 'MonthlyStatements', {
      entry: HANDLER,
      description: 'Monthly billing: Athena query metadata of each project workgroup, priced by tier, written as statements',
      logGroupName: `/${platform.name}/billing/monthly-statements`,
      logKey: this.key,
      serviceName: 'billing',
      metricsNamespace: `${platform.name}/billing`,
      configFile: writeBillingInputs(inputs),
      environment: { BILLING_BUCKET: this.bucket.bucketName, BILLING_PREFIX, BILLING_INPUTS_FILE: INGESTION_CONFIG_FILE, BILLING_ACCOUNT_ID: this.account },
      // One run a month: never two at once writing the same statements.
      reservedConcurrentExecutions: 1,
      timeout: Duration.minutes(10),
      deadLetterQueue: this.deadLetterQueue,
    });

    // Query metadata of the project workgroups only (not the security team's, whose queries
    // are not billed), and the project budgets (named after the workgroups by
    // ProjectWorkspace), whose actual spend feeds each statement's budget check. By name
    // pattern: a list of every project's ARNs would outgrow a managed policy at region scale.
    if (inputs.projects.length > 0) {
      const pattern = projectWorkgroupNamePattern(config);
      const workgroups = this.formatArn({ service: 'athena', resource: 'workgroup', resourceName: pattern });
      const budgets = this.formatArn({ service: 'budgets', region: '', resource: 'budget', resourceName: pattern });
      const queries = iam.Grant.addToPrincipal({
        grantee: this.job,
        actions: ['athena:ListQueryExecutions', 'athena:BatchGetQueryExecution'],
        resourceArns: [workgroups],
      });
      const spend = iam.Grant.addToPrincipal({ grantee: this.job, actions: ['budgets:ViewBudget'], resourceArns: [budgets] });
      const why = (what: string) =>
        `The ${what} of the project workgroups only: every one is named ${pattern} (lib/config/naming.ts); the security team's workgroup and other budgets do not match.`;
      for (const [grant, arn, what] of [
        [queries, workgroups, 'query metadata'],
        [spend, budgets, 'budgets'],
      ] as const) {
        for (const statement of grant.principalStatements) {
          acknowledgeOnceResolved(this, this.job.role.policyHolding(statement).node.defaultChild as CfnResource, arn, (flattened) => ({
            id: `AwsSolutions::AwsSolutions-IAM5[Resource::${flattened}]`,
            reason: why(what),
          }));
        }
      }
    }
    this.job.grantObjects(
      this.bucket,
      ['s3:PutObject'],
      [`${BILLING_PREFIX}*`],
      'Statements are written per month and project (billing/<YYYY-MM>/<project>.csv|html): the month is known only at run time, so the prefix is the narrowest resource.',
    );
    this.job.grantKeyThroughS3(this.key);

    const ruleName = `${platform.name}-billing-monthly`;
    this.rule = new events.Rule(this, 'Monthly', {
      ruleName,
      description: 'Bills the month that has just ended',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '3', day: '1' }),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.job.alias, { deadLetterQueue: this.deadLetterQueue.queue, retryAttempts: 2, maxEventAge: Duration.hours(6) }),
    );
    // The ARN built from the rule's fixed name, not its token: the key (which encrypts the
    // function's logs) would otherwise depend on the rule, which depends on the function.
    this.deadLetterQueue.allowEventBridgeRule(this.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName }));

    new CfnOutput(this, 'BillingBucketName', { value: this.bucket.bucketName });
  }
}

/** The billing inputs as a JSON file for the function's asset; named by content so synth is repeatable. */
function writeBillingInputs(inputs: ReturnType<typeof billingInputs>): string {
  return stageBundledJson('sde-billing-inputs', inputs);
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
