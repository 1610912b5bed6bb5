/**
 * `sde risk` and the access matrix on the local runtime: the curated Parquet put through the
 * local S3 API, measured in DuckDB, judged against platform.yaml's ceiling and each
 * approval's acceptance; the report shown in the access matrix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../lib/cli/cli';
import { loadConfig } from '../../../lib/config';
import type { RiskReport } from '../../../lib/governance/disclosure-risk';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { uploadCuratedParquet } from '../../helpers/curated-parquet';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-risk-cli-'));
const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-risk-staging-'));
afterAll(() => [workdir, staging].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
beforeAll(async () => {
  // The helper's synthetic values make every practice code and LSOA distinct: everyone is unique.
  await uploadCuratedParquet(config, workdir, staging, 40);
});

async function sde(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // The access matrix reads only the config (and a report): it takes no workdir.
  const where = argv[0] === 'access-matrix' ? [] : ['--workdir', workdir];
  const code = await runCli([...argv, '--config', EXAMPLE_CONFIG, ...where, '--today', TEST_TODAY], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('sde risk: each active approval measured; one over the ceiling without an acceptance fails', async () => {
  const file = path.join(workdir, 'risk.json');
  const r = await sde('risk', '--format', 'json', '--out', file);
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as RiskReport;
  expect(report).toMatchObject({ type: 'sde-disclosure-risk', measuredOn: TEST_TODAY, ceiling: 0.05 });
  const verdicts = Object.fromEntries(report.projects.map((p) => [p.projectId, p.gate.verdict]));
  // ncl and ucl record acceptances of 100%; medisight recorded 0.12% on the 50,000 population, but on these
  // 40 rows (one practice code each) everyone is unique, and nothing accepts that.
  expect(verdicts).toEqual({ 'medisight-prescribing': 'over_ceiling', 'ncl-winter-planning': 'accepted', 'ucl-multimorbidity': 'accepted' });
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/medisight-prescribing: 100.0% of people in classes under 5 .* over the ceiling of 5.0% with no risk acceptance/);
  const ncl = report.projects.find((p) => p.projectId === 'ncl-winter-planning')!;
  expect(ncl.measures.map((m) => m.kind)).toEqual(['quasi_identifiers', 'trajectory', 'quasi_identifiers', 'trajectory', 'linked']);

  const matrix = await sde('access-matrix', '--risk', file);
  expect(matrix.code).toBe(0);
  expect(matrix.out).toMatch(
    /\| medisight-prescribing \|.*100.0% of 14 people in classes under 5, 100.0% under 10 \(measured 2026-11-22: prescriptions: gp_practice_code, issue_month\); OVER the ceiling of 5.0% without an acceptance/,
  );
  expect(matrix.out).toMatch(/\| ncl-winter-planning \|.*over the ceiling of 5.0%, accepted \(DAC-2026-014-R1\)/);
});

test('sde risk --project, as text, and --show-sql', async () => {
  const r = await sde('risk', '--project', 'ncl-winter-planning');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/ncl-winter-planning: ACCEPTED: 100.0% of people in classes under 5/);
  expect(r.out).toMatch(/demographics \+ hospital_episodes linked by the pseudonym/);
  const sql = await sde('risk', '--project', 'ucl-multimorbidity', '--show-sql');
  expect(sql.out).toMatch(/^-- ucl-multimorbidity\nWITH\n/);
  expect((await sde('risk', '--project', 'nope')).code).toBe(2);
});

test("the access matrix shows each approval's recorded risk without a report", async () => {
  const r = await sde('access-matrix');
  expect(r.out).toMatch(
    /\| ucl-multimorbidity \|.*100.0% of 48969 people in classes under 5, 100.0% under 10 \(recorded 2026-11-20: demographics \+ gp_events \+ prescriptions linked/,
  );
  expect(r.out).toMatch(
    /\| medisight-prescribing \|.*0.1% of 29438 people in classes under 5, 0.1% under 10 \(recorded 2026-11-20: .*\); within the ceiling of 5.0%/,
  );
  const html = await sde('access-matrix', '--format', 'html', '--out', path.join(workdir, 'matrix.html'));
  expect(html.code).toBe(0);
  expect(fs.readFileSync(path.join(workdir, 'matrix.html'), 'utf8')).toMatch(/The committee accepted this risk \(DAC-2026-014-R1, 2026-11-21\)/);
});
