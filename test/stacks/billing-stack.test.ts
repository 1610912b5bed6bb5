/**
 * BillingStack under every compliance gate (AwsSolutions, HIPAA, NIST 800-53 R5, Control
 * Tower guard rules): synth fails on any unacknowledged finding. Plus one assertion per
 * security property the stack promises.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { newSdeApp } from '../../lib/app';
import { addComplianceGates } from '../../lib/compliance/gates';
import { loadConfig } from '../../lib/config/loader';
import { INGESTION_CONFIG_FILE } from '../../lib/constructs/shared/platform-function';
import { createBillingStack } from '../../lib/stacks/billing-stack';
import { EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

// The function must bundle with the local esbuild, never Docker.
process.env.CDK_DOCKER = path.join(os.tmpdir(), 'docker-is-not-allowed-in-these-tests');

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-billing-synth-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const app = newSdeApp({ outdir });
// As lib/app.ts creates it: the example config names no account (environment-agnostic templates).
const stack = createBillingStack(app, config, {
  env: { account: config.platform.aws.account, region: config.platform.aws.region },
  tags: { 'sde:platform': config.platform.name },
});
addComplianceGates(app);
let synthError: unknown;
let assembly: ReturnType<typeof app.synth> | undefined;
try {
  assembly = app.synth();
} catch (e) {
  synthError = e;
}
const template = Template.fromStack(stack);

test('synthesizes with zero unacknowledged findings under every compliance gate', () => {
  expect(synthError).toBeUndefined();
  expect(assembly?.getStackByName(stack.stackName)).toBeDefined();
});

test("and for the second region's config", () => {
  const second = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-billing-synth2-'));
  try {
    const app2 = newSdeApp({ outdir: dir });
    createBillingStack(app2, second, { env: { account: second.platform.aws.account, region: second.platform.aws.region } });
    addComplianceGates(app2);
    expect(() => app2.synth()).not.toThrow();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('runs monthly, on the 1st', () => {
  template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 1 * ? *)', State: 'ENABLED' });
});

test('reads query metadata of the project workgroups only', () => {
  const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).map((r) => JSON.stringify(r.Properties.PolicyDocument));
  const athena = policies.find((p) => p.includes('athena:ListQueryExecutions'))!;
  expect(athena).toBeDefined();
  // One name pattern for every project's workgroup, whatever the portfolio's size.
  expect(athena).toContain('workgroup/onelondon-sde-project-*');
  expect(athena).not.toMatch(/athena:\*|workgroup\/\*/);
  // the project budgets' actual spend, by the same name pattern
  const budgets = policies.find((p) => p.includes('budgets:ViewBudget'))!;
  expect(budgets).toContain('budget/onelondon-sde-project-*');
  expect(budgets).not.toMatch(/budget\/\*/);
  // writes under billing/ only, and no delete
  const all = policies.join('\n');
  expect(all).toContain('/billing/*');
  expect(all).not.toMatch(/s3:DeleteObject|s3:\*/);
});

test('statements are encrypted with the billing key, and the bundle carries the inputs without researcher ARNs', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
  });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: { BILLING_INPUTS_FILE: INGESTION_CONFIG_FILE, BILLING_PREFIX: 'billing/' } },
    ReservedConcurrentExecutions: 1,
  });
  const asset = fs
    .readdirSync(outdir)
    .filter((d) => d.startsWith('asset.'))
    .map((d) => path.join(outdir, d, INGESTION_CONFIG_FILE))
    .find((f) => fs.existsSync(f))!;
  const inputs = fs.readFileSync(asset, 'utf8');
  expect(
    JSON.parse(inputs)
      .projects.map((p: { id: string }) => p.id)
      .sort(),
  ).toEqual(config.projects.map((p) => p.id).sort());
  expect(inputs).not.toMatch(/arn:aws:iam/);
});
