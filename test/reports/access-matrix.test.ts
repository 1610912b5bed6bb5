import { loadConfig, projectAccess } from '../../lib/config';
import { buildAccessMatrix } from '../../lib/reports/access-matrix';
import { renderAccessMatrixHtml, renderAccessMatrixMarkdown } from '../../lib/reports/access-matrix-render';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const matrix = buildAccessMatrix(config);

describe('access matrix', () => {
  test('lists every project with its status', () => {
    expect(matrix.projects.map((p) => [p.id, p.state])).toEqual([
      ['kcl-covid-recovery', 'expired'],
      ['medisight-prescribing', 'active'],
      ['ncl-winter-planning', 'active'],
      ['nel-hes-admissions-pilot', 'expired'],
      ['ucl-multimorbidity', 'active'],
    ]);
  });

  test('shows exactly the columns the grants are compiled from', () => {
    for (const p of matrix.projects) {
      const project = config.projects.find((x) => x.id === p.id)!;
      expect(p.datasets.map((d) => [d.dataset, d.columns.map((c) => c.name)])).toEqual(
        projectAccess(config, project).map((a) => [a.dataset.name, a.columnNames]),
      );
    }
  });

  test('an expired project shows what it was approved for, and no access', () => {
    const kcl = matrix.projects.find((p) => p.id === 'kcl-covid-recovery')!;
    expect([kcl.datasets, kcl.approvedDatasets]).toEqual([[], ['hospital_episodes']]);
  });

  test('marks pseudonyms and quasi-identifiers', () => {
    const ncl = matrix.projects.find((p) => p.id === 'ncl-winter-planning')!;
    const classes = Object.fromEntries(ncl.datasets.find((d) => d.dataset === 'demographics')!.columns.map((c) => [c.name, c.curatedClass]));
    expect(classes).toEqual({
      age_band: 'quasi_identifier',
      gp_practice_code: 'quasi_identifier',
      lsoa_code: 'quasi_identifier',
      person_id: 'pseudonym',
      sex: 'quasi_identifier',
    });
    expect(renderAccessMatrixMarkdown(matrix)).toMatch(/person_id \(P\), sex \(Q\)/);
  });

  test('the markdown has one row per project and the row filters', () => {
    const md = renderAccessMatrixMarkdown(matrix);
    expect(md.split('\n').filter((l) => /^\| [a-z]+-/.test(l))).toHaveLength(5);
    // The plain words first, for lay readers; the expression after them, for the config's reviewers.
    expect(md).toContain("some rows only: prescriptions of anticoagulants (medicines that stop blood clotting) only (`bnf_code LIKE '0208%'`)");
  });

  test('the HTML page is structured for screen readers and needs no script', () => {
    const html = renderAccessMatrixHtml(matrix);
    expect(html).toMatch(/<html lang="en-GB">/);
    expect(html).not.toMatch(/<script/i);
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(html).toMatch(/<th scope="col">/);
    expect(html).toMatch(/<caption id="[a-z0-9-]*_[a-z_]+">/);
    expect(html).toContain('What the words mean');
    expect(html).toContain('Expired: no access');
  });

  test('text from the config is escaped', () => {
    const html = renderAccessMatrixHtml({ ...matrix, projects: [{ ...matrix.projects[0], title: '<img src=x onerror=alert(1)>' }] });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
