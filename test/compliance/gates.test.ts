/**
 * Security is a test: the example config and a second region's config must synthesize
 * with every compliance gate on and zero unacknowledged findings, and every
 * acknowledgement must name one rule on one resource with a real reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { createApp } from '../../lib/app';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { acknowledgementsIn, expectWellFormedAcknowledgement, validationReport } from '../helpers/compliance-report';

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function synthWithGates(configDir: string, addToStack?: (app: ReturnType<typeof createApp>) => void) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-synth-'));
  outdirs.push(outdir);
  const built = createApp(loadConfig(configDir, { today: TEST_TODAY }), { outdir });
  addToStack?.(built);
  return { ...built, outdir, synth: () => built.app.synth() };
}

describe.each([
  ['the example config', EXAMPLE_CONFIG],
  ['a second region config', SECOND_CONFIG],
])('compliance gates on %s', (_name, configDir) => {
  const built = synthWithGates(configDir);
  let synthError: unknown;
  try {
    built.synth();
  } catch (e) {
    synthError = e;
  }

  test('synthesizes with zero unacknowledged findings', () => {
    expect(synthError).toBeUndefined();
    const report = validationReport(built.outdir);
    expect(report.pluginReports.map((r) => [r.pluginName, r.violations.length])).toEqual(report.pluginReports.map((r) => [r.pluginName, 0]));
  });

  test('every acknowledgement is one rule on one resource, with a specific reason', () => {
    const acks = acknowledgementsIn(built.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expectWellFormedAcknowledgement(ack);
  });
});

describe('the gates really run', () => {
  test('an insecure bucket fails synth with each pack naming it', () => {
    const built = synthWithGates(EXAMPLE_CONFIG, ({ stacks }) => new s3.Bucket(stacks.dataLake, 'InsecureBucket'));
    expect(built.synth).toThrow(/InsecureBucket/);
    let message = '';
    try {
      built.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/AwsSolutions-S10/); // no TLS enforcement
    expect(message).toMatch(/HIPAA\.Security-S3DefaultEncryptionKMS/);
    expect(message).toMatch(/NIST\.800\.53\.R5-S3BucketLoggingEnabled/);
    expect(message).toMatch(/CT\.S3\.PR\.9/); // Control Tower: Object Lock
  });
});
