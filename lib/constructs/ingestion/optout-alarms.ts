import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface OptOutAlarmsProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Where alarms go (ingestion's alert topic). */
  readonly topic: sns.ITopic;
  /** The plan function's metrics: namespace and Powertools `service` dimension. */
  readonly metricsNamespace: string;
  readonly planServiceName: string;
  /** Alarm when the list last seen is older than this (platform.yaml nationalDataOptOut.maxListAgeDays). */
  readonly maxListAgeDays: number;
}

/**
 * Tells people when a later opt-out did not take effect: a failed or timed-out run, and a
 * list older than the configured freshness. The freshness alarm is fed by every plan run
 * (daily at least), so no report for a day (the workflow not running at all) also alarms.
 */
export class OptOutAlarms extends Construct {
  readonly executionsFailed: cloudwatch.Alarm;
  readonly executionsTimedOut: cloudwatch.Alarm;
  readonly listStale: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OptOutAlarmsProps) {
    super(scope, id);
    if (!Number.isInteger(props.maxListAgeDays) || props.maxListAgeDays < 1)
      throw new Error('OptOutAlarms: maxListAgeDays must be a whole number of days, at least 1');
    const action = new cwActions.SnsAction(props.topic);
    const period = Duration.minutes(5);
    const alarm = (alarmId: string, options: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, alarmId, options);
      a.addAlarmAction(action);
      return a;
    };
    this.executionsFailed = alarm('ExecutionsFailed', {
      alarmDescription:
        'Opt-out: a run failed, so people who opted out may still be in curated data. See the dead-letter queue; the next run (daily, or start one) resumes it.',
      metric: props.stateMachine.metricFailed({ period, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.executionsTimedOut = alarm('ExecutionsTimedOut', {
      alarmDescription:
        'Opt-out: a run timed out before every batch was rewritten. The next run resumes it; raise the timeout or the Map concurrency if it recurs.',
      metric: props.stateMachine.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.listStale = alarm('ListStale', {
      alarmDescription: `Opt-out: the national data opt-out list is older than ${props.maxListAgeDays} days, or no opt-out run reported for a day. Upload the current list to the landing bucket.`,
      metric: new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName: 'OptOutListAgeHours',
        dimensionsMap: { service: props.planServiceName },
        period: Duration.days(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: props.maxListAgeDays * 24,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No report is itself a fault: the daily run did not happen.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}
