/**
 * The register's public-benefit part as a citizen sees it: `sde register` from a real local
 * audit trail, opened in headless Chromium with scripts off under the deployed
 * Content-Security-Policy. Each project shows the benefit it promised, a commercial user's
 * sharing terms, its outcomes and whether a report is overdue; register.json and
 * register.csv carry the same; axe-core finds nothing; hostile config text stays text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { runCli } from '../../lib/cli/cli';
import { loadConfig } from '../../lib/config';
import type { Register } from '../../lib/register/model';
import { registerContentSecurityPolicy } from '../../lib/register/csp';
import { OUTCOME_KIND_LABELS, SHARING_TERM_LABELS } from '../../lib/register/benefit';
import { axeViolations, launchBrowser } from '../helpers/axe';
import { ConfigFixture, EXAMPLE_CONFIG, REPO_ROOT, TEST_TODAY } from '../helpers/config-fixture';
import { parseCsv } from '../helpers/csv';
import { tempDir, writeStory } from './helpers';

const SCREENSHOTS = path.join(REPO_ROOT, 'test', 'output', 'register');
const ORIGIN = 'https://register.test';
/** The day after UCL's first six-monthly report fell due (1 December 2026) without one. */
const LATER = '2026-12-02';

const config = loadConfig(EXAMPLE_CONFIG, { today: LATER });
const workdir = tempDir('sde-register-benefit-');
const sites = { today: path.join(workdir, 'site'), hostile: path.join(workdir, 'hostile') };
const hostile = new ConfigFixture();
let browser: Browser;
const contexts: BrowserContext[] = [];

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.csv': 'text/csv; charset=utf-8' };

async function register(configDir: string, out: string): Promise<void> {
  const code = await runCli(['register', '--config', configDir, '--workdir', workdir, '--out', out, '--today', LATER], {
    out: () => undefined,
    err: () => undefined,
  });
  expect(code).toBe(0);
}

/** A browser context serving `site` as CloudFront does; scripts off unless `forAxe` (which also bypasses the policy to inject axe). */
async function serve(site: string, forAxe = false): Promise<BrowserContext> {
  const context = await browser.newContext({ javaScriptEnabled: forAxe, bypassCSP: forAxe });
  contexts.push(context);
  await context.route(`${ORIGIN}/**`, async (route) => {
    const name = new URL(route.request().url()).pathname.replace(/^\//, '') || 'index.html';
    const file = path.join(site, path.basename(name));
    if (!fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({
      status: 200,
      body: fs.readFileSync(file),
      headers: { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': registerContentSecurityPolicy() },
    });
  });
  return context;
}

async function open(context: BrowserContext, width: number): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 800 });
  await page.goto(`${ORIGIN}/`);
  return page;
}

beforeAll(async () => {
  writeStory(loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY }), workdir);
  await register(EXAMPLE_CONFIG, sites.today);
  // Config text written as an attacker would: markup in every benefit field, and links of other schemes written as references.
  hostile.edit('projects/ncl-winter-planning.yaml', (d) => {
    d.benefit.whoBenefits = 'People <script>alert(1)</script> in <b>winter</b>';
    d.benefit.how = 'Beds are planned "><img src=x onerror=alert(1)> before the winter peak arrives';
    d.benefit.outcomes = [
      { date: '2026-10-01', kind: 'other', title: 'A link in disguise <a href="javascript:alert(1)">x</a>', reference: 'javascript:alert(1)' },
      { date: '2026-10-02', kind: 'other', title: 'A data link written as a reference', reference: 'data:text/html,<script>alert(1)</script>' },
      { date: '2026-10-03', kind: 'publication', title: 'A real https reference with a quote', reference: 'https://example.org/a"onmouseover="alert(1)' },
    ];
  });
  await register(hostile.dir, sites.hostile);
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  hostile.cleanup();
  fs.rmSync(workdir, { recursive: true, force: true });
});

test('every project shows its promised benefit, its outcomes (https references as links), and the commercial user its sharing terms', async () => {
  const page = await open(await serve(sites.today), 1280);
  for (const p of config.projects) {
    const section = page.locator(`section[aria-labelledby="${p.id}"]`);
    const text = ((await section.textContent()) ?? '').replace(/\s+/g, ' ');
    const b = p.benefit!;
    expect(await section.locator('h4', { hasText: 'Public benefit' }).count()).toBe(1);
    expect(text).toContain(`Who benefits${b.whoBenefits}`);
    expect(text).toContain(`How${b.how.replace(/\s+/g, ' ')}`);
    expect(await section.locator(`time[datetime="${b.byWhen}"]`).count()).toBeGreaterThan(0);
    const items = await section.locator('h4:has-text("Outcomes reported so far") + ul > li').allTextContents();
    expect(items).toHaveLength(b.outcomes.length);
    for (const o of b.outcomes) {
      expect(items.join('\n')).toContain(`${OUTCOME_KIND_LABELS[o.kind].toLowerCase()}: ${o.title} (${o.reference})`);
      const links = section.locator(`a[href="${o.reference}"]`);
      expect(await links.count()).toBe(o.reference.startsWith('https://') ? 1 : 0);
    }
    if (b.sharing) {
      expect(text).toContain(`Benefit-sharing terms (commercial use)${b.sharing.summary.replace(/\s+/g, ' ')}`);
      for (const t of b.sharing.terms) expect(text).toContain(SHARING_TERM_LABELS[t]);
      expect(text).toContain(`Agreement reference ${b.sharing.agreement}`);
    } else {
      expect(text).not.toContain('Benefit-sharing terms');
    }
  }
  expect(config.projects.filter((p) => p.benefit?.sharing).map((p) => p.id)).toEqual(['medisight-prescribing']);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'register-benefit-1280.png'), fullPage: true });
  await page.close();
});

test('an overdue outcome report is flagged; a report on time, a final report and one not yet due are not', async () => {
  const page = await open(await serve(sites.today), 1280);
  const reports = async (id: string) => {
    const dd = page.locator(`section[aria-labelledby="${id}"] dt:text-is("Outcome reports") + dd`);
    return { text: ((await dd.textContent()) ?? '').trim(), cls: await dd.getAttribute('class') };
  };
  expect(await reports('ucl-multimorbidity')).toEqual({
    text: 'Overdue: an outcome report was due on 1 December 2026 and has not been made. No outcome report has been made yet.',
    cls: 'state-inactive',
  });
  expect(await reports('ncl-winter-planning')).toEqual({ text: 'Last outcome report: 28 September 2026. Next report due by 1 April 2027.', cls: null });
  expect(await reports('kcl-covid-recovery')).toEqual({ text: 'Final report made on 12 September 2025.', cls: null });
  expect(await reports('medisight-prescribing')).toEqual({ text: 'No outcome report has been made yet. Next report due by 1 April 2027.', cls: null });
  // The overdue flag is red text on white: the contrast the rest of the page keeps.
  const color = await page.evaluate<string>(
    `getComputedStyle(document.querySelector('section[aria-labelledby="ucl-multimorbidity"] dd.state-inactive')).color`,
  );
  expect(color).toBe('rgb(139, 0, 0)');
  await page.close();
});

test('register.json and register.csv carry the same benefit fields', () => {
  const json = JSON.parse(fs.readFileSync(path.join(sites.today, 'register.json'), 'utf8')) as Register;
  const rows = parseCsv(fs.readFileSync(path.join(sites.today, 'register.csv'), 'utf8')).filter((r) => r.length > 1);
  const head = rows[0];
  const col = (row: string[], name: string) => row[head.indexOf(name)];
  for (const p of config.projects) {
    const b = p.benefit!;
    const j = json.projects.find((x) => x.id === p.id)!.benefit!;
    expect([j.whoBenefits, j.how, j.byWhen]).toEqual([b.whoBenefits, b.how, b.byWhen]);
    expect(j.sharing?.agreement ?? null).toBe(b.sharing?.agreement ?? null);
    expect(j.sharing?.terms.map((t) => t.term) ?? null).toEqual(b.sharing?.terms ?? null);
    expect(j.outcomes.map((o) => [o.date, o.kind, o.title, o.reference])).toEqual(b.outcomes.map((o) => [o.date, o.kind, o.title, o.reference]));
    expect(j.reports.overdue).toBe(p.id === 'ucl-multimorbidity');
    const projectRows = rows.filter((r) => r[0] === p.id);
    expect(projectRows.length).toBeGreaterThan(0);
    for (const row of projectRows) {
      expect(col(row, 'benefit_who')).toBe(b.whoBenefits);
      expect(col(row, 'benefit_how')).toBe(b.how);
      expect(col(row, 'benefit_by')).toBe(b.byWhen);
      expect(col(row, 'benefit_sharing_agreement')).toBe(b.sharing?.agreement ?? '');
      expect(col(row, 'benefit_sharing_terms')).toBe(b.sharing?.terms.join('; ') ?? '');
      expect(col(row, 'outcomes_reported')).toBe(String(b.outcomes.length));
      for (const o of b.outcomes) expect(col(row, 'outcomes')).toContain(`${o.date} ${o.kind}: ${o.title} (${o.reference})`);
      expect(col(row, 'outcome_report_overdue')).toBe(p.id === 'ucl-multimorbidity' ? 'yes' : 'no');
      expect(col(row, 'final_report')).toBe(b.reports.find((r) => r.final)?.date ?? '');
    }
  }
});

test('axe-core finds no accessibility problem, at 1280 and 320 px, and the page does not scroll sideways at 320 px', async () => {
  const context = await serve(sites.today, true);
  for (const width of [1280, 320]) {
    const page = await open(context, width);
    expect(await axeViolations(page)).toEqual([]);
    const widths = await page.evaluate<{ scroll: number; client: number }>(
      '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
    );
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    if (width === 320) await page.screenshot({ path: path.join(SCREENSHOTS, 'register-benefit-320.png'), fullPage: true });
    await page.close();
  }
});

test('hostile benefit text stays text: no element, no handler, and only https references become links', async () => {
  const page = await open(await serve(sites.hostile), 1280);
  const section = page.locator('section[aria-labelledby="ncl-winter-planning"]');
  // In-page code as a string: the test project compiles without the DOM library.
  const facts = await page.evaluate<{ scripts: number; imgs: number; bold: number; handlers: number; hrefs: string[] }>(`((s) => ({
    scripts: document.querySelectorAll('script').length,
    imgs: s.querySelectorAll('img').length,
    bold: s.querySelectorAll('b').length,
    handlers: Array.from(document.querySelectorAll('*')).filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on'))).length,
    // The reader's own section links to platform.yaml's contact (its e-mail as mailto:): checked apart below.
    hrefs: Array.from(document.querySelectorAll('a[href]')).filter((a) => !a.closest('section[aria-labelledby="your_data"]')).map((a) => a.getAttribute('href')).filter((h) => !h.startsWith('#') && !h.startsWith('register.')),
  }))(document.querySelector('section[aria-labelledby="ncl-winter-planning"]'))`);
  expect(facts).toEqual({ scripts: 0, imgs: 0, bold: 0, handlers: 0, hrefs: expect.any(Array) });
  // The example's own https links, and the hostile https one with its quote percent-encoded: nothing else.
  expect(facts.hrefs.every((h) => h.startsWith('https://'))).toBe(true);
  expect(facts.hrefs).toContain('https://example.org/a%22onmouseover=%22alert(1)');
  const yourData = await page.locator('section[aria-labelledby="your_data"] a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  expect(yourData.every((h) => h?.startsWith('https://') || h === `mailto:${config.platform.register.contact.email}`)).toBe(true);
  const text = (await section.textContent()) ?? '';
  expect(text).toContain('People <script>alert(1)</script> in <b>winter</b>');
  expect(text).toContain('javascript:alert(1)');
  await page.close();
});
