/**
 * What a project's local SQL is refused outright, before DuckDB runs it. This is not
 * what keeps unapproved data away: the project's session holds nothing else (see
 * project-session.ts: only the approved columns and rows are materialised, then files,
 * settings and extensions are switched off and the configuration locked). The guard
 * keeps a query to the things a researcher needs, each by an allow-list over DuckDB's
 * own parse tree (json_serialize_sql), so that what DuckDB adds later is refused until
 * listed:
 * - one statement, and a SELECT (DuckDB serialises SELECT statements only);
 * - expressions of the listed kinds, and functions on the allow-list (allowed-functions.ts):
 *   nothing that reads the catalog, a setting, a file or another SQL string;
 * - in FROM: tables, subqueries, joins, VALUES, PIVOT, DESCRIBE / SUMMARIZE of a query,
 *   and the listed table functions (range, generate_series, unnest);
 * - a table is an approved one or a name the query defines with WITH, and no WITH name
 *   may be the name of anything in DuckDB's catalog (pg_settings, duckdb_tables, ...),
 *   so however WITH scopes are nested a table name never reaches the catalog's views.
 */
import { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, asciiLower } from './allowed-functions';

export type RefusalKind =
  | 'not_select'
  | 'multiple_statements'
  | 'table_function'
  | 'other_schema'
  | 'table_not_approved'
  | 'function_not_allowed'
  | 'column_not_approved'
  | 'reserved_name'
  | 'construct_not_allowed'
  | 'not_a_researcher';

export class QueryRefused extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
    this.name = 'QueryRefused';
  }
}

/** A query DuckDB could not parse or run (a mistake in the SQL): the message is DuckDB's own. */
export class QueryFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryFailed';
  }
}

export interface GuardContext {
  readonly projectId: string;
  /** Tables the project may read (ASCII lower case). */
  readonly approvedTables: ReadonlySet<string>;
  /** Every dataset table that exists, to say "not approved" rather than "unknown". */
  readonly knownTables: ReadonlySet<string>;
  /**
   * The name of every other relation the session's catalog holds (its system views:
   * pg_settings, duckdb_tables, information_schema.columns, ...), ASCII lower case.
   * @default none
   */
  readonly catalogRelations?: ReadonlySet<string>;
}

interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

type Node = Record<string, unknown>;

/** Expression kinds a query may use; PARAMETER and DEFAULT have no meaning in one SELECT. */
const EXPRESSION_CLASSES = new Set([
  'BETWEEN',
  'CASE',
  'CAST',
  'COLLATE',
  'COLUMN_REF',
  'COMPARISON',
  'CONJUNCTION',
  'CONSTANT',
  'FUNCTION',
  'LAMBDA',
  'LAMBDA_REF',
  'OPERATOR',
  'POSITIONAL_REFERENCE',
  'STAR',
  'SUBQUERY',
  'WINDOW',
]);

const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);
const TABLE_REFS = new Set(['BASE_TABLE', 'SUBQUERY', 'JOIN', 'TABLE_FUNCTION', 'EXPRESSION_LIST', 'EMPTY', 'PIVOT', 'SHOW_REF']);

/**
 * A name as compared here: DuckDB's own ASCII case folding, and also Unicode
 * compatibility folding, so that no disguise of a catalog name passes as a WITH name.
 */
function folds(name: string): string[] {
  return [asciiLower(name), name.normalize('NFKC').toLowerCase()];
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
        `Project ${ctx.projectId} may only run SELECT queries: COPY, ATTACH, INSTALL, LOAD, SET, PRAGMA, CALL, EXPLAIN, CREATE and other statements are refused.`,
      );
    }
    throw new QueryFailed(`Parser Error: ${message}`);
  }
  const statements = serialized.statements ?? [];
  if (statements.length !== 1) {
    throw new QueryRefused('multiple_statements', `Run one SELECT at a time (the query has ${statements.length} statements).`);
  }
  const cteNames = new Set<string>();
  const catalog = new Set([...(ctx.catalogRelations ?? [])].flatMap(folds));
  walk(statements[0], (node) => {
    const map = (node.cte_map as { map?: { key: string }[] } | undefined)?.map;
    for (const { key } of map ?? []) {
      if (folds(key).some((f) => catalog.has(f) && !ctx.approvedTables.has(f))) {
        throw new QueryRefused('reserved_name', `"${key}" is the name of a system table; give the WITH query another name.`);
      }
      cteNames.add(asciiLower(key));
    }
  });
  const tableFunctions = new WeakSet<Node>();
  walk(statements[0], (node) => checkNode(node, ctx, cteNames, tableFunctions));
}

function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
  } else if (node !== null && typeof node === 'object') {
    visit(node as Node);
    for (const value of Object.values(node)) walk(value, visit);
  }
}

function refuseConstruct(ctx: GuardContext, what: string): never {
  throw new QueryRefused('construct_not_allowed', `Project ${ctx.projectId} may not use ${what} in a query.`);
}

/** Visits parents before children, so a table function is seen before its own function node. */
function checkNode(node: Node, ctx: GuardContext, cteNames: ReadonlySet<string>, tableFunctions: WeakSet<Node>): void {
  if ('class' in node) return tableFunctions.has(node) ? undefined : checkExpression(node, ctx);
  if (typeof node.type !== 'string') return;
  if ('modifiers' in node && 'cte_map' in node) {
    if (!QUERY_NODES.has(node.type)) refuseConstruct(ctx, `a ${node.type} query`);
    return;
  }
  if (!('alias' in node && 'sample' in node)) return; // modifiers, ORDER BY terms, values' types
  if (!TABLE_REFS.has(node.type)) refuseConstruct(ctx, `a ${node.type} in FROM`);
  if (node.type === 'TABLE_FUNCTION') tableFunctions.add(checkTableFunction(node, ctx));
  if (node.type === 'SHOW_REF' && (node.query === null || node.query === undefined)) {
    refuseConstruct(ctx, 'SHOW (DESCRIBE or SUMMARIZE a table instead)');
  }
  if (node.type === 'BASE_TABLE') checkTable(node, ctx, cteNames);
}

function checkExpression(node: Node, ctx: GuardContext): void {
  const cls = String(node.class);
  if (!EXPRESSION_CLASSES.has(cls)) refuseConstruct(ctx, `a ${cls.toLowerCase()} expression`);
  if (cls !== 'FUNCTION' && cls !== 'WINDOW') return;
  const name = String(node.function_name ?? '');
  const qualified = String(node.catalog ?? '') !== '' || (String(node.schema ?? '') !== '' && asciiLower(String(node.schema)) !== 'main');
  if (qualified || !ALLOWED_FUNCTIONS.has(asciiLower(name))) {
    throw new QueryRefused(
      'function_not_allowed',
      `Project ${ctx.projectId} may not call ${name}() in a query: it is not among the functions a query may use.`,
    );
  }
}

/** Returns the table function's own function node, whose name is checked here rather than as a scalar. */
function checkTableFunction(node: Node, ctx: GuardContext): Node {
  const fn = (node.function ?? {}) as Node;
  const name = String(fn.function_name ?? '');
  const qualified = String(fn.catalog ?? '') !== '' || String(fn.schema ?? '') !== '';
  if (qualified || !ALLOWED_TABLE_FUNCTIONS.has(asciiLower(name))) {
    throw new QueryRefused(
      'table_function',
      `Project ${ctx.projectId} may not use table functions such as ${name}(): query the approved tables by name (${[...ctx.approvedTables].join(', ')}).`,
    );
  }
  return fn;
}

function checkTable(node: Node, ctx: GuardContext, cteNames: ReadonlySet<string>): void {
  const schema = String(node.schema_name ?? '');
  const catalog = String(node.catalog_name ?? '');
  const table = String(node.table_name ?? '');
  if ((schema !== '' && asciiLower(schema) !== 'main') || catalog !== '') {
    throw new QueryRefused(
      'other_schema',
      `Project ${ctx.projectId} may only read its approved tables; "${[catalog, schema, table].filter(Boolean).join('.')}" is outside them.`,
    );
  }
  if (node.at_clause !== null && node.at_clause !== undefined) refuseConstruct(ctx, 'AT (time travel)');
  const name = asciiLower(table);
  if (ctx.approvedTables.has(name) || (schema === '' && cteNames.has(name))) return;
  if (ctx.knownTables.has(name)) {
    throw new QueryRefused('table_not_approved', `Project ${ctx.projectId} is not approved for table "${table}".`);
  }
  throw new QueryRefused(
    'table_not_approved',
    `Project ${ctx.projectId} has no table "${table}"; its approved tables are: ${[...ctx.approvedTables].join(', ')}.`,
  );
}
