import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { createApp } from '../../lib/app';
import { ACCESS_DENIED_ALARM_THRESHOLD } from '../../lib/audit/audit-settings';
import { DEFAULT_AUDIT_RETENTION_YEARS } from '../../lib/config/schema';
import { AUDIT_TABLE } from '../../lib/audit/audit-table';
import { NAMED_QUERIES } from '../../lib/audit/named-queries';
import { loadConfig } from '../../lib/config';
import type { SdeConfig } from '../../lib/config/model';
import { EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { acknowledgementsIn, expectNoFindings, expectWellFormedAcknowledgement } from '../helpers/compliance-report';

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** The app as createApp builds it: the AuditStack is next to the data lake. */
function build(config: SdeConfig, compliance: boolean) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-audit-synth-'));
  outdirs.push(outdir);
  const { app, stacks } = createApp(config, { outdir, compliance });
  return { app, stacks, audit: stacks.audit, outdir };
}

const exampleConfig = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });

describe.each([
  ['the example config', EXAMPLE_CONFIG],
  ['a second region config', SECOND_CONFIG],
])('compliance gates on the audit stack, %s', (_name, dir) => {
  const built = build(loadConfig(dir, { today: TEST_TODAY }), true);
  let synthError: unknown;
  try {
    built.app.synth();
  } catch (e) {
    synthError = e;
  }

  test('synthesizes with zero unacknowledged findings', () => {
    expect(synthError).toBeUndefined();
    expectNoFindings(built.outdir);
  });

  test('every acknowledgement in the audit stack is one rule on one resource, with a specific reason', () => {
    const acks = acknowledgementsIn(built.audit);
    for (const ack of acks) expectWellFormedAcknowledgement(ack);
  });
});

test('the gates see the audit stack: an insecure bucket in it fails synth', () => {
  const built = build(exampleConfig, true);
  new s3.Bucket(built.audit, 'InsecureAuditBucket');
  expect(() => built.app.synth()).toThrow(/InsecureAuditBucket/);
});

describe('AuditStack template', () => {
  const { audit, stacks } = build(exampleConfig, false);
  const template = Template.fromStack(audit);
  const resources = template.toJSON().Resources as Record<string, any>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const idOf = (c: { node: { defaultChild?: unknown } } | CfnResource) =>
    audit.getLogicalId((c instanceof CfnResource ? c : c.node.defaultChild) as CfnResource);
  const keyId = idOf(audit.key);
  const bucketId = idOf(audit.bucket);
  const trail = () => ofType('AWS::CloudTrail::Trail')[0][1].Properties;
  const zoneId = (bucket: s3.Bucket) => stacks.dataLake.getLogicalId(bucket.node.defaultChild as CfnResource);

  describe('trail', () => {
    test('one trail', () => expect(ofType('AWS::CloudTrail::Trail')).toHaveLength(1));
    test('records every region', () => expect(trail().IsMultiRegionTrail).toBe(true));
    test('includes global service events (IAM, STS)', () => expect(trail().IncludeGlobalServiceEvents).toBe(true));
    test('validates log files (signed digests)', () => expect(trail().EnableLogFileValidation).toBe(true));
    test('is logging', () => expect(trail().IsLogging).toBe(true));
    test('is encrypted with its own key, not the data key', () => {
      expect(trail().KMSKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      expect(ofType('AWS::KMS::Key')).toHaveLength(1); // the data lake's key lives in the other stack
    });
    test('its key rotates and is retained', () =>
      template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true, RotationPeriodInDays: 365 } }));
    test('delivers to the audit store', () => expect(trail().S3BucketName).toEqual({ Ref: bucketId }));
    test('delivers to an encrypted CloudWatch Logs group kept a year', () => {
      const [groupId, group] = ofType('AWS::Logs::LogGroup')[0];
      expect(trail().CloudWatchLogsLogGroupArn).toEqual({ 'Fn::GetAtt': [groupId, 'Arn'] });
      expect(group.Properties).toMatchObject({ KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 365 });
      expect(group.DeletionPolicy).toBe('Retain');
    });
    test('records all management events (Athena, Glue, Lake Formation, KMS and STS are management events)', () => {
      expect(trail().AdvancedEventSelectors).toContainEqual({
        Name: 'All management events',
        FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }],
      });
    });
    test('records object reads and writes on the landing, curated, quarantine, results and airlock buckets', () => {
      const selector = trail().AdvancedEventSelectors.find((s: any) => s.Name === 'Data zone objects, read and write');
      expect(selector.FieldSelectors.map((f: any) => f.Field)).toEqual(['eventCategory', 'resources.type', 'resources.ARN']); // no readOnly filter
      const arns = selector.FieldSelectors[2].StartsWith.map((x: unknown) => JSON.stringify(x));
      expect(arns).toHaveLength(5);
      [stacks.dataLake.landing, stacks.dataLake.curated, stacks.dataLake.quarantine, stacks.dataLake.results].forEach((b, i) =>
        expect(arns[i]).toMatch(new RegExp(`"OutputName":"PublishOutputFnGetAtt${zoneId(b)}Arn.*"/"`)),
      );
      // Output requests, reviews and releases: the airlock's own bucket.
      const airlockId = stacks.airlock.getLogicalId(stacks.airlock.bucket.node.defaultChild as CfnResource);
      expect(arns[4]).toMatch(new RegExp(`"OutputName":"PublishOutputFnGetAtt${airlockId}Arn.*"/"`));
    });
    test('records reads of the audit store and the access logs', () => {
      const selector = trail().AdvancedEventSelectors.find((s: any) => s.Name === 'Audit and access-log objects, reads');
      expect(selector.FieldSelectors).toContainEqual({ Field: 'readOnly', Equals: ['true'] });
      expect(selector.FieldSelectors[3].StartsWith).toHaveLength(3);
    });
    test('only this trail may write to the store (aws:SourceArn), owned by the bucket owner', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'CloudTrailWrite',
              Principal: { Service: 'cloudtrail.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceArn': Match.anyValue(), 's3:x-amz-acl': 'bucket-owner-full-control' } },
            }),
          ]),
        },
      });
    });
    test('only this trail may encrypt with the key', () => {
      const statements = resources[keyId].Properties.KeyPolicy.Statement;
      expect(statements.find((s: any) => s.Sid === 'CloudTrailEncryptLogs')).toMatchObject({
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'kms:GenerateDataKey*',
        Condition: {
          StringEquals: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:aws:cloudtrail:eu-west-2:', { Ref: 'AWS::AccountId' }, ':trail/onelondon-sde-audit']] } },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': expect.anything() },
        },
      });
    });
  });

  describe('audit store', () => {
    const store = () => resources[bucketId];
    test('Object Lock in COMPLIANCE mode', () => expect(store().Properties.ObjectLockConfiguration.Rule.DefaultRetention.Mode).toBe('COMPLIANCE'));
    test(`default retention of ${DEFAULT_AUDIT_RETENTION_YEARS} years (NHS Records Management Code), in calendar years`, () =>
      expect(store().Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({ Mode: 'COMPLIANCE', Years: DEFAULT_AUDIT_RETENTION_YEARS }));
    test('Object Lock is enabled on the bucket', () => expect(store().Properties.ObjectLockEnabled).toBe(true));
    test('versioned', () => expect(store().Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' }));
    test('encrypted with the audit key', () =>
      expect(store().Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
        SSEAlgorithm: 'aws:kms',
        KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
      }));
    test('no public access', () =>
      expect(store().Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      }));
    test('nobody may delete a record', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'DenyDeletingAuditRecords',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: ['s3:BypassGovernanceRetention', 's3:DeleteObject', 's3:DeleteObjectVersion'],
            }),
          ]),
        },
      });
    });
    test('TLS only', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });
    test('server access logs go to the audit stack’s own log sink', () =>
      expect(store().Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: idOf(audit.accessLogs) }));
    test('moves to cheaper classes Athena can still read, and never expires', () => {
      const rules = store().Properties.LifecycleConfiguration.Rules;
      expect(rules[0].Transitions).toEqual([
        { StorageClass: 'STANDARD_IA', TransitionInDays: 90 },
        { StorageClass: 'GLACIER_IR', TransitionInDays: 365 },
      ]);
      expect(rules.some((r: any) => r.ExpirationInDays !== undefined || r.NoncurrentVersionExpiration !== undefined)).toBe(false);
    });
    test('retained when the stack is deleted', () => expect(store().DeletionPolicy).toBe('Retain'));
    test('a configured retention (retention.auditYears) replaces the default', () => {
      const config = {
        ...exampleConfig,
        platform: { ...exampleConfig.platform, retention: { ...exampleConfig.platform.retention, auditYears: 10 } },
      } as SdeConfig;
      const other = build(config, false).audit;
      expect(other.retentionYears).toBe(10);
      expect(
        Template.fromStack(other).toJSON().Resources[other.getLogicalId(other.bucket.node.defaultChild as CfnResource)].Properties.ObjectLockConfiguration.Rule
          .DefaultRetention.Years,
      ).toBe(10);
    });
  });

  describe('alarms', () => {
    const alarms = () => ofType('AWS::CloudWatch::Alarm');
    const topicId = idOf(audit.alarms.topic);
    const filterPattern = (metric: string) =>
      ofType('AWS::Logs::MetricFilter')
        .filter(([, f]) => f.Properties.MetricTransformations[0].MetricName === metric)
        .map(([, f]) => JSON.stringify(f.Properties.FilterPattern));

    test('the alert topic is encrypted with the audit key', () =>
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } }));
    test('the alert topic accepts TLS publishing only', () =>
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      }));
    test('the security e-mails from platform.yaml are subscribed', () =>
      expect(ofType('AWS::SNS::Subscription').map(([, s]) => [s.Properties.Protocol, s.Properties.Endpoint])).toEqual(
        exampleConfig.platform.alerts.securityEmails.map((e) => ['email', e]),
      ));
    test('CloudWatch may use the key to publish to the encrypted topic', () =>
      expect(resources[keyId].Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'CloudWatchAlarmsPublishToEncryptedTopic')).toMatchObject({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
      }));
    test("CloudWatch may use the key only for this account's alarms (source account and source ARN)", () =>
      expect(resources[keyId].Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'CloudWatchAlarmsPublishToEncryptedTopic').Condition).toEqual({
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:aws:cloudwatch:eu-west-2:', { Ref: 'AWS::AccountId' }, ':alarm:*']] } },
      }));
    test('one alarm per threat, each notifying the topic', () => {
      expect(alarms()).toHaveLength(7);
      for (const [, a] of alarms()) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    });
    test('every alarm reads a metric filter on the trail log group', () => {
      const groupId = ofType('AWS::Logs::LogGroup')[0][0];
      for (const [, f] of ofType('AWS::Logs::MetricFilter')) expect(f.Properties.LogGroupName).toEqual({ Ref: groupId });
      const metrics = new Set(ofType('AWS::Logs::MetricFilter').map(([, f]) => f.Properties.MetricTransformations[0].MetricName));
      for (const [, a] of alarms()) expect(metrics.has(a.Properties.MetricName)).toBe(true);
    });
    test('alarms stay quiet when nothing happens', () => {
      for (const [, a] of alarms()) expect(a.Properties.TreatMissingData).toBe('notBreaching');
    });
    test('a single event raises each alarm, except repeated access denied', () =>
      expect(Object.fromEntries(alarms().map(([, a]) => [a.Properties.MetricName, a.Properties.Threshold]))).toEqual({
        TrailChanged: 1,
        LakeFormationGrantOutsideDeployment: 1,
        IamAllowedPrincipalsGranted: 1,
        RootAccountUsed: 1,
        RepeatedAccessDenied: ACCESS_DENIED_ALARM_THRESHOLD,
        KmsKeyDisabledOrDeleted: 1,
        DataBucketPolicyChanged: 1,
      }));
    test('trail stopped, deleted or changed', () =>
      expect(filterPattern('TrailChanged')[0]).toMatch(/StopLogging.*DeleteTrail.*UpdateTrail.*PutEventSelectors/));
    test('Lake Formation grant or revoke outside a deployment excludes the CloudFormation execution role', () =>
      expect(filterPattern('LakeFormationGrantOutsideDeployment')[0]).toMatch(
        /GrantPermissions.*RevokePermissions.*sessionIssuer\.arn != .*cdk-hnb659fds-cfn-exec-role/,
      ));
    test('IAMAllowedPrincipals granted', () => expect(filterPattern('IamAllowedPrincipalsGranted').join()).toMatch(/IAM_ALLOWED_PRINCIPALS/));
    test('root account use', () => expect(filterPattern('RootAccountUsed')[0]).toMatch(/userIdentity\.type = \\"Root\\"/));
    test('repeated access denied', () => expect(filterPattern('RepeatedAccessDenied')[0]).toMatch(/AccessDenied.*UnauthorizedOperation/));
    test('KMS key disabled or scheduled for deletion', () => expect(filterPattern('KmsKeyDisabledOrDeleted')[0]).toMatch(/DisableKey.*ScheduleKeyDeletion/));
    test('bucket policy changed on a data bucket: every data lake bucket is watched', () => {
      const all = filterPattern('DataBucketPolicyChanged').join();
      for (const b of [stacks.dataLake.landing, stacks.dataLake.curated, stacks.dataLake.quarantine, stacks.dataLake.results]) {
        expect(all).toContain(`PublishOutputRef${zoneId(b)}`);
      }
      expect(all).toContain(`PublishOutputRef${stacks.airlock.getLogicalId(stacks.airlock.bucket.node.defaultChild as CfnResource)}`);
    });
  });

  describe('security queries', () => {
    test('the workgroup enforces its settings, engine v3, KMS-encrypted results', () =>
      template.hasResourceProperties('AWS::Athena::WorkGroup', {
        WorkGroupConfiguration: Match.objectLike({
          EnforceWorkGroupConfiguration: true,
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
          ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': [keyId, 'Arn'] } } }),
        }),
      }));
    test('the audit table uses partition projection on account, region and day over the trail layout', () => {
      const table = ofType('AWS::Glue::Table')[0][1].Properties.TableInput;
      expect(table.Name).toBe(AUDIT_TABLE);
      expect(table.PartitionKeys.map((k: any) => k.Name)).toEqual(['account', 'region', 'day']);
      expect(table.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.day.type': 'date',
        'projection.day.format': 'yyyy/MM/dd',
        'projection.day.range': 'NOW-8YEARS,NOW',
      });
      expect(JSON.stringify(table.Parameters['storage.location.template'])).toMatch(/AWSLogs\/\$\{account\}\/CloudTrail\/\$\{region\}\/\$\{day\}\//);
      expect(table.Parameters['projection.region.values'].split(',')).toContain('eu-west-2');
    });
    test('the audit database gives no IAMAllowedPrincipals default', () =>
      template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'onelondon_sde_audit', CreateTableDefaultPermissions: [] } }));
    test('the platform admins may read the audit table through Lake Formation', () =>
      template.hasResourceProperties('AWS::LakeFormation::PrincipalPermissions', {
        Principal: { DataLakePrincipalIdentifier: exampleConfig.platform.admins[0] },
        Resource: { Table: Match.objectLike({ Name: AUDIT_TABLE, DatabaseName: 'onelondon_sde_audit' }) },
        Permissions: ['SELECT', 'DESCRIBE'],
      }));
    test('every named query is saved in the workgroup', () => {
      const queries = ofType('AWS::Athena::NamedQuery').map(([, q]) => q.Properties);
      expect(queries.map((q) => q.Name).sort()).toEqual(NAMED_QUERIES.map((q) => q.title).sort());
      for (const q of queries) expect(q).toMatchObject({ Database: 'onelondon_sde_audit', WorkGroup: { Ref: idOf(audit.workgroup.workgroup) } });
    });
    test('the approved periods from the config are in the outside-period query', () => {
      const q = ofType('AWS::Athena::NamedQuery').find(([, x]) => x.Properties.Name === 'Accesses outside a project approved period')![1];
      expect(q.Properties.QueryString).toContain(
        "('kcl-covid-recovery', 'onelondon-sde-project-kcl-covid-recovery', 'onelondon-sde-project-kcl-covid-recovery', '2024-02-01', '2025-07-31')",
      );
    });
  });
});
