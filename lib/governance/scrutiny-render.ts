/**
 * The scrutiny report as one accessible page in plain English (no scripts; reads at 320 px:
 * tables scroll inside their own box, their captions stay on screen), and as JSON with the
 * same figures for anyone who wants to check them.
 */
import { formatMoney } from '../billing/money';
import { escapeHtml, htmlPage } from '../reports/html';
import { formatBytes } from '../register/model';
import { layDate } from '../register/render';
import type { DecisionLine, QuarterFigure, ScrutinyReport, UseFigures } from './scrutiny';

const QUARTER_NAMES = ['January to March', 'April to June', 'July to September', 'October to December'];

export function quarterWords(id: string): string {
  const [year, q] = id.split('-Q').map(Number);
  return `${QUARTER_NAMES[q - 1]} ${year}`;
}

export function figureText(f: QuarterFigure): string {
  if ('count' in f) return String(f.count);
  const months = f.withheldMonths === 1 ? 'one month' : `${f.withheldMonths} months`;
  return f.atLeast === 0 ? `fewer than ${f.fewerThan} in each of ${months}` : `at least ${f.atLeast} (plus fewer than ${f.fewerThan} in ${months})`;
}

function scannedText(u: UseFigures): string {
  if (u.dataScanned.bytes === 0) return u.dataScanned.complete ? 'none' : 'not shown (few queries)';
  return `${u.dataScanned.complete ? '' : 'at least '}${formatBytes(u.dataScanned.bytes)}`;
}

function table(id: string, caption: string, head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table>
<caption id="${id}">${escapeHtml(caption)}</caption>
<thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows
  .map(
    (r) =>
      `<tr><th scope="row">${escapeHtml(r[0])}</th>${r
        .slice(1)
        .map((c) => `<td>${escapeHtml(c)}</td>`)
        .join('')}</tr>`,
  )
  .join('\n')}
</tbody></table></div>`;
}

function decisions(id: string, caption: string, what: string, lines: readonly DecisionLine[], r: ScrutinyReport, withQuorum: boolean): string {
  if (lines.length === 0) return `<p>No project was ${what} in the quarter.</p>`;
  const head = ['Project', 'Organisation', 'Date', ...(withQuorum ? ['Citizen members present'] : []), 'Approval reference'];
  const rows = lines.map((l) => [
    l.title,
    `${l.organisation} (${l.tierLabel})`,
    layDate(l.date),
    ...(withQuorum ? [`${l.citizenMembersPresent}: ${l.quorumMet ? 'quorum met' : `BELOW the quorum of ${r.minimumCitizenMembers}`}`] : []),
    l.reference,
  ]);
  return table(id, caption, head, rows);
}

function money(r: ScrutinyReport, minor: number): string {
  return formatMoney(minor, r.currency);
}

/** Styles beyond the shared shell: captions stay within the screen while their table scrolls at 320 px. */
const SCRUTINY_STYLE = `
  .table-wrap caption { max-width: calc(100vw - 2rem); }
  .table-wrap:focus { outline: 3px solid #1d4f91; outline-offset: 2px; }
  code { overflow-wrap: anywhere; }
`;

export function renderScrutinyHtml(r: ScrutinyReport): string {
  const period = quarterWords(r.quarter.id);
  const partial = r.asOf < r.quarter.last ? ` The quarter is not over: this report covers ${layDate(r.quarter.first)} to ${layDate(r.asOf)}.` : '';
  const trail =
    r.auditTrail === null
      ? '<p><strong>The audit records behind these figures were not verified.</strong></p>'
      : !r.auditTrail.verified
        ? `<p class="state-inactive"><strong>Warning: the figures come from audit records that could NOT be verified (${escapeHtml(String(r.auditTrail.problems))} problems found). They may be incomplete or altered.</strong></p>`
        : `<p>The figures about use come from ${escapeHtml(String(r.auditTrail.records))} audit records, checked for tampering on ${escapeHtml(layDate(r.auditTrail.checkedAt.slice(0, 10)))} before anything was counted.</p>`;
  const usedTiers = r.byTier;
  const tierRows = usedTiers.map((t) => [
    t.label,
    String(t.projectsWithUse),
    figureText(t.queries),
    figureText(t.refusedQueries),
    scannedText(t),
    figureText(t.outputsReleased),
    money(r, t.charges.totalMinor),
  ]);
  const projectRows = r.byProject.map((p) => [p.title, figureText(p.queries), figureText(p.refusedQueries), scannedText(p), figureText(p.outputsReleased)]);
  const chargeRows = usedTiers.flatMap((t) =>
    t.charges.months.map((m) => [`${t.label}, ${m.month}`, money(r, m.accessFeesMinor), money(r, m.dataScannedMinor), money(r, m.totalMinor)]),
  );
  const OPT_OUT_APPLIED_BY = {
    platform: 'Yes, by the platform',
    supplier: 'Yes, by the supplier before sending the data',
    not_applied: 'No (no records about individual people)',
  } as const;
  const optOutRows = r.optOut.datasets.map((d) => [d.title, OPT_OUT_APPLIED_BY[d.appliedBy], String(d.loads)]);
  const b = r.benefit;
  const outcomes =
    b.outcomes.length === 0
      ? '<p>No outcome was reported in the quarter.</p>'
      : `<ul>\n${b.outcomes.map((o) => `<li>${escapeHtml(o.project)}: ${escapeHtml(o.kind.toLowerCase())} on ${escapeHtml(layDate(o.date))}: ${escapeHtml(o.title)} (${escapeHtml(o.reference)})</li>`).join('\n')}\n</ul>`;
  const reports =
    b.reportsMade.length === 0
      ? '<p>No outcome report was made in the quarter.</p>'
      : `<ul>\n${b.reportsMade.map((x) => `<li>${escapeHtml(x.project)}: ${x.final ? 'final report' : 'outcome report'} on ${escapeHtml(layDate(x.date))}</li>`).join('\n')}\n</ul>`;
  const overdue =
    b.overdue.length === 0
      ? '<p>No outcome report is overdue.</p>'
      : `<ul>\n${b.overdue.map((x) => `<li class="state-inactive">${escapeHtml(x.project)}: ${escapeHtml(x.what)}</li>`).join('\n')}\n</ul>`;
  const alarms = r.security.reduce((n, a) => n + a.raised, 0);
  const body = `<header><h1>Report to the scrutiny committee: ${escapeHtml(period)}</h1>
<p>${escapeHtml(r.platform)}: how health and care data were used, by whom and for what benefit, from ${escapeHtml(layDate(r.quarter.first))} to ${escapeHtml(layDate(r.quarter.last))}.${escapeHtml(partial)}</p>
${trail}</header>
<main>
<h2>About this report</h2>
<p>It is built only from the approved configuration, the audit trail that records every use of the data, and the bills sent to the organisations using it: nobody writes the figures by hand.</p>
<p>It never names a researcher or anyone whose data were used. A count from 1 to ${escapeHtml(String(r.disclosure.threshold))} is shown as "fewer than ${escapeHtml(String(r.disclosure.threshold + 1))}", as on the public register, and such a month is never added into a total (a total would give it away).</p>
<h2>Projects approved, extended and ended</h2>
<p>Every approval needs at least ${escapeHtml(String(r.minimumCitizenMembers))} citizen members of the data access committee present.</p>
<h3>Approved</h3>
${decisions('approved_caption', 'Projects approved in the quarter', 'approved', r.approved, r, true)}
<h3>Extended or changed</h3>
${decisions('extended_caption', 'Projects whose approval was extended or changed in the quarter', 'extended or changed', r.extended, r, true)}
<h3>Ended</h3>
${decisions('ended_caption', 'Projects whose approved period ended in the quarter', 'ended', r.ended, r, false)}
<h2>Use of the data and charges, by kind of user</h2>
<p>Each organisation is charged at the prices of its tier. "Queries" are questions asked of the data; "outputs released" are results that passed the output checks and left the platform.</p>
${table('tiers_caption', 'Use and charges by tier in the quarter', ['Tier', 'Projects using data', 'Queries run', 'Queries refused', 'Data scanned', 'Outputs released', 'Charged'], tierRows)}
${r.byProject.length === 0 ? '<p>No project used the data in the quarter.</p>' : table('projects_caption', 'Use by project in the quarter', ['Project', 'Queries run', 'Queries refused', 'Data scanned', 'Outputs released'], projectRows)}
${table('charges_caption', 'Charges by tier and month (from the bills)', ['Tier and month', 'Access fees', 'Data scanned', 'Total'], chargeRows)}
<h2>National data opt-out</h2>
<p>People who have opted out of the use of their data for research and planning are removed from every load of a dataset that applies the opt-out, before any project can see it.</p>
${table('optout_caption', 'Datasets, the opt-out and loads in the quarter', ['Dataset', 'Opt-out applied', 'Loads of new data'], optOutRows)}
<h2>Outputs released</h2>
<p>${r.byProject.length === 0 ? 'No output was released in the quarter.' : 'Outputs released are counted per project in the table of use above: each passed the automatic disclosure checks and two reviewers.'}</p>
<h2>Public benefit</h2>
<h3>Outcomes reported in the quarter</h3>
${outcomes}
<h3>Outcome reports made in the quarter</h3>
${reports}
<h3>Outcome reports overdue</h3>
${overdue}
<h2>Security alarms</h2>
<p>${alarms === 0 ? 'No security alarm was raised in the quarter.' : `Security alarms were raised ${alarms} time${alarms === 1 ? '' : 's'} in the quarter. Each was sent to the security team to investigate.`}</p>
${table(
  'alarms_caption',
  'Security alarms raised in the quarter (counts only)',
  ['Alarm', 'Times raised'],
  r.security.map((a) => [a.meaning, String(a.raised)]),
)}
</main>`;
  return htmlPage(`Report to the scrutiny committee: ${r.platform}, ${period}`, body).replace('</head>', `<style>${SCRUTINY_STYLE}</style>\n</head>`);
}

export function renderScrutinyJson(r: ScrutinyReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
