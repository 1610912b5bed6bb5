/**
 * `sde scrutiny-report --quarter YYYY-Qn`: the quarter's figures are the register's and the
 * bills' for the same period (each produced by its own command over the same trail), the
 * decisions and benefits come from the config, alarms are counted as the alarms count, the
 * page is plain, axe-clean and reads at 320 px, and nothing personal is in it.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser } from 'playwright-core';
import { closeAllAuditWriters, localAuditEnv, LocalAuditWriter, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import { SECURITY_ALARM_RULES } from '../../lib/audit/security-events';
import { formatMoney } from '../../lib/billing/money';
import { runCli } from '../../lib/cli/cli';
import { loadConfig, SdeConfig } from '../../lib/config';
import { securityAlarmSpecs } from '../../lib/constructs/audit/security-alarms';
import { buildScrutinyReport, parseQuarter, quarterOf, type QuarterFigure, type ScrutinyReport } from '../../lib/governance/scrutiny';
import { figureText } from '../../lib/governance/scrutiny-render';
import type { PublicCount, Register } from '../../lib/register/model';
import { axeViolations, launchBrowser } from '../helpers/axe';
import { ConfigFixture, REPO_ROOT } from '../helpers/config-fixture';
import { parseCsv } from '../helpers/csv';
import { SECRETS, tempDir, writeStory } from '../register/helpers';

const TODAY = '2026-12-02';
const QUARTER = '2026-Q4';
const SCREENSHOTS = path.join(REPO_ROOT, 'test', 'output', 'scrutiny');

/**
 * The example config with decisions in the quarter: UCL first approved on 1 November 2026
 * (its period now starts on 15 November), MediSight's approval replaced on 15 October
 * (after its period began: an extension or change), and KCL's period ending on 31 October.
 */
const fixture = new ConfigFixture();
fixture.edit('projects/ucl-multimorbidity.yaml', (d) => {
  d.approval.date = '2026-11-01';
  d.period.start = '2026-11-15';
});
fixture.edit('projects/medisight-prescribing.yaml', (d) => {
  d.approval.date = '2026-10-15';
  d.approval.reference = 'DAC-2026-041';
  d.approval.disclosureRisk.measuredOn = '2026-10-01';
});
fixture.edit('projects/kcl-covid-recovery.yaml', (d) => {
  d.period.end = '2026-10-31';
  d.benefit.reports[1].date = '2026-11-20';
  d.benefit.outcomes[0].date = '2026-10-05';
});
const config = loadConfig(fixture.dir, { today: TODAY });
const workdir = tempDir('sde-scrutiny-');
const out = path.join(workdir, 'out');
let report: ScrutinyReport;
let register: Register;
let html: string;

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await runCli(argv, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, text: lines.join('\n') };
}

/** The story of the register's tests, plus a burst of refusals (one alarm), a root sign-in (another) and two loads of data. */
function writeTrail(c: SdeConfig): void {
  writeStory(c, workdir);
  const env = localAuditEnv(c);
  const writer = LocalAuditWriter.open(workdir, env);
  for (let i = 0; i < 4; i++) {
    writer.append(
      projectQueryEvent(env, {
        projectId: 'ncl-winter-planning',
        sessionName: SECRETS.nclSession,
        queryString: 'SELECT * FROM gp_events',
        time: new Date(`2026-11-05T09:0${i}:30Z`),
        refused: { message: 'not approved for table gp_events' },
      }),
    );
  }
  const base = projectQueryEvent(env, { projectId: 'ncl-winter-planning', sessionName: 'x', queryString: 'SELECT 1', time: new Date('2026-10-20T08:00:00Z') });
  writer.append({
    ...base,
    eventID: randomUUID(),
    eventSource: 's3.amazonaws.com',
    eventName: 'ListBuckets',
    userIdentity: { type: 'Root', accountId: env.accountId },
    additionalEventData: {},
  });
  for (const [dataset, batch, day] of [
    ['hospital_episodes', 'a'.repeat(24), '2026-10-06'],
    ['gp_events', 'b'.repeat(24), '2026-11-02'],
  ]) {
    writer.append({
      ...base,
      eventID: randomUUID(),
      eventTime: `${day}T02:00:00Z`,
      eventSource: 's3.amazonaws.com',
      eventName: 'CopyObject',
      requestParameters: { bucketName: 'onelondon-sde-curated', key: `${dataset}/load_date=${day}/${batch}.parquet` },
      additionalEventData: {},
    });
  }
  closeAllAuditWriters();
}

let browser: Browser;

beforeAll(async () => {
  writeTrail(config);
  const common = ['--config', fixture.dir, '--workdir', workdir, '--today', TODAY];
  const s = await run('scrutiny-report', '--quarter', QUARTER, '--out', path.join(out, 'scrutiny'), ...common);
  if (s.code !== 0) throw new Error(s.text);
  report = JSON.parse(fs.readFileSync(path.join(out, 'scrutiny', `scrutiny-${QUARTER}.json`), 'utf8'));
  html = fs.readFileSync(path.join(out, 'scrutiny', `scrutiny-${QUARTER}.html`), 'utf8');
  expect((await run('register', '--out', path.join(out, 'register'), ...common)).code).toBe(0);
  register = JSON.parse(fs.readFileSync(path.join(out, 'register', 'register.json'), 'utf8'));
  for (const month of ['2026-10', '2026-11', '2026-12'])
    expect((await run('bill', '--month', month, '--out', path.join(out, 'bills'), ...common)).code).toBe(0);
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  fixture.cleanup();
  fs.rmSync(workdir, { recursive: true, force: true });
});

/** The quarter's figure from the register's months: exact when every month is, otherwise at least the months shown. */
function fromRegister(counts: readonly PublicCount[], threshold: number): QuarterFigure {
  const shown = counts.filter((c): c is { count: number } => 'count' in c);
  const withheld = counts.length - shown.length;
  const sum = shown.reduce((n, c) => n + c.count, 0);
  return withheld === 0 ? { count: sum } : { atLeast: sum, withheldMonths: withheld, fewerThan: threshold + 1 };
}

test('quarters: Q1 is January to March; anything else is refused', () => {
  expect(parseQuarter('2026-Q4')).toMatchObject({ first: '2026-10-01', last: '2026-12-31' });
  expect(parseQuarter('2027-Q1')?.months.map((m) => m.id)).toEqual(['2027-01', '2027-02', '2027-03']);
  for (const bad of ['2026-Q0', '2026-Q5', '2026Q4', '26-Q4', '2026-q4', ' 2026-Q4', '2026-Q4\n', '2026-Q4x']) expect(parseQuarter(bad)).toBeUndefined();
  expect(quarterOf('2026-12-31').id).toBe('2026-Q4');
  expect(quarterOf('2026-04-01').id).toBe('2026-Q2');
});

test("each project's use is the register's for the same months, withheld months never totalled", () => {
  const months = new Set(['2026-10', '2026-11', '2026-12']);
  const threshold = register.disclosure.threshold;
  const used = register.projects.filter((p) => p.activity.months.some((m) => months.has(m.month)));
  expect(report.byProject.map((p) => p.id)).toEqual(used.map((p) => p.id));
  expect(used.map((p) => p.id)).toEqual(['ncl-winter-planning', 'ucl-multimorbidity']);
  for (const p of used) {
    const m = p.activity.months.filter((x) => months.has(x.month));
    const s = report.byProject.find((x) => x.id === p.id)!;
    expect(s.queries).toEqual(
      fromRegister(
        m.map((x) => x.queries),
        threshold,
      ),
    );
    expect(s.refusedQueries).toEqual(
      fromRegister(
        m.map((x) => x.refusedQueries),
        threshold,
      ),
    );
    expect(s.outputsReleased).toEqual(
      fromRegister(
        m.map((x) => x.outputsReleased),
        threshold,
      ),
    );
    expect(s.dataScanned.bytes).toBe(m.reduce((n, x) => n + (x.dataScannedBytes ?? 0), 0));
  }
  // NCL: 12 queries in October (shown), 3 in November (withheld): never "15".
  const ncl = report.byProject.find((p) => p.id === 'ncl-winter-planning')!;
  expect(ncl.queries).toEqual({ atLeast: 12, withheldMonths: 1, fewerThan: 11 });
  expect(figureText(ncl.queries)).toBe('at least 12 (plus fewer than 11 in one month)');
  expect(html).not.toMatch(/>15</);
});

test('charges by tier and month are the bills of those months, tier by tier', () => {
  const billed = new Map<string, number>();
  for (const month of ['2026-10', '2026-11', '2026-12']) {
    const rows = parseCsv(fs.readFileSync(path.join(out, 'bills', month, 'statements.csv'), 'utf8')).filter((r) => r.length > 1);
    const head = rows[0];
    for (const r of rows.slice(1)) {
      const key = `${r[head.indexOf('tier')]} ${month}`;
      // Amounts in the CSV are decimals of the currency (GBP: two places).
      billed.set(key, (billed.get(key) ?? 0) + Math.round(Number(r[head.indexOf('total')]) * 100));
    }
  }
  let total = 0;
  for (const t of report.byTier) {
    expect(t.charges.months.map((m) => m.month)).toEqual(['2026-10', '2026-11', '2026-12']);
    for (const m of t.charges.months) {
      expect(m.totalMinor).toBe(billed.get(`${t.tier} ${m.month}`) ?? 0);
      expect(m.accessFeesMinor + m.dataScannedMinor).toBe(m.totalMinor);
    }
    total += t.charges.totalMinor;
  }
  expect(total).toBe([...billed.values()].reduce((a, b) => a + b, 0));
  expect(total).toBeGreaterThan(0);
  // The page says it in money: the academic tier's quarter, as the bills add up.
  const academic = report.byTier.find((t) => t.tier === 'academic')!;
  expect(html).toContain(`<td>${formatMoney(academic.charges.totalMinor, 'GBP')}</td></tr>`);
  expect(academic.charges.totalMinor).toBeGreaterThan(0);
});

test('tier figures add up the projects of the tier, and keep "at least" when any month was withheld', () => {
  const nhs = report.byTier.find((t) => t.tier === 'nhs')!;
  expect(nhs.projectsWithUse).toBe(1);
  expect(nhs.queries).toEqual(report.byProject.find((p) => p.id === 'ncl-winter-planning')!.queries);
  const commercial = report.byTier.find((t) => t.tier === 'commercial')!;
  expect(commercial).toMatchObject({ projectsWithUse: 0, queries: { count: 0 }, dataScanned: { bytes: 0, complete: true } });
});

test('decisions, the opt-out, benefits and alarms come from the config and the trail', () => {
  expect(report.approved.map((d) => [d.id, d.date, d.citizenMembersPresent, d.quorumMet])).toEqual([['ucl-multimorbidity', '2026-11-01', 4, true]]);
  expect(report.extended.map((d) => [d.id, d.date, d.reference])).toEqual([['medisight-prescribing', '2026-10-15', 'DAC-2026-041']]);
  expect(report.ended.map((d) => [d.id, d.date])).toEqual([['kcl-covid-recovery', '2026-10-31']]);
  expect(report.optOut.datasets.map((d) => [d.name, d.appliedBy, d.loads])).toEqual([
    ['demographics', 'platform', 0],
    ['gp_events', 'platform', 1],
    ['hes_apc', 'supplier', 0],
    ['hospital_episodes', 'platform', 1],
    ['prescriptions', 'platform', 0],
  ]);
  expect(report.benefit.outcomes.map((o) => [o.projectId, o.date])).toEqual([
    ['kcl-covid-recovery', '2026-10-05'],
    ['ucl-multimorbidity', '2026-10-20'],
    ['medisight-prescribing', '2026-11-12'],
  ]);
  expect(report.benefit.reportsMade).toEqual([{ projectId: 'kcl-covid-recovery', project: expect.any(String), date: '2026-11-20', final: true }]);
  // NCL reported on 28 September; its next report is due 1 April 2027. UCL now starts 15 November: nothing due yet.
  expect(report.benefit.overdue).toEqual([]);
  expect(Object.fromEntries(report.security.map((a) => [a.id, a.raised]))).toEqual({
    TrailChanged: 0,
    LakeFormationGrantOutsideDeployment: 0,
    IamAllowedPrincipalsGranted: 0,
    RootAccountUsed: 1,
    RepeatedAccessDenied: 1,
    KmsKeyDisabledOrDeleted: 0,
    DataBucketPolicyChanged: 0,
  });
  expect(html).toContain('Security alarms were raised 2 times in the quarter.');
});

test('the alarms counted are exactly the alarms deployed', () => {
  const deployed = securityAlarmSpecs({ deployRoleArn: 'arn:aws:iam::111122223333:role/deploy', watchedBucketNames: ['b'] }).map((s) => s.id);
  expect(SECURITY_ALARM_RULES.map((r) => r.id)).toEqual(deployed);
});

test('nothing personal: no researcher, session, principal, pseudonym, query or row value', () => {
  const text = `${html}\n${JSON.stringify(report)}`;
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  for (const p of config.projects) {
    for (const r of p.researchers) {
      expect(text).not.toContain(r.id);
      expect(text).not.toContain(r.principal);
    }
  }
  expect(text).not.toMatch(/SELECT/i);
});

test('plain page: axe-core finds nothing at 1280 and 320 px, nothing scrolls sideways at 320 px, no script', async () => {
  const context = await browser.newContext({ javaScriptEnabled: true });
  await context.route('https://scrutiny.test/**', (route) =>
    route.fulfill({ status: 200, body: html, headers: { 'content-type': 'text/html; charset=utf-8' } }),
  );
  for (const width of [1280, 320]) {
    const page = await context.newPage();
    await page.setViewportSize({ width, height: 800 });
    await page.goto('https://scrutiny.test/');
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('h1').textContent()).toBe('Report to the scrutiny committee: October to December 2026');
    const widths = await page.evaluate<{ scroll: number; client: number }>(
      '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
    );
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await page.screenshot({ path: path.join(SCREENSHOTS, `scrutiny-${width}.png`), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  }
  await context.close();
}, 60_000);

test('refuses a trail that does not verify, and bad or future quarters', async () => {
  const common = ['--config', fixture.dir, '--workdir', workdir, '--today', TODAY, '--out', path.join(out, 'refused')];
  expect((await run('scrutiny-report', ...common)).code).toBe(2);
  expect((await run('scrutiny-report', '--quarter', '2026-Q5', ...common)).text).toMatch(/write the quarter as YYYY-Qn/);
  expect((await run('scrutiny-report', '--quarter', '2027-Q1', ...common)).text).toMatch(/has not begun/);
  // One record file edited after the fact: the chain no longer verifies.
  const files: string[] = [];
  const walk = (d: string) =>
    fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name))));
  walk(path.join(workdir, 'audit', 'AWSLogs'));
  const file = files.find((f) => fs.readFileSync(f, 'utf8').includes('ucl-multimorbidity'))!;
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('ucl-multimorbidity', 'ncl-winter-planning'));
  const refused = await run('scrutiny-report', '--quarter', QUARTER, ...common);
  expect(refused.code).toBe(1);
  expect(fs.existsSync(path.join(out, 'refused'))).toBe(false);
});

describe('differencing: a withheld month cannot be worked out from the quarter', () => {
  /** A deterministic generator, so a failure can be replayed. */
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const env = localAuditEnv(config);
  const quarter = parseQuarter(QUARTER)!;

  /** Queries per project and month, as records in memory (bytes large enough to matter). */
  function trail(counts: Record<string, Record<string, number>>): ReturnType<typeof projectQueryEvent>[] {
    const out: ReturnType<typeof projectQueryEvent>[] = [];
    for (const [projectId, months] of Object.entries(counts)) {
      for (const [month, n] of Object.entries(months)) {
        for (let i = 0; i < n; i++) {
          out.push(
            projectQueryEvent(env, {
              projectId,
              sessionName: 's',
              queryString: 'SELECT 1',
              bytesScanned: 3_000_000_000,
              time: new Date(`${month}-${String(1 + (i % 27)).padStart(2, '0')}T10:${String(i % 60).padStart(2, '0')}:00Z`),
            }),
          );
        }
      }
    }
    return out;
  }

  /** Everything the report publishes about use, without the bills (charges are the organisations' spending: docs/governance.md). */
  const useOnly = (r: ScrutinyReport) => ({
    byProject: r.byProject,
    byTier: r.byTier.map(({ charges: _charges, ...t }) => t),
  });

  test('two trails that differ only inside withheld months publish the same use figures', () => {
    const r = rng(2024);
    const threshold = 10;
    const ids = ['ncl-winter-planning', 'ucl-multimorbidity', 'medisight-prescribing'];
    for (let round = 0; round < 40; round++) {
      const base: Record<string, Record<string, number>> = {};
      const other: Record<string, Record<string, number>> = {};
      for (const id of ids) {
        base[id] = {};
        other[id] = {};
        for (const m of ['2026-10', '2026-11']) {
          const kind = r();
          // A month shown (0 or above the threshold), or withheld: then the two trails differ in it.
          const shown = kind < 0.4 ? 0 : kind < 0.7 ? threshold + 1 + Math.floor(r() * 20) : undefined;
          base[id][m] = shown ?? 1 + Math.floor(r() * threshold);
          other[id][m] = shown ?? 1 + Math.floor(r() * threshold);
        }
      }
      const build = (counts: Record<string, Record<string, number>>) =>
        buildScrutinyReport({ config, quarter, records: trail(counts), statements: [], threshold, today: TODAY });
      expect(useOnly(build(other))).toEqual(useOnly(build(base)));
    }
  });
});
