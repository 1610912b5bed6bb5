import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { EncryptedLogGroup } from '../shared/encrypted-log-group';
import type { PlatformDeadLetterQueue } from '../shared/platform-dead-letter-queue';
import { ManagedPolicyRole } from '../shared/managed-policy-role';

/** The largest Distributed Map concurrency Step Functions allows. */
export const MAX_MAP_CONCURRENCY = 10_000;

export interface IngestionStateMachineProps {
  /** Reads the landed object's metadata, checks for an existing manifest, plans byte-range chunks. */
  readonly planFunction: lambda.IFunction;
  /** Processes one chunk: parse, validate, opt-out, de-identify, write its Parquet part. */
  readonly chunkFunction: lambda.IFunction;
  /** Commits the batch: publishes its rows as one object (atomic) and writes the one manifest. */
  readonly commitFunction: lambda.IFunction;
  /** Failures are sent here (and the execution then fails, for the ExecutionsFailed alarm). */
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  /** Chunks processed at once. Keep it at or below the chunk function's reserved concurrency. */
  readonly maxConcurrency: number;
  /** Execution log group name; `/aws/vendedlogs/states/...` keeps the account's log resource policy small. */
  readonly logGroupName: string;
  /** Encrypts the execution log group: a customer-managed key in the same stack. */
  readonly logKey: kms.Key;
  /** @default Duration.hours(6) */
  readonly timeout?: Duration;
}

/**
 * The ingestion workflow for one landed object, as a STANDARD state machine (exactly-once
 * state transitions, a year of execution history, and the only type that can run a
 * Distributed Map of long chunks):
 *
 *   Plan -> (already committed? done) -> Distributed Map over the chunks -> Commit
 *
 * Any failure (after retries of throttling and transient task errors) is sent to the
 * dead-letter queue with the object it concerns and the error, and the execution fails.
 * Execution logs record every state transition but no execution data, so object
 * metadata and error details stay in the execution history only.
 */
export class IngestionStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: ManagedPolicyRole;
  readonly logGroup: logs.LogGroup;
  readonly map: sfn.DistributedMap;

  constructor(scope: Construct, id: string, props: IngestionStateMachineProps) {
    super(scope, id);
    if (!Number.isInteger(props.maxConcurrency) || props.maxConcurrency < 1 || props.maxConcurrency > MAX_MAP_CONCURRENCY) {
      throw new Error(`IngestionStateMachine: maxConcurrency must be a whole number from 1 to ${MAX_MAP_CONCURRENCY} (got ${props.maxConcurrency})`);
    }

    const failed = new sfn.Fail(this, 'IngestionFailed', {
      error: 'IngestionFailed',
      cause: 'The landed object was not ingested; the failure is in the dead-letter queue.',
    });
    const reportFailure = new tasks.SqsSendMessage(this, 'SendFailureToDeadLetterQueue', {
      queue: props.deadLetterQueue.queue,
      messageBody: sfn.TaskInput.fromObject({
        execution: sfn.JsonPath.executionId,
        bucket: sfn.JsonPath.stringAt('$.detail.bucket.name'),
        object: sfn.JsonPath.objectAt('$.detail.object'),
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
      comment: 'Head the object, skip it if its manifest exists, split it into byte-range chunks',
      payload: sfn.TaskInput.fromObject({
        bucket: sfn.JsonPath.stringAt('$.detail.bucket.name'),
        object: sfn.JsonPath.objectAt('$.detail.object'),
        // When S3 created the object: the same on every re-delivery, so a batch keeps one load date.
        time: sfn.JsonPath.stringAt('$.time'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.plan',
    });
    plan.addRetry(throttled);
    plan.addCatch(reportFailure, catchAll);

    const chunk = new tasks.LambdaInvoke(this, 'ProcessChunk', {
      lambdaFunction: props.chunkFunction,
      comment: 'Parse, validate, apply the opt-out, de-identify and write one Parquet part',
      payloadResponseOnly: true,
    });
    chunk.addRetry(throttled);
    // A chunk writes a part under a key fixed by the batch and chunk, so a retry overwrites
    // rather than duplicates; two retries absorb a transient failure of the function itself.
    chunk.addRetry({ errors: ['States.TaskFailed', 'States.Timeout'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 2 });

    this.map = new sfn.DistributedMap(this, 'Chunks', {
      comment: 'One child execution per byte-range chunk; any failed chunk fails the batch',
      // Items are chunk numbers only (the plan itself is in S3), so even a file of thousands
      // of chunks stays far inside the 256 KiB state payload limit.
      itemsPath: '$.plan.chunks',
      itemSelector: {
        batch: sfn.JsonPath.objectAt('$.plan.batch'),
        chunk: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      },
      maxConcurrency: props.maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      toleratedFailurePercentage: 0,
      label: 'IngestChunks',
      // Each chunk stores its result in S3 and Commit reads them there: nothing to carry.
      resultSelector: { chunks: sfn.JsonPath.stringAt('States.ArrayLength($)') },
      resultPath: '$.map',
    });
    this.map.itemProcessor(chunk);
    this.map.addCatch(reportFailure, catchAll);

    const commit = new tasks.LambdaInvoke(this, 'Commit', {
      lambdaFunction: props.commitFunction,
      comment: 'Publish the batch as one Parquet object (parts joined) and write the batch manifest',
      payload: sfn.TaskInput.fromObject({ batch: sfn.JsonPath.objectAt('$.plan.batch') }),
      payloadResponseOnly: true,
      resultPath: '$.manifest',
    });
    commit.addRetry(throttled);
    commit.addRetry({ errors: ['States.TaskFailed'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 2 });
    commit.addCatch(reportFailure, catchAll);

    const definition = plan.next(
      new sfn.Choice(this, 'AlreadyCommitted?')
        .when(
          sfn.Condition.booleanEquals('$.plan.skip', true),
          new sfn.Succeed(this, 'AlreadyIngested', { comment: 'Re-delivered event or re-landed identical object: nothing to do' }),
        )
        .otherwise(this.map.next(commit).next(new sfn.Succeed(this, 'Committed'))),
    );

    this.logGroup = new EncryptedLogGroup(this, 'Logs', { logGroupName: props.logGroupName, encryptionKey: props.logKey }).logGroup;
    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Runs the ingestion workflow: invokes the three ingestion functions, its own chunk executions, and sends failures to the dead-letter queue.',
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: this.role,
      timeout: props.timeout ?? Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Ingests one landed object: plan, chunks in parallel, atomic commit',
    });

    Validations.of(this.role.policy.node.defaultChild as iam.CfnManagedPolicy).acknowledge(
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
    // The Step Functions L2 adds the Distributed Map's permissions as its own inline policy.
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
    if (mapPolicy === undefined) throw new Error('IngestionStateMachine: aws-cdk-lib no longer creates DistributedMapPolicy; review its acknowledgements');
    const inline =
      "Created by the Step Functions construct for the Distributed Map: it only starts, describes, stops and redrives this state machine's own child executions; every other permission is in the managed policy.";
    const executions =
      'Child executions of this state machine only (Distributed Map runs name them at run time); the ARN pins the state machine, and for redrive its IngestChunks map label.';
    Validations.of(mapPolicy).acknowledge(
      { id: 'HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy', reason: inline },
      { id: 'NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy', reason: inline },
    );
    // cdk-nag names each wildcard resource by its flattened value, known once resolved.
    let done = false;
    this.node.addValidation({
      validate: () => {
        if (!done) {
          const document = this.stateMachine.stack.resolve(mapPolicy.policyDocument) as { Statement: { Resource: unknown }[] };
          const wildcards = document.Statement.flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]))
            .map((r) => flattenCfnReference(r))
            .filter((r) => r.includes('*'));
          Validations.of(mapPolicy).acknowledge(...wildcards.map((r) => ({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${r}]`, reason: executions })));
          done = true;
        }
        return [];
      },
    });
  }
}
