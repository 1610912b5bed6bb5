/**
 * Runs the named audit queries locally: DuckDB in memory, the audit table loaded from
 * records the reader returned, each query bound with `?` parameters exactly as Athena
 * binds its execution parameters (never by pasting values into SQL).
 */
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { loadAuditTable } from './audit-table';
import type { CloudTrailRecord } from './cloudtrail-record';
import { AuditQueryContext, bindParameters, findNamedQuery, renderQuery } from './named-queries';

export interface AuditQueryResult {
  readonly query: string;
  readonly columns: readonly string[];
  /** Every value as JSON gives it (strings, numbers, or null). */
  readonly rows: readonly Record<string, unknown>[];
}

export class AuditEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly ctx: AuditQueryContext,
  ) {}

  static async open(records: readonly CloudTrailRecord[], ctx: AuditQueryContext): Promise<AuditEngine> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await instance.connect();
    try {
      await loadAuditTable(connection, records);
    } catch (e) {
      connection.closeSync();
      instance.closeSync();
      throw e;
    }
    return new AuditEngine(instance, connection, ctx);
  }

  /** Runs a named query; parameters by name (see the query's definition). */
  async run(name: string, params: Readonly<Record<string, string>> = {}): Promise<AuditQueryResult> {
    const def = findNamedQuery(name);
    const values = bindParameters(def, params);
    const { sql } = renderQuery(def, this.ctx, 'duckdb');
    const reader = await this.connection.runAndReadAll(sql, values);
    return { query: name, columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] };
  }

  /** Any SQL over the audit table (for tests and ad hoc checks). */
  async sql(text: string): Promise<Record<string, unknown>[]> {
    return (await this.connection.runAndReadAll(text)).getRowObjectsJson() as Record<string, unknown>[];
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
