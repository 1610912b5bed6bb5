import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { curatedColumns, loadConfig, projectAccess } from '../../lib/config';
import { ProjectSession } from '../../lib/query/project-session';
import { QueryRefused } from '../../lib/query/sql-guard';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { writeCuratedParquet } from '../helpers/curated-parquet';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-curated-'));
const sessions: ProjectSession[] = [];

beforeAll(async () => {
  for (const dataset of config.datasets) await writeCuratedParquet(root, dataset, 60);
});
afterAll(() => {
  sessions.forEach((s) => s.close());
  fs.rmSync(root, { recursive: true, force: true });
});

async function session(projectId: string): Promise<ProjectSession> {
  const s = await ProjectSession.open({ config, projectId, curatedRoot: root });
  sessions.push(s);
  return s;
}

async function refusal(promise: Promise<unknown>): Promise<QueryRefused> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof QueryRefused) return e;
    throw e;
  }
  throw new Error('expected the query to be refused');
}

describe('a project sees exactly its approved columns', () => {
  test.each(config.projects.filter((p) => projectAccess(config, p).length > 0).map((p) => p.id))('%s', async (id) => {
    const s = await session(id);
    for (const grant of projectAccess(
      config,
      config.projects.find((p) => p.id === id)!,
    )) {
      const result = await s.query(`SELECT * FROM ${grant.dataset.name} LIMIT 1`);
      expect([...result.columns].sort()).toEqual([...grant.columnNames].sort());
    }
  });
});

describe('rows', () => {
  test('a row filter limits the rows a project sees', async () => {
    const s = await session('medisight-prescribing');
    const result = await s.query('SELECT count(*) AS n, count(DISTINCT bnf_code) AS codes FROM prescriptions');
    expect(result.rows).toEqual([[20, 1]]); // 60 rows, every third is an anticoagulant (0208...)
  });

  test('without a row filter every row is visible', async () => {
    const s = await session('ucl-multimorbidity');
    expect((await s.query('SELECT count(*) FROM prescriptions')).rows).toEqual([[60]]);
  });

  test('the partition column reads as a date', async () => {
    const s = await session('ncl-winter-planning');
    expect((await s.query('SELECT DISTINCT load_date::VARCHAR FROM hospital_episodes')).rows).toEqual([['2026-11-01']]);
  });

  test('the bytes scanned are the Parquet bytes of the tables read', async () => {
    const s = await session('ncl-winter-planning');
    const result = await s.query('SELECT count(*) FROM demographics');
    const size = fs.statSync(path.join(root, 'demographics', 'load_date=2026-11-01', 'batch-0001.parquet')).size;
    expect([result.tables, result.bytesScanned]).toEqual([['demographics'], size]);
  });
});

describe('refusals name the project and what it is not approved for, and return no data', () => {
  test('a column left out of the approval', async () => {
    const s = await session('medisight-prescribing');
    const r = await refusal(s.query('SELECT person_id FROM prescriptions'));
    expect([r.kind, r.message]).toEqual([
      'column_not_approved',
      'Project medisight-prescribing is not approved for column "person_id" of table "prescriptions".',
    ]);
  });

  test('a table left out of the approval', async () => {
    const s = await session('medisight-prescribing');
    const r = await refusal(s.query('SELECT count(*) FROM gp_events'));
    expect([r.kind, r.message]).toEqual(['table_not_approved', 'Project medisight-prescribing is not approved for table "gp_events".']);
  });

  test('an expired project has no access at all', async () => {
    const r = await refusal(session('kcl-covid-recovery'));
    expect(r.message).toMatch(/Project kcl-covid-recovery is expired/);
  });

  test('an unknown project', async () => {
    const r = await refusal(session('nobody'));
    expect(r.message).toMatch(/no project "nobody"/);
  });

  const curatedPrescriptions = path.join(root, 'prescriptions', 'load_date=2026-11-01', 'batch-0001.parquet');
  test.each([
    ['read_parquet of an approved dataset (all columns)', () => `SELECT * FROM read_parquet('${curatedPrescriptions}')`, 'table_function'],
    ['read_csv of a system file', () => "SELECT * FROM read_csv('/etc/passwd')", 'table_function'],
    ['a file path as a table', () => `SELECT * FROM '${curatedPrescriptions}'`, 'table_not_approved'],
    ['glob', () => "SELECT * FROM glob('/**')", 'table_function'],
    ['catalog functions', () => 'SELECT * FROM duckdb_tables()', 'table_function'],
    ['information_schema', () => 'SELECT * FROM information_schema.columns', 'other_schema'],
    ['ATTACH', () => "ATTACH '/tmp/x.db' AS x", 'not_select'],
    ['COPY ... TO', () => "COPY prescriptions TO '/tmp/out.csv'", 'not_select'],
    ['INSTALL', () => 'INSTALL httpfs', 'not_select'],
    ['LOAD', () => 'LOAD httpfs', 'not_select'],
    ['SET', () => 'SET enable_external_access = true', 'not_select'],
    ['PRAGMA', () => 'PRAGMA database_list', 'not_select'],
    ['CREATE', () => 'CREATE TABLE t AS SELECT 1', 'not_select'],
    ['multiple statements', () => 'SELECT 1; SELECT 2', 'multiple_statements'],
    ['getenv', () => "SELECT getenv('HOME')", 'function_not_allowed'],
    ['current_setting', () => "SELECT current_setting('allowed_directories')", 'function_not_allowed'],
    [
      'a table function hidden in a subquery',
      () => "SELECT * FROM prescriptions WHERE bnf_code IN (SELECT column0 FROM read_csv('/etc/hosts'))",
      'table_function',
    ],
    ['a table function hidden in a CTE', () => "WITH x AS (SELECT * FROM read_parquet('/x/*.parquet')) SELECT * FROM x", 'table_function'],
  ])('%s', async (_name, sql, kind) => {
    const s = await session('medisight-prescribing');
    const r = await refusal(s.query(sql()));
    expect(r.kind).toBe(kind);
    expect(r.message).toMatch(/medisight-prescribing|SELECT|one SELECT/);
  });

  test('a CTE of an approved table is allowed', async () => {
    const s = await session('medisight-prescribing');
    const result = await s.query('WITH a AS (SELECT gp_practice_code FROM prescriptions) SELECT count(*) FROM a');
    expect(result.rows).toEqual([[20]]);
  });
});

test('views expose curated columns only, never a source identifier', () => {
  for (const dataset of config.datasets) {
    const names = curatedColumns(dataset).map((c) => c.name);
    expect(names).not.toContain('nhs_number');
    expect(names).not.toContain('date_of_birth');
  }
});
