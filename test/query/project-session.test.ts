import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { curatedColumns, loadConfig, projectAccess } from '../../lib/config';
import { ProjectSession, QueryFailed } from '../../lib/query/project-session';
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
});

describe("bytes scanned are what the engine read, in Athena's terms", () => {
  /** Compressed bytes per column of a dataset's curated files, read by hyparquet (not DuckDB). */
  const columnBytes = (dataset: string): Record<string, number> => {
    const dir = path.join(root, dataset, 'load_date=2026-11-01');
    const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
    return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'column-bytes.mjs'), ...files], { encoding: 'utf8' }));
  };
  const fileBytes = (dataset: string) => fs.statSync(path.join(root, dataset, 'load_date=2026-11-01', 'batch-0001.parquet')).size;

  test("one column read: that column's bytes, far less than the file", async () => {
    const s = await session('ncl-winter-planning');
    const result = await s.query('SELECT sex, count(*) FROM demographics GROUP BY sex');
    expect([result.tables, result.bytesScanned]).toEqual([['demographics'], columnBytes('demographics').sex]);
    expect(result.bytesScanned).toBeLessThan(fileBytes('demographics') / 5);
  });

  test('a filter pushed into the scan counts the column it filters on', async () => {
    const s = await session('ncl-winter-planning');
    const bytes = columnBytes('demographics');
    const result = await s.query("SELECT count(*) FROM demographics WHERE age_band = 'age_band-3'");
    expect(result.bytesScanned).toBe(bytes.age_band);
    const both = await s.query("SELECT sex FROM demographics WHERE age_band <> 'age_band-3'");
    expect(both.bytesScanned).toBe(bytes.age_band + bytes.sex);
  });

  test('every approved column for SELECT *; never a column the approval leaves out', async () => {
    const s = await session('ncl-winter-planning');
    const bytes = columnBytes('demographics');
    const result = await s.query('SELECT * FROM demographics');
    expect(result.bytesScanned).toBe(['person_id', 'age_band', 'sex', 'lsoa_code', 'gp_practice_code'].reduce((n, c) => n + bytes[c], 0));
    expect(result.bytesScanned).toBeLessThan(fileBytes('demographics'));
  });

  test("a row filter's column is read by every scan, as Lake Formation reads it", async () => {
    const s = await session('medisight-prescribing');
    const bytes = columnBytes('prescriptions');
    expect((await s.query('SELECT count(*) FROM prescriptions')).bytesScanned).toBe(bytes.bnf_code);
    expect((await s.query('SELECT sum(quantity) FROM prescriptions')).bytesScanned).toBe(bytes.bnf_code + bytes.quantity);
  });

  test('a table read twice is counted twice; a WITH of the same name reads nothing', async () => {
    const s = await session('ncl-winter-planning');
    const bytes = columnBytes('demographics');
    const twice = await s.query('SELECT a.sex FROM demographics a JOIN demographics b ON a.person_id = b.person_id');
    expect(twice.bytesScanned).toBe(2 * bytes.person_id + bytes.sex);
    const shadowed = await s.query('WITH demographics AS (SELECT 1 AS sex) SELECT sex FROM demographics');
    expect([shadowed.tables, shadowed.bytesScanned]).toEqual([[], 0]);
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

describe('ordinary analysis still works under the allow-lists', () => {
  test.each([
    ['a window function', 'SELECT bnf_code, row_number() OVER (PARTITION BY bnf_code ORDER BY quantity) AS n FROM prescriptions LIMIT 1'],
    [
      'dates and text',
      "SELECT strftime(DATE '2026-01-31', '%Y-%m') AS m, upper(left(bnf_code, 4)) AS chapter, date_trunc('month', DATE '2026-02-03') AS d FROM prescriptions LIMIT 1",
    ],
    [
      'CASE, COALESCE, NULLIF, casts',
      'SELECT CASE WHEN quantity > 10 THEN 1 ELSE 0 END, coalesce(quantity, 0), nullif(quantity, 0), quantity::INTEGER FROM prescriptions LIMIT 1',
    ],
    [
      'aggregates',
      "SELECT median(quantity), quantile_cont(quantity, 0.9), stddev(quantity), approx_count_distinct(gp_practice_code), string_agg(DISTINCT bnf_code, ',') FROM prescriptions",
    ],
    ['a recursive WITH', 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT count(*) FROM r'],
    ['range and unnest', 'SELECT count(*) FROM range(3) t(i), unnest([1, 2]) u(x)'],
    ['DESCRIBE', 'DESCRIBE prescriptions'],
    ['SUMMARIZE', 'SUMMARIZE SELECT quantity FROM prescriptions'],
    ['PIVOT with its values listed', "SELECT * FROM prescriptions PIVOT (count(*) FOR bnf_code IN ('0208020V0AAAAAA') GROUP BY gp_practice_code)"],
    ['FROM first', 'FROM prescriptions SELECT count(*)'],
  ])('%s', async (_name, sql) => {
    const s = await session('medisight-prescribing');
    const result = await s.query(sql);
    expect(result.rows.length).toBeGreaterThan(0);
  });
});

describe('the catalog is out of reach, whatever the WITH scopes', () => {
  test.each([
    ['a system view', 'SELECT * FROM pg_settings'],
    ['a system view in upper case and quotes', 'SELECT * FROM "PG_SETTINGS"'],
    ['duckdb_views without brackets', 'SELECT * FROM duckdb_views'],
    ['a system view under main', 'SELECT * FROM main.duckdb_tables'],
    ['a WITH named after a system view, used outside its scope', 'SELECT * FROM pg_settings WHERE 1 IN (WITH pg_settings AS (SELECT 1) SELECT 1)'],
    ['a WITH named after a system view in upper case', 'WITH "PG_SETTINGS" AS (SELECT 1) SELECT * FROM (SELECT 1) WHERE 1 IN (SELECT 1 FROM pg_settings)'],
    ['SHOW TABLES', 'SHOW TABLES'],
    ['time travel', 'SELECT * FROM prescriptions AT (VERSION => 1)'],
    ['a function under a catalog', "SELECT system.main.upper('x')"],
    ['pg_get_viewdef', 'SELECT pg_get_viewdef(1)'],
    ['a parameter', 'SELECT $1'],
  ])('%s', async (_name, sql) => {
    const s = await session('medisight-prescribing');
    await expect(s.query(sql)).rejects.toThrow(QueryRefused);
  });
});

describe("a mistake in the SQL fails with DuckDB's own message", () => {
  test('an unknown column of no table', async () => {
    const s = await session('medisight-prescribing');
    await expect(s.query('SELECT no_such_column FROM prescriptions')).rejects.toThrow(QueryFailed);
    await expect(s.query('SELECT no_such_column FROM prescriptions')).rejects.toThrow(/Binder Error: Referenced column "no_such_column" not found/);
  });

  test('a type error', async () => {
    const s = await session('medisight-prescribing');
    await expect(s.query("SELECT quantity + 'a' FROM prescriptions")).rejects.toThrow(QueryFailed);
  });

  test('a syntax error', async () => {
    const s = await session('medisight-prescribing');
    await expect(s.query('SELEC 1')).rejects.toThrow(QueryFailed);
  });
});
