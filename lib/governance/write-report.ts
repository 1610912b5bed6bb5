/**
 * The governance report end to end: today's config (the working tree) against the config
 * at a git revision, written as Markdown and HTML. The only I/O around the pure diff.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../config/loader';
import { diffConfigs, type GovernanceDiff } from './config-diff';
import { loadConfigAtRevision } from './git-config';
import { outcomeReportConcerns } from './outcome-reports';
import { renderGovernanceHtml, renderGovernanceMarkdown } from './report-render';

export interface GovernanceReportOptions {
  readonly configDir: string;
  /** A git revision: a commit, tag, branch or HEAD~N. */
  readonly since: string;
  /** Judge today's config on this date. @default today (UTC) */
  readonly today?: string;
}

export function buildGovernanceReport(options: GovernanceReportOptions): GovernanceDiff {
  const { config: before, revision } = loadConfigAtRevision(options.configDir, options.since);
  const after = loadConfig(options.configDir, { today: options.today });
  const short = revision.commit.slice(0, 12);
  const label = revision.commit.startsWith(revision.ref) ? `commit ${short}` : `${revision.ref} (commit ${short})`;
  return { ...diffConfigs(before, after, { before: label, after: 'the working tree' }), outcomeReports: outcomeReportConcerns(after) };
}

/** Writes governance-report.md and governance-report.html into `outDir`; returns their paths. */
export function writeGovernanceReport(diff: GovernanceDiff, outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const md = path.join(outDir, 'governance-report.md');
  const html = path.join(outDir, 'governance-report.html');
  fs.writeFileSync(md, renderGovernanceMarkdown(diff));
  fs.writeFileSync(html, renderGovernanceHtml(diff));
  return [md, html];
}
