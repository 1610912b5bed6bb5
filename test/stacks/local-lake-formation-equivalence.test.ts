/**
 * The local runtime and Lake Formation enforce the same approval. For every project of
 * the example config, what the synthesized templates grant (tables, columns, row filter)
 * is compared with what a local DuckDB session of that project can actually read:
 * - the same tables (any other table is refused locally and has no grant in the template);
 * - the same columns, exactly;
 * - the same rows: the template's own filter expression, run over the full curated
 *   Parquet, selects exactly the rows the local session returns.
 * An inactive project has no grant in any template and no local session.
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
import { grantsIn, GrantRow, sortRows } from '../helpers/lake-formation-template';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-lf-local-'));
const curatedRoot = path.join(work, 'curated');
const ROWS = 90;

/** Every SELECT grant of the synthesized app, by project. */
const grantsByProject = (() => {
  const { app, stacks } = createApp(config, { compliance: false, outdir: path.join(work, 'cdk.out') });
  const assembly = app.synth();
  const rows = stacks.workspaces.flatMap((s) => grantsIn(s, assembly.getStackArtifact(s.artifactId).template));
  const byProject = new Map<string, GrantRow[]>();
  for (const row of rows) byProject.set(row[0], [...(byProject.get(row[0]) ?? []), row]);
  return byProject;
})();

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
