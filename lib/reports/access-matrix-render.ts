/** Renders the access matrix as Markdown (for pull requests) and HTML (for committee members). */
import { AccessMatrix, CLASS_LABELS, MatrixColumn, STATE_LABELS } from './access-matrix';
import { escapeHtml, htmlPage } from './html';

const MARK: Record<MatrixColumn['curatedClass'], string> = { pseudonym: ' (P)', quasi_identifier: ' (Q)', sensitive: ' (S)', other: '', partition: '' };

export function renderAccessMatrixMarkdown(m: AccessMatrix): string {
  const lines = [`# Access matrix: ${m.platform}`, '', `As of ${m.asOf}. (P) pseudonym from a direct identifier, (Q) quasi-identifier, (S) sensitive.`, ''];
  lines.push(`| project | organisation | tier | purpose | period | status | ${m.datasets.map((d) => d.name).join(' | ')} |`);
  lines.push(`| --- | --- | --- | --- | --- | --- |${m.datasets.map(() => ' --- |').join('')}`);
  for (const p of m.projects) {
    const cells = m.datasets.map((d) => {
      const grant = p.datasets.find((g) => g.dataset === d.name);
      if (!grant) return p.approvedDatasets.includes(d.name) ? '(approved, no access now)' : '';
      const columns = grant.columns.map((c) => `${c.name}${MARK[c.curatedClass]}`).join(', ');
      return grant.rowFilter ? `${columns}; rows where \`${grant.rowFilter}\`` : columns;
    });
    lines.push(`| ${p.id} | ${p.organisation} | ${p.tierLabel} | ${p.purpose} | ${p.period.start} to ${p.period.end} | ${p.state} | ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

function columnRow(c: MatrixColumn): string {
  const label = CLASS_LABELS[c.curatedClass].short;
  return `<tr><th scope="row"><code>${escapeHtml(c.name)}</code></th><td>${escapeHtml(c.description)}</td><td><span class="tag">${escapeHtml(label)}</span></td></tr>`;
}

export function renderAccessMatrixHtml(m: AccessMatrix): string {
  const glossary = Object.values(CLASS_LABELS)
    .map((l) => `<dt>${escapeHtml(l.short)}</dt><dd>${escapeHtml(l.explain)}</dd>`)
    .join('\n');
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
      return `<tr><th scope="row"><a href="#${escapeHtml(p.id)}">${escapeHtml(p.title)}</a></th><td class="${stateClass}">${escapeHtml(STATE_LABELS[p.state])}</td>${cells}</tr>`;
    })
    .join('\n');
  const details = m.projects
    .map((p) => {
      const grants = p.datasets.length
        ? p.datasets
            .map(
              (g) => `<div class="table-wrap"><table>
<caption>${escapeHtml(g.title)} (<code>${escapeHtml(g.dataset)}</code>)${g.rowFilter ? `: only the rows where <code>${escapeHtml(g.rowFilter)}</code>` : ''}</caption>
<thead><tr><th scope="col">Column</th><th scope="col">What it holds</th><th scope="col">Kind of data</th></tr></thead>
<tbody>
${g.columns.map(columnRow).join('\n')}
</tbody></table></div>`,
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
</dl>
${grants}
</section>`;
    })
    .join('\n');
  const body = `<header><h1>Who can see what: access matrix</h1>
<p>${escapeHtml(m.platform)}, as of ${escapeHtml(m.asOf)}. This page is generated from the approved configuration; the same rules are what the platform enforces.</p></header>
<main>
<h2>Overview</h2>
<div class="table-wrap"><table>
<caption>Projects and the datasets they may read</caption>
<thead><tr><th scope="col">Project</th><th scope="col">Status</th>${m.datasets.map((d) => `<th scope="col">${escapeHtml(d.title)}</th>`).join('')}</tr></thead>
<tbody>
${overview}
</tbody></table></div>
<h2>What the words mean</h2>
<p>No project is ever given a name, an address, an NHS number or a full date of birth: those are removed or replaced before any project can see the data. The kinds of data a project may see are:</p>
<dl>
${glossary}
<dt>row filter</dt><dd>A project may be limited to some rows only, for example emergency admissions only.</dd>
</dl>
<h2>Projects in detail</h2>
${details}
</main>`;
  return htmlPage(`Access matrix: ${m.platform}`, body);
}
