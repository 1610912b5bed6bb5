import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { PlatformDeadLetterQueue } from '../shared/platform-dead-letter-queue';
import { ManagedPolicyRole } from '../shared/managed-policy-role';

export interface IngestionTriggerProps {
  /** The rule's name: fixed, so the dead-letter key policy can name exactly this rule. */
  readonly ruleName: string;
  /** The landing bucket (it must send its events to EventBridge, as SecureBucket does). */
  readonly landingBucket: s3.IBucket;
  /** Dataset names: an object under `<dataset>/` starts a batch; anything else is ignored. */
  readonly datasets: readonly string[];
  readonly stateMachine: sfn.IStateMachine;
  /** Events EventBridge could not deliver after its retries go here. */
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  /** @default 8 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
}

/**
 * Starts one ingestion execution per object created under a dataset's prefix of the
 * landing bucket (S3 -> EventBridge -> Step Functions: no notification-handler Lambda and
 * no bucket notification configuration to overwrite). An event that cannot be delivered,
 * for example while the state machine is throttled, is retried for a day and then lands
 * in the dead-letter queue, so a landed file is never silently skipped.
 */
export class IngestionTrigger extends Construct {
  readonly rule: events.Rule;
  readonly role: ManagedPolicyRole;

  constructor(scope: Construct, id: string, props: IngestionTriggerProps) {
    super(scope, id);
    if (props.datasets.length === 0) throw new Error('IngestionTrigger: name at least one dataset');
    for (const d of props.datasets) {
      // A prefix must end at a folder boundary: `gp` must not also match `gp_events/`.
      if (d.length === 0 || d.includes('/')) throw new Error(`IngestionTrigger: "${d}" is not a dataset name (no slashes, not empty)`);
    }

    this.rule = new events.Rule(this, 'Rule', {
      ruleName: props.ruleName,
      description: `Starts ingestion when a supplier file lands under a dataset prefix (${props.datasets.join(', ')})`.slice(0, 512),
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.landingBucket.bucketName] },
          object: { key: props.datasets.map((d) => ({ prefix: `${d}/` })) },
        },
      },
    });

    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `Lets EventBridge rule ${props.ruleName} start ingestion executions (and nothing else).`,
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        role: this.role,
        deadLetterQueue: props.deadLetterQueue.queue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(24),
      }),
    );
    // Built from the name, not the rule's attribute: the key encrypts the queue the rule
    // targets, so a reference would make key, queue and rule depend on each other.
    props.deadLetterQueue.allowEventBridgeRule(
      Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: props.ruleName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    );
  }
}
