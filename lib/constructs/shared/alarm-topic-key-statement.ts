import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * Lets CloudWatch alarms publish to a topic encrypted with `key` (SNS needs data keys made
 * on the alarm's behalf), for alarms of this account and region only: without the source
 * conditions, an alarm in any account could have CloudWatch use the key (the confused
 * deputy). CloudWatch sends both keys when it acts for an alarm.
 */
export function allowAlarmsToPublishWith(scope: Construct, key: kms.IKey, sid?: string): iam.AddToResourcePolicyResult {
  const stack = Stack.of(scope);
  return key.addToResourcePolicy(
    new iam.PolicyStatement({
      ...(sid === undefined ? {} : { sid }),
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        },
      },
    }),
  );
}
