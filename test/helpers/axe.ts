/**
 * axe-core (Deque's accessibility engine) run on a page in the real browser: the WCAG 2.0,
 * 2.1 and 2.2 A and AA rules and axe's best practices. The page's context needs JavaScript
 * on and its Content-Security-Policy bypassed (axe is a script injected into the page);
 * what the public is served is still tested under the real policy with scripts off.
 */
import * as axe from 'axe-core';
import { Browser, chromium, Page } from 'playwright-core';
import { findBrowser } from '../../bin/prerequisites';

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axe.source });
  return page.evaluate<AxeViolation[]>(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`,
  );
}

/** Headless Chromium or Chrome, found as `npm test` finds it (bin/prerequisites.js). */
export async function launchBrowser(): Promise<Browser> {
  const found = findBrowser();
  if (found.path === undefined) {
    throw new Error(`no Chromium or Chrome found (${found.error ?? `looked for: ${found.tried.join('; ')}`}): install one, or set SDE_CHROMIUM`);
  }
  return chromium.launch({ executablePath: found.path, headless: true, args: ['--no-sandbox'] });
}
