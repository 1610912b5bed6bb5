import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { approvalWindow } from '../../config/model';
import type { ProjectConfig } from '../../config/schema';

/** Where the daily check reports a deployed project past its period. */
export const APPROVAL_METRIC_NAMESPACE = 'SDE/Governance';
export const PAST_PERIOD_METRIC = 'ProjectPastApprovedPeriod';

export interface ApprovalPeriodAlarmProps {
  /** The deployed project. */
  readonly project: ProjectConfig;
  /** Where the alarm goes (the security team's topic). @default - no action: the alarm shows in CloudWatch only */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The daily check that a deployed project is still within its approval. Access already
 * stops on the end date by itself (the role's trust and policy carry aws:CurrentTime), but
 * the role and its Lake Formation grants stay deployed until the config says the project
 * has ended and the stacks are deployed again. So an EventBridge Scheduler schedule that
 * starts the day after the period ends reports the project once a day (a CloudWatch metric,
 * written by the scheduler itself: no function to maintain), and an alarm tells the
 * security team, until a deployment removes the project, and the schedule and the alarm with it.
 */
export class ApprovalPeriodAlarm extends Construct {
  readonly alarm: cloudwatch.Alarm;
  readonly schedule: scheduler.CfnSchedule;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ApprovalPeriodAlarmProps) {
    super(scope, id);
    const { project } = props;
    const stack = Stack.of(this);
    const window = approvalWindow(project);

    this.role = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler reports project ${project.id} once a day if it is deployed past its approved period.`,
      // Only schedules of this account (the confused deputy).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': stack.account } }),
    });
    const policy = new iam.ManagedPolicy(this, 'SchedulerPolicy', {
      description: 'Write the approval-period metric, in its own namespace only.',
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': APPROVAL_METRIC_NAMESPACE } },
        }),
      ],
    });
    Validations.of(policy.node.defaultChild as iam.CfnManagedPolicy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:PutMetricData has no resource-level permissions; the cloudwatch:namespace condition holds it to ${APPROVAL_METRIC_NAMESPACE}.`,
    });

    const dimensions = { Project: project.id };
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: `Daily, from the day after project ${project.id}'s approved period (ended ${project.period.end}): report it while it is still deployed.`,
      scheduleExpression: 'cron(0 7 * * ? *)',
      scheduleExpressionTimezone: 'UTC',
      startDate: window.until,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: `arn:${stack.partition}:scheduler:::aws-sdk:cloudwatch:putMetricData`,
        roleArn: this.role.roleArn,
        input: JSON.stringify({
          Namespace: APPROVAL_METRIC_NAMESPACE,
          MetricData: [
            { MetricName: PAST_PERIOD_METRIC, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })), Value: 1, Unit: 'Count' },
          ],
        }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription:
        `Project ${project.id}'s approved period ended on ${project.period.end}. Its role already refuses every call (aws:CurrentTime), ` +
        `but the role and its Lake Formation grants are still deployed: set status: expired (or record an extension) in projects/${project.id}.yaml and deploy.`,
      metric: new cloudwatch.Metric({
        namespace: APPROVAL_METRIC_NAMESPACE,
        metricName: PAST_PERIOD_METRIC,
        dimensionsMap: dimensions,
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.days(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
  }
}
