import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DEFAULT_AIRLOCK_SETTINGS, type AirlockSettings } from '../../lib/config/airlock-settings';
import { createApp } from '../../lib/app';
import { loadConfig } from '../../lib/config';
import type { SdeConfig } from '../../lib/config/model';
import { reviewerRoleSuffix } from '../../lib/airlock/bucket-layout';
import { EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { acknowledgementsIn, expectNoFindings, expectWellFormedAcknowledgement } from '../helpers/compliance-report';

const REVIEWER_1 = 'arn:aws:iam::111122223333:role/SdeOutputChecker1';
const REVIEWER_2 = 'arn:aws:iam::111122223333:user/output-checker-2';
const SETTINGS: AirlockSettings = { ...DEFAULT_AIRLOCK_SETTINGS, reviewers: [REVIEWER_1, REVIEWER_2, 'local-only-name'] };

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** The app as createApp builds it (the airlock after the workspaces), with these airlock settings. */
function build(config: SdeConfig, compliance: boolean, settings: AirlockSettings = SETTINGS) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-airlock-synth-'));
  outdirs.push(outdir);
  const withSettings: SdeConfig = { ...config, platform: { ...config.platform, airlock: { ...settings, reviewers: [...settings.reviewers] } } };
  const { app, stacks } = createApp(withSettings, { outdir, compliance });
  return { app, stacks, airlock: stacks.airlock, outdir };
}

const exampleConfig = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });

describe.each([
  ['the example config', EXAMPLE_CONFIG],
  ['a second region config', SECOND_CONFIG],
])('compliance gates on the airlock stack, %s', (_name, dir) => {
  const built = build(loadConfig(dir, { today: TEST_TODAY }), true);
  let synthError: unknown;
  try {
    built.app.synth();
  } catch (e) {
    synthError = e;
  }

  test('synthesizes with zero unacknowledged findings', () => {
    expect(synthError).toBeUndefined();
    expectNoFindings(built.outdir, { minPlugins: 4 });
  });

  test('every acknowledgement in the airlock stack is one rule on one resource, with a specific reason', () => {
    const acks = acknowledgementsIn(built.airlock);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expectWellFormedAcknowledgement(ack);
  });
});

test('the gates see the airlock stack: an insecure bucket in it fails synth', () => {
  const built = build(exampleConfig, true);
  new s3.Bucket(built.airlock, 'InsecureAirlockBucket');
  expect(() => built.app.synth()).toThrow(/InsecureAirlockBucket/);
});

describe('AirlockStack template', () => {
  const { airlock, stacks } = build(exampleConfig, false);
  const template = Template.fromStack(airlock);
  const resources = template.toJSON().Resources as Record<string, any>;
  const idOf = (c: { node: { defaultChild?: unknown } }) => airlock.getLogicalId(c.node.defaultChild as CfnResource);
  const bucketId = idOf(airlock.bucket);
  const keyId = idOf(airlock.key);
  const signingId = idOf(airlock.signingKey.key);
  const bucketPolicy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === bucketId)!;
  const statements = bucketPolicy.Properties.PolicyDocument.Statement as any[];
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
  const projectRolePattern = { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':role/onelondon-sde-project-*']] };
  const prefixArn = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}`]] });

  test('its own bucket, encrypted with its own customer-managed key, versioned, Object Lock, logged, retained', () => {
    const bucket = resources[bucketId];
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.ObjectLockEnabled).toBe(true);
    expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: idOf(airlock.accessLogs) });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect([bucket.DeletionPolicy, bucket.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
  });

  test('the manifest signing key is asymmetric ECC_NIST_P256 for SIGN_VERIFY, retained, with no grants to hand out', () => {
    const key = resources[signingId];
    expect([key.Properties.KeySpec, key.Properties.KeyUsage]).toEqual(['ECC_NIST_P256', 'SIGN_VERIFY']);
    expect([key.DeletionPolicy, key.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Sid: 'DenyGrantsExceptForAwsServices', Effect: 'Deny', Action: 'kms:CreateGrant' }),
    );
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/onelondon-sde/airlock-signing' });
  });

  /** The statements of the managed policy of one project's researcher role, in its workspace stack. */
  const projectStatements = (projectId: string): any[] => {
    const shard = stacks.workspaces.find((w) => w.workspaces.has(projectId))!;
    const policy = shard.workspaces.get(projectId)!.policy;
    const t = Template.fromStack(shard).toJSON().Resources as Record<string, any>;
    return t[shard.getLogicalId(policy.node.defaultChild as CfnResource)].Properties.PolicyDocument.Statement;
  };
  const airlockRef = (attr: string) => expect.stringContaining(`${bucketId}${attr}`);

  test("each active project's role may submit under, list and read (released objects only) its own prefixes", () => {
    const st = projectStatements('ncl-winter-planning');
    const text = (x: unknown) => JSON.stringify(x);
    const put = st.find((x) => x.Action === 's3:PutObject' && text(x.Resource).includes('/submissions/'));
    expect(text(put.Resource)).toContain('/submissions/ncl-winter-planning/*');
    const get = st.find((x) => x.Action === 's3:GetObject' && text(x.Resource).includes('/released/'));
    expect(text(get.Resource)).toContain('/released/ncl-winter-planning/*');
    expect(get.Condition).toEqual({ StringEquals: { 's3:ExistingObjectTag/sde-airlock': 'released' } });
    const list = st.find((x) => x.Action === 's3:ListBucket' && text(x.Condition).includes('released/'));
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['released/ncl-winter-planning/*'] } });
    // The references are to this airlock stack's bucket.
    expect(text(get.Resource)).toEqual(airlockRef('Arn'));
  });

  test('a project role reaches only its own prefixes, named by its project tag, whatever else it is given', () => {
    const deny = bySid('DenyProjectRolesOutsideTheirOwnPrefixes');
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
      NotResource: [prefixArn('released/${aws:PrincipalTag/sde:project}/*'), prefixArn('submissions/${aws:PrincipalTag/sde:project}/*')],
      Condition: { ArnLike: { 'aws:PrincipalArn': projectRolePattern } },
    });
  });

  test('nobody but a project role reads released objects, and nobody reads one not yet tagged released', () => {
    expect(bySid('DenyReadingReleasesExceptProjectRoles')).toEqual({
      Sid: 'DenyReadingReleasesExceptProjectRoles',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: prefixArn('released/*'),
      Condition: { ArnNotLike: { 'aws:PrincipalArn': projectRolePattern } },
    });
    expect(bySid('DenyReadingUnreleasedObjects')).toMatchObject({
      Effect: 'Deny',
      Resource: prefixArn('released/*'),
      Condition: { StringNotEquals: { 's3:ExistingObjectTag/sde-airlock': 'released' } },
    });
  });

  test('request state is replaced only by conditional writes; submissions and egress objects are written once', () => {
    expect(bySid('DenyUnconditionalWritesOfRequestState')).toEqual({
      Sid: 'DenyUnconditionalWritesOfRequestState',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: prefixArn('requests/req-????????-????????/request.json'),
      Condition: { Null: { 's3:if-match': 'true', 's3:if-none-match': 'true' } },
    });
    expect(bySid('DenyReplacingSubmissionsAndReleases')).toEqual({
      Sid: 'DenyReplacingSubmissionsAndReleases',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: expect.arrayContaining([prefixArn('submissions/*'), prefixArn('released/*')]),
      Condition: { Null: { 's3:if-none-match': 'true' } },
    });
  });

  test('researchers cannot choose their project tag: project role trust policies do not allow session tags', () => {
    for (const shard of stacks.workspaces) {
      for (const r of Object.values(Template.fromStack(shard).findResources('AWS::IAM::Role'))) {
        expect(JSON.stringify((r as any).Properties.AssumeRolePolicyDocument)).not.toContain('sts:TagSession');
      }
    }
  });

  test('an expired project gets nothing: no role, so no submit, no read, no key use', () => {
    expect(JSON.stringify(template.toJSON())).not.toMatch(/kcl-covid-recovery|KclCovidRecovery/);
    for (const shard of stacks.workspaces) expect(shard.workspaces.has('kcl-covid-recovery')).toBe(false);
  });

  test('project roles use the airlock key only through S3', () => {
    const st = projectStatements('ncl-winter-planning');
    const kmsUse = st.find((x) => JSON.stringify(x.Resource).includes(keyId));
    expect(kmsUse).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-2.amazonaws.com' } },
    });
  });

  test('the bucket and key policies do not grow with the portfolio (a bucket policy holds at most 20 KB)', () => {
    const policyBytes = JSON.stringify(bucketPolicy.Properties.PolicyDocument).length;
    expect(policyBytes).toBeLessThan(20_000);
    expect(JSON.stringify(bucketPolicy)).not.toMatch(/ncl-winter-planning|ucl-multimorbidity|medisight-prescribing/);
    expect(JSON.stringify(resources[keyId])).not.toMatch(/ncl-winter-planning|ucl-multimorbidity|medisight-prescribing/);
  });

  const serviceRoleArn = { 'Fn::GetAtt': [idOf(airlock.releaseService.function.role), 'Arn'] };
  const reviewerPolicy = resources[idOf(airlock.reviewers!.policy)];
  const reviewerStatements = reviewerPolicy.Properties.PolicyDocument.Statement as any[];
  const reviewerRoles = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role' && /-airlock-reviewer-/.test(r.Properties.RoleName ?? ''));

  test('one role per reviewer ARN (local names get none), MFA only, one-hour sessions', () => {
    expect(reviewerRoles.map((r) => r.Properties.RoleName).sort()).toEqual(
      [`onelondon-sde-airlock-reviewer-${reviewerRoleSuffix(REVIEWER_1)}`, `onelondon-sde-airlock-reviewer-${reviewerRoleSuffix(REVIEWER_2)}`].sort(),
    );
    for (const role of reviewerRoles) {
      expect(role.Properties.MaxSessionDuration).toBe(3600);
      const trust = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toHaveLength(1);
      expect(trust[0].Condition).toEqual({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } });
      expect([REVIEWER_1, REVIEWER_2]).toContain(trust[0].Principal.AWS);
    }
  });

  test('only the release service writes the egress', () => {
    const deny = bySid('DenyWritingReleasesExceptReleasers');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Resource: prefixArn('released/*') });
    expect(deny.Action).toEqual(expect.arrayContaining(['s3:PutObject', 's3:PutObjectTagging', 's3:DeleteObjectTagging']));
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [serviceRoleArn] } });
  });

  test('only the release service writes request state (the approvals)', () => {
    const deny = bySid('DenyWritingRequestStateExceptReleasers');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Resource: prefixArn('requests/*') });
    expect(deny.Action).toEqual(expect.arrayContaining(['s3:PutObject', 's3:PutObjectTagging', 's3:DeleteObjectTagging']));
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [serviceRoleArn] } });
  });

  test('only the release service signs: the key policy denies kms:Sign to every other principal', () => {
    const keyStatements = resources[signingId].Properties.KeyPolicy.Statement as any[];
    const deny = keyStatements.find((st) => st.Sid === 'DenySigningExceptReleaseService');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Sign', Resource: '*' });
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [serviceRoleArn] } });
  });

  test('the release service signs with ECDSA_SHA_256 only', () => {
    const servicePolicies = Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.Roles ?? []).includes(idOf(airlock.releaseService.function.role)),
    );
    const sign = servicePolicies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]).filter((st) => [st.Action].flat().includes('kms:Sign'));
    expect(sign).toEqual([
      {
        Action: 'kms:Sign',
        Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } },
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [signingId, 'Arn'] },
      },
    ]);
  });

  test('the release service is reached only through an IAM-authorised URL', () => {
    const urls = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Url');
    expect(urls.map((u) => u.Properties.AuthType)).toEqual(['AWS_IAM']);
  });

  test('reviewers hold no write on the bucket and no kms:Sign: they only read and call the service', () => {
    const actions = reviewerStatements.flatMap((st) => [st.Action].flat());
    expect(actions).not.toEqual(expect.arrayContaining(['s3:PutObject']));
    expect(actions.filter((a) => /^s3:Put|^s3:Delete|^kms:Sign$|^kms:GenerateDataKey/.test(a))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['lambda:InvokeFunctionUrl']));
    const reads = reviewerStatements.filter((st) => [st.Action].flat().includes('s3:GetObject'));
    expect(reads.flatMap((st) => st.Resource)).toEqual(expect.arrayContaining([prefixArn('submissions/*'), prefixArn('requests/*')]));
    expect(reads.flatMap((st) => st.Resource)).toHaveLength(2);
    expect(JSON.stringify(reviewerStatements)).not.toMatch(/"s3:\*"|"kms:\*"|"lambda:\*"/);
  });

  test('no project role may call the release service', () => {
    const permissions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    for (const p of permissions) expect(JSON.stringify(p.Properties.Principal)).not.toMatch(/project/);
    for (const shard of stacks.workspaces) expect(JSON.stringify(Template.fromStack(shard).toJSON())).not.toMatch(/lambda:InvokeFunctionUrl/);
  });

  test('deploys before the workspaces, which grant their project roles its rights', () => {
    for (const shard of stacks.workspaces.filter((w) => w.workspaces.size > 0)) expect(shard.dependencies).toContain(airlock);
    expect(airlock.dependencies).not.toEqual(expect.arrayContaining(stacks.workspaces.slice(0, 1)));
    expect(airlock.stackName).toBe('onelondon-sde-airlock');
  });

  test('with no reviewer ARNs: no reviewer roles, so nobody calls the release service, and it alone could write', () => {
    // Reviewers known only by local names: no IAM principal to give a role to.
    const none = build(exampleConfig, false, { ...DEFAULT_AIRLOCK_SETTINGS, reviewers: ['local-reviewer-a', 'local-reviewer-b'] }).airlock;
    const t = Template.fromStack(none);
    const roles = Object.values(t.findResources('AWS::IAM::Role')) as any[];
    expect(roles.filter((r) => /-airlock-reviewer-/.test(r.Properties.RoleName ?? ''))).toEqual([]);
    expect(JSON.stringify(t.toJSON())).not.toMatch(/lambda:InvokeFunctionUrl/);
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find(
      (r: any) => r.Properties.Bucket.Ref === none.getLogicalId(none.bucket.node.defaultChild as CfnResource),
    ) as any;
    const deny = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Sid === 'DenyWritingReleasesExceptReleasers');
    expect(deny.Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [none.getLogicalId(none.releaseService.function.role.node.defaultChild as CfnResource), 'Arn'] }] },
    });
  });
});
