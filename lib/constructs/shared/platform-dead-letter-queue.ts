import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface PlatformDeadLetterQueueProps {
  /** Customer-managed key in the same stack: its policy is extended for EventBridge delivery. */
  readonly encryptionKey: kms.Key;
  /** How long a failure waits for someone to look at it. @default Duration.days(14) (the SQS maximum) */
  readonly retentionPeriod?: Duration;
}

/**
 * Where a job's failures wait to be looked at (ingestion, billing, the register
 * publisher): events EventBridge could not deliver, failed asynchronous invocations, and
 * batches a state machine gave up on. Messages name the object or the run and the error,
 * never row data. Encrypted with a customer-managed key, TLS-only, kept for the longest
 * time SQS allows, and retained on stack deletion (a failure must not vanish).
 */
export class PlatformDeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;
  private readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformDeadLetterQueueProps) {
    super(scope, id);
    this.key = props.encryptionKey;
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      // Fewer KMS calls; data keys are reused for five minutes at most.
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
      // Marks it as a dead-letter queue (Control Tower CT.SQS.PR.1 recognises a DLQ by an
      // allowAll/byQueue redrive-allow policy; allowAll is also SQS's default). A queue that
      // redrove into it by mistake would only raise the ingestion alarm.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets a principal put failures here, with exactly the actions that needs: sending, and
   * a data key from the queue's key. (`queue.grantSendMessages` also grants
   * kms:ReEncrypt* and kms:GenerateDataKey*, which sending does not use.)
   */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    const send = iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    const key = iam.Grant.addToPrincipal({ grantee, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.key.keyArn] });
    return send.combine(key);
  }

  /**
   * Lets one EventBridge rule put undeliverable events here. The queue policy that CDK adds
   * for the rule's target is not enough on an encrypted queue: EventBridge must also be
   * allowed to use the key, and only on behalf of that rule.
   */
  allowEventBridgeRule(ruleArn: string): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    );
  }
}
