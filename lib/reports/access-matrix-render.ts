/** Renders the access matrix as Markdown (for pull requests) and HTML (for committee members). */
import { AccessMatrix, CLASS_LABELS, MatrixColumn, MatrixProject, STATE_LABELS } from './access-matrix';
import { escapeHtml, htmlPage } from './html';
import { glossaryHtml, pageGlossary } from './plain-words';

const MARK: Record<MatrixColumn['curatedClass'], string> = { pseudonym: ' (P)', quasi_identifier: ' (Q)', sensitive: ' (S)', other: '', partition: '' };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The approval's re-identification risk in one line: measured (if given), else recorded; against the ceiling and any acceptance. */
export function riskSummary(p: MatrixProject): string {
  const r = p.disclosureRisk;
  const figure = r.measured ?? r.recorded;
  if (!figure) return 'not measured';
  const source = r.measured ? `measured ${r.measured.measuredOn}` : `recorded ${r.recorded!.measuredOn}`;
  const over = r.ceiling !== undefined && figure.shareBelow5 > r.ceiling;
  const gate =
    r.ceiling === undefined
      ? ''
      : p.state === 'expired' || p.state === 'suspended'
        ? `; no access now, so not held to the ceiling of ${pct(r.ceiling)}`
        : !over
          ? `; within the ceiling of ${pct(r.ceiling)}`
          : r.accepted && r.accepted.acceptedShareBelow5 >= figure.shareBelow5
            ? `; over the ceiling of ${pct(r.ceiling)}, accepted (${r.accepted.reference})`
            : `; OVER the ceiling of ${pct(r.ceiling)} without an acceptance`;
  return `${pct(figure.shareBelow5)} of ${figure.people} people in classes under 5, ${pct(figure.shareBelow10)} under 10 (${source}: ${figure.measure})${gate}`;
}

export function renderAccessMatrixMarkdown(m: AccessMatrix): string {
  const lines = [
    `# Access matrix: ${m.platform}`,
    '',
    `As of ${m.asOf}. (P) pseudonym from a direct identifier, (Q) quasi-identifier, (S) sensitive. Re-identification risk: the share of people in equivalence classes of fewer than 5 (and 10) over the granted quasi-identifiers, the worst measure (sde risk).`,
    '',
  ];
  lines.push(`| project | organisation | tier | purpose | period | status | re-identification risk | ${m.datasets.map((d) => d.name).join(' | ')} |`);
  lines.push(`| --- | --- | --- | --- | --- | --- | --- |${m.datasets.map(() => ' --- |').join('')}`);
  for (const p of m.projects) {
    const cells = m.datasets.map((d) => {
      const grant = p.datasets.find((g) => g.dataset === d.name);
      if (!grant) return p.approvedDatasets.includes(d.name) ? '(approved, no access now)' : '';
      const columns = grant.columns.map((c) => `${c.name}${MARK[c.curatedClass]}`).join(', ');
      return grant.rowFilter ? `${columns}; some rows only: ${grant.rowFilterDescription ?? 'no description'} (\`${grant.rowFilter}\`)` : columns;
    });
    lines.push(
      `| ${p.id} | ${p.organisation} | ${p.tierLabel} | ${p.purpose} | ${p.period.start} to ${p.period.end} | ${p.state} | ${riskSummary(p)} | ${cells.join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function columnRow(c: MatrixColumn): string {
  const label = CLASS_LABELS[c.curatedClass].short;
  return `<tr><th scope="row"><code>${escapeHtml(c.name)}</code></th><td>${escapeHtml(c.meaning)}</td><td><span class="tag">${escapeHtml(label)}</span></td></tr>`;
}

/** Words only the access matrix uses. */
const MATRIX_TERMS = [
  {
    term: 'Re-identification risk',
    meaning:
      "How many of the people in the data a project is given could be singled out: the share of people who share their combination of quasi-identifiers (and, where records are linked, their whole history of them) with fewer than 5 others. A project above the platform's ceiling needs the committee's recorded acceptance of that risk.",
  },
];

/**
 * A table that scrolls sideways inside its own box, not the page: keyboard users can focus
 * the box to scroll it (WCAG 2.1.1), and screen readers hear its caption as its name.
 */
function scrollingTable(id: string, caption: string, inner: string, labelledBy: string = id): string {
  return `<div class="table-wrap" role="region" aria-labelledby="${labelledBy}" tabindex="0"><table>
<caption id="${id}">${caption}</caption>
${inner}</table></div>`;
}

export function renderAccessMatrixHtml(m: AccessMatrix): string {
  const glossary = glossaryHtml('glossary_terms', 'What the words mean', pageGlossary({ kinds: CLASS_LABELS, states: STATE_LABELS }, MATRIX_TERMS, m.jargon));
  const overview = m.projects
    .map((p) => {
      const cells = m.datasets
        .map((d) => {
          const grant = p.datasets.find((g) => g.dataset === d.name);
          const text = grant
            ? `${grant.columns.length} columns${grant.rowFilter ? ', some rows' : ''}`
            : p.approvedDatasets.includes(d.name)
              ? 'approved, no access now'
              : '—';
          return `<td>${escapeHtml(text)}</td>`;
        })
        .join('');
      const stateClass = p.state === 'active' ? 'state-active' : 'state-inactive';
      const risk = p.disclosureRisk.measured ?? p.disclosureRisk.recorded;
      const riskCell = risk ? `${pct(risk.shareBelow5)} under 5` : 'not measured';
      return `<tr><th scope="row"><a href="#${escapeHtml(p.id)}">${escapeHtml(p.title)}</a></th><td class="${stateClass}">${escapeHtml(STATE_LABELS[p.state])}</td><td>${escapeHtml(riskCell)}</td>${cells}</tr>`;
    })
    .join('\n');
  const details = m.projects
    .map((p) => {
      const grants = p.datasets.length
        ? p.datasets
            .map(
              (g) =>
                `${
                  g.rowFilter
                    ? `<p class="rows">${escapeHtml(g.title)}: <strong>some rows only</strong>: ${escapeHtml(g.rowFilterDescription ?? 'no description given')}.</p>\n`
                    : ''
                }${scrollingTable(
                  `${escapeHtml(p.id)}_${escapeHtml(g.dataset)}`,
                  `${escapeHtml(g.title)} (<code>${escapeHtml(g.dataset)}</code>)${g.rowFilter ? `: some rows only (${escapeHtml(g.rowFilterDescription ?? 'no description given')})` : ''}`,
                  `<thead><tr><th scope="col">Column</th><th scope="col">What it holds</th><th scope="col">Kind of data</th></tr></thead>
<tbody>
${g.columns.map(columnRow).join('\n')}
</tbody>`,
                  // Named by the project's heading too: several projects read the same dataset.
                  `${escapeHtml(p.id)} ${escapeHtml(p.id)}_${escapeHtml(g.dataset)}`,
                )}`,
            )
            .join('\n')
        : `<p>This project can read no data now (${escapeHtml(STATE_LABELS[p.state].toLowerCase())}). Its approval named: ${escapeHtml(p.approvedDatasets.join(', ') || 'no dataset')}.</p>`;
      return `<section aria-labelledby="${escapeHtml(p.id)}">
<h3 id="${escapeHtml(p.id)}">${escapeHtml(p.title)}</h3>
<dl>
<dt>Organisation</dt><dd>${escapeHtml(p.organisation)} (${escapeHtml(p.tierLabel)} tier)</dd>
<dt>Purpose</dt><dd>${escapeHtml(p.purpose === 'research' ? 'Research' : 'Planning')}: ${escapeHtml(p.summary)}</dd>
<dt>Approved</dt><dd>${escapeHtml(p.approval.committee)}, ${escapeHtml(p.approval.date)}, reference ${escapeHtml(p.approval.reference)}, with ${escapeHtml(p.approval.citizenMembersPresent)} citizen members present</dd>
<dt>Period</dt><dd>${escapeHtml(p.period.start)} to ${escapeHtml(p.period.end)}: <span class="${p.state === 'active' ? 'state-active' : 'state-inactive'}">${escapeHtml(STATE_LABELS[p.state])}</span></dd>
<dt>Re-identification risk</dt><dd>${escapeHtml(riskSummary(p))}${p.disclosureRisk.accepted ? `. The committee accepted this risk (${escapeHtml(p.disclosureRisk.accepted.reference)}, ${escapeHtml(p.disclosureRisk.accepted.date)}): ${escapeHtml(p.disclosureRisk.accepted.reason)}` : ''}</dd>
</dl>
${grants}
</section>`;
    })
    .join('\n');
  const body = `<header><h1>Who can see what: access matrix</h1>
<p>${escapeHtml(m.platform)}, as of ${escapeHtml(m.asOf)}. This page is generated from the approved configuration; the same rules are what the platform enforces.</p></header>
<main>
<h2>Overview</h2>
${scrollingTable(
  'overview_caption',
  'Projects and the datasets they may read',
  `<thead><tr><th scope="col">Project</th><th scope="col">Status</th><th scope="col">Re-identification risk</th>${m.datasets.map((d) => `<th scope="col">${escapeHtml(d.title)}</th>`).join('')}</tr></thead>
<tbody>
${overview}
</tbody>`,
)}
<p>No project is ever given a name, an address, an NHS number or a full date of birth: those are removed or replaced before any project can see the data. Each column below says what it holds after that.</p>
${glossary}
<h2>Projects in detail</h2>
${details}
</main>`;
  return htmlPage(`Access matrix: ${m.platform}`, body);
}
