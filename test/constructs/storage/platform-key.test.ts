import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PlatformKey } from '../../../lib/constructs/storage/platform-key';

describe('PlatformKey', () => {
  const stack = new Stack();
  new PlatformKey(stack, 'Key', { alias: 'alias/test/data', description: 'test' });
  const template = Template.fromStack(stack);
  const key = Object.values(template.findResources('AWS::KMS::Key'))[0] as any;

  test('rotates automatically every year', () => {
    expect([key.Properties.EnableKeyRotation, key.Properties.RotationPeriodInDays]).toEqual([true, 365]);
  });

  test('is retained: deleting it would make every object it encrypted unreadable', () => {
    expect([key.DeletionPolicy, key.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  test('allows KMS grants only for AWS services acting on a resource', () => {
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: 'DenyGrantsExceptForAwsServices',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    });
  });

  test('has the alias', () => {
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/test/data' });
  });
});
