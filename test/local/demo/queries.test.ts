import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTrail } from '../../../lib/audit/cloudtrail-reader';
import { AUDIT_DIR } from '../../../lib/audit/local-audit-writer';
import { loadConfig, projectState } from '../../../lib/config';
import { allowedDemoQuery, refusedDemoQuery, runDemoQueries } from '../../../lib/local/demo/queries';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { uploadCuratedParquet } from '../../helpers/curated-parquet';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-demo-queries-'));
const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-staging-'));
afterAll(() => [workdir, staging].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

beforeAll(async () => {
  // Curated Parquet is put into the local curated bucket through the S3 API, as ingestion does.
  await uploadCuratedParquet(config, workdir, staging, 40);
});

describe('the queries the demo runs', () => {
  test.each(config.projects.map((p) => [p.id, p] as const))('%s: one within its approval (if active) and one beyond it', (_id, project) => {
    const allowed = allowedDemoQuery(config, project);
    expect(allowed === undefined).toBe(projectState(project, config.today) !== 'active');
    expect(refusedDemoQuery(config, project).sql).not.toEqual(allowed?.sql);
  });
});

describe('runDemoQueries', () => {
  const lines: string[] = [];
  let result: Awaited<ReturnType<typeof runDemoQueries>>;
  beforeAll(async () => {
    result = await runDemoQueries({ config, workdir, log: (l) => lines.push(l) });
  });

  test('every active project has its allowed query answered and its refused query refused', () => {
    for (const project of config.projects) {
      const mine = result.outcomes.filter((o) => o.projectId === project.id);
      const active = projectState(project, config.today) === 'active';
      expect(mine.map((o) => o.allowed)).toEqual(active ? [true, false] : [false]);
      if (active) expect(mine[0].answer).toMatch(/^row_count = \d+$/);
      expect(mine.at(-1)!.answer).toMatch(new RegExp(`Project ${project.id} (is not approved|is expired|may only)`));
    }
  });

  test('the row filter applies: ncl-winter-planning counts only emergency admissions', () => {
    const ncl = result.outcomes.find((o) => o.projectId === 'ncl-winter-planning' && o.allowed)!;
    // The fixture alternates admission_method 21 (emergency) and 11, so half the 40 rows.
    expect(ncl.answer).toBe('row_count = 20');
  });

  test("each query is in the audit trail, allowed or refused, under the project's first researcher, as the session's source identity", async () => {
    const trail = await readTrail(path.join(workdir, AUDIT_DIR));
    const queries = trail.records.map((r) => r.record).filter((r: any) => r.eventName === 'StartQueryExecution');
    expect(queries.length).toBe(result.outcomes.length);
    const firstResearcher = (id: string) => config.projects.find((p) => p.id === id)!.researchers[0].id;
    expect(queries.map((r: any) => r.userIdentity.sessionContext.sourceIdentity)).toEqual(result.outcomes.map((o) => firstResearcher(o.projectId)));
    expect(queries.filter((r: any) => r.errorCode !== undefined).length).toBe(result.outcomes.filter((o) => !o.allowed).length);
  });

  test('writes the access matrix, Markdown and HTML, to the output folder', () => {
    expect(result.accessMatrixFiles.map((f) => path.basename(f))).toEqual(['access-matrix.md', 'access-matrix.html']);
    for (const f of result.accessMatrixFiles) expect(fs.readFileSync(f, 'utf8')).toContain('ucl-multimorbidity');
    expect(lines.join('\n')).toContain('REFUSED');
  });
});
