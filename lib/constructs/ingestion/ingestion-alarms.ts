import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { allowAlarmsToPublishWith } from '../shared/key-policy';

export interface IngestionAlarmsProps {
  readonly deadLetterQueue: sqs.IQueue;
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Where alarms go: the security/operations alert topic (the audit stack's). When absent,
   * a KMS-encrypted topic is created here for `emails`. @default - a new topic
   */
  readonly topic?: sns.ITopic;
  /** Encrypts a new topic (required without `topic`): a customer-managed key in the same stack. @default - none */
  readonly encryptionKey?: kms.Key;
  /** Subscribed to a new topic. @default - none */
  readonly emails?: readonly string[];
}

/**
 * Tells people at once when a landed file was not ingested: on any message in the
 * dead-letter queue (a failed batch or an undeliverable event) and on any failed or
 * timed-out execution (which also covers a failure that could not reach the queue).
 * Quiet when nothing happens (missing data is not breaching).
 */
export class IngestionAlarms extends Construct {
  readonly topic: sns.ITopic;
  readonly deadLetterMessages: cloudwatch.Alarm;
  readonly executionsFailed: cloudwatch.Alarm;
  readonly executionsTimedOut: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: IngestionAlarmsProps) {
    super(scope, id);
    this.topic = props.topic ?? this.newTopic(props);
    const action = new cwActions.SnsAction(this.topic);
    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      return a;
    };

    this.deadLetterMessages = alarm(
      'DeadLetterMessages',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      'Ingestion: a landed file was not ingested (failed batch or undeliverable event). Read the dead-letter queue: each message names the object and the error.',
    );
    this.executionsFailed = alarm(
      'ExecutionsFailed',
      props.stateMachine.metricFailed({ period, statistic: cloudwatch.Stats.SUM }),
      'Ingestion: an ingestion execution failed. See the Step Functions execution history and the dead-letter queue.',
    );
    this.executionsTimedOut = alarm(
      'ExecutionsTimedOut',
      props.stateMachine.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM }),
      'Ingestion: an ingestion execution timed out before committing; its object was not ingested. Re-land it or raise the timeout.',
    );
  }

  private newTopic(props: IngestionAlarmsProps): sns.Topic {
    if (props.encryptionKey === undefined) throw new Error('IngestionAlarms: give a topic, or an encryption key for a new one');
    // CloudWatch publishes to an encrypted topic only if the key lets it make data keys.
    allowAlarmsToPublishWith(this, props.encryptionKey);
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Secure Data Environment ingestion alerts',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }
}
