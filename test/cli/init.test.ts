/**
 * `sde init --region NAME DIR`: a new region's configuration that validates once its
 * placeholders are filled, and is refused, naming each one, until every one is.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../../lib/cli/cli';
import { REGION_TEMPLATE } from '../../lib/cli/commands/init';
import { validateConfigDir } from '../../lib/config';
import { INIT_PLACEHOLDER } from '../../lib/config/placeholders';
import { TEST_TODAY } from '../helpers/config-fixture';

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-init-'));
  tmp.push(d);
  return d;
};

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const ACCOUNT = '302403310495';

/** What a deployer would write in each placeholder, by the field's name. */
function valueFor(field: string): unknown {
  const last = field
    .replace(/\[\d+\]$/, '')
    .split('.')
    .pop()!;
  const values: Record<string, unknown> = {
    account: ACCOUNT,
    region: 'eu-west-1',
    admins: `arn:aws:iam::${ACCOUNT}:role/NwPlatformAdmin`,
    reviewers: `arn:aws:iam::${ACCOUNT}:role/NwOutputChecker${field.endsWith('[0]') ? 1 : 2}`,
    securityEmails: 'security@example.org',
    email: 'dpo@example.org',
    principal: `arn:aws:iam::${ACCOUNT}:role/nw-analyst`,
    id: 'NW-R-0001',
    date: '2026-10-01',
    measuredOn: '2026-10-02',
    start: '2026-10-03',
    end: '2027-10-02',
    byWhen: '2027-09-30',
    measure: 'demographics: age_band, sex',
  };
  // A reviewer's principal is a checker role of its own: two reviewers must differ.
  if (field.startsWith('airlock.reviewers[')) return `arn:aws:iam::${ACCOUNT}:role/NwOutputChecker${field.startsWith('airlock.reviewers[0]') ? 1 : 2}`;
  return values[last] ?? `Filled in for the test (${field})`;
}

/** Sets `a.b[0].c` in a parsed YAML document. */
function setField(doc: any, field: string, value: unknown): void {
  const parts = field.split(/\.|(?=\[)/).map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
  let at = doc;
  for (const p of parts.slice(0, -1)) at = at[p as string];
  at[parts[parts.length - 1] as string] = value;
}

function fill(dir: string, problems: readonly { file: string; field: string }[], except?: { file: string; field: string }): void {
  const byFile = new Map<string, string[]>();
  for (const p of problems) if (p !== except) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p.field]);
  for (const [file, fields] of byFile) {
    const abs = path.resolve(file);
    expect(abs.startsWith(dir)).toBe(true);
    const doc = parse(fs.readFileSync(abs, 'utf8'));
    for (const field of fields) setField(doc, field, valueFor(field));
    fs.writeFileSync(abs, stringify(doc));
  }
}

describe('sde init --region NAME DIR', () => {
  test('writes the template, every field explained, and validation refuses exactly its placeholders', async () => {
    const dir = path.join(tempDir(), 'north-west');
    const r = await run('init', '--region', 'north-west', dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/North West Secure Data Environment: configuration written to/);
    expect(fs.readFileSync(path.join(dir, 'platform.yaml'), 'utf8')).toMatch(/^name: north-west-sde$/m);
    const { config, problems } = validateConfigDir(dir, { today: TEST_TODAY });
    expect(config).toBeUndefined();
    // Every problem is a placeholder, each named by file and field, with the fix.
    const placeholderCount = ['platform.yaml', 'datasets/demographics.yaml'].reduce(
      (n, f) =>
        n +
        fs
          .readFileSync(path.join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => !l.trim().startsWith('#') && l.includes(INIT_PLACEHOLDER)).length,
      0,
    );
    expect(problems).toHaveLength(placeholderCount);
    for (const p of problems) {
      expect(p.message).toBe(`is still the placeholder ${INIT_PLACEHOLDER} that sde init left`);
      expect(p.fix).toMatch(/the comment above the field in the file says what it is/);
    }
    expect(problems.map((p) => p.field)).toEqual(
      expect.arrayContaining(['aws.account', 'aws.region', 'admins[0]', 'register.optOut.text', 'register.contact.email', 'supplier']),
    );
  });

  test('validates once every placeholder is filled in; any one left is refused, naming it', async () => {
    const dir = path.join(tempDir(), 'cfg');
    expect((await run('init', '--region', 'east', dir)).code).toBe(0);
    const { problems } = validateConfigDir(dir, { today: TEST_TODAY });
    expect(problems.length).toBeGreaterThan(5);
    // Leave each placeholder in turn, the others filled: that one alone is refused.
    for (const left of problems) {
      const copy = tempDir();
      fs.cpSync(dir, copy, { recursive: true });
      const moved = problems.map((p) => ({ ...p, file: path.join(copy, path.relative(dir, path.resolve(p.file))) }));
      const leftMoved = moved[problems.indexOf(left)];
      fill(copy, moved, leftMoved);
      const again = validateConfigDir(copy, { today: TEST_TODAY }).problems;
      expect(again.map((p) => [path.relative(copy, path.resolve(p.file)), p.field, p.message])).toEqual([
        [path.relative(dir, path.resolve(left.file)), left.field, `is still the placeholder ${INIT_PLACEHOLDER} that sde init left`],
      ]);
    }
    fill(dir, problems);
    const filled = validateConfigDir(dir, { today: TEST_TODAY });
    expect(filled.problems).toEqual([]);
    expect(filled.config?.platform.name).toBe('east-sde');
    expect((await run('validate', '--config', dir, '--today', TEST_TODAY)).code).toBe(0);
  });

  test('its example project, renamed and filled in, validates with the filled platform', async () => {
    const dir = path.join(tempDir(), 'cfg');
    expect((await run('init', '--region', 'south-west', dir)).code).toBe(0);
    fill(dir, validateConfigDir(dir, { today: TEST_TODAY }).problems);
    fs.renameSync(path.join(dir, 'projects', 'example-project.yaml.example'), path.join(dir, 'projects', 'example-project.yaml'));
    const { problems } = validateConfigDir(dir, { today: TEST_TODAY });
    expect(problems.length).toBeGreaterThan(5);
    expect(problems.every((p) => p.message.includes(INIT_PLACEHOLDER))).toBe(true);
    fill(dir, problems);
    const filled = validateConfigDir(dir, { today: TEST_TODAY });
    expect(filled.problems).toEqual([]);
    expect(filled.config?.projects.map((p) => p.id)).toEqual(['example-project']);
  });

  test('every template file is explained: comments above the fields', () => {
    for (const f of ['platform.yaml', 'datasets/demographics.yaml', 'projects/example-project.yaml.example']) {
      const text = fs.readFileSync(path.join(REGION_TEMPLATE, f), 'utf8');
      expect(text.split('\n').filter((l) => l.trim().startsWith('#')).length).toBeGreaterThan(10);
    }
  });

  test.each([
    [['init', 'dir'], /--region NAME is required/],
    [['init', '--region', 'North West', 'dir'], /--region must be 1-27 characters/],
    [['init', '--region', 'a-very-long-region-name-indeed', 'dir'], /--region must be 1-27 characters/],
    [['init', '--region', 'west-'], /--region must be/],
    [['init', '--region', 'west'], /give one folder/],
  ])('refuses %j', async (argv, message) => {
    const r = await run(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test('never writes into a folder that is not empty', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'platform.yaml'), 'name: mine\n');
    const r = await run('init', '--region', 'west', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exists and is not an empty folder/);
    expect(fs.readFileSync(path.join(dir, 'platform.yaml'), 'utf8')).toBe('name: mine\n');
  });
});
