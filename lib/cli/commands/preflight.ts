import { loadConfig } from '../../config/loader';
import { ACCOUNT_STEPS, CheckStatus, configPreflight, PreflightCheck } from '../../config/preflight';
import { Command, CONFIG_OPTION, TODAY_OPTION } from '../command';

const MARK: Record<CheckStatus, string> = { ok: '[ok]  ', fail: '[FAIL]', todo: '[todo]' };

/**
 * What the account can answer, where credentials exist: who they are (and whether it is the
 * configured account), and whether the opt-out list is in the landing bucket. Loaded on use:
 * the SDK is not needed offline.
 */
async function accountChecks(account: string | undefined, landingBucket: string | undefined): Promise<PreflightCheck[] | undefined> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  let caller: { Account?: string; Arn?: string };
  try {
    caller = await new STSClient({ maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
  } catch {
    // No credentials, or none that work: the config checks stand alone (and say so).
    return undefined;
  }
  const checks: PreflightCheck[] = [
    account === undefined || caller.Account === account
      ? { status: 'ok', check: 'Credentials', detail: `signed in as ${caller.Arn} in account ${caller.Account}` }
      : {
          status: 'fail',
          check: 'Credentials',
          detail: `signed in to account ${caller.Account}, but platform.yaml deploys to ${account}`,
          fix: 'use credentials for the configured account (AWS_PROFILE), or correct aws.account',
        },
  ];
  if (landingBucket !== undefined) {
    const { S3Client, HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const { OPT_OUT_LIST_KEY } = await import('../../ingest/lambda-settings');
    try {
      const head = await new S3Client({ maxAttempts: 1 }).send(new HeadObjectCommand({ Bucket: landingBucket, Key: OPT_OUT_LIST_KEY }));
      checks.push({
        status: 'ok',
        check: 'Opt-out list uploaded',
        detail: `s3://${landingBucket}/${OPT_OUT_LIST_KEY}, last modified ${head.LastModified?.toISOString() ?? 'unknown'}`,
      });
    } catch (e) {
      checks.push({
        status: 'fail',
        check: 'Opt-out list uploaded',
        detail: `s3://${landingBucket}/${OPT_OUT_LIST_KEY}: ${(e as Error).name}`,
        fix: `aws s3 cp national-data-opt-out.txt s3://${landingBucket}/${OPT_OUT_LIST_KEY}`,
      });
    }
  }
  return checks;
}

export const preflightCommand: Command = {
  name: 'preflight',
  summary: 'the first deployment checklist: what the config (and, with credentials, the account) can check',
  usage: '[--config DIR] [--landing-bucket NAME] [--offline]',
  description: [
    'Checks the configuration for what a real deployment needs: an AWS account set, no AWS documentation',
    'account ids (111122223333 ...), at least two output reviewers, security and contact addresses not on',
    'example domains, the register domain; then lists the steps on the account (bootstrap, the Lambda',
    'concurrency quota, the sde:project cost-allocation tag, the opt-out list, confirming the alarm e-mails).',
    'With AWS credentials it also checks who they are (the configured account?) and, with --landing-bucket',
    "(the DataLake stack's LandingBucketName output), that the opt-out list is uploaded. Without credentials",
    '(or with --offline) it checks the config only, and says so. docs/deploy.md walks through every item.',
    'Exit status: 0 nothing failed; 1 a check failed (or the config does not validate); 2 bad usage.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...TODAY_OPTION,
    'landing-bucket': {
      type: 'string',
      valueName: 'NAME',
      description: 'the deployed landing bucket (DataLake output LandingBucketName): check the opt-out list is in it',
    },
    offline: { type: 'boolean', description: 'check the config only; do not look for AWS credentials' },
  },
  async run({ values, out }) {
    const config = loadConfig(values.config as string, { today: values.today as string | undefined });
    const checks = configPreflight(config);
    const account = values.offline === true ? undefined : await accountChecks(config.platform.aws.account, values['landing-bucket'] as string | undefined);
    out(`Preflight for ${config.platform.displayName} (${config.dir}):`);
    out('From the configuration:');
    for (const c of checks) printCheck(out, c);
    if (account === undefined) {
      out(
        values.offline === true
          ? 'From the account: not checked (--offline): the configuration only.'
          : 'From the account: not checked: no working AWS credentials found, so the configuration only.',
      );
    } else {
      out('From the account:');
      for (const c of account) printCheck(out, c);
    }
    const answered = new Set((account ?? []).map((c) => c.check));
    out('Steps on the account to do or confirm (docs/deploy.md):');
    for (const c of ACCOUNT_STEPS.filter((s) => !answered.has(s.check))) printCheck(out, c);
    const failed = [...checks, ...(account ?? [])].filter((c) => c.status === 'fail').length;
    out(failed === 0 ? 'Nothing failed.' : `${failed} check${failed === 1 ? '' : 's'} failed: fix ${failed === 1 ? 'it' : 'them'} before deploying.`);
    return failed === 0 ? 0 : 1;
  },
};

function printCheck(out: (line: string) => void, c: PreflightCheck): void {
  out(`  ${MARK[c.status]} ${c.check}: ${c.detail}`);
  if (c.fix !== undefined && c.status !== 'ok') out(`         ${c.status === 'fail' ? 'fix' : 'how'}: ${c.fix}`);
}
