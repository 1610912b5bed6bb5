/**
 * The local runtime and Lake Formation enforce the same approval. For every project of
 * the example config, what the synthesized templates grant (tables, columns, row filter)
 * is compared with what a local DuckDB session of that project can actually read:
 * - the same tables (any other table is refused locally and has no grant in the template);
 * - the same columns, exactly;
 * - the same rows: the template's own filter expression, run over the full curated
 *   Parquet, selects exactly the rows the local session returns.
 * An inactive project has no grant in any template and no local session.
 *
 * And over time: on any date, a project's session opens locally exactly when the deployed
 * templates (synthesized on the test's date) let its named people act, by the
 * aws:CurrentTime conditions of its role's trust and policies, with no new deployment.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createApp } from '../../lib/app';
import { loadConfig, projectState } from '../../lib/config';
import { ProjectSession } from '../../lib/query/project-session';
import { QueryRefused } from '../../lib/query/sql-guard';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { writeCuratedParquet } from '../helpers/curated-parquet';
import fc from 'fast-check';
import { grantsIn, GrantRow, researcherCanActAt, sortRows } from '../helpers/lake-formation-template';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-lf-local-'));
const curatedRoot = path.join(work, 'curated');
const ROWS = 90;

const deployed = (() => {
  const { app, stacks } = createApp(config, { compliance: false, outdir: path.join(work, 'cdk.out') });
  const assembly = app.synth();
  return stacks.workspaces.map((stack) => ({ stack, template: assembly.getStackArtifact(stack.artifactId).template }));
})();

/** Every SELECT grant of the synthesized app, by project. */
const grantsByProject = (() => {
  const rows = deployed.flatMap(({ stack, template }) => grantsIn(stack, template));
  const byProject = new Map<string, GrantRow[]>();
  for (const row of rows) byProject.set(row[0], [...(byProject.get(row[0]) ?? []), row]);
  return byProject;
})();

/** Whether the project's people can act on AWS at `now`, from the templates deployed on the test's date. */
function onAws(projectId: string, now: Date): boolean {
  const found = deployed.find(({ stack }) => stack.workspaces.has(projectId));
  return researcherCanActAt(found?.stack, found?.template, projectId, now);
}

/** Whether the project's session opens locally on `day` (the config as loaded, judged on that day). */
async function locally(projectId: string, day: string): Promise<boolean> {
  try {
    const session = await ProjectSession.open({ config: { ...config, today: day }, projectId, curatedRoot });
    session.close();
    return true;
  } catch (e) {
    if (e instanceof QueryRefused) return false;
    throw e;
  }
}

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

let duck: Awaited<ReturnType<typeof DuckDBInstance.create>>;
beforeAll(async () => {
  for (const dataset of config.datasets) await writeCuratedParquet(curatedRoot, dataset, ROWS);
  duck = await DuckDBInstance.create(':memory:');
});
afterAll(() => {
  duck.closeSync();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A row as text; the session reads 64-bit integers as numbers, DuckDB's JSON as strings. */
const rowKey = (row: readonly unknown[]) => JSON.stringify(row.map((v) => (typeof v === 'number' ? String(v) : v)));

/** Rows of the whole curated table that the Lake Formation filter expression keeps, as sorted JSON. */
async function rowsLakeFormationWouldReturn(table: string, columns: string[], filterExpression: string): Promise<string[]> {
  const connection = await duck.connect();
  try {
    const glob = path.join(curatedRoot, table, '**', '*.parquet').replace(/'/g, "''");
    const where = filterExpression === '' ? '' : ` WHERE ${filterExpression}`;
    const reader = await connection.runAndReadAll(`SELECT ${columns.join(', ')} FROM read_parquet('${glob}', hive_partitioning = true)${where}`);
    return reader.getRowsJson().map(rowKey).sort();
  } finally {
    connection.closeSync();
  }
}

describe.each(config.projects.map((p) => [p.id, projectState(p, config.today)] as const))('%s (%s)', (projectId, state) => {
  const granted = sortRows(grantsByProject.get(projectId) ?? []);

  if (state !== 'active') {
    test('has no grant in any template and no local session', async () => {
      expect(granted).toEqual([]);
      await expect(ProjectSession.open({ config, projectId, curatedRoot })).rejects.toThrow(QueryRefused);
    });
    return;
  }

  let session: ProjectSession;
  beforeAll(async () => {
    session = await ProjectSession.open({ config, projectId, curatedRoot });
  });
  afterAll(() => session.close());

  test('is granted at least one table', () => {
    expect(granted.length).toBeGreaterThan(0);
  });

  test('sees locally exactly the columns and rows its template grants', async () => {
    for (const [, table, columnList, filterExpression] of granted) {
      const columns = columnList.split(',');
      const local = await session.query(`SELECT ${columns.join(', ')} FROM ${table}`);
      expect([...local.columns]).toEqual(columns);
      const all = await session.query(`SELECT * FROM ${table} LIMIT 0`);
      expect([...all.columns].sort()).toEqual(columns);
      const expected = await rowsLakeFormationWouldReturn(table, columns, filterExpression);
      expect(local.rows.map(rowKey).sort()).toEqual(expected);
      // The synthetic data has rows on both sides of every example filter, so a filter
      // that were dropped on either side would show here.
      if (filterExpression !== '') expect(expected.length).toBeLessThan(ROWS);
      expect(expected.length).toBeGreaterThan(0);
    }
  });

  test('is refused locally every table its template does not grant', async () => {
    const grantedTables = new Set(granted.map((g) => g[1]));
    const others = config.datasets.map((d) => d.name).filter((t) => !grantedTables.has(t));
    for (const table of others) {
      await expect(session.query(`SELECT COUNT(*) FROM ${table}`)).rejects.toThrow(QueryRefused);
    }
  });
});

describe('on any date, both sides agree whether a project may act', () => {
  /** Both ends of the day: the first and the last second (UTC). */
  const agree = async (projectId: string, day: string) => {
    const local = await locally(projectId, day);
    return { day, local, awsAtStart: onAws(projectId, new Date(`${day}T00:00:00Z`)), awsAtEnd: onAws(projectId, new Date(`${day}T23:59:59Z`)) };
  };

  test.each(config.projects.map((p) => [p.id, p] as const))('%s, on the days around its start and end', async (projectId, project) => {
    const days = [-1, 0, 1].flatMap((n) => [addDays(project.period.start, n), addDays(project.period.end, n)]);
    for (const day of days) {
      const seen = await agree(projectId, day);
      expect(seen).toEqual({ day, local: seen.local, awsAtStart: seen.local, awsAtEnd: seen.local });
    }
  });

  test('the access days of an active project are exactly its approved period, on both sides', async () => {
    const ncl = config.projects.find((p) => p.id === 'ncl-winter-planning')!;
    expect(await agree(ncl.id, addDays(ncl.period.start, -1))).toMatchObject({ local: false, awsAtEnd: false });
    expect(await agree(ncl.id, ncl.period.start)).toMatchObject({ local: true, awsAtStart: true });
    expect(await agree(ncl.id, ncl.period.end)).toMatchObject({ local: true, awsAtEnd: true });
    expect(await agree(ncl.id, addDays(ncl.period.end, 1))).toMatchObject({ local: false, awsAtStart: false });
  });

  test('on random dates, for every project', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...config.projects.map((p) => p.id)),
        fc.integer({ min: Date.parse('2023-01-01T00:00:00Z') / 86_400_000, max: Date.parse('2031-12-31T00:00:00Z') / 86_400_000 }),
        async (projectId, dayNumber) => {
          const day = new Date(dayNumber * 86_400_000).toISOString().slice(0, 10);
          const seen = await agree(projectId, day);
          expect(seen).toEqual({ day, local: seen.local, awsAtStart: seen.local, awsAtEnd: seen.local });
        },
      ),
      { numRuns: 60 },
    );
  });
});
