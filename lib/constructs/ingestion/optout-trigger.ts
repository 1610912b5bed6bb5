import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { PlatformDeadLetterQueue } from '../shared/platform-dead-letter-queue';
import { ManagedPolicyRole } from '../shared/managed-policy-role';

export interface OptOutTriggerProps {
  /** Rule names (fixed, so the dead-letter key policy can name exactly these rules): `<prefix>-list-landed`, `<prefix>-daily`. */
  readonly ruleNamePrefix: string;
  /** The landing bucket (it sends its events to EventBridge, as SecureBucket does). */
  readonly landingBucket: s3.IBucket;
  /** The list's key in the landing bucket. */
  readonly listKey: string;
  readonly stateMachine: sfn.IStateMachine;
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  /** @default events.Schedule.cron({ minute: '0', hour: '5' }): daily, 05:00 UTC */
  readonly schedule?: events.Schedule;
}

/**
 * Starts the opt-out workflow when a new list lands, and once a day whatever happens: the
 * daily run finishes a run a failure left unfinished, applies a list whose event was lost,
 * and publishes the list's age for the freshness alarm (a run of a list applied already
 * does nothing else). Undeliverable events go to the dead-letter queue after a day of retries.
 */
export class OptOutTrigger extends Construct {
  readonly listLanded: events.Rule;
  readonly daily: events.Rule;
  readonly role: ManagedPolicyRole;

  constructor(scope: Construct, id: string, props: OptOutTriggerProps) {
    super(scope, id);
    if (props.listKey.length === 0 || props.listKey.startsWith('/')) throw new Error('OptOutTrigger: listKey must be an object key in the landing bucket');
    const names = { landed: `${props.ruleNamePrefix}-list-landed`, daily: `${props.ruleNamePrefix}-daily` };
    this.listLanded = new events.Rule(this, 'ListLanded', {
      ruleName: names.landed,
      description: 'Applies a new national data opt-out list to curated data when it lands',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [props.landingBucket.bucketName] }, object: { key: [props.listKey] } },
      },
    });
    this.daily = new events.Rule(this, 'Daily', {
      ruleName: names.daily,
      description: 'Daily opt-out run: finishes an unfinished run, applies a missed list, reports the list age',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '5' }),
    });
    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'Lets the opt-out EventBridge rules start opt-out executions (and nothing else).',
    });
    for (const [rule, name] of [
      [this.listLanded, names.landed],
      [this.daily, names.daily],
    ] as const) {
      rule.addTarget(
        new targets.SfnStateMachine(props.stateMachine, {
          role: this.role,
          deadLetterQueue: props.deadLetterQueue.queue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
      );
      props.deadLetterQueue.allowEventBridgeRule(
        Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      );
    }
  }
}
