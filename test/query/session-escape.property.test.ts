/**
 * Queries built at random from the pieces an attacker reaches for (WITH queries named
 * after files or system tables, subqueries, table functions, quoted paths, comments,
 * casts, UNION, odd case and quoting), run as a project: no result and no error message
 * ever holds an unapproved column, a row outside the approval's filter, a file's content
 * or a path. Each query runs twice: through the session (guard included) and straight on
 * the session's DuckDB connection with no guard, which must hold on its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import { curatedColumns, loadConfig, PARTITION_COLUMN } from '../../lib/config';
import { ProjectSession, QueryFailed } from '../../lib/query/project-session';
import { QueryRefused } from '../../lib/query/sql-guard';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { writeCuratedParquet } from '../helpers/curated-parquet';
import { approvalOf, leaksIn, type Approval } from '../helpers/approved-data';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-escape-prop-'));
const root = path.join(work, 'curated');
const SENTINEL = 'FILE-CONTENT-SENTINEL-7f3a';
const secretFile = path.join(work, 'secret.csv');
const strayFile = path.join(root, 'prescriptions', 'notes.csv');
const RUNS = Number(process.env.SDE_PROPERTY_RUNS ?? 300);

beforeAll(async () => {
  for (const dataset of config.datasets) await writeCuratedParquet(root, dataset, 48, '2026-11-01', { markers: true });
  fs.writeFileSync(secretFile, `secret\n${SENTINEL}\n`);
  fs.writeFileSync(strayFile, `note\n${SENTINEL}\n`);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const parquetOf = (dataset: string) => path.join(root, dataset, 'load_date=2026-11-01', 'batch-0001.parquet');
const datasetNames = config.datasets.map((d) => d.name);
const allColumns = [...new Set([...config.datasets.flatMap((d) => curatedColumns(d).map((c) => c.name)), PARTITION_COLUMN])];

/** An identifier as a researcher might disguise it: case, quotes, comments around it. */
const disguised = (name: string) =>
  fc.constantFrom(name, name.toUpperCase(), `"${name}"`, `"${name.toUpperCase()}"`, `/* x */ ${name}`, `${name} -- c\n`, `"${name.replace(/"/g, '""')}"`);

const paths = fc.constantFrom(
  ...datasetNames.map(parquetOf),
  path.join(root, 'prescriptions', '**', '*.parquet'),
  path.join(root, '**', '*.parquet'),
  secretFile,
  strayFile,
  root,
);
const quoted = (p: string) => `'${p.replace(/'/g, "''")}'`;
const systemTables = fc.constantFrom(
  'pg_settings',
  'duckdb_views',
  'duckdb_tables',
  'duckdb_databases',
  'information_schema.tables',
  'information_schema.columns',
  'pg_catalog.pg_views',
  'main.duckdb_tables',
  'sqlite_master',
);

/** Queries for one project: its own tables and columns come up often, so that many queries do reach data. */
function queriesFor(approved: { tables: string[]; columns: string[] }): fc.Arbitrary<string> {
  const column = fc.oneof(
    { arbitrary: fc.constantFrom(...approved.columns).chain(disguised), weight: 6 },
    { arbitrary: fc.constantFrom(...allColumns).chain(disguised), weight: 2 },
    { arbitrary: fc.constantFrom('*', 'count(*)', '* EXCLUDE (quantity)', 'COLUMNS(*)'), weight: 1 },
  );
  const expression = fc.oneof(
    { arbitrary: column, weight: 8 },
    column.map((c) => `CAST(${c} AS VARCHAR)`),
    column.map((c) => `${c}::INTEGER`),
    column.map((c) => `upper(${c}::VARCHAR)`),
    column.map((c) => `string_agg(${c}::VARCHAR, ',')`),
    column.map((c) => `to_json(${c})`),
    fc.constant('pg_get_viewdef(unnest(generate_series(0, 30000)))'),
    fc.constantFrom("current_setting('temp_directory')", "current_setting('allowed_directories')", "getvariable('x')", 'current_query()'),
    paths.map((p) => `(SELECT content FROM read_text(${quoted(p)}))`),
  );

  const tableFunction = fc.oneof(
    fc
      .tuple(fc.constantFrom('read_parquet', 'read_csv', 'read_text', 'read_blob', 'glob', 'parquet_metadata', 'sniff_csv', 'read_csv_auto'), paths)
      .map(([fn, p]) => `${fn}(${quoted(p)})`),
    paths.map((p) => `query('SELECT * FROM ${quoted(p).replace(/'/g, "''")}')`),
    fc.constantFrom(...datasetNames).map((d) => `query_table('${d}')`),
    fc.constantFrom('duckdb_views()', 'duckdb_settings()', 'duckdb_tables()', 'range(3)', 'unnest([1, 2])', 'duckdb_functions()'),
  );

  const tableName = fc.oneof(
    { arbitrary: fc.constantFrom(...approved.tables).chain(disguised), weight: 12 },
    { arbitrary: fc.constantFrom(...datasetNames).chain(disguised), weight: 2 },
    systemTables,
    paths.map(quoted),
    paths.map((p) => `"${p}"`),
    tableFunction,
  );

  const cteName = fc.oneof(
    paths.map((p) => `"${p}"`),
    systemTables.filter((t) => !t.includes('.')),
    fc.constantFrom(...datasetNames),
    fc.constant('x'),
  );

  const { query } = fc.letrec<{ query: string; select: string; from: string; condition: string }>((tie) => ({
    from: fc.oneof({ maxDepth: 1 }, { arbitrary: tableName, weight: 3 }, { arbitrary: tie('select').map((s) => `(${s}) AS sub`), weight: 1 }),
    condition: fc.oneof(
      { maxDepth: 1 },
      column.map((c) => `${c} IS NOT NULL`),
      column.map((c) => `${c}::VARCHAR LIKE '%'`),
      fc.tuple(cteName, tableName).map(([n, t]) => `1 IN (WITH ${n} AS (SELECT 1) SELECT 1 FROM ${t})`),
      cteName.map((n) => `1 IN (WITH ${n} AS (SELECT 1) SELECT 1)`),
      tie('select').map((s) => `EXISTS (${s})`),
    ),
    select: fc
      .tuple(
        fc.array(expression, { minLength: 1, maxLength: 2 }),
        tie('from'),
        fc.option(tie('condition'), { nil: undefined }),
        fc.constantFrom('', ' /* c */', ' -- c\n'),
      )
      .map(([exprs, from, where, comment]) => `SELECT${comment} ${exprs.join(', ')} FROM ${from}${where === undefined ? '' : ` WHERE ${where}`}`),
    query: fc.oneof(
      { maxDepth: 2 },
      { arbitrary: tie('select'), weight: 3 },
      fc.tuple(cteName, tie('select'), tie('select')).map(([n, inner, outer]) => `WITH ${n} AS (${inner}) ${outer}`),
      fc.tuple(tie('select'), tie('select')).map(([a, b]) => `${a} UNION ALL ${b}`),
      // The shape of the review's escape: a WITH named after a path, in a scope the path is used outside.
      fc.tuple(paths, expression).map(([p, e]) => `SELECT ${e} FROM ${quoted(p)} WHERE 1 IN (WITH "${p}" AS (SELECT 1) SELECT 1)`),
    ),
  }));
  return query;
}

describe.each(['medisight-prescribing', 'ncl-winter-planning'])('%s', (projectId) => {
  let session: ProjectSession;
  let approval: Approval;
  beforeAll(async () => {
    session = await ProjectSession.open({ config, projectId, curatedRoot: root });
    approval = await approvalOf(config, projectId, root);
  });
  afterAll(() => session.close());

  test('no query returns, or quotes in an error, anything outside the approval', async () => {
    const connection = (session as unknown as { connection: DuckDBConnection }).connection;
    const answered = { guarded: 0, unguarded: 0 };
    const approved = [...approval.tables];
    const query = queriesFor({ tables: approved.map(([t]) => t), columns: approved.flatMap(([, t]) => [...t.columns]) });
    await fc.assert(
      fc.asyncProperty(query, async (sql) => {
        // A path in the query may come back (current_query() echoes it); otherwise no path may.
        const secrets = sql.includes(root) ? [SENTINEL] : [SENTINEL, root];
        // Through the session: a result, or a refusal or failure the researcher can read.
        let guarded: string[];
        try {
          const result = await session.query(sql, { maxRows: 200 });
          guarded = leaksIn(JSON.stringify(result.rows), approval, secrets);
          if (result.rows.length > 0) answered.guarded++;
        } catch (e) {
          if (!(e instanceof QueryRefused || e instanceof QueryFailed)) throw e;
          guarded = leaksIn(e.message, approval, [SENTINEL]);
          if (process.env.DEBUG_PROP) console.log(sql, '=>', e.message.slice(0, 150));
        }
        // With no guard at all.
        let unguarded: string[];
        try {
          const reader = await connection.runAndReadUntil(sql, 200);
          unguarded = leaksIn(JSON.stringify(reader.getRowsJson()), approval, secrets);
          if (reader.currentRowCount > 0) answered.unguarded++;
        } catch (e) {
          unguarded = leaksIn((e as Error).message, approval, [SENTINEL]);
        }
        expect({ sql, guarded, unguarded }).toEqual({ sql, guarded: [], unguarded: [] });
      }),
      { numRuns: RUNS },
    );
    // The generator must reach data, not only refusals, for the property to mean anything.
    expect(answered.guarded).toBeGreaterThan(RUNS / 50);
    if (process.env.DEBUG_PROP) console.log(answered);
    expect(answered.unguarded).toBeGreaterThan(answered.guarded);
  });
});
