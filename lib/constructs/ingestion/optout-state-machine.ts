import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { EncryptedLogGroup } from '../shared/encrypted-log-group';
import type { PlatformDeadLetterQueue } from '../shared/platform-dead-letter-queue';
import { ManagedPolicyRole } from '../shared/managed-policy-role';
import { MAX_MAP_CONCURRENCY } from './ingestion-state-machine';

export interface OptOutStateMachineProps {
  /** Plans the current list against every curated batch (or finds it applied already). */
  readonly planFunction: lambda.IFunction;
  /** Rewrites one batch without the listed people's rows and updates its manifest. */
  readonly rewriteFunction: lambda.IFunction;
  /** Checks every batch recorded the list, writes the run's record and public trace. */
  readonly finishFunction: lambda.IFunction;
  /** The curated bucket: the Map reads its items from `_optout/runs/` there. */
  readonly curatedBucket: s3.IBucket;
  /** The key the curated bucket's objects are encrypted with (read through S3 only). */
  readonly curatedKey: kms.IKey;
  /** Failures are sent here (and the execution then fails, for the ExecutionsFailed alarm). */
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  /** Batches rewritten at once. Keep it at or below the rewrite function's reserved concurrency. */
  readonly maxConcurrency: number;
  readonly logGroupName: string;
  readonly logKey: kms.Key;
  /** @default Duration.hours(12) */
  readonly timeout?: Duration;
}

/** Where the Map's items are (lib/optout/layout.ts `runItemsKey`): the only objects the state machine itself reads. */
export const OPTOUT_ITEMS_PATTERN = '_optout/runs/*/items.json';

/**
 * The later opt-out workflow, run when a new list lands and once a day (STANDARD: exactly
 * once state transitions, a year of history, Distributed Map):
 *
 *   Plan (again while indexes are still being built) -> (applied already, or nobody found? finish or stop)
 *     -> Distributed Map of batch rewrites -> Finish
 *
 * Items are read from S3 (dataset and batch id per item: no pseudonym ever enters a state).
 * Any failure after retries goes to the dead-letter queue and fails the execution; a new
 * execution resumes the same list where it stopped (each batch is idempotent per list).
 * Execution logs carry no execution data.
 */
export class OptOutStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: ManagedPolicyRole;
  readonly logGroup: logs.LogGroup;
  readonly map: sfn.DistributedMap;

  constructor(scope: Construct, id: string, props: OptOutStateMachineProps) {
    super(scope, id);
    if (!Number.isInteger(props.maxConcurrency) || props.maxConcurrency < 1 || props.maxConcurrency > MAX_MAP_CONCURRENCY) {
      throw new Error(`OptOutStateMachine: maxConcurrency must be a whole number from 1 to ${MAX_MAP_CONCURRENCY} (got ${props.maxConcurrency})`);
    }
    const failed = new sfn.Fail(this, 'OptOutFailed', {
      error: 'OptOutFailed',
      cause: 'The opt-out list was not fully applied; the failure is in the dead-letter queue. A new execution resumes it.',
    });
    const reportFailure = new tasks.SqsSendMessage(this, 'SendFailureToDeadLetterQueue', {
      queue: props.deadLetterQueue.queue,
      messageBody: sfn.TaskInput.fromObject({
        execution: sfn.JsonPath.executionId,
        workflow: 'national-data-opt-out',
        error: sfn.JsonPath.stringAt('$.failure.Error'),
        cause: sfn.JsonPath.stringAt('$.failure.Cause'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    }).next(failed);
    const catchAll = { errors: [sfn.Errors.ALL], resultPath: '$.failure' };
    const throttled = {
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      jitterStrategy: sfn.JitterType.FULL,
    };

    const plan = new tasks.LambdaInvoke(this, 'Plan', {
      lambdaFunction: props.planFunction,
      comment: 'Match the current list against every batch index; refuse a list above the configured share',
      // No payload: the function gets the execution's input, {"override": true} when started by
      // hand to apply a list above the share, an EventBridge event otherwise (read for nothing else).
      payloadResponseOnly: true,
      resultPath: '$.plan',
    });
    plan.addRetry(throttled);
    plan.addCatch(reportFailure, catchAll);

    const rewrite = new tasks.LambdaInvoke(this, 'RewriteBatch', {
      lambdaFunction: props.rewriteFunction,
      comment: 'Replace one batch object without the listed rows (conditional write), then its manifest',
      payloadResponseOnly: true,
    });
    rewrite.addRetry(throttled);
    // Idempotent per batch and list: a retry finds the manifest or the intent and finishes the same work.
    rewrite.addRetry({ errors: ['States.TaskFailed', 'States.Timeout'], interval: Duration.seconds(10), backoffRate: 2, maxAttempts: 2 });

    this.map = new sfn.DistributedMap(this, 'Batches', {
      comment: 'One child execution per affected batch; any failed batch fails the run (a new run resumes it)',
      itemReader: new sfn.S3JsonItemReader({ bucketNamePath: sfn.JsonPath.stringAt('$.plan.bucket'), key: sfn.JsonPath.stringAt('$.plan.itemsKey') }),
      maxConcurrency: props.maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      toleratedFailurePercentage: 0,
      label: 'OptOutBatches',
      resultSelector: { batches: sfn.JsonPath.stringAt('States.ArrayLength($)') },
      resultPath: '$.map',
    });
    this.map.itemProcessor(rewrite);
    this.map.addCatch(reportFailure, catchAll);

    const finish = new tasks.LambdaInvoke(this, 'Finish', {
      lambdaFunction: props.finishFunction,
      comment: "Check every planned batch records the list; write the run's record and its public trace (counts only)",
      payload: sfn.TaskInput.fromObject({ listSha256: sfn.JsonPath.stringAt('$.plan.listSha256') }),
      payloadResponseOnly: true,
      resultPath: '$.applied',
    });
    finish.addRetry(throttled);
    finish.addRetry({ errors: ['States.TaskFailed'], interval: Duration.seconds(10), backoffRate: 2, maxAttempts: 2 });
    finish.addCatch(reportFailure, catchAll);
    const done = new sfn.Succeed(this, 'Applied');

    const definition = plan.next(
      new sfn.Choice(this, 'AppliedAlready?')
        .when(
          sfn.Condition.stringEquals('$.plan.status', 'already-applied'),
          new sfn.Succeed(this, 'AlreadyApplied', { comment: 'This list was applied before: nothing to do' }),
        )
        // A first run over many batches builds their indexes over several plan invocations.
        .when(sfn.Condition.stringEquals('$.plan.status', 'indexing'), plan)
        .when(sfn.Condition.numberEquals('$.plan.batches', 0), finish)
        .otherwise(this.map.next(finish)),
    );
    finish.next(done);

    this.logGroup = new EncryptedLogGroup(this, 'Logs', { logGroupName: props.logGroupName, encryptionKey: props.logKey }).logGroup;
    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description:
        'Runs the opt-out workflow: invokes its three functions, reads its Map items, runs its own batch executions, sends failures to the dead-letter queue.',
    });
    // The Map's items: only the run folders' items.json, decrypted through S3 only.
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['s3:GetObject'], resourceArns: [props.curatedBucket.arnForObjects(OPTOUT_ITEMS_PATTERN)] });
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['kms:Decrypt'],
      resourceArns: [props.curatedKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: this.role,
      timeout: props.timeout ?? Duration.hours(12),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Applies a new national data opt-out list to curated data: plan, batch rewrites in parallel, finish',
    });

    const rolePolicy = this.role.policy.node.defaultChild as iam.CfnManagedPolicy;
    Validations.of(rolePolicy).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only X-Ray trace writes and the CloudWatch Logs delivery actions Step Functions needs for execution logging, which IAM cannot scope to a resource; function invokes name exact aliases.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'Granted by the SQS send task to encrypt failure messages: only on the ingestion key (its ARN is the resource), which encrypts no health data; the two actions it matches both make data keys.',
      },
    );
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
    if (mapPolicy === undefined) throw new Error('OptOutStateMachine: aws-cdk-lib no longer creates DistributedMapPolicy; review its acknowledgements');
    const inline =
      "Created by the Step Functions construct for the Distributed Map: it only starts, describes, stops and redrives this state machine's own child executions; every other permission is in the managed policy.";
    Validations.of(mapPolicy).acknowledge(
      { id: 'HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy', reason: inline },
      { id: 'NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy', reason: inline },
    );
    const reasons = new Map<iam.CfnPolicy | iam.CfnManagedPolicy, string>([
      [
        mapPolicy,
        'Child executions of this state machine only (Distributed Map runs name them at run time); the ARN pins the state machine, and for redrive its OptOutBatches map label.',
      ],
      [
        rolePolicy,
        "The Map's items only: items.json in each run's folder under the curated bucket's _optout/runs/ (outside every table location), named by the list's SHA-256 at run time.",
      ],
    ]);
    let acknowledged = false;
    this.node.addValidation({
      validate: () => {
        if (!acknowledged) {
          for (const [policy, reason] of reasons) {
            const document = Stack.of(this).resolve(policy.policyDocument) as { Statement: { Resource: unknown }[] };
            const wildcards = document.Statement.flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]))
              .map((r) => flattenCfnReference(r))
              .filter((r) => r.includes('*') && r !== '*');
            if (wildcards.length > 0)
              Validations.of(policy).acknowledge(...wildcards.map((r) => ({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${r}]`, reason })));
          }
          acknowledged = true;
        }
        return [];
      },
    });
  }
}
