/** The governance report as Markdown (for a pull request or an e-mail) and as an accessible HTML page. */
import { escapeHtml, htmlPage } from '../reports/html';
import { SECTIONS, type GovernanceDiff } from './config-diff';

function title(d: GovernanceDiff): string {
  return `${d.platform}: what changed in governance since ${d.before.label}`;
}

function intro(d: GovernanceDiff): string {
  return `Comparing the governance configuration at ${d.before.label} (${d.before.date}) with the configuration of ${d.after.date} (${d.after.label}).`;
}

/** Markdown special characters in config text are escaped so a summary cannot restructure the report. */
function md(text: string): string {
  return text.replace(/([\\`*_[\]<>#|])/g, '\\$1');
}

const OUTCOMES_TITLE = 'Outcome reports owed';
const NO_OUTCOMES_OWED = 'No outcome report is overdue, and every project that has ended has made its final report.';

export function renderGovernanceMarkdown(d: GovernanceDiff): string {
  const lines = [`# ${md(title(d))}`, '', md(intro(d)), ''];
  if (d.outcomeReports !== undefined) {
    // Today's duty, whatever changed: first, so a reader cannot miss it.
    lines.push(`## ${OUTCOMES_TITLE}`, '', ...(d.outcomeReports.length === 0 ? [NO_OUTCOMES_OWED] : d.outcomeReports.map((c) => `- ${md(c.text)}`)), '');
  }
  if (d.changes.length === 0) {
    lines.push('Nothing in the governance configuration changed.', '');
    return lines.join('\n');
  }
  for (const section of SECTIONS) {
    const items = d.changes.filter((c) => c.section === section.id);
    if (items.length === 0) continue;
    lines.push(`## ${section.title}`, '', ...items.map((c) => `- ${md(c.text)}`), '');
  }
  return lines.join('\n');
}

export function renderGovernanceHtml(d: GovernanceDiff): string {
  const parts = [`<h1>${escapeHtml(title(d))}</h1>`, `<p>${escapeHtml(intro(d))}</p>`];
  if (d.outcomeReports !== undefined) {
    parts.push('<section aria-labelledby="s-outcome-reports">', `<h2 id="s-outcome-reports">${OUTCOMES_TITLE}</h2>`);
    if (d.outcomeReports.length === 0) parts.push(`<p>${NO_OUTCOMES_OWED}</p>`);
    else parts.push('<ul>', ...d.outcomeReports.map((c) => `<li>${escapeHtml(c.text)}</li>`), '</ul>');
    parts.push('</section>');
  }
  if (d.changes.length === 0) parts.push('<p>Nothing in the governance configuration changed.</p>');
  for (const section of SECTIONS) {
    const items = d.changes.filter((c) => c.section === section.id);
    if (items.length === 0) continue;
    parts.push(`<section aria-labelledby="s-${section.id}">`, `<h2 id="s-${section.id}">${escapeHtml(section.title)}</h2>`, '<ul>');
    parts.push(...items.map((c) => `<li>${escapeHtml(c.text)}</li>`), '</ul>', '</section>');
  }
  return htmlPage(title(d), parts.join('\n'));
}
