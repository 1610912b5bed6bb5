import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface EncryptedLogGroupProps {
  /** The log group's name: fixed, so the key policy can name exactly this group. */
  readonly logGroupName: string;
  /** Customer-managed key of this app (its key policy is extended for this group). */
  readonly encryptionKey: kms.IKey;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly retention?: logs.RetentionDays;
  /** The key policy statement's Sid, where a reader of the key policy needs one. @default - none */
  readonly keyStatementSid?: string;
}

/**
 * A CloudWatch Logs group encrypted with a customer-managed key, kept for a set time and
 * retained when the stack is deleted (operational logs are evidence of what ran).
 *
 * CloudWatch Logs can use the key only for this one group: the key policy statement is
 * conditioned on the group's ARN as encryption context, so another log group in the
 * account cannot be pointed at the key.
 */
export class EncryptedLogGroup extends Construct {
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroupArn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: props.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const added = props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: props.keyStatementSid,
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn } },
      }),
    );
    // An imported key's policy cannot be extended: the group could then never write.
    if (!added.statementAdded) throw new Error(`EncryptedLogGroup ${props.logGroupName}: the key must be a kms.Key of this app, whose policy it can extend`);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.logGroupName,
      encryptionKey: props.encryptionKey,
      retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
