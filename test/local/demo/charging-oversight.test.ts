/** The demo's last step: this month's bills from the demo's audit trail, and the governance report when there is git history. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAuditWriters, LocalAuditWriter, localAuditEnv, projectQueryEvent } from '../../../lib/audit/local-audit-writer';
import { loadConfig } from '../../../lib/config/loader';
import { writeDemoBillsAndGovernance } from '../../../lib/local/demo/charging-oversight';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-demo-bills-'));
afterAll(() => {
  closeAllAuditWriters();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('outside git: bills written, the governance report skipped with a message', async () => {
  const configDir = path.join(tmp, 'plain-config');
  fs.cpSync(EXAMPLE_CONFIG, configDir, { recursive: true });
  const config = loadConfig(configDir, { today: TEST_TODAY });
  const workdir = path.join(tmp, 'wd1');
  const env = localAuditEnv(config);
  LocalAuditWriter.open(workdir, env).append(
    projectQueryEvent(env, {
      projectId: 'ncl-winter-planning',
      sessionName: 's',
      queryString: 'SELECT 1',
      bytesScanned: 5,
      time: new Date('2026-11-21T10:00:00Z'),
      queryExecutionId: 'q1',
    }),
  );
  const log: string[] = [];
  const r = await writeDemoBillsAndGovernance({ config, workdir, log: (l) => log.push(l), now: new Date('2026-11-22T12:00:00Z') });
  expect(r.reportFiles).toEqual([]);
  expect(r.billFiles).toContain(path.join(workdir, 'out', 'bills', '2026-11', 'ncl-winter-planning.csv'));
  expect(fs.readFileSync(path.join(workdir, 'out', 'bills', '2026-11', 'ncl-winter-planning.csv'), 'utf8')).toMatch(
    /,usage,query,q1,2026-11-21T10:00:00Z,5,10000000,,/,
  );
  expect(log.join('\n')).toMatch(/Governance report skipped: .* is not inside a git repository/);
});

test('inside git: the report compares with the first commit when the history is short', async () => {
  const repo = path.join(tmp, 'repo');
  fs.cpSync(EXAMPLE_CONFIG, path.join(repo, 'config'), { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'one');
  fs.writeFileSync(
    path.join(repo, 'config', 'platform.yaml'),
    fs.readFileSync(path.join(repo, 'config', 'platform.yaml'), 'utf8').replace('accessFeePerMonth: 150', 'accessFeePerMonth: 175'),
  );
  const config = loadConfig(path.join(repo, 'config'), { today: TEST_TODAY });
  const log: string[] = [];
  const r = await writeDemoBillsAndGovernance({ config, workdir: path.join(tmp, 'wd2'), log: (l) => log.push(l), now: new Date('2026-11-22T12:00:00Z') });
  expect(r.reportFiles.map((f) => path.basename(f))).toEqual(['governance-report.md', 'governance-report.html']);
  expect(fs.readFileSync(r.reportFiles[0], 'utf8')).toMatch(/The charity tier .* now costs GBP 175 a month/);
  expect(log.join('\n')).toMatch(/Governance report since commit [0-9a-f]{12}: 1 change/);
});
