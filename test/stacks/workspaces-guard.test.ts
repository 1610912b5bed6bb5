/**
 * cfn-guard scoped by resource type (lib/compliance/cfn-guard-by-resource-type.ts) finds exactly what
 * the full Control Tower run finds: on the example app with its workspaces, and on an app
 * made deliberately insecure across several services.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { IPolicyValidationContextBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { createApp } from '../../lib/app';
import { ResourceTypeScopedCfnGuardValidator, resourceTypesNamed } from '../../lib/compliance/cfn-guard-by-resource-type';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function templatesOf(insecure: boolean): string[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-guard-'));
  tmp.push(outdir);
  const { app, stacks } = createApp(loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY }), { compliance: false, outdir });
  if (insecure) {
    const stack = stacks.workspaces[0];
    new s3.Bucket(stack, 'PlainBucket', { encryption: s3.BucketEncryption.S3_MANAGED });
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    new athena.CfnWorkGroup(stack, 'OpenWorkgroup', { name: 'open', workGroupConfiguration: { enforceWorkGroupConfiguration: false } });
    new iam.ManagedPolicy(stack, 'Admin', { statements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })] });
  }
  const assembly = app.synth();
  return assembly.stacks.map((s) => path.join(assembly.directory, s.templateFile));
}

const context = (templatePaths: string[]) => ({ templatePaths }) as unknown as IPolicyValidationContextBeta1;
const findings = (report: PolicyValidationPluginReportBeta1) =>
  report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${path.basename(r.templatePath)} ${r.resourceLogicalId}`)).sort();

test('reads the resource types a rule file names, ignoring comments', () => {
  expect(resourceTypesNamed('# AWS::EC2::Instance in a comment\nlet b = Resources.*[ Type == "AWS::S3::Bucket" ]\nlet k = \'AWS::KMS::Key\'')).toEqual([
    'AWS::KMS::Key',
    'AWS::S3::Bucket',
  ]);
});

test('every Control Tower rule file names the resource types it checks (the premise of scoping)', () => {
  const scoped = new ResourceTypeScopedCfnGuardValidator();
  expect(scoped.ruleIds.length).toBeGreaterThan(200);
  expect(scoped.rulesFor(new Set())).toEqual([]);
});

test.each([
  ['the example app with its workspaces', false],
  ['an app with insecure S3, SQS, Athena and IAM resources', true],
])('finds exactly what the full run finds on %s', (_name, insecure) => {
  const templates = templatesOf(insecure);
  const full = findings(new CfnGuardValidator({ controlTowerRulesEnabled: true }).validate(context(templates)));
  const scoped = findings(new ResourceTypeScopedCfnGuardValidator().validate(context(templates)));
  expect(scoped).toEqual(full);
  if (insecure) expect(full.length).toBeGreaterThan(8);
});
