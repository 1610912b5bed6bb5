/**
 * The register as the public reads it (one accessible HTML page with no scripts) and as
 * programs read it (register.json, register.csv). All three come from the same model, so
 * they can never disagree.
 */
import { plural } from '../audit/findings';
import { formatCsv } from '../reports/format';
import { escapeHtml, htmlPage } from '../reports/html';
import { BENEFIT_CSV_COLUMNS, benefitCsvValues, benefitSectionHtml } from './benefit';
import { glossaryHtml } from '../reports/plain-words';
import { countText, Register, RegisterProject } from './model';

export const REGISTER_FILES = { html: 'index.html', json: 'register.json', csv: 'register.csv' } as const;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `2026-03-12` as "12 March 2026": ISO dates read as numbers to many people. */
export function layDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

export function layMonth(iso: string): string {
  const [y, m] = iso.split('-').map(Number);
  return `${MONTHS[m - 1]} ${y}`;
}

const time = (iso: string, text: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(text)}</time>`;

/**
 * Element ids of our own contain an underscore, which project ids cannot (schema.ts), so
 * they never collide with the project anchors.
 *
 * A table that scrolls inside its own box, not the page: keyboard users can focus the box
 * to scroll it (WCAG 2.1.1), and screen readers hear its caption as the region's name.
 */
function table(id: string, caption: string, head: readonly string[], rows: readonly string[]): string {
  return `<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table>
<caption id="${id}">${caption}</caption>
<thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

/** Where the supplier, not the platform, applied the national data opt-out: say so, with the supplier's statement. */
function optOutNotes(p: RegisterProject): string {
  const bySupplier = p.datasets.flatMap((d) => (d.optOut.appliedBy === 'supplier' ? [{ title: d.title, statement: d.optOut.statement }] : []));
  if (bySupplier.length === 0) return '';
  return `<ul>${bySupplier
    .map(
      (d) =>
        `<li>${escapeHtml(d.title)}: the supplier removed the records of people who opted out (national data opt-out) before sending the data. Supplier's statement: ${escapeHtml(d.statement)}</li>`,
    )
    .join('')}</ul>`;
}

/**
 * A project whose every recorded query was refused: "no query has been run" above a count
 * of refused queries reads as a contradiction, so say what happened.
 */
function noQueryAnswered(p: RegisterProject): string {
  const refused = p.activity.months.some((m) => !('count' in m.refusedQueries) || m.refusedQueries.count > 0);
  const ended = p.status === 'expired' ? ` Its access ended on ${time(p.period.end, layDate(p.period.end))}.` : '';
  return refused
    ? `The platform has answered no query for this project: the queries counted below as refused asked for data its approval does not include, and no data was given.${ended}`
    : `The platform has answered no query for this project.${ended}`;
}

function projectSection(p: RegisterProject): string {
  const id = escapeHtml(p.id);
  const stateClass = p.status === 'active' ? 'state-active' : 'state-inactive';
  const dataRows = p.datasets.flatMap((d) =>
    d.kinds.map(
      (k) =>
        `<tr><th scope="row">${escapeHtml(d.title)}${d.someRowsOnly ? ` (some rows only: ${escapeHtml(d.rows ?? 'not described')})` : ''}</th><td><span class="tag">${escapeHtml(k.label)}</span></td><td>${escapeHtml(k.holds.join('; '))}</td></tr>`,
    ),
  );
  const a = p.activity;
  const use =
    a.months.length === 0
      ? '<p>No use of the data has been recorded.</p>'
      : `<p>${a.firstUse === null ? noQueryAnswered(p) : `First used on ${time(a.firstUse, layDate(a.firstUse))}; last used on ${time(a.lastUse ?? a.firstUse, layDate(a.lastUse ?? a.firstUse))}.`}</p>
${table(
  `${id}_use`,
  `How ${escapeHtml(p.title)} used the data, by month`,
  ['Month', 'Queries run', 'Queries refused', 'Data scanned', 'Outputs released'],
  a.months.map(
    (m) =>
      `<tr><th scope="row">${time(m.month, layMonth(m.month))}</th><td>${escapeHtml(countText(m.queries))}</td><td>${escapeHtml(countText(m.refusedQueries))}</td><td>${escapeHtml(m.dataScanned)}</td><td>${escapeHtml(countText(m.outputsReleased))}</td></tr>`,
  ),
)}`;
  return `<section aria-labelledby="${id}">
<h3 id="${id}">${escapeHtml(p.title)}</h3>
<dl>
<dt>Organisation</dt><dd>${escapeHtml(p.organisation.name)}: ${escapeHtml(p.organisation.typeLabel)}, charged at the ${escapeHtml(p.organisation.tierLabel)} tier</dd>
<dt>Purpose</dt><dd>${escapeHtml(p.purposeLabel)}: ${escapeHtml(p.summary)}</dd>
<dt>Legal basis</dt><dd><ul>
<li>${escapeHtml(p.legalBasis.article6)}</li>
<li>${escapeHtml(p.legalBasis.article9)}</li>
<li>Common law duty of confidentiality: ${escapeHtml(p.legalBasis.commonLawDuty)}</li>
</ul></dd>
<dt>Approval</dt><dd>${escapeHtml(p.approval.committee)}, on ${time(p.approval.date, layDate(p.approval.date))}, reference ${escapeHtml(p.approval.reference)}, with ${escapeHtml(p.approval.citizenMembersPresent)} citizen members present</dd>
<dt>Period and status</dt><dd>${time(p.period.start, layDate(p.period.start))} to ${time(p.period.end, layDate(p.period.end))}: <span class="${stateClass}">${escapeHtml(p.statusLabel)}</span></dd>
</dl>
${benefitSectionHtml(p.id, p.benefit)}
<h4>Data approved</h4>
${table(`${id}_data`, `Kinds of data approved for ${escapeHtml(p.title)}`, ['Dataset', 'Kind of data', 'What it holds'], dataRows)}
${optOutNotes(p)}
<h4>Use of the data</h4>
${use}
</section>`;
}

/**
 * Styles of this page beyond the shared shell: a table caption stays within the screen
 * while its table scrolls sideways at 320 px (the caption names the table for everyone),
 * and a long hash (the audit trail's signed head) wraps instead of widening the page.
 * The CSP allows it by hash (csp.ts), so keep it a constant.
 */
export const REGISTER_STYLE = `
  .table-wrap caption { max-width: calc(100vw - 2rem); }
  .table-wrap:focus { outline: 3px solid #1d4f91; outline-offset: 2px; }
  code { overflow-wrap: anywhere; }
`;

/** When and how the records behind the use figures were verified, in words (and the head anyone may keep). */
function auditTrailSection(r: Register): string {
  const a = r.auditTrail;
  if (a === null) {
    return '<p><strong>The audit records behind the use figures were not verified when this register was built.</strong></p>';
  }
  if (a.method === 'no-trail') return '<p>No use of the data has been recorded on this platform yet.</p>';
  const when = time(a.checkedAt, `${layDate(a.checkedAt.slice(0, 10))} at ${a.checkedAt.slice(11, 16)} UTC`);
  if (!a.verified) {
    return `<p class="state-inactive"><strong>Warning: the use figures below come from ${escapeHtml(String(a.records))} audit records that could NOT be verified when checked on ${when} (${escapeHtml(String(a.problems))} problems found). They may be incomplete or altered.</strong></p>`;
  }
  const how =
    a.method === 'local-hash-chain'
      ? 'their hash chain and its signed head'
      : `CloudTrail's signed digest files${a.newestDigest ? `, the newest ending ${time(a.newestDigest.endTime, a.newestDigest.endTime)}` : ''}`;
  const head = a.signedHead
    ? `<p>The audit trail's latest signed head: entry ${escapeHtml(String(a.signedHead.seq))}, hash <code>${escapeHtml(a.signedHead.sha256)}</code>, signed ${time(a.signedHead.signedAt, a.signedHead.signedAt)} with the key whose fingerprint is <code>${escapeHtml(a.signedHead.key)}</code>. Keep a copy of this register's register.json: with it anyone can check later that the trail still holds everything this register counted (<code>sde audit verify --published register.json</code>).</p>`
    : '';
  const pending =
    (a.pendingLogFiles ?? 0) > 0
      ? ` Records delivered since CloudTrail's last digest (${escapeHtml(plural(a.pendingLogFiles ?? 0, 'file'))}) are not counted yet: they will be once a digest covers them.`
      : '';
  return `<p>The use figures come from ${escapeHtml(String(a.records))} audit records, last verified on ${when} against ${how}.${pending}</p>${head}`;
}

/** Later opt-outs: how many people were removed from the data each month, and when the last list was applied. */
function optOutSection(r: Register): string {
  const o = r.optOuts;
  const last =
    o.lastApplied === null
      ? '<p>No national data opt-out list has been applied to data already held yet: the list is applied to every file as it arrives.</p>'
      : `<p>The latest list (dated ${time(o.lastApplied.listDate, layDate(o.lastApplied.listDate))}) was applied to all the data held on ${time(o.lastApplied.appliedAt, `${layDate(o.lastApplied.appliedAt.slice(0, 10))} at ${o.lastApplied.appliedAt.slice(11, 16)} UTC`)}.</p>`;
  const rows = o.months.map((m) => `<tr><th scope="row">${escapeHtml(layMonth(m.month))}</th><td>${escapeHtml(countText(m.peopleRemoved))}</td></tr>`);
  return `<h2>People who opted out</h2>
<p>People who opt out of the use of their data for research and planning (the national data opt-out) are left out of every file as it arrives, and removed from the data already held when a new list arrives: from then on, no project sees their records.</p>
${last}${rows.length === 0 ? '' : table('optout_caption', 'People whose records were removed from the data already held, by month', ['Month', 'People'], rows)}`;
}

/** How a person opts out and whom to contact (platform.yaml register:), in a section of its own. */
function yourDataSection(r: Register): string {
  const { optOut, contact } = r.yourData;
  const link = (url: string, text: string) => `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>`;
  const ways = [
    contact.email === null ? '' : `e-mail ${link(`mailto:${contact.email}`, contact.email)}`,
    contact.url === null ? '' : link(contact.url, contact.url),
  ]
    .filter((w) => w !== '')
    .join(', or ');
  return `<section aria-labelledby="your_data">
<h2 id="your_data">Your data: how to opt out, and whom to contact</h2>
<p>${escapeHtml(optOut.text)}${optOut.url === null ? '' : ` How to opt out: ${link(optOut.url, optOut.url)}.`}</p>
<p>Questions or concerns about how this platform uses data: ${escapeHtml(contact.name)}, ${ways}.</p>
</section>`;
}

export function renderRegisterHtml(r: Register): string {
  // Status second: at 320 px the first columns are the ones on screen.
  const overview = r.projects.map(
    (p) =>
      `<tr><th scope="row"><a href="#${escapeHtml(p.id)}">${escapeHtml(p.title)}</a></th><td class="${p.status === 'active' ? 'state-active' : 'state-inactive'}">${escapeHtml(p.statusLabel)}</td><td>${escapeHtml(p.organisation.name)}</td><td>${escapeHtml(p.purposeLabel)}</td></tr>`,
  );
  const body = `<header><h1>Transparency register</h1>
<p>${escapeHtml(r.platform.name)}: who uses health and care data, for what and on what approval. As of ${time(r.asOf, layDate(r.asOf))}.</p>
<p>The same register as data: <a href="register.json">register.json</a> and <a href="register.csv">register.csv</a>.</p>
${auditTrailSection(r)}</header>
<main>
<h2>About this register</h2>
<p>It is generated every day from the approved configuration and the audit trail that records every use of the data: nobody keeps it by hand.</p>
<p>It never shows the name of any researcher, anything about any patient, the questions asked of the data, or any figure small enough to single anyone out. ${escapeHtml(r.disclosure.rule)}</p>
<p>No project ever receives names, addresses, NHS numbers or full dates of birth: they are removed or replaced by a code before any project can see the data.</p>
${optOutSection(r)}
${yourDataSection(r)}
<h2>Projects at a glance</h2>
${table('overview_caption', 'Every approved project and its status', ['Project', 'Status', 'Organisation', 'Purpose'], overview)}
<h2>Projects in detail</h2>
${r.projects.map(projectSection).join('\n')}
${glossaryHtml('glossary_terms', 'What the words mean', r.glossary)}
</main>`;
  return htmlPage(`Transparency register: ${r.platform.name}`, body).replace('</head>', `<style>${REGISTER_STYLE}</style>\n</head>`);
}

export function renderRegisterJson(r: Register): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

const CSV_COLUMNS = [
  'project_id',
  'project_title',
  'organisation',
  'organisation_type',
  'tier',
  'purpose',
  'summary',
  'article6',
  'article9',
  'common_law_duty',
  'approval_committee',
  'approval_date',
  'approval_reference',
  'citizen_members_present',
  'period_start',
  'period_end',
  'status',
  'datasets',
  'kinds_of_data',
  'first_use',
  'last_use',
  ...BENEFIT_CSV_COLUMNS,
  'month',
  'queries_run',
  'queries_refused',
  'data_scanned_bytes',
  'outputs_released',
  'audit_verified',
  'audit_last_verified',
] as const;

/**
 * One row per project and month of use (one row with an empty month for a project never
 * used), so a spreadsheet can filter and total by project. Spreadsheet formulas are
 * neutralised by the same writer as query results. Every row says whether the audit
 * records behind it were verified, and when, so a filtered copy still carries it.
 */
export function renderRegisterCsv(r: Register): string {
  const audit = r.auditTrail === null ? ['not checked', ''] : [r.auditTrail.verified ? 'yes' : 'NO', r.auditTrail.checkedAt];
  const rows = r.projects.flatMap((p) => {
    const fixed = [
      p.id,
      p.title,
      p.organisation.name,
      p.organisation.typeLabel,
      p.organisation.tierLabel,
      p.purposeLabel,
      p.summary,
      p.legalBasis.article6,
      p.legalBasis.article9,
      p.legalBasis.commonLawDuty,
      p.approval.committee,
      p.approval.date,
      p.approval.reference,
      p.approval.citizenMembersPresent,
      p.period.start,
      p.period.end,
      p.statusLabel,
      p.datasets.map((d) => d.name).join('; '),
      [...new Set(p.datasets.flatMap((d) => d.kinds.map((k) => k.label)))].join('; '),
      p.activity.firstUse ?? '',
      p.activity.lastUse ?? '',
      ...benefitCsvValues(p.benefit),
    ];
    if (p.activity.months.length === 0) return [[...fixed, '', '', '', '', '', ...audit]];
    return p.activity.months.map((m) => [
      ...fixed,
      m.month,
      countText(m.queries),
      countText(m.refusedQueries),
      m.dataScannedBytes ?? '',
      countText(m.outputsReleased),
      ...audit,
    ]);
  });
  return formatCsv({ columns: CSV_COLUMNS, rows, tables: [], bytesScanned: 0 });
}

export type RegisterFileName = (typeof REGISTER_FILES)[keyof typeof REGISTER_FILES];

/** The three files of the register, by file name. */
export function renderRegisterFiles(r: Register): Record<RegisterFileName, string> {
  return { 'index.html': renderRegisterHtml(r), 'register.json': renderRegisterJson(r), 'register.csv': renderRegisterCsv(r) };
}
