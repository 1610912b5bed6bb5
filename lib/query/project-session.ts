/**
 * A DuckDB session that holds one project's approved data and nothing else, as Lake
 * Formation would serve it on the query date:
 * 1. for each approved table, exactly the approved columns of the rows its filter keeps
 *    are copied into an in-memory table (compiled from `projectAccess`, the model the
 *    Lake Formation grants are built from);
 * 2. then the session's file access, extensions and spill files are switched off and its
 *    configuration locked, before any SQL of the researcher's runs.
 * So no file (not even the curated Parquet the tables were copied from), no setting and
 * no other table is reachable whatever the SQL says: a WITH scope, a path, a view
 * definition or an error message can only ever show approved values, because nothing
 * else is in the session. Tables rather than views: a view would keep the source path and
 * the row filter in its definition (pg_get_viewdef) and evaluate the researcher's
 * expressions over rows outside the filter (an error quoting such a value).
 * The guard (sql-guard.ts) then refuses what a researcher never needs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBTypeId, StatementType } from '@duckdb/node-api';
import { curatedColumns, DUCKDB_TYPE, PARTITION_COLUMN } from '../config/curated';
import { projectAccess, projectState, type ProjectTableAccess, type SdeConfig } from '../config/model';
import { parseRowFilter, rowFilterColumns } from '../config/row-filter';
import { asciiLower } from './allowed-functions';
import { checkSerializedSql, GuardContext, QueryFailed, QueryRefused } from './sql-guard';

export { QueryFailed } from './sql-guard';

export interface ProjectSessionOptions {
  readonly config: SdeConfig;
  readonly projectId: string;
  /** The folder holding one sub-folder per dataset: `<root>/<dataset>/load_date=YYYY-MM-DD/*.parquet`. */
  readonly curatedRoot: string;
  /** Worker threads for DuckDB. @default 1 */
  readonly threads?: number;
}

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
  /** Approved tables the query read. */
  readonly tables: readonly string[];
  /**
   * What the engine read, in Athena's terms: for every scan of a table, the curated
   * Parquet bytes of the columns it read (its projection, its pushed-down filters and the
   * approval's row filter). Athena's per-query minimum is applied in bills (lib/billing).
   */
  readonly bytesScanned: number;
  /** Tables the query read that hold no ingested data yet. @default none */
  readonly emptyTables?: readonly string[];
}

const BIGINT_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function parquetFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** What the session knows about one materialised table, for accounting and explanations. */
interface TableFacts {
  readonly access: ProjectTableAccess;
  /** Compressed Parquet bytes per source column, over every file of the table. */
  readonly columnBytes: ReadonlyMap<string, number>;
  /** Columns the approval's row filter reads: Lake Formation reads them for every scan. */
  readonly filterColumns: readonly string[];
  /** Curated columns the approval leaves out. */
  readonly hiddenColumns: ReadonlySet<string>;
  readonly empty: boolean;
}

export class ProjectSession {
  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly instance: DuckDBInstance,
    private readonly guard: GuardContext,
    private readonly tables: ReadonlyMap<string, TableFacts>,
  ) {}

  static async open(options: ProjectSessionOptions): Promise<ProjectSession> {
    const { config } = options;
    const project = config.projects.find((p) => p.id === options.projectId);
    if (!project) {
      throw new QueryRefused(
        'table_not_approved',
        `There is no project "${options.projectId}" in the config; known projects: ${config.projects.map((p) => p.id).join(', ')}.`,
      );
    }
    const state = projectState(project, config.today);
    if (state !== 'active') {
      throw new QueryRefused(
        'table_not_approved',
        `Project ${project.id} is ${state.replace('_', ' ')} on ${config.today} (approved period ${project.period.start} to ${project.period.end}), so it has no access.`,
      );
    }
    const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 1) });
    const connection = await instance.connect();
    try {
      const tables = new Map<string, TableFacts>();
      for (const access of projectAccess(config, project)) {
        tables.set(access.dataset.name, await materialise(connection, access, path.resolve(options.curatedRoot, access.dataset.name)));
      }
      const catalogRelations = await lockDown(connection);
      const guard: GuardContext = {
        projectId: project.id,
        approvedTables: new Set(tables.keys()),
        knownTables: new Set(config.datasets.map((d) => d.name)),
        catalogRelations,
      };
      return new ProjectSession(connection, instance, guard, tables);
    } catch (e) {
      connection.closeSync();
      instance.closeSync();
      throw e;
    }
  }

  get projectId(): string {
    return this.guard.projectId;
  }

  /** Runs one SELECT as the project; throws QueryRefused (with no data) or QueryFailed (DuckDB's message). */
  async query(sql: string, options: { maxRows?: number } = {}): Promise<QueryResult> {
    const serialized = await this.connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)}) AS tree`);
    const tree = JSON.parse(String(serialized.getRows()[0][0]));
    checkSerializedSql(tree, this.guard);
    const maxRows = options.maxRows ?? Number.MAX_SAFE_INTEGER;
    let reader;
    try {
      // A prepared statement is one statement by construction, and says what kind it is.
      const prepared = await this.connection.prepare(sql);
      if (prepared.statementType !== StatementType.SELECT) {
        throw new QueryRefused('not_select', `Project ${this.guard.projectId} may only run SELECT queries.`);
      }
      reader = await prepared.runAndReadUntil(maxRows);
    } catch (e) {
      throw this.explain(e as Error);
    }
    // JSON values keep 64-bit integers as strings; counts and sums read better as numbers
    // whenever they fit exactly.
    const bigintColumns = reader.columnTypes().map((t) => BIGINT_TYPES.has(t.typeId));
    const rows = reader
      .getRowsJson()
      .slice(0, maxRows)
      .map((row) => row.map((v, i) => (bigintColumns[i] && typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : v)));
    const scans = await this.scans(sql);
    const tables = [...new Set(scans.map((s) => s.table))].sort();
    return {
      columns: reader.columnNames(),
      rows,
      tables,
      bytesScanned: scans.reduce((sum, s) => sum + this.scanBytes(s), 0),
      emptyTables: tables.filter((t) => this.tables.get(t)?.empty),
    };
  }

  /** The table scans of the query's physical plan: which approved table, and the columns each reads. */
  private async scans(sql: string): Promise<Scan[]> {
    const plan = await this.connection.runAndReadAll(`EXPLAIN (FORMAT json)\n${sql}`);
    const scans: Scan[] = [];
    for (const [, json] of plan.getRows()) collectScans(JSON.parse(String(json)), this.tables, scans);
    return scans;
  }

  private scanBytes(scan: Scan): number {
    const facts = this.tables.get(scan.table)!;
    const read = new Set([...scan.columns, ...facts.filterColumns]);
    return [...read].reduce((sum, c) => sum + (facts.columnBytes.get(c) ?? 0), 0);
  }

  /** Turns DuckDB's errors into what the researcher can act on; every value in them is an approved one. */
  private explain(error: Error): Error {
    if (error instanceof QueryRefused) return error;
    const missing = /Referenced column "([^"]+)" not found/.exec(error.message)?.[1];
    if (missing !== undefined) {
      const table = [...this.tables].find(([, facts]) => facts.hiddenColumns.has(asciiLower(missing)))?.[0];
      if (table) return new QueryRefused('column_not_approved', `Project ${this.guard.projectId} is not approved for column "${missing}" of table "${table}".`);
    }
    if (/^Permission Error|file system operations are disabled|configuration has been locked/im.test(error.message)) {
      return new QueryRefused(
        'function_not_allowed',
        `Project ${this.guard.projectId} may only read its approved tables: files and settings are out of reach.`,
      );
    }
    return new QueryFailed(error.message.trim());
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Copies one approved table into the session: the approved columns of the rows its filter keeps. */
async function materialise(connection: DuckDBConnection, access: ProjectTableAccess, dir: string): Promise<TableFacts> {
  const dataset = access.dataset;
  const curated = curatedColumns(dataset);
  const typeOf = new Map<string, string>([...curated.map((c) => [c.name, DUCKDB_TYPE[c.glueType]] as const), [PARTITION_COLUMN, 'DATE']]);
  const columns = access.columnNames.map((c) => `${ident(c)} ${typeOf.get(c)}`).join(', ');
  await connection.run(`CREATE TABLE ${ident(dataset.name)} (${columns})`);
  const files = parquetFilesUnder(dir);
  const columnBytes = new Map<string, number>();
  if (files.length > 0) {
    const list = `[${files.map(sqlString).join(', ')}]`;
    const where = access.rowFilter === undefined ? '' : ` WHERE ${access.rowFilter}`;
    try {
      await connection.run(
        `INSERT INTO ${ident(dataset.name)} SELECT ${access.columnNames.map(ident).join(', ')} ` +
          `FROM read_parquet(${list}, hive_partitioning = true, hive_types = {'${PARTITION_COLUMN}': DATE}, union_by_name = true)${where}`,
      );
    } catch (e) {
      // DuckDB's message could quote a value of a row or column outside the approval, so
      // neither it nor the error (as a cause) goes on: only its kind.
      const kind = /^([A-Za-z ]+ Error):/.exec((e as Error).message)?.[1] ?? 'an error';
      // eslint-disable-next-line preserve-caught-error -- the cause may quote an unapproved value
      throw new Error(`The local curated copy of dataset "${dataset.name}" could not be read (${kind}); it does not match ${dataset.file}: ingest it again.`);
    }
    const meta = await connection.runAndReadAll(`SELECT path_in_schema, sum(total_compressed_size)::BIGINT FROM parquet_metadata(${list}) GROUP BY ALL`);
    for (const [column, bytes] of meta.getRows()) columnBytes.set(asciiLower(String(column)), Number(bytes));
  }
  const approved = new Set(access.columnNames);
  return {
    access,
    columnBytes,
    filterColumns: access.rowFilter === undefined ? [] : rowFilterColumns(parseRowFilter(access.rowFilter)),
    hiddenColumns: new Set([...curated.map((c) => c.name), PARTITION_COLUMN].filter((c) => !approved.has(c))),
    empty: files.length === 0,
  };
}

/**
 * Closes the session to everything but its own tables. The order matters: spill files
 * and the directory allow-list go first (DuckDB otherwise keeps its temp folder readable),
 * then file access and extensions, then the lock, after which no SQL can undo any of it.
 * Returns the names of the catalog's own relations (system views), which the guard keeps
 * WITH names away from.
 */
async function lockDown(connection: DuckDBConnection): Promise<Set<string>> {
  for (const setting of [
    "SET temp_directory = ''",
    'SET allowed_directories = []',
    'SET allowed_paths = []',
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    'SET allow_community_extensions = false',
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ]) {
    await connection.run(setting);
  }
  const relations = await connection.runAndReadAll(
    "SELECT table_name FROM duckdb_tables() WHERE database_name <> 'memory' UNION SELECT view_name FROM duckdb_views()",
  );
  return new Set(relations.getRows().map(([name]) => asciiLower(String(name))));
}

interface Scan {
  readonly table: string;
  readonly columns: readonly string[];
}

/** Finds every operator of a JSON physical plan that scans an approved table. */
function collectScans(node: unknown, tables: ReadonlyMap<string, TableFacts>, out: Scan[]): void {
  if (Array.isArray(node)) {
    for (const child of node) collectScans(child, tables, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const { extra_info: info, children } = node as { extra_info?: Record<string, unknown>; children?: unknown };
  const table = typeof info?.Table === 'string' ? asciiLower(info.Table.split('.').pop()!) : undefined;
  const facts = table === undefined ? undefined : tables.get(table);
  if (table !== undefined && facts) {
    const text = [info!.Projections, info!.Filters].flat().filter((v) => typeof v === 'string');
    const words = new Set(text.flatMap((t) => t.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []).map(asciiLower));
    out.push({ table, columns: facts.access.columnNames.filter((c) => words.has(c)) });
  }
  collectScans(children, tables, out);
}
