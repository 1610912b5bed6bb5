/**
 * `sde governance-report` lists the outcome reports owed: interval reports overdue, and
 * projects that ended without a final report. Against a real temporary git repository.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../../lib/cli/cli';
import { loadConfig } from '../../lib/config';
import { outcomeReportConcerns } from '../../lib/governance/outcome-reports';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-outcomes-'));
const config = path.join(repo, 'config');
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=SDE test', '-c', 'user.email=sde-test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });

function editYaml(rel: string, change: (doc: any) => void) {
  const file = path.join(config, rel);
  const doc = parse(fs.readFileSync(file, 'utf8'));
  change(doc);
  fs.writeFileSync(file, stringify(doc));
}

async function run(...argv: string[]) {
  const out: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => out.push(l) });
  return { code, out: out.join('\n') };
}

beforeAll(() => {
  fs.cpSync(EXAMPLE_CONFIG, config, { recursive: true });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'example config');
  git('tag', 'v1');
});

test('on the example config nothing is owed on the test day, and UCL is overdue once its first report date passes', () => {
  expect(outcomeReportConcerns(loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY }))).toEqual([]);
  const later = outcomeReportConcerns(loadConfig(EXAMPLE_CONFIG, { today: '2026-12-02' }));
  expect(later).toEqual([
    { projectId: 'ucl-multimorbidity', kind: 'overdue', text: expect.stringMatching(/was due on 2026-12-01 \(every 6 months from 2026-06-01\)/) },
  ]);
});

test('the report lists overdue reports and the ended project without a final report, and the outcomes newly recorded', async () => {
  // KCL's final report is taken out; NCL records a second outcome.
  editYaml('projects/kcl-covid-recovery.yaml', (d) => (d.benefit.reports = d.benefit.reports.filter((r: { final?: boolean }) => !r.final)));
  editYaml('projects/ncl-winter-planning.yaml', (d) =>
    d.benefit.outcomes.push({
      date: '2026-11-20',
      kind: 'dataset_returned',
      title: 'Cleaned bed-occupancy series returned to the platform',
      reference: 'SDE dataset bed_occupancy_ncl',
    }),
  );
  const out = path.join(repo, 'out');
  const r = await run('governance-report', '--since', 'v1', '--config', config, '--out', out, '--today', '2026-12-02');
  expect(r.code).toBe(0);
  const md = fs.readFileSync(path.join(out, 'governance-report.md'), 'utf8');
  const owed = md.slice(md.indexOf('## Outcome reports owed'), md.indexOf('\n## ', md.indexOf('## Outcome reports owed') + 5));
  expect(owed).toMatch(/Patterns of multiple long-term conditions .*\(ucl-multimorbidity\): an outcome report was due on 2026-12-01/);
  expect(owed).toMatch(/\(kcl-covid-recovery\) ended on 2025-07-31 without a final report: it was due by 2025-10-29 and is overdue/);
  expect(owed).not.toMatch(/ncl-winter-planning|medisight-prescribing/);
  expect(md).toMatch(
    /## Public benefit promised and delivered\n\n- .*"Winter emergency .*\(ncl-winter-planning\) reported an outcome \(dataset returned, 2026-11-20\): "Cleaned bed-occupancy series/,
  );
  const html = fs.readFileSync(path.join(out, 'governance-report.html'), 'utf8');
  expect(html).toMatch(/<h2 id="s-outcome-reports">Outcome reports owed<\/h2>\n<ul>\n<li>/);
});

test('with nothing owed the report says so', async () => {
  git('checkout', '-q', '--', '.');
  const r = await run('governance-report', '--since', 'v1', '--config', config, '--today', TEST_TODAY);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/## Outcome reports owed\n\nNo outcome report is overdue, and every project that has ended has made its final report\./);
});
