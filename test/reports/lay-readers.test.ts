/**
 * The two pages lay readers get, as a committee member and a citizen see them: the access
 * matrix and the transparency register, written by `sde access-matrix` and `sde register`,
 * opened in headless Chromium or Chrome (found as bin/prerequisites.js finds it; driven by
 * playwright-core) at 320 px and 1280 px wide, checked with axe-core, and read for what a
 * lay reader needs: what each column holds after de-identification, which rows a project
 * may read, what the words mean, and how to opt out.
 * Screenshots go to test/output/lay-readers/ (git-ignored) for a human to look at.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { findBrowser } from '../../bin/prerequisites';
import { closeAllAuditWriters, localAuditEnv, LocalAuditWriter, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import { runCli } from '../../lib/cli/cli';
import { curatedColumns, loadConfig, projectState } from '../../lib/config';
import { grantedColumnMeaning } from '../../lib/reports/plain-words';
import { EXAMPLE_CONFIG, REPO_ROOT, TEST_TODAY } from '../helpers/config-fixture';
import { tempDir, writeStory } from '../register/helpers';

const SCREENSHOTS = path.join(REPO_ROOT, 'test', 'output', 'lay-readers');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WIDTHS = [320, 1280] as const;

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const workdir = tempDir('sde-lay-readers-');
const pages = { register: path.join(workdir, 'register', 'index.html'), matrix: path.join(workdir, 'access-matrix.html') };
let browser: Browser;

beforeAll(async () => {
  writeStory(config, workdir);
  // The expired project's two refused attempts: the page must not say "no query has been run" above them.
  const writer = LocalAuditWriter.open(workdir, localAuditEnv(config));
  for (let i = 0; i < 2; i++) {
    writer.append(
      projectQueryEvent(localAuditEnv(config), {
        projectId: 'kcl-covid-recovery',
        sessionName: 'kcl-analyst',
        queryString: 'SELECT 1',
        time: new Date(`2026-11-0${i + 6}T09:00:00Z`),
        refused: { message: 'project kcl-covid-recovery has no access: its approved period has ended' },
      }),
    );
  }
  closeAllAuditWriters();
  const quiet = { out: () => undefined, err: () => undefined };
  const common = ['--config', EXAMPLE_CONFIG, '--workdir', workdir, '--today', TEST_TODAY];
  expect(await runCli(['register', ...common, '--out', path.dirname(pages.register)], quiet)).toBe(0);
  expect(await runCli(['access-matrix', ...common, '--format', 'html', '--out', pages.matrix], quiet)).toBe(0);
  const found = findBrowser();
  if (found.path === undefined) {
    throw new Error(`no Chromium or Chrome found (${found.error ?? `looked for: ${found.tried.join('; ')}`}): install one, or set SDE_CHROMIUM`);
  }
  browser = await chromium.launch({ executablePath: found.path, headless: true, args: ['--no-sandbox'] });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(workdir, { recursive: true, force: true });
});

async function open(file: string, width: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto(`file://${file}`);
  return page;
}

/** Every axe-core rule for WCAG 2.0, 2.1 and 2.2 A and AA, and its best practices. */
async function axeViolations(page: Page): Promise<{ id: string; nodes: string[] }[]> {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate<{ violations: { id: string; nodes: { target: string[] }[] }[] }>(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })`,
  );
  return result.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/** The glossary's terms and meanings, as the page shows them. */
async function glossary(page: Page): Promise<Map<string, string>> {
  const terms = await page.locator('#glossary_terms ~ dl dt, section[aria-labelledby="glossary_terms"] dt').allTextContents();
  const meanings = await page.locator('section[aria-labelledby="glossary_terms"] dd').allTextContents();
  return new Map(terms.map((t, i) => [t.trim(), meanings[i]?.trim() ?? '']));
}

describe.each(WIDTHS)('at %i px wide', (width) => {
  test.each(Object.keys(pages) as (keyof typeof pages)[])('the %s page has no axe-core violations and reads without sideways scrolling', async (name) => {
    const page = await open(pages[name], width);
    expect(await axeViolations(page)).toEqual([]);
    const geometry = await page.evaluate<{ scroll: number; client: number; captions: number[]; firstTwoHeads: number[] }>(`({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
      captions: Array.from(document.querySelectorAll('caption')).map((c) => c.getBoundingClientRect().right),
      // The first two columns of the overview (the project and its status) are on screen.
      firstTwoHeads: Array.from(document.querySelectorAll('table'))[0].querySelectorAll('thead th').length >= 2
        ? Array.from(Array.from(document.querySelectorAll('table'))[0].querySelectorAll('thead th')).slice(0, 2).map((h) => h.getBoundingClientRect().right)
        : [],
    })`);
    expect(geometry.client).toBe(width);
    expect(geometry.scroll).toBeLessThanOrEqual(width);
    expect(geometry.captions.length).toBeGreaterThan(0);
    expect(Math.max(...geometry.captions)).toBeLessThanOrEqual(width);
    expect(geometry.firstTwoHeads).toHaveLength(2);
    expect(Math.max(...geometry.firstTwoHeads)).toBeLessThanOrEqual(width);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
    await page.close();
  });
});

describe('what lay readers need to read', () => {
  test('the access matrix says what each granted column holds after de-identification, never the source column', async () => {
    const page = await open(pages.matrix, 1280);
    const ncl = page.locator('section[aria-labelledby="ncl-winter-planning"]');
    const rows = ncl.locator('table', { has: page.locator('caption', { hasText: 'Patient demographics' }) }).locator('tbody tr');
    const held = new Map<string, string>();
    for (let i = 0; i < (await rows.count()); i++) {
      const [column, holds] = (await rows.nth(i).locator('th, td').allTextContents()).map((t) => t.trim());
      held.set(column, holds);
    }
    expect(held.get('age_band')).toMatch(/^Age in 5-year bands .* worked out from the date of birth, which is not given$/);
    expect(held.get('person_id')).toMatch(/^A code in place of the NHS number: .* the NHS number itself is not given$/);
    // Every column on the page, of every project: the meaning derived from its rule.
    let checked = 0;
    for (const p of config.projects.filter((x) => projectState(x, TEST_TODAY) === 'active')) {
      for (const [name, grant] of Object.entries(p.datasets)) {
        const dataset = config.datasets.find((d) => d.name === name)!;
        const text = (await page.locator(`section[aria-labelledby="${p.id}"] table`, { has: page.locator(`caption#${p.id}_${name}`) }).textContent()) ?? '';
        for (const column of grant.columns) {
          expect(text).toContain(grantedColumnMeaning(dataset, curatedColumns(dataset), column));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    const body = (await page.locator('main').textContent()) ?? '';
    expect(body).not.toContain('NHS number of the patient');
    expect(body).not.toMatch(/What it holds\s*Date of birth/);
    await page.close();
  });

  test('row filters are shown as their descriptions on both pages, never as the expression', async () => {
    for (const file of Object.values(pages)) {
      const page = await open(file, 1280);
      const body = (await page.locator('body').textContent()) ?? '';
      for (const p of config.projects.filter((x) => x.status !== 'expired')) {
        for (const grant of Object.values(p.datasets)) {
          if (grant.rowFilter === undefined) continue;
          expect(body).toContain(`some rows only: ${grant.rowFilterDescription}`);
          expect(body).not.toContain(grant.rowFilter);
        }
      }
      expect(body).not.toMatch(/admission_method IN|LIKE '/);
      await page.close();
    }
  });

  test('both pages have a glossary of their badges, statuses and the codes their columns use', async () => {
    for (const [name, file] of Object.entries(pages)) {
      const page = await open(file, 1280);
      const terms = await glossary(page);
      for (const term of [
        'pseudonym (from a direct identifier)',
        'quasi-identifier',
        'sensitive (health information)',
        'Active: has access now',
        'Expired: no access',
        'Some rows only',
      ]) {
        expect({ name, term, meaning: (terms.get(term) ?? '').length > 20 }).toEqual({ name, term, meaning: true });
      }
      // The jargon of the example's datasets: ODS codes, LSOAs, ICD-10, BNF and SNOMED codes.
      for (const term of ['ODS code', 'LSOA (lower layer super output area)', 'ICD-10', 'BNF code', 'SNOMED CT']) {
        expect({ name, term, present: terms.has(term) }).toEqual({ name, term, present: true });
      }
      // Every badge on the page has its entry.
      const badges = new Set((await page.locator('.tag').allTextContents()).map((t) => t.trim()));
      for (const badge of badges) expect({ name, badge, explained: terms.has(badge) }).toEqual({ name, badge, explained: true });
      if (name === 'register') for (const term of ['Queries refused', 'Outputs released', 'Fewer than N']) expect(terms.has(term)).toBe(true);
      await page.close();
    }
  });

  test('the register says how to opt out and whom to contact, from platform.yaml', async () => {
    const page = await open(pages.register, 320);
    const section = page.locator('section[aria-labelledby="your_data"]');
    const text = ((await section.textContent()) ?? '').replace(/\s+/g, ' ');
    const { optOut, contact } = config.platform.register;
    expect(text).toContain(optOut.text.replace(/\s+/g, ' '));
    expect(await section.locator(`a[href="${optOut.url}"]`).count()).toBe(1);
    expect(text).toContain(contact.name);
    expect(await section.locator(`a[href="mailto:${contact.email}"]`).count()).toBe(1);
    await page.close();
  });

  test('an expired project whose attempts were all refused is worded without contradiction', async () => {
    const page = await open(pages.register, 1280);
    const text = ((await page.locator('section[aria-labelledby="kcl-covid-recovery"]').textContent()) ?? '').replace(/\s+/g, ' ');
    expect(text).not.toMatch(/No query has been run/i);
    expect(text).toMatch(
      /The platform has answered no query for this project: the queries counted below as refused asked for data its approval does not include/,
    );
    expect(text).toContain('Its access ended on 31 July 2025.');
    expect(text).toMatch(/fewer than 11/);
    await page.close();
  });
});
