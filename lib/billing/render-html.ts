/** A statement as an accessible HTML page (the shared page shell of lib/reports/html.ts). */
import { escapeHtml, htmlPage } from '../reports/html';
import { formatMoney } from './money';
import { tbText, type Statement } from './statement';

export function renderStatementHtml(s: Statement): string {
  const money = (minor: number) => escapeHtml(formatMoney(minor, s.currency));
  const title = `Statement ${s.number}: ${s.organisation.name}`;
  const parts: string[] = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(s.platform)}: charges for ${escapeHtml(s.month.id)} (${escapeHtml(s.month.first)} to ${escapeHtml(s.month.last)}, UTC).</p>`,
    '<dl>',
    `<dt>Organisation</dt><dd>${escapeHtml(s.organisation.name)} (${escapeHtml(s.organisation.type)})</dd>`,
    `<dt>Project</dt><dd>${escapeHtml(s.project.title)} (<code>${escapeHtml(s.project.id)}</code>), approval ${escapeHtml(s.project.approvalReference)}</dd>`,
    `<dt>Approved period</dt><dd>${escapeHtml(s.project.period.start)} to ${escapeHtml(s.project.period.end)}; ${s.daysActive} of ${s.month.days} days this month</dd>`,
    `<dt>Pricing tier</dt><dd>${escapeHtml(s.tier.label)} (<code>${escapeHtml(s.tier.id)}</code>)</dd>`,
    '</dl>',
  ];
  if (s.warnings.length > 0) {
    parts.push(
      '<section aria-labelledby="warnings"><h2 id="warnings">Warnings</h2><ul>',
      ...s.warnings.map((w) => `<li><strong>${escapeHtml(w)}</strong></li>`),
      '</ul></section>',
    );
  }
  parts.push(
    '<h2>Charges</h2>',
    '<div class="table-wrap"><table>',
    `<caption>Charges for ${escapeHtml(s.month.id)}, in ${escapeHtml(s.currency)}</caption>`,
    '<thead><tr><th scope="col">Charge</th><th scope="col">How it is worked out</th><th scope="col">Amount</th></tr></thead>',
    '<tbody>',
    ...s.charges.map((c) => `<tr><th scope="row">${escapeHtml(c.description)}</th><td>${escapeHtml(c.basis)}</td><td>${money(c.amountMinor)}</td></tr>`),
    '</tbody>',
    `<tfoot><tr><th scope="row">Total</th><td></td><td><strong>${money(s.totalMinor)}</strong></td></tr></tfoot>`,
    '</table></div>',
    '<h2>Budget</h2>',
    `<p>The project's AWS spend this month is ${escapeHtml(formatMoney(s.budget.spendUsdCents, 'USD'))} (${escapeHtml(s.budget.source)}), against a monthly budget of ${escapeHtml(formatMoney(Math.round(s.budget.limitUsd * 100), 'USD'))}: ${escapeHtml(
      s.budget.level === 'reached' ? 'budget reached' : s.budget.level === 'approaching' ? 'at least 80% used' : 'within budget',
    )}.</p>`,
  );
  if (s.notes.length > 0) parts.push('<h2>Notes</h2><ul>', ...s.notes.map((n) => `<li>${escapeHtml(n)}</li>`), '</ul>');
  parts.push('<h2>Usage</h2>');
  if (s.usage.length === 0) {
    parts.push('<p>No queries were run this month.</p>');
  } else {
    parts.push(
      '<p>Each query is billed for the data it scanned, rounded up to a whole megabyte, and at least 10 MB (as Athena bills). 1 MB = 1,000,000 bytes; 1 TB = 1,000,000,000,000 bytes.</p>',
      '<div class="table-wrap"><table>',
      `<caption>${s.usage.length} charged quer${s.usage.length === 1 ? 'y' : 'ies'}</caption>`,
      '<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Query id</th><th scope="col">Bytes scanned</th><th scope="col">Bytes billed</th></tr></thead>',
      '<tbody>',
      ...s.usage.map(
        (u) =>
          `<tr><td>${escapeHtml(u.time)}</td><td><code>${escapeHtml(u.queryId)}</code></td><td>${u.bytesScanned.toLocaleString('en-GB')}</td><td>${u.bytesBilled.toLocaleString('en-GB')}</td></tr>`,
      ),
      '</tbody>',
      `<tfoot><tr><th scope="row" colspan="2">Total</th><td>${s.totalBytesScanned.toLocaleString('en-GB')}</td><td>${s.totalBytesBilled.toLocaleString('en-GB')} (${escapeHtml(tbText(s.totalBytesBilled))} TB)</td></tr></tfoot>`,
      '</table></div>',
    );
  }
  return htmlPage(title, parts.join('\n'));
}
