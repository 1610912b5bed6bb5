/**
 * Ways out of a project's local session that a review found, and what stops each one now.
 * A project's session holds only its approved data, so each escape is tried twice: through
 * the session (guard and all), and straight on its DuckDB connection with no guard, to
 * show that the session alone leaves nothing to find.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { loadConfig } from '../../lib/config';
import { ProjectSession, QueryFailed } from '../../lib/query/project-session';
import { QueryRefused } from '../../lib/query/sql-guard';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { writeCuratedParquet } from '../helpers/curated-parquet';
import { approvalOf, leaksIn, type Approval } from '../helpers/approved-data';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-escapes-'));
const root = path.join(work, 'curated');
const ROWS = 60;
const PROJECT = 'medisight-prescribing'; // prescriptions: no person_id, anticoagulant rows only
let session: ProjectSession;
let approval: Approval;
let file: string;

beforeAll(async () => {
  for (const dataset of config.datasets) await writeCuratedParquet(root, dataset, ROWS, '2026-11-01', { markers: true });
  file = path.join(root, 'prescriptions', 'load_date=2026-11-01', 'batch-0001.parquet');
  session = await ProjectSession.open({ config, projectId: PROJECT, curatedRoot: root });
  approval = await approvalOf(config, PROJECT, root);
});
afterAll(() => {
  session.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The session's own connection, to run SQL with no guard in front of it. */
const raw = (): DuckDBConnection => (session as unknown as { connection: DuckDBConnection }).connection;

interface Outcome {
  readonly text: string;
  readonly rows?: readonly unknown[];
  readonly error?: Error;
}

async function viaSession(sql: string): Promise<Outcome> {
  try {
    const r = await session.query(sql);
    return { text: JSON.stringify(r.rows), rows: r.rows };
  } catch (e) {
    if (!(e instanceof QueryRefused || e instanceof QueryFailed)) throw e;
    return { text: (e as Error).message, error: e as Error };
  }
}

async function viaRawConnection(sql: string): Promise<Outcome> {
  try {
    const reader = await raw().runAndReadAll(sql);
    const rows = reader.getRowsJson();
    return { text: JSON.stringify(rows), rows };
  } catch (e) {
    return { text: (e as Error).message, error: e as Error };
  }
}

const secrets = () => [root, "LIKE '0208"];

describe('the WITH-scope escape: a WITH in a subquery, named after a curated file, made the file a table outside it', () => {
  const escape = () => `SELECT * FROM '${file}' WHERE 1 IN (WITH "${file}" AS (SELECT 1) SELECT 1)`;

  test('through the session it returns no data', async () => {
    const outcome = await viaSession(escape());
    expect(outcome.error).toBeDefined();
    expect(leaksIn(outcome.text, approval, secrets())).toEqual([]);
  });

  test('without the guard the session cannot read the file either', async () => {
    const outcome = await viaRawConnection(escape());
    expect(outcome.error?.message).toMatch(/Permission Error|file system operations are disabled/);
    expect(leaksIn(outcome.text, approval, [])).toEqual([]);
  });

  test.each([
    ['read_parquet', () => `SELECT * FROM read_parquet('${file}')`],
    ['a glob of the dataset folder', () => `SELECT * FROM '${path.join(root, 'prescriptions', '**', '*.parquet')}'`],
    ['read_text', () => `SELECT * FROM read_text('${file}')`],
    ['query() of a string', () => `SELECT * FROM query('SELECT * FROM read_parquet(''${file}'')')`],
  ])('without the guard, %s is refused by the session', async (_name, sql) => {
    const outcome = await viaRawConnection(sql());
    expect(outcome.error).toBeDefined();
    expect(leaksIn(outcome.text, approval, [])).toEqual([]);
  });
});

describe('the pg_get_viewdef escape: view definitions told the cache path and the row filter', () => {
  const escape = 'SELECT pg_get_viewdef(o) AS sql FROM (SELECT unnest(generate_series(0, 100000)) AS o) WHERE pg_get_viewdef(o) IS NOT NULL';

  test('through the session it is refused', async () => {
    const outcome = await viaSession(escape);
    expect(outcome.error).toBeInstanceOf(QueryRefused);
    expect(leaksIn(outcome.text, approval, secrets())).toEqual([]);
  });

  test('without the guard there is no definition with a path or a filter to find', async () => {
    const outcome = await viaRawConnection(escape);
    expect(leaksIn(outcome.text, approval, secrets())).toEqual([]);
    const tables = await viaRawConnection('SELECT sql FROM duckdb_tables()');
    expect(tables.text).toContain('CREATE TABLE prescriptions');
    expect(leaksIn(tables.text, approval, secrets())).toEqual([]);
  });
});

describe('the session alone holds only the approved data', () => {
  test('its one table holds exactly the approved columns and rows', async () => {
    const outcome = await viaRawConnection(
      "SELECT table_name, list(column_name ORDER BY column_name) FROM duckdb_columns() WHERE database_name = 'memory' GROUP BY ALL",
    );
    expect(outcome.rows).toEqual([['prescriptions', [...approval.tables.get('prescriptions')!.columns].sort()]]);
    const count = await viaRawConnection('SELECT count(*) FROM prescriptions');
    expect(count.rows).toEqual([[String(approval.tables.get('prescriptions')!.rows.size)]]);
  });

  test('its settings cannot be changed back', async () => {
    for (const sql of [
      'SET enable_external_access = true',
      'SET lock_configuration = false',
      "SET allowed_directories = ['/']",
      "SET temp_directory = '/tmp'",
    ]) {
      const outcome = await viaRawConnection(sql);
      expect(outcome.error?.message).toMatch(/locked/);
    }
  });

  test('no folder is readable, not even the spill folder', async () => {
    const outcome = await viaRawConnection("SELECT current_setting('allowed_directories') AS dirs, current_setting('temp_directory') AS temp");
    expect(outcome.rows).toEqual([[[], '']]);
  });

  test('an extension cannot be installed or loaded', async () => {
    for (const sql of ['INSTALL httpfs', 'LOAD httpfs', "SELECT * FROM read_csv('https://example.org/x.csv')"]) {
      expect((await viaRawConnection(sql)).error).toBeDefined();
    }
  });

  test('a failed cast quotes only an approved value', async () => {
    // Row 1 is outside the filter: over a view, DuckDB may cast it before filtering.
    const outcome = await viaSession('SELECT * FROM prescriptions WHERE CAST(gp_practice_code AS INTEGER) > 0');
    expect(outcome.error).toBeInstanceOf(QueryFailed);
    expect(outcome.text).toMatch(/Could not convert string 'prescriptions\.gp_practice_code\.\d+'/);
    expect(leaksIn(outcome.text, approval, secrets())).toEqual([]);
  });
});
