/**
 * The Content-Security-Policy the published register is served with. The page has no
 * scripts, images, fonts or forms, so everything is refused except its own inline style
 * sheet, allowed by hash: a style injected into the page (were escaping ever to fail)
 * would not apply, and no script could run at all.
 *
 * The hash is computed from the page the renderer writes, so a change to the shared page
 * shell (lib/reports/html.ts) changes the deployed policy with it.
 */
import { createHash } from 'node:crypto';
import { htmlPage } from '../reports/html';
import { REGISTER_STYLE } from './render';

/** `'sha256-...'` source expressions of every inline <style> element of a page. */
export function inlineStyleHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const m of html.matchAll(/<style>([\s\S]*?)<\/style>/g)) {
    hashes.add(`'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
  }
  return [...hashes].sort();
}

/**
 * The style hashes of the register page: the shared page shell's style sheet and the
 * register's own, neither of which depends on the content (test/register/browser.test.ts loads the real page under this
 * policy and checks its styles apply).
 */
export function registerStyleHashes(): string[] {
  return [...new Set([...inlineStyleHashes(htmlPage('', '')), ...inlineStyleHashes(`<style>${REGISTER_STYLE}</style>`)])].sort();
}

export function registerContentSecurityPolicy(): string {
  return ["default-src 'none'", `style-src ${registerStyleHashes().join(' ')}`, "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ');
}
