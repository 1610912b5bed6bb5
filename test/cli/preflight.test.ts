import * as fs from 'node:fs';
import { runCli } from '../../lib/cli/cli';
import { isExampleAddress } from '../../lib/config/preflight';
import { ConfigFixture, TEST_TODAY } from '../helpers/config-fixture';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The example made deployable: a real-looking account everywhere, real-looking addresses. */
function deployable(): ConfigFixture {
  const f = new ConfigFixture();
  for (const file of ['platform.yaml', ...fs.readdirSync(f.path('projects')).map((p) => `projects/${p}`)]) {
    fs.writeFileSync(f.path(file), fs.readFileSync(f.path(file), 'utf8').replace(/111122223333|444455556666/g, '302403310495'));
  }
  return f.edit('platform.yaml', (d) => {
    d.aws.account = '302403310495';
    d.alerts.securityEmails = ['sde-security@onelondon.nhs.uk'];
    d.register.contact.email = 'dpo@onelondon.nhs.uk';
  });
}

describe('sde preflight', () => {
  test('the example config fails on its example account ids, its missing account and its example addresses, each with the fix', async () => {
    const r = await run('preflight', '--offline', '--today', TEST_TODAY);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\[FAIL\] AWS account: platform\.yaml names no aws\.account[\s\S]*fix: set aws\.account/);
    expect(r.out).toMatch(/\[FAIL\] No example account ids: 12 field\(s\)/);
    expect(r.out).toMatch(/platform\.yaml: airlock\.reviewers\[0\]\.principal: names AWS documentation account 111122223333/);
    expect(r.out).toMatch(/\[FAIL\] Real addresses: alerts\.securityEmails\[0\]: sde-security@example\.nhs\.uk/);
    expect(r.out).toMatch(/3 checks failed/);
    expect(r.out).toContain('From the account: not checked (--offline): the configuration only.');
    for (const step of ['CDK bootstrap', 'Lambda concurrency quota', 'Cost-allocation tag', 'Opt-out list uploaded', 'Alarm subscriptions confirmed'])
      expect(r.out).toMatch(new RegExp(`\\[todo\\] ${step}: `));
  });

  test('a config with its own account and addresses passes, and still lists the steps on the account', async () => {
    const f = deployable();
    try {
      const r = await run('preflight', '--config', f.dir, '--offline', '--today', TEST_TODAY);
      expect(r.out).not.toMatch(/FAIL/);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Nothing failed\./);
      expect(r.out).toMatch(/\[todo\] Opt-out list uploaded/);
    } finally {
      f.cleanup();
    }
  });

  test('without credentials it says it checked the config only', async () => {
    const f = deployable();
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'sde-preflight-none', AWS_EC2_METADATA_DISABLED: 'true' });
      delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
      delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
      const r = await run('preflight', '--config', f.dir, '--today', TEST_TODAY);
      expect(r.out).toContain('From the account: not checked: no working AWS credentials found, so the configuration only.');
      expect(r.code).toBe(0);
    } finally {
      process.env = saved;
      f.cleanup();
    }
  });

  test('example addresses are recognised by their names, not a list of the ones in the example', () => {
    for (const a of [
      'a@example.com',
      'x@EXAMPLE.org',
      'y@mail.example',
      'z@example.nhs.uk',
      'https://example.org/contact',
      'https://register.test/',
      'q@foo.invalid',
    ])
      expect({ a, example: isExampleAddress(a) }).toEqual({ a, example: true });
    for (const a of ['dpo@onelondon.nhs.uk', 'https://www.nhs.uk/your-nhs-data-matters/', 'sec@examples.org', 'me@counterexample.com'])
      expect({ a, example: isExampleAddress(a) }).toEqual({ a, example: false });
  });
});
