/**
 * Stands in for `@duckdb/node-api` in the bundles of the functions that never write
 * Parquet (plan, commit). They import lib/ingest/batch.ts, which imports the Parquet
 * writer at the top: esbuild resolves every import before it drops unused code, and
 * DuckDB's loader names native bindings for every platform, which it cannot resolve. With
 * this alias the writer is dropped from those bundles (no 70 MB binding, no architecture
 * constraint); if one of them ever does reach DuckDB, it fails with this message.
 */
const message = 'DuckDB is not packaged with this function (only the chunk function writes Parquet): see lib/constructs/shared/duckdb-packaging.ts';

export class DuckDBInstance {
  static async create(): Promise<never> {
    throw new Error(message);
  }
  static async fromCache(): Promise<never> {
    throw new Error(message);
  }
}
