import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * Adds to a key's policy the statement that refuses KMS grants except for AWS services
 * acting on a resource (S3, CloudTrail, Lambda ...). A grant is a second way to hand key
 * rights to a principal, outside the key policy a reviewer reads: with this statement
 * nobody can quietly give another principal decrypt or sign rights through one.
 */
export function denyGrantsExceptForAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}

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
