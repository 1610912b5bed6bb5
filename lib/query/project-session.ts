/**
 * A DuckDB session that sees the curated zone as one project would through Lake
 * Formation: one view per approved table, exposing exactly the approved columns and,
 * where the approval has one, only the rows its filter allows. The views are compiled
 * from `projectAccess`, the same model the Lake Formation grants are built from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBTypeId } from '@duckdb/node-api';
import { curatedColumns, DUCKDB_TYPE, PARTITION_COLUMN } from '../config/curated';
import { projectAccess, projectState, SdeConfig } from '../config/model';
import { checkSerializedSql, GuardContext, QueryRefused } from './sql-guard';

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
  /** Tables the query read. */
  readonly tables: readonly string[];
  /** Bytes of Parquet under the tables read: the local stand-in for Athena's bytes scanned. */
  readonly bytesScanned: number;
}

const BIGINT_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function parquetFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => path.join(e.parentPath, e.name));
}

export class ProjectSession {
  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly instance: DuckDBInstance,
    private readonly guard: GuardContext,
    private readonly bytesByTable: ReadonlyMap<string, number>,
    private readonly hiddenColumns: ReadonlyMap<string, ReadonlySet<string>>,
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
        `Project ${project.id} is ${state.replace('_', ' ')} (approved period ${project.period.start} to ${project.period.end}), so it has no access.`,
      );
    }
    const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 1) });
    const connection = await instance.connect();
    const access = projectAccess(config, project);
    const allowedDirs: string[] = [];
    const bytesByTable = new Map<string, number>();
    const hiddenColumns = new Map<string, Set<string>>();

    for (const grant of access) {
      const dataset = grant.dataset;
      const dir = path.resolve(options.curatedRoot, dataset.name);
      const files = parquetFilesUnder(dir);
      bytesByTable.set(
        dataset.name,
        files.reduce((sum, f) => sum + fs.statSync(f).size, 0),
      );
      const curated = curatedColumns(dataset);
      hiddenColumns.set(dataset.name, new Set(curated.map((c) => c.name).filter((c) => !grant.columnNames.includes(c))));
      const where = grant.rowFilter === undefined ? '' : ` WHERE ${grant.rowFilter}`;
      let source: string;
      if (files.length > 0) {
        allowedDirs.push(`${dir}${path.sep}`);
        source = `read_parquet(${sqlString(path.join(dir, '**', '*.parquet'))}, hive_partitioning = true, union_by_name = true)`;
      } else {
        // No data loaded yet: an empty relation of the right shape, so queries still bind.
        const typed = [...curated.map((c) => `CAST(NULL AS ${DUCKDB_TYPE[c.glueType]}) AS ${c.name}`), `CAST(NULL AS DATE) AS ${PARTITION_COLUMN}`];
        source = `(SELECT ${typed.join(', ')} WHERE false)`;
      }
      await connection.run(`CREATE VIEW ${dataset.name} AS SELECT ${grant.columnNames.join(', ')} FROM ${source}${where}`);
    }

    // The second lock: no file, network or extension access beyond the approved
    // datasets' folders, and no way for the query to change that.
    await connection.run(`SET allowed_directories = [${allowedDirs.map(sqlString).join(', ')}]`);
    await connection.run('SET enable_external_access = false');
    await connection.run('SET autoinstall_known_extensions = false');
    await connection.run('SET autoload_known_extensions = false');
    await connection.run('SET lock_configuration = true');

    const guard: GuardContext = {
      projectId: project.id,
      approvedTables: new Set(access.map((a) => a.dataset.name)),
      knownTables: new Set(config.datasets.map((d) => d.name)),
    };
    return new ProjectSession(connection, instance, guard, bytesByTable, hiddenColumns);
  }

  get projectId(): string {
    return this.guard.projectId;
  }

  /** The query engine and its version, for a result's provenance. */
  async engine(): Promise<{ name: string; version: string }> {
    const reader = await this.connection.runAndReadAll('SELECT version()');
    return { name: 'duckdb', version: String(reader.getRows()[0][0]) };
  }

  /** Runs one SELECT as the project; throws QueryRefused (with no data) when it reaches beyond the approval. */
  async query(sql: string, options: { maxRows?: number } = {}): Promise<QueryResult> {
    const serialized = await this.connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)}) AS tree`);
    const tree = JSON.parse(String(serialized.getRows()[0][0]));
    checkSerializedSql(tree, this.guard);
    const tables = [...this.guard.approvedTables].filter((t) => JSON.stringify(tree).includes(`"table_name":"${t}"`));
    let reader;
    try {
      reader = await this.connection.runAndReadUntil(sql, options.maxRows ?? Number.MAX_SAFE_INTEGER);
    } catch (e) {
      throw this.explain(e as Error, tables);
    }
    // JSON values keep 64-bit integers as strings; counts and sums read better as numbers
    // whenever they fit exactly.
    const bigintColumns = reader.columnTypes().map((t) => BIGINT_TYPES.has(t.typeId));
    const rows = reader
      .getRowsJson()
      .slice(0, options.maxRows ?? Number.MAX_SAFE_INTEGER)
      .map((row) => row.map((v, i) => (bigintColumns[i] && typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : v)));
    return {
      columns: reader.columnNames(),
      rows,
      tables,
      bytesScanned: tables.reduce((sum, t) => sum + (this.bytesByTable.get(t) ?? 0), 0),
    };
  }

  /** Turns DuckDB's "column not found" for a column the approval leaves out into a plain refusal. */
  private explain(error: Error, tables: readonly string[]): Error {
    const missing = /Referenced column "([^"]+)" not found/.exec(error.message)?.[1];
    if (missing !== undefined) {
      const table = tables.find((t) => this.hiddenColumns.get(t)?.has(missing));
      if (table) return new QueryRefused('column_not_approved', `Project ${this.guard.projectId} is not approved for column "${missing}" of table "${table}".`);
    }
    if (/Permission Error|file system operations are disabled|configuration has been locked/i.test(error.message)) {
      return new QueryRefused('function_not_allowed', `Project ${this.guard.projectId} may only read its approved tables.`);
    }
    return new Error(`The query failed: ${error.message.split('\n')[0]}`);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
