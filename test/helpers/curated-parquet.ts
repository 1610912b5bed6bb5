/**
 * Writes small, synthetic curated Parquet files (as ingestion would) with DuckDB, so the
 * local query tests read real Parquet under the real partition layout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { curatedColumns, DatasetConfig, type SdeConfig } from '../../lib/config';
import { manifestKey } from '../../lib/ingest/layout';
import { startLocalS3 } from '../../lib/local/s3-api/server';
import { bucketNames, workdirLayout } from '../../lib/local/workdir';

/**
 * A deterministic synthetic value for curated column `name` in row `i`. With `marker`, a
 * text value names its dataset, column and row (`prescriptions.person_id.17`), so a test
 * can tell from any output which column and row it came from.
 */
function valueSql(name: string, glueType: string, marker?: string): string {
  if (name === 'admission_method') return `CASE WHEN i % 2 = 0 THEN '21' ELSE '11' END`;
  if (name === 'bnf_code') return `CASE WHEN i % 3 = 0 THEN '0208020V0AAAAAA' ELSE '0601012V0AAABAB' END`;
  switch (glueType) {
    case 'bigint':
    case 'int':
      return `(i % 30)::${glueType === 'int' ? 'INTEGER' : 'BIGINT'}`;
    case 'double':
      return `(i * 1.5)::DOUBLE`;
    case 'boolean':
      return `(i % 2 = 0)`;
    case 'date':
      return `DATE '2026-01-01' + (i % 28)::INTEGER`;
    case 'timestamp':
      return `TIMESTAMP '2026-01-01 00:00:00'`;
    default:
      return marker === undefined ? `'${name}-' || i::VARCHAR` : `'${marker}.${name}.' || i::VARCHAR`;
  }
}

export interface CuratedParquetOptions {
  /** Text values carry their dataset, column and row (see valueSql). @default false */
  readonly markers?: boolean;
}

export async function writeCuratedParquet(
  root: string,
  dataset: DatasetConfig,
  rows: number,
  loadDate = '2026-11-01',
  options: CuratedParquetOptions = {},
): Promise<string> {
  const dir = path.join(root, dataset.name, `load_date=${loadDate}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'batch-0001.parquet');
  const select = curatedColumns(dataset)
    .map((c) => `${valueSql(c.name, c.glueType, options.markers ? dataset.name : undefined)} AS ${c.name}`)
    .join(', ');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`COPY (SELECT ${select} FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
  connection.closeSync();
  instance.closeSync();
  return file;
}

/**
 * Puts synthetic curated Parquet for every dataset into the workdir's local curated bucket
 * through the S3 API, as ingestion does, staging the files in `staging`.
 */
export async function uploadCuratedParquet(config: SdeConfig, workdir: string, staging: string, rows: number): Promise<void> {
  const bucket = bucketNames(config).curated;
  const s3 = await startLocalS3({ directory: workdirLayout(workdir).s3, buckets: [bucket] });
  try {
    for (const dataset of config.datasets) {
      const file = await writeCuratedParquet(staging, dataset, rows);
      const key = path.relative(staging, file).split(path.sep).join('/');
      await putCommittedBatch(s3.client, bucket, dataset.name, key, fs.readFileSync(file), rows);
    }
  } finally {
    await s3.stop();
  }
}

/** Puts one curated batch object and then its manifest, as ingestion's commit does: readers see only what a manifest names. */
export async function putCommittedBatch(client: S3Client, bucket: string, dataset: string, key: string, body: Buffer, rows: number): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const batchId = path.basename(key, '.parquet');
  const manifest = {
    manifestVersion: 1,
    batchId,
    dataset,
    status: 'committed',
    rowsRead: rows,
    rowsWritten: rows,
    outputs: [{ key, bytes: body.length, rows }],
  };
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey(dataset, batchId), Body: JSON.stringify(manifest) }));
}
