import * as path from 'node:path';
import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { BillingInputs } from '../../billing/inputs';
import { acknowledgeOnceResolved } from '../shared/acknowledge-once-resolved';
import { stageBundledJson } from '../shared/bundled-json';
import type { PlatformDeadLetterQueue } from '../shared/platform-dead-letter-queue';
import { INGESTION_CONFIG_FILE, PlatformFunction } from '../shared/platform-function';

/** The handler: the SDK clients handed to lib/billing/monthly-job.ts. */
const HANDLER = path.resolve(__dirname, '..', '..', '..', 'lambdas', 'billing', 'monthly-statements.ts');

/** Where statements are written in the statements bucket: `billing/<YYYY-MM>/<project>.csv|html`. */
export const BILLING_PREFIX = 'billing/';

export interface BillingJobProps {
  /** The platform's name (platform.yaml `name`): names the schedule, the log group and the metrics namespace. */
  readonly platformName: string;
  /** What the job prices (lib/billing/inputs.ts): tiers, organisations, periods, budgets, workgroups; no researcher ARNs. */
  readonly inputs: BillingInputs;
  /**
   * The project workgroups' name pattern (lib/config/naming.ts projectWorkgroupNamePattern):
   * the job reads their query metadata and the budgets of the same names.
   */
  readonly workgroupNamePattern: string;
  /** The bucket statements are written to (under `billing/` only). */
  readonly statementsBucket: s3.IBucket;
  /** Encrypts the statements bucket and the job's logs: a key of this stack, whose policy is extended for the log group. */
  readonly key: kms.Key;
  /** Receives failed runs and schedule events EventBridge could not deliver. */
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  /** When the job runs. @default 03:00 UTC on the 1st of each month (within Athena's 45-day query history) */
  readonly schedule?: events.Schedule;
}

/**
 * The monthly billing job: a PlatformFunction (lambdas/billing/monthly-statements.ts) that
 * reads each project workgroup's Athena query metadata and budget spend, prices it with
 * the tiers, and writes CSV and HTML statements; and the schedule that runs it.
 *
 * The billing inputs are bundled beside the code, so they change only through a reviewed
 * deployment. Its role may list and read query executions of the project workgroups, view
 * the project budgets (both by name pattern: a list of every project's ARNs would outgrow
 * a managed policy at region scale), and write under `billing/` only. One run at a time.
 */
export class BillingJob extends Construct {
  readonly function: PlatformFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: BillingJobProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { platformName, inputs } = props;

    this.function = new PlatformFunction(this, 'MonthlyStatements', {
      entry: HANDLER,
      description: 'Monthly billing: Athena query metadata of each project workgroup, priced by tier, written as statements',
      logGroupName: `/${platformName}/billing/monthly-statements`,
      logKey: props.key,
      serviceName: 'billing',
      metricsNamespace: `${platformName}/billing`,
      configFile: stageBundledJson('sde-billing-inputs', inputs),
      environment: {
        BILLING_BUCKET: props.statementsBucket.bucketName,
        BILLING_PREFIX,
        BILLING_INPUTS_FILE: INGESTION_CONFIG_FILE,
        BILLING_ACCOUNT_ID: stack.account,
      },
      // One run a month: never two at once writing the same statements.
      reservedConcurrentExecutions: 1,
      timeout: Duration.minutes(10),
      deadLetterQueue: props.deadLetterQueue,
      noVpcReason:
        'It calls only the Athena, Budgets and S3 APIs, under a role scoped to the project workgroups, their budgets and the billing/ prefix, and has no inbound path; a VPC would add network plumbing, not a control.',
    });

    if (inputs.projects.length > 0) this.grantProjectUsage(props.workgroupNamePattern);
    this.function.grantObjects(
      props.statementsBucket,
      ['s3:PutObject'],
      [`${BILLING_PREFIX}*`],
      'Statements are written per month and project (billing/<YYYY-MM>/<project>.csv|html): the month is known only at run time, so the prefix is the narrowest resource.',
    );
    this.function.grantKeyThroughS3(props.key);

    const ruleName = `${platformName}-billing-monthly`;
    this.rule = new events.Rule(this, 'Monthly', {
      ruleName,
      description: 'Bills the month that has just ended',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '3', day: '1' }),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.function.alias, { deadLetterQueue: props.deadLetterQueue.queue, retryAttempts: 2, maxEventAge: Duration.hours(6) }),
    );
    // The ARN built from the rule's fixed name, not its token: the key (which encrypts the
    // function's logs) would otherwise depend on the rule, which depends on the function.
    props.deadLetterQueue.allowEventBridgeRule(stack.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName }));
  }

  /**
   * Query metadata of the project workgroups only (not the security team's, whose queries
   * are not billed), and the project budgets (named after the workgroups by
   * ProjectWorkspace), whose actual spend feeds each statement's budget check.
   */
  private grantProjectUsage(pattern: string): void {
    const stack = Stack.of(this);
    const workgroups = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: pattern });
    const budgets = stack.formatArn({ service: 'budgets', region: '', resource: 'budget', resourceName: pattern });
    const queries = iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['athena:ListQueryExecutions', 'athena:BatchGetQueryExecution'],
      resourceArns: [workgroups],
    });
    const spend = iam.Grant.addToPrincipal({ grantee: this.function, actions: ['budgets:ViewBudget'], resourceArns: [budgets] });
    const why = (what: string) =>
      `The ${what} of the project workgroups only: every one is named ${pattern} (lib/config/naming.ts); the security team's workgroup and other budgets do not match.`;
    for (const [grant, arn, what] of [
      [queries, workgroups, 'query metadata'],
      [spend, budgets, 'budgets'],
    ] as const) {
      for (const statement of grant.principalStatements) {
        acknowledgeOnceResolved(this, this.function.role.policyHolding(statement).node.defaultChild as CfnResource, arn, (flattened) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${flattened}]`,
          reason: why(what),
        }));
      }
    }
  }
}
