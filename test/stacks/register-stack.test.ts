import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { createApp, newSdeApp } from '../../lib/app';
import { addComplianceGates } from '../../lib/compliance/gates';
import { loadConfig } from '../../lib/config';
import type { SdeConfig } from '../../lib/config/model';
import { AccessLogBucket } from '../../lib/constructs/storage/access-log-bucket';
import { PlatformKey } from '../../lib/constructs/storage/platform-key';
import { SecureBucket } from '../../lib/constructs/storage/secure-bucket';
import { inlineStyleHashes, registerContentSecurityPolicy, registerStyleHashes } from '../../lib/register/csp';
import { buildRegister } from '../../lib/register/model';
import { renderRegisterHtml } from '../../lib/register/render';
import { REGISTER_SNAPSHOT_FILE, registerConfigSnapshot } from '../../lib/register/snapshot';
import { createRegisterStack } from '../../lib/stacks/register-stack';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { tempDir } from '../register/helpers';
import { acknowledgementsIn, expectWellFormedAcknowledgement } from '../helpers/compliance-report';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/**
 * The register stack with a stand-in for the audit stack's trail bucket and key (built from
 * the same constructs), so the gates judge this stack alone, quickly.
 */
function build(c: SdeConfig, options: { gates: boolean; domain?: boolean }) {
  const outdir = tempDir('sde-register-synth-');
  outdirs.push(outdir);
  const app = newSdeApp({ outdir });
  const env = { account: c.platform.aws.account, region: c.platform.aws.region };
  const audit = new Stack(app, 'AuditStandIn', { env });
  const auditKey = new PlatformKey(audit, 'Key', { alias: 'alias/test/audit', description: 'stand-in audit key' }).key;
  const auditLogs = new AccessLogBucket(audit, 'Logs').bucket;
  const auditBucket = new SecureBucket(audit, 'Trail', { encryptionKey: auditKey, accessLogsBucket: auditLogs }).bucket;
  const domain = options.domain
    ? {
        names: ['register.example.nhs.uk'],
        certificate: acm.Certificate.fromCertificateArn(audit, 'Cert', 'arn:aws:acm:us-east-1:111122223333:certificate/0b1c2d3e-1111-2222-3333-444455556666'),
      }
    : undefined;
  const register = createRegisterStack(app, c, { env, auditBucket, auditKey, domain });
  if (options.gates) addComplianceGates(app);
  return { app, register, outdir };
}

type Report = { pluginReports: { pluginName: string; violations: unknown[]; suppressedViolations?: { ruleName: string }[] }[] };

describe.each([
  ['on the cloudfront.net name', false],
  ['with a custom domain and certificate', true],
])('compliance gates on the register stack, %s', (_name, domain) => {
  const built = build(config, { gates: true, domain });
  let synthError: unknown;
  try {
    built.app.synth();
  } catch (e) {
    synthError = e;
  }
  const report = (): Report => JSON.parse(fs.readFileSync(path.join(built.outdir, 'validation-report.json'), 'utf8'));

  test('synthesizes with zero unacknowledged findings, every pack having run', () => {
    expect(synthError).toBeUndefined();
    const r = report();
    expect(r.pluginReports.length).toBeGreaterThanOrEqual(4);
    expect(r.pluginReports.map((p) => [p.pluginName, p.violations.length])).toEqual(r.pluginReports.map((p) => [p.pluginName, 0]));
  });

  test('every acknowledgement is one rule on one resource, with a specific reason', () => {
    const acks = acknowledgementsIn(built.register);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expectWellFormedAcknowledgement(ack);
    // Only the default certificate needs the TLS acknowledgements: a custom domain meets the rules.
    expect(acks.some((a) => a.id === 'AwsSolutions::AwsSolutions-CFR4')).toBe(!domain);
  });
});

test('platform.yaml register.domain puts the register on its own name, held to TLS 1.2, and the output names it', () => {
  const certificateArn = 'arn:aws:acm:us-east-1:111122223333:certificate/0b1c2d3e-1111-2222-3333-444455556666';
  const withDomain: SdeConfig = {
    ...config,
    platform: {
      ...config.platform,
      register: { ...config.platform.register, domain: { names: ['register.example.nhs.uk', 'transparency.example.nhs.uk'], certificateArn } },
    },
  };
  const template = Template.fromStack(build(withDomain, { gates: false }).register);
  template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      Aliases: ['register.example.nhs.uk', 'transparency.example.nhs.uk'],
      ViewerCertificate: { AcmCertificateArn: certificateArn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
    }),
  });
  expect(template.findOutputs('RegisterUrl').RegisterUrl.Value).toBe('https://register.example.nhs.uk/');
});

describe('RegisterStack template', () => {
  const { register, outdir } = build(config, { gates: false });
  const template = Template.fromStack(register);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const siteBucketId = register.getLogicalId(register.site.bucket.node.defaultChild as CfnResource);
  const distributionId = register.getLogicalId(register.site.distribution.node.defaultChild as CfnResource);
  const keyId = register.getLogicalId(register.key.node.defaultChild as CfnResource);

  test('the site bucket is private and encrypted with the register key', () => {
    const site = resources[siteBucketId].Properties;
    expect(site.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(site.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(site.LoggingConfiguration).toBeDefined();
  });

  test('only this distribution may read the site bucket (origin access control, SigV4)', () => {
    const policy = ofType('AWS::S3::BucketPolicy').find(([, r]) => JSON.stringify(r.Properties.Bucket).includes(siteBucketId))![1].Properties.PolicyDocument;
    const cloudFront = policy.Statement.filter((s: any) => s.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(cloudFront).toHaveLength(1);
    expect(cloudFront[0].Action).toBe('s3:GetObject');
    expect(JSON.stringify(cloudFront[0].Condition.StringEquals['AWS:SourceArn'])).toContain(distributionId);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
  });

  test('the distribution serves index.html over HTTPS only, with the security headers and access logs', () => {
    const dist = resources[distributionId].Properties.DistributionConfig;
    expect(dist.DefaultRootObject).toBe('index.html');
    expect(dist.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(dist.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(dist.DefaultCacheBehavior.ResponseHeadersPolicyId).toBeDefined();
    expect(dist.Origins[0].OriginAccessControlId).toBeDefined();
    expect(dist.Origins[0].S3OriginConfig.OriginAccessIdentity).toBe('');
    expect(dist.Logging.Bucket).toBeDefined();
  });

  test('security headers: HSTS, a CSP that allows only the page style, no sniffing, no framing, no referrer', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: {
          StrictTransportSecurity: { AccessControlMaxAgeSec: 31_536_000, IncludeSubdomains: true, Override: true },
          ContentSecurityPolicy: { ContentSecurityPolicy: registerContentSecurityPolicy(), Override: true },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
        },
      },
    });
    expect(registerContentSecurityPolicy()).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(registerContentSecurityPolicy()).not.toMatch(/script-src|unsafe/);
  });

  test('the CSP allows every inline style the rendered register has', () => {
    const page = renderRegisterHtml(buildRegister(config, []));
    expect(inlineStyleHashes(page).length).toBeGreaterThan(0);
    for (const hash of inlineStyleHashes(page)) expect(registerStyleHashes()).toContain(hash);
  });

  test('the function is the shared PlatformFunction: newest Node.js runtime, one at a time, traced, with a dead-letter queue', () => {
    const version = (name: string) => Number(/^nodejs(\d+)\.x$/.exec(name)?.[1] ?? 0);
    const newest = Math.max(...lambda.Runtime.ALL.filter((r) => r.family === lambda.RuntimeFamily.NODEJS).map((r) => version(r.name)));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: `nodejs${newest}.x`,
      ReservedConcurrentExecutions: 1,
      TracingConfig: { Mode: 'Active' },
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      LoggingConfig: { LogGroup: Match.anyValue() },
      Environment: { Variables: { AUDIT_BUCKET: Match.anyValue(), AUDIT_PREFIX: 'AWSLogs/', REGISTER_BUCKET: { Ref: siteBucketId } } },
    });
  });

  test('it runs daily, and undeliverable runs go to the encrypted dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 5 * * ? *)',
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) })],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 365 });
  });

  test("its role can read the trail prefix, CloudTrail's public keys, query statistics and the published register.json, and write exactly the three register files, nothing else", () => {
    const [, role] = ofType('AWS::IAM::Role').find(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'))!;
    expect(role.Properties.Policies).toBeUndefined();
    expect(ofType('AWS::IAM::Policy')).toEqual([]);
    const [, policy] = ofType('AWS::IAM::ManagedPolicy')[0];
    const statements = policy.Properties.PolicyDocument.Statement as { Sid: string; Action: string | string[]; Resource: unknown }[];
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.every((a) => !a.includes('*'))).toBe(true);
    expect([...new Set(actions.filter((a) => a.startsWith('s3:')))].sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
    // Reading back only register.json (for the data scanned of months Athena has forgotten).
    const read = statements.find((s) => s.Sid === 'ReadPublishedRegister')!;
    expect(JSON.stringify(read.Resource)).toContain('/register.json');
    expect(JSON.stringify(read.Resource)).toContain(siteBucketId);
    // Query metadata of the project workgroups only, by name pattern.
    const athena = statements.find((s) => s.Sid === 'ReadQueryStatistics')!;
    expect(actions.filter((a) => a.startsWith('athena:'))).toEqual(['athena:BatchGetQueryExecution']);
    expect(JSON.stringify(athena.Resource)).toContain(`:workgroup/${config.platform.name}-project-*`);
    const put = statements.find((s) => s.Sid === 'WriteRegister')!;
    const keys = (put.Resource as { 'Fn::Join': [string, unknown[]] }[]).map((r) => r['Fn::Join'][1][1]);
    expect(keys.sort()).toEqual(['/index.html', '/register.csv', '/register.json']);
    // On every resource: only X-Ray's writes and CloudTrail's public keys (to check the trail's digest signatures).
    const onAnything = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(onAnything.sort()).toEqual(['cloudtrail:ListPublicKeys', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  test('the bundle carries the config snapshot and no researcher, admin or reviewer', () => {
    const code = resources[register.getLogicalId(register.publisher.function.function.node.defaultChild as CfnResource)].Properties.Code;
    const asset = fs.readdirSync(outdir).find((d) => d.startsWith('asset.') && code.S3Key.startsWith(d.slice('asset.'.length)));
    expect(asset).toBeDefined();
    const bundle = fs.readFileSync(path.join(outdir, asset!, 'index.js'), 'utf8');
    // A file beside the code, not a define: a region-sized config would overflow a command line.
    const snapshot = fs.readFileSync(path.join(outdir, asset!, REGISTER_SNAPSHOT_FILE), 'utf8');
    expect(JSON.parse(snapshot)).toEqual(JSON.parse(JSON.stringify(registerConfigSnapshot(config))));
    expect(bundle).toContain(REGISTER_SNAPSHOT_FILE);
    const people = [
      ...config.projects.flatMap((p) => p.researchers.flatMap((r) => [r.id, r.principal])),
      ...config.platform.admins,
      ...(config.platform.airlock?.reviewers ?? []).map((r) => (typeof r === 'string' ? r : r.principal)),
    ];
    expect(people.length).toBeGreaterThan(0);
    for (const text of [bundle, snapshot]) for (const arn of people) expect(text).not.toContain(arn);
    // Reviewers' roster ids too (the code's own help text quotes REVIEWER-1 as an example of the form, so the snapshot is checked).
    const reviewerIds = (config.platform.airlock?.reviewers ?? []).flatMap((r) => (typeof r === 'string' ? [] : [r.id]));
    expect(reviewerIds.length).toBeGreaterThan(0);
    for (const id of reviewerIds) expect(snapshot).not.toContain(id);
  });
});

test('createStacks adds the register stack, reading the audit stack trail', () => {
  const outdir = tempDir('sde-register-app-');
  outdirs.push(outdir);
  const { stacks } = createApp(config, { outdir, compliance: false });
  expect(stacks.register.stackName).toBe('onelondon-sde-register');
  const fn = Object.values(Template.fromStack(stacks.register).findResources('AWS::Lambda::Function'))[0] as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  };
  expect(JSON.stringify(fn.Properties.Environment.Variables.AUDIT_BUCKET)).toContain('onelondon-sde-audit');
  expect(stacks.register.dependencies).toContain(stacks.audit);
  // The airlock bucket's manifest retags in the trail are the releases it counts.
  expect(fn.Properties.Environment.Variables.AIRLOCK_BUCKET).toBeDefined();
  expect(stacks.register.dependencies).toContain(stacks.airlock);
});
