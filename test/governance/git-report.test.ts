/**
 * The governance report and `sde validate --since` against a real temporary git
 * repository: the config is committed, changed in the working tree, and compared.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../../lib/cli/cli';
import { readConfigAtRevision } from '../../lib/governance/git-config';
import { EXAMPLE_CONFIG } from '../helpers/config-fixture';

const TODAY = '2026-11-22';
const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-gov-'));
const config = path.join(repo, 'deploy', 'config');
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=SDE test', '-c', 'user.email=sde-test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd: repo,
    encoding: 'utf8',
  });

function editYaml(rel: string, change: (doc: any) => void) {
  const file = path.join(config, rel);
  const doc = parse(fs.readFileSync(file, 'utf8'));
  change(doc);
  fs.writeFileSync(file, stringify(doc));
}

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(() => {
  fs.mkdirSync(path.dirname(config), { recursive: true });
  fs.cpSync(EXAMPLE_CONFIG, config, { recursive: true });
  fs.writeFileSync(path.join(repo, 'README.md'), 'not config\n');
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  git('tag', 'v1');
  // the working tree: ucl extended without recording a new approval, a price raised
  editYaml('projects/ucl-multimorbidity.yaml', (d) => (d.period.end = '2030-05-31'));
  editYaml('platform.yaml', (d) => (d.pricing.tiers.academic.accessFeePerMonth = 300));
});
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

test('reads the config folder at a revision, relative to the folder, without touching the working tree', () => {
  const at = readConfigAtRevision(config, 'v1');
  expect([...at.files.keys()].sort()).toEqual([
    'datasets/demographics.yaml',
    'datasets/gp_events.yaml',
    'datasets/hes_apc.yaml',
    'datasets/hospital_episodes.yaml',
    'datasets/prescriptions.yaml',
    'platform.yaml',
    'projects/kcl-covid-recovery.yaml',
    'projects/medisight-prescribing.yaml',
    'projects/ncl-winter-planning.yaml',
    'projects/nel-hes-admissions-pilot.yaml',
    'projects/ucl-multimorbidity.yaml',
    // The vocabulary files the datasets name: a revision's config is validated with them.
    'vocabularies/admission-method.yaml',
    'vocabularies/ethnic-category.yaml',
    'vocabularies/hes-admission-source.yaml',
    'vocabularies/hes-discharge-destination.yaml',
    'vocabularies/hes-ethnos.yaml',
    'vocabularies/hes-sex.yaml',
    'vocabularies/hes-specialty.yaml',
    'vocabularies/measurement-units.yaml',
    'vocabularies/medicines.yaml',
    'vocabularies/person-stated-gender.yaml',
  ]);
  expect(at.files.get('platform.yaml')).toContain('accessFeePerMonth: 250');
  expect(fs.readFileSync(path.join(config, 'platform.yaml'), 'utf8')).toContain('accessFeePerMonth: 300');
  expect(at.commit).toMatch(/^[0-9a-f]{40}$/);
});

test('sde governance-report writes Markdown and HTML saying what changed', async () => {
  const out = path.join(repo, 'report');
  const r = await run('governance-report', '--since', 'v1', '--config', config, '--out', out, '--today', TODAY);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const md = fs.readFileSync(path.join(out, 'governance-report.md'), 'utf8');
  expect(md).toMatch(/## Projects extended\n\n- University College London's project .*was extended from 2029-05-31 to 2030-05-31/);
  expect(md).toMatch(/## Prices\n\n- The academic tier .* now costs GBP 300 a month/);
  // the extension carries no new approval: flagged for the advisory group
  expect(md).toMatch(/## For the advisory group to check\n\n- .*ucl-multimorbidity\.yaml: approval\.reference: is still DAC-2026-021/);
  expect(fs.readFileSync(path.join(out, 'governance-report.html'), 'utf8')).toMatch(/<h2 id="s-extended">Projects extended<\/h2>/);
});

test('sde validate --since refuses the extension without a recorded approval, naming file, field and fix', async () => {
  const r = await run('validate', '--config', config, '--today', TODAY, '--since', 'v1');
  expect(r.code).toBe(1);
  expect(r.err).toMatch(
    /ucl-multimorbidity\.yaml: approval\.reference: is still DAC-2026-021, but the project is extended \(period\.end 2029-05-31 -> 2030-05-31\)/,
  );
  expect(r.err).toMatch(/fix: record the committee decision that approved the extension/);
  // without --since the same config is valid: one config alone cannot see an extension
  expect((await run('validate', '--config', config, '--today', TODAY)).code).toBe(0);
});

test('an extension with a new approval naming the citizen members passes', async () => {
  const backup = fs.readFileSync(path.join(config, 'projects/ucl-multimorbidity.yaml'), 'utf8');
  try {
    editYaml('projects/ucl-multimorbidity.yaml', (d) => {
      d.approval = {
        committee: 'OneLondon Data Access Committee',
        reference: 'DAC-2026-077',
        date: '2026-11-12',
        citizenMembersPresent: 2,
        citizenMembers: ['CM-02', 'CM-09'],
        disclosureRisk: d.approval.disclosureRisk,
        riskAcceptance: d.approval.riskAcceptance,
      };
    });
    const r = await run('validate', '--config', config, '--today', TODAY, '--since', 'v1');
    // No problem; only the warning that the example's account ids are AWS documentation ones.
    expect(r.err.split('\n').filter((l) => !/^warning: \d+ fields name an AWS documentation account id|^ {2}\S.*\(\d{12}\)$/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
  } finally {
    fs.writeFileSync(path.join(config, 'projects/ucl-multimorbidity.yaml'), backup);
  }
});

test('clear errors: unknown revision, not a git repository, a revision that looks like an option', async () => {
  const unknown = await run('governance-report', '--since', 'no-such-tag', '--config', config, '--today', TODAY);
  expect(unknown.code).toBe(2);
  expect(unknown.err).toMatch(/git revision "no-such-tag" is not known/);

  const option = await run('governance-report', '--since=--output=/tmp/x', '--config', config, '--today', TODAY);
  expect(option.code).toBe(2);
  expect(option.err).toMatch(/is not a git revision/);

  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-nogit-'));
  try {
    fs.cpSync(EXAMPLE_CONFIG, outside, { recursive: true });
    const r = await run('governance-report', '--since', 'HEAD~1', '--config', outside, '--today', TODAY);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not inside a git repository/);
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
  }

  expect((await run('governance-report', '--config', config)).code).toBe(2);
});
