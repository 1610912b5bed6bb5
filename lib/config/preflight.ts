/**
 * The first deployment's checklist, as far as the configuration can answer it (pure): what
 * `sde preflight` checks before `cdk deploy`, and what it can only remind the deployer of.
 * docs/deploy.md walks through each item.
 */
import type { SdeConfig } from './model';
import { documentationAccountWarnings } from './placeholders';
import { formatProblem } from './problems';

export type CheckStatus = 'ok' | 'fail' | 'todo';

export interface PreflightCheck {
  readonly status: CheckStatus;
  readonly check: string;
  readonly detail: string;
  /** What to do, for a failed check or a step only the deployer (or the account) can confirm. */
  readonly fix?: string;
}

/**
 * Whether an e-mail address or web address is on a name reserved for examples (RFC 2606 and
 * 6761: example.com, .org, .net, any *.example, and any name with an `example` label such
 * as example.nhs.uk): nobody reads mail sent there.
 */
export function isExampleAddress(address: string): boolean {
  const host = (address.includes('@') ? address.split('@').pop()! : address.replace(/^[a-z]+:\/\//i, '').split(/[/?#:]/)[0]).toLowerCase();
  return host.split('.').some((label) => label === 'example' || label === 'invalid' || label === 'test' || label === 'localhost');
}

function addresses(config: SdeConfig): { where: string; address: string }[] {
  const r = config.platform.register;
  return [
    ...config.platform.alerts.securityEmails.map((address, i) => ({ where: `alerts.securityEmails[${i}]`, address })),
    ...(r.contact.email === undefined ? [] : [{ where: 'register.contact.email', address: r.contact.email }]),
    ...(r.contact.url === undefined ? [] : [{ where: 'register.contact.url', address: r.contact.url }]),
    ...(r.optOut.url === undefined ? [] : [{ where: 'register.optOut.url', address: r.optOut.url }]),
  ];
}

/** The checks the configuration alone can answer, then the steps it can only list. */
export function configPreflight(config: SdeConfig): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const p = config.platform;
  checks.push(
    p.aws.account === undefined
      ? { status: 'fail', check: 'AWS account', detail: 'platform.yaml names no aws.account: the templates would deploy to whichever account the credentials belong to', fix: 'set aws.account: "<12 digits>" in platform.yaml' }
      : { status: 'ok', check: 'AWS account', detail: `${p.aws.account}, region ${p.aws.region ?? '(none: set aws.region)'}` },
  );
  const placeholders = documentationAccountWarnings(config);
  checks.push(
    placeholders.length === 0
      ? { status: 'ok', check: 'No example account ids', detail: 'no field names an AWS documentation account (111122223333 and the like)' }
      : {
          status: 'fail',
          check: 'No example account ids',
          detail: `${placeholders.length} field(s) name an AWS documentation account:\n${placeholders.map((w) => `      ${formatProblem(w).split('\n')[0]}`).join('\n')}`,
          fix: 'replace each with your account and the real role or user names (admins, breakGlassRole, airlock.reviewers, researchers)',
        },
  );
  const reviewers = p.airlock?.reviewers ?? [];
  checks.push(
    reviewers.length >= 2
      ? { status: 'ok', check: 'Output reviewers', detail: `${reviewers.length} reviewers in platform.yaml airlock.reviewers` }
      : { status: 'fail', check: 'Output reviewers', detail: 'the airlock needs at least two reviewers, so that nobody checks their own output alone', fix: 'list two or more under airlock.reviewers in platform.yaml' },
  );
  const examples = addresses(config).filter((a) => isExampleAddress(a.address));
  checks.push(
    examples.length === 0
      ? { status: 'ok', check: 'Real addresses', detail: 'security e-mails and the register contact are not on example domains' }
      : {
          status: 'fail',
          check: 'Real addresses',
          detail: examples.map((e) => `${e.where}: ${e.address} is on a name reserved for examples: nobody reads it`).join('; '),
          fix: 'use the security team\'s and the data protection office\'s real addresses in platform.yaml',
        },
  );
  checks.push(
    p.register.domain === undefined
      ? { status: 'todo', check: 'Register domain', detail: 'none: the register is served on CloudFront\'s *.cloudfront.net name (TLS policy fixed by AWS)', fix: 'optional: set register.domain (names and a us-east-1 ACM certificate), then point DNS at the distribution' }
      : { status: 'ok', check: 'Register domain', detail: p.register.domain.names.join(', ') },
  );
  return checks;
}

/** Steps on the AWS account that `sde preflight` can only list (docs/deploy.md explains each). */
export const ACCOUNT_STEPS: readonly PreflightCheck[] = [
  { status: 'todo', check: 'CDK bootstrap', detail: 'cdk bootstrap aws://ACCOUNT/REGION, once per account and region', fix: 'docs/deploy.md step 3' },
  {
    status: 'todo',
    check: 'Lambda concurrency quota',
    detail: 'new accounts may have a concurrent executions quota of 10; ingestion maps chunks in parallel',
    fix: 'aws service-quotas get-service-quota --service-code lambda --quota-code L-B99A9384; request 1000 if lower (docs/deploy.md step 2)',
  },
  {
    status: 'todo',
    check: 'Cost-allocation tag',
    detail: 'bills and budgets filter by the sde:project tag, which AWS ignores until it is activated (after the first deployment)',
    fix: 'aws ce update-cost-allocation-tags-status --cost-allocation-tags-status TagKey=sde:project,Status=Active',
  },
  {
    status: 'todo',
    check: 'Opt-out list uploaded',
    detail: 'ingestion of a dataset that applies the national data opt-out fails closed until s3://<landing>/_reference/national-data-opt-out.txt exists',
    fix: 'aws s3 cp national-data-opt-out.txt s3://<LandingBucketName>/_reference/national-data-opt-out.txt (and again within retention.landingDays)',
  },
  {
    status: 'todo',
    check: 'Alarm subscriptions confirmed',
    detail: 'each security e-mail receives an SNS confirmation after the first deployment; alarms reach nobody until it is accepted',
    fix: 'accept the "AWS Notification - Subscription Confirmation" e-mail at every address in alerts.securityEmails',
  },
];
