import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AccessLogBucket } from '../../../lib/constructs/storage/access-log-bucket';
import { SecureBucket } from '../../../lib/constructs/storage/secure-bucket';
import { newSdeApp } from '../../../lib/app';

function build(props: { expireAfterDays?: number; infrequentAccessAfterDays?: number } = {}) {
  const stack = new Stack(newSdeApp(), 'Test');
  const key = new kms.Key(stack, 'Key');
  const logs = new AccessLogBucket(stack, 'Logs').bucket;
  const secure = new SecureBucket(stack, 'Data', { encryptionKey: key, accessLogsBucket: logs, ...props });
  const template = Template.fromStack(stack);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  return { template, dataId: logicalId(secure.bucket), logsId: logicalId(logs), keyId: stack.getLogicalId(key.node.defaultChild as never) };
}

function bucketProps(template: Template, logicalId: string): any {
  return template.toJSON().Resources[logicalId].Properties;
}

describe('SecureBucket: one assertion per security property', () => {
  const { template, dataId, logsId, keyId } = build({ expireAfterDays: 7 });
  const props = bucketProps(template, dataId);
  const policy = () => Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p: any) => p.Properties.Bucket.Ref === dataId) as any;

  test('encrypts with the customer-managed KMS key, with an S3 bucket key', () => {
    expect(props.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } } },
    ]);
  });

  test('blocks every kind of public access', () => {
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  test('disables ACLs (bucket owner enforced)', () => {
    expect(props.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  });

  test('keeps versions', () => {
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  test('has Object Lock switched on (legal holds possible)', () => {
    expect(props.ObjectLockEnabled).toBe(true);
  });

  test('writes server access logs to the log bucket', () => {
    expect(props.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'data/' });
  });

  test('sends object events to EventBridge without a custom-resource Lambda', () => {
    expect(props.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('expires objects, old versions and abandoned uploads', () => {
    expect(props.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        ExpirationInDays: 7,
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      }),
    ]);
  });

  test('is retained when the stack is deleted or the bucket replaced', () => {
    const resource = template.toJSON().Resources[dataId];
    expect([resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  test('refuses requests without TLS, and TLS older than 1.2', () => {
    const statements = policy().Properties.PolicyDocument.Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]),
    );
  });

  test('refuses uploads that ask for another key or for non-KMS encryption', () => {
    const statements = policy().Properties.PolicyDocument.Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'DenyUploadsNamingAnotherKmsKey',
          Effect: 'Deny',
          Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [keyId, 'Arn'] } } },
        }),
        expect.objectContaining({
          Sid: 'DenyUploadsAskingForNonKmsEncryption',
          Effect: 'Deny',
          Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
        }),
      ]),
    );
  });

  test('refuses uploads that ask for KMS without naming the key (S3 would use the AWS-managed aws/s3 key)', () => {
    const statements = policy().Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'DenyUploadsAskingForKmsWithoutTheKey',
        Effect: 'Deny',
        Action: 's3:PutObject',
        Condition: { StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' } },
      }),
    );
  });

  test('moves to infrequent access only when asked', () => {
    const withIa = build({ infrequentAccessAfterDays: 90 });
    expect(bucketProps(withIa.template, withIa.dataId).LifecycleConfiguration.Rules[0].Transitions).toEqual([
      { StorageClass: 'STANDARD_IA', TransitionInDays: 90 },
    ]);
    expect(props.LifecycleConfiguration.Rules[0].Transitions).toBeUndefined();
  });
});

describe('AccessLogBucket', () => {
  const { template, logsId } = build();
  const props = bucketProps(template, logsId);

  test('uses SSE-S3, the only encryption S3 log delivery supports', () => {
    expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
  });

  test('blocks public access, keeps versions, is retained', () => {
    expect(props.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(props.VersioningConfiguration.Status).toBe('Enabled');
    expect(template.toJSON().Resources[logsId].DeletionPolicy).toBe('Retain');
  });

  test('lets only the S3 logging service write, through the bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' } })]),
      },
    });
  });

  test('expires logs after the retention period', () => {
    expect(props.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(2555);
  });
});
