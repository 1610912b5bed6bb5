/**
 * `sde risk` on the local runtime: the platform's risk query (lib/governance/disclosure-risk.ts)
 * run in DuckDB over the local copy of the curated zone, as Athena runs it on AWS. The
 * curated tables are views named as the Glue tables are (`"<database>"."<table>"`), every
 * column and every row (the platform measures; the project's grant is applied by the
 * query), and Athena's `array_join` is defined as a macro, so the SQL text is the one
 * Athena runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { curatedColumns, DUCKDB_TYPE, PARTITION_COLUMN } from '../../config/curated';
import type { SdeConfig } from '../../config/model';
import { curatedDatabaseName } from '../../config/naming';
import type { RiskQueryRunner } from '../../governance/disclosure-risk';
import { syncCuratedCache } from './query';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

function hasParquet(dir: string): boolean {
  return fs.existsSync(dir) && fs.readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => e.isFile() && e.name.endsWith('.parquet'));
}

/** A DuckDB runner over a folder holding `<dataset>/load_date=.../*.parquet`; close it when done. */
export async function duckdbRiskRunner(config: SdeConfig, curatedRoot: string): Promise<RiskQueryRunner & { close(): void }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const database = curatedDatabaseName(config);
  await connection.run(`CREATE SCHEMA ${quote(database)}`);
  await connection.run('CREATE MACRO array_join(l, sep) AS array_to_string(l, sep)');
  for (const dataset of config.datasets) {
    const dir = path.resolve(curatedRoot, dataset.name);
    const curated = curatedColumns(dataset);
    const source = hasParquet(dir)
      ? `SELECT * FROM read_parquet(${sqlString(path.join(dir, '**', '*.parquet'))}, hive_partitioning = true, union_by_name = true)`
      : `SELECT ${[...curated.map((c) => `CAST(NULL AS ${DUCKDB_TYPE[c.glueType]}) AS ${quote(c.name)}`), `CAST(NULL AS DATE) AS ${PARTITION_COLUMN}`].join(', ')} WHERE false`;
    await connection.run(`CREATE VIEW ${quote(database)}.${quote(dataset.name)} AS ${source}`);
  }
  return {
    async run(sql: string) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Syncs the workdir's copy of the curated zone from the local S3 API and opens a runner over it. */
export async function localRiskRunner(config: SdeConfig, workdir: string): Promise<RiskQueryRunner & { close(): void }> {
  return duckdbRiskRunner(config, await syncCuratedCache(config, workdir));
}
