/**
 * The first of two locks on a project's local queries: before DuckDB runs a project's SQL,
 * its parse tree (DuckDB's own parser, through json_serialize_sql) is checked so that the
 * query can only read the project's approved tables, through the views that expose only
 * approved columns and rows.
 *
 * Refused: anything but one SELECT (COPY ... TO, ATTACH, INSTALL/LOAD, SET, PRAGMA, DDL,
 * several statements); every table function (read_csv, read_parquet, glob, duckdb_*(),
 * ...), which would read files or catalog state around the views; file paths used as
 * tables (`FROM 'x.parquet'`); other schemas and catalogs; tables the project is not
 * approved for; a few scalar functions that reveal the environment.
 *
 * The second lock is the DuckDB session itself (project-session.ts): external access off
 * except the approved datasets' folders, and its configuration locked.
 */

export type RefusalKind =
  | 'not_select'
  | 'multiple_statements'
  | 'parse_error'
  | 'table_function'
  | 'other_schema'
  | 'table_not_approved'
  | 'function_not_allowed'
  | 'column_not_approved';

export class QueryRefused extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
    this.name = 'QueryRefused';
  }
}

/** Scalar functions that would tell a researcher about the machine rather than the data. */
const DENIED_FUNCTIONS = new Set([
  'getenv',
  'current_setting',
  'current_database',
  'current_schema',
  'current_schemas',
  'version',
  'pragma_version',
  'duckdb_secrets',
  'which_secret',
  'read_text',
  'read_blob',
]);

export interface GuardContext {
  readonly projectId: string;
  /** Tables (views) the project may read. */
  readonly approvedTables: ReadonlySet<string>;
  /** Every dataset table that exists, to say "not approved" rather than "unknown". */
  readonly knownTables: ReadonlySet<string>;
}

interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

/**
 * Checks a serialized parse tree (the JSON DuckDB's json_serialize_sql returns for the
 * query). Pure, so it is tested without a database; the session supplies the JSON.
 */
export function checkSerializedSql(serialized: SerializedSql, ctx: GuardContext): void {
  if (serialized.error) {
    const message = serialized.error_message ?? 'the query could not be parsed';
    if (/Only SELECT statements/i.test(message)) {
      throw new QueryRefused(
        'not_select',
        `Project ${ctx.projectId} may only run SELECT queries: COPY, ATTACH, INSTALL, LOAD, SET, PRAGMA, CREATE and other statements are refused.`,
      );
    }
    throw new QueryRefused('parse_error', `The query does not parse: ${message}`);
  }
  const statements = serialized.statements ?? [];
  if (statements.length !== 1) {
    throw new QueryRefused('multiple_statements', `Run one SELECT at a time (the query has ${statements.length} statements).`);
  }
  const cteNames = new Set<string>();
  collectCteNames(statements[0], cteNames);
  walk(statements[0], (node) => checkNode(node, ctx, cteNames));
}

function collectCteNames(node: unknown, out: Set<string>): void {
  walk(node, (n) => {
    const map = (n.cte_map as { map?: { key: string }[] } | undefined)?.map;
    for (const entry of map ?? []) out.add(entry.key.toLowerCase());
  });
}

function walk(node: unknown, visit: (n: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
  } else if (node !== null && typeof node === 'object') {
    visit(node as Record<string, unknown>);
    for (const value of Object.values(node)) walk(value, visit);
  }
}

function checkNode(node: Record<string, unknown>, ctx: GuardContext, cteNames: ReadonlySet<string>): void {
  if (node.type === 'TABLE_FUNCTION') {
    const fn = (node.function as { function_name?: string } | undefined)?.function_name ?? 'a table function';
    throw new QueryRefused(
      'table_function',
      `Project ${ctx.projectId} may not use table functions such as ${fn}(): query the approved tables by name (${[...ctx.approvedTables].join(', ')}).`,
    );
  }
  if (node.type === 'BASE_TABLE') {
    const schema = String(node.schema_name ?? '');
    const catalog = String(node.catalog_name ?? '');
    const table = String(node.table_name ?? '');
    if ((schema !== '' && schema !== 'main') || catalog !== '') {
      throw new QueryRefused(
        'other_schema',
        `Project ${ctx.projectId} may only read its approved tables; "${[catalog, schema, table].filter(Boolean).join('.')}" is outside them.`,
      );
    }
    const name = table.toLowerCase();
    if (cteNames.has(name) || ctx.approvedTables.has(name)) return;
    if (ctx.knownTables.has(name)) {
      throw new QueryRefused('table_not_approved', `Project ${ctx.projectId} is not approved for table "${table}".`);
    }
    throw new QueryRefused(
      'table_not_approved',
      `Project ${ctx.projectId} has no table "${table}"; its approved tables are: ${[...ctx.approvedTables].join(', ')}.`,
    );
  }
  if (node.class === 'FUNCTION') {
    const fn = String(node.function_name ?? '').toLowerCase();
    const schema = String(node.schema ?? '');
    if (DENIED_FUNCTIONS.has(fn) || fn.startsWith('duckdb_') || fn.startsWith('pragma_') || (schema !== '' && schema !== 'main')) {
      throw new QueryRefused('function_not_allowed', `Project ${ctx.projectId} may not call ${fn}() in a query.`);
    }
  }
}
