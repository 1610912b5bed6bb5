import { DuckDBInstance } from '@duckdb/node-api';
import { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS } from '../../lib/query/allowed-functions';
import { checkSerializedSql, QueryRefused } from '../../lib/query/sql-guard';

interface Fn {
  readonly name: string;
  readonly type: string;
  readonly macro?: string;
}

let functions: Fn[];
let serialize: (sql: string) => Promise<unknown>;
let close: () => void;

beforeAll(async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll('SELECT function_name, function_type, macro_definition FROM duckdb_functions()');
  functions = reader.getRows().map(([name, type, macro]) => ({ name: String(name), type: String(type), macro: macro === null ? undefined : String(macro) }));
  serialize = async (sql) => JSON.parse(String((await connection.runAndReadAll(`SELECT json_serialize_sql('${sql.replace(/'/g, "''")}')`)).getRows()[0][0]));
  close = () => {
    connection.closeSync();
    instance.closeSync();
  };
});
afterAll(() => close());

const ctx = { projectId: 'p', approvedTables: new Set(['t']), knownTables: new Set(['t']) };

/** unnest in a select list is bound by DuckDB's binder itself, not looked up as a function. */
const BINDER_FORMS = new Set(['unnest']);

test('every allowed function exists in DuckDB as a scalar, aggregate or macro', () => {
  const known = new Set(functions.filter((f) => ['scalar', 'aggregate', 'macro'].includes(f.type)).map((f) => f.name));
  expect([...ALLOWED_FUNCTIONS].filter((n) => !known.has(n) && !BINDER_FORMS.has(n))).toEqual([]);
});

test('every allowed table function generates values and is a table function', () => {
  const tableFunctions = new Set(functions.filter((f) => f.type === 'table').map((f) => f.name));
  expect([...ALLOWED_TABLE_FUNCTIONS].filter((n) => !tableFunctions.has(n))).toEqual([]);
});

test('every allowed macro expands only to allowed functions (a macro is its body)', async () => {
  const macros = functions.filter((f) => f.type === 'macro' && ALLOWED_FUNCTIONS.has(f.name));
  expect(macros.length).toBeGreaterThan(0);
  for (const macro of macros) {
    // Parameters read as columns; a body that called current_setting() or duckdb_views() would be refused.
    const tree = await serialize(`SELECT ${macro.macro}`);
    expect(() => checkSerializedSql(tree as never, ctx)).not.toThrow();
  }
});

test('the catalog and settings macros a query could reach them through are not allowed', async () => {
  // pg_get_viewdef is a macro over duckdb_views(): this is the check that keeps such macros out.
  const viewdef = functions.find((f) => f.name === 'pg_get_viewdef')!;
  const tree = await serialize(`SELECT ${viewdef.macro}`);
  expect(() => checkSerializedSql(tree as never, ctx)).toThrow(QueryRefused);
  for (const name of ['pg_get_viewdef', 'current_setting', 'current_database', 'current_schema', 'getvariable', 'json_serialize_sql', 'version', 'read_text']) {
    expect(ALLOWED_FUNCTIONS.has(name)).toBe(false);
  }
});
