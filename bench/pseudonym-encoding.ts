/**
 * How big the curated Parquet is, and how many bytes a join on the person reads, for each
 * way of writing a pseudonym (not part of the test suite; a measurement behind a decision):
 *
 *   npx tsx bench/pseudonym-encoding.ts
 *
 * Ingests the benchmark's hospital-episodes file once through the pipeline, then rewrites
 * its curated Parquet with DuckDB (zstd, the pipeline's row groups) with the person column as
 * 64 hex characters (the full HMAC-SHA256), 32 hex characters (128 bits), 22 characters of
 * base64url (128 bits) and 16 raw bytes (BLOB, 128 bits). Prints one JSON line: for each, the
 * file's bytes and the person column's compressed bytes (what a query that joins or filters
 * on the person reads of it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { commitBatch, planBatch, processChunk } from '../lib/ingest/batch';
import { readOptOutList } from '../lib/ingest/core/opt-out';
import { FsObjectStore } from './fs-object-store';
import { benchDataset, DATASET, ensureBenchInput, runBench, sql, TODAY } from './ingest-input';

async function main(): Promise<void> {
  const dir = await ensureBenchInput(1);
  const root = path.join(dir, 'encoding-store');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'landing', DATASET), { recursive: true });
  fs.linkSync(path.join(dir, `${DATASET}.csv`), path.join(root, 'landing', DATASET, 'input.csv'));
  const store = new FsObjectStore(root);
  const dataset = benchDataset();
  const optOut = await readOptOutList(fs.createReadStream(path.join(dir, 'national-data-opt-out.txt')));
  const plan = await planBatch({
    store,
    source: { bucket: 'landing', key: `${DATASET}/input.csv` },
    dataset,
    buckets: { landing: 'landing', curated: 'curated', quarantine: 'quarantine' },
    loadDate: TODAY,
  });
  for (const c of plan.chunks) await processChunk({ store, plan, chunk: c.index, dataset, key: Buffer.alloc(32, 7), optOut, tmpDir: dir, threads: 1 });
  const { manifest } = await commitBatch({ store, plan });
  const curated = path.join(root, 'curated', manifest.outputs[0].key);

  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const width = Number((await c.runAndReadAll(`SELECT max(length(person_id)) FROM read_parquet(${sql(curated)})`)).getRows()[0][0]);
  // The pseudonym's 128 bits as bytes, whichever form the pipeline wrote (64 hex before, 22 base64url now).
  const bytes = width === 64 ? 'unhex(left(person_id, 32))' : `from_base64(replace(replace(person_id, '-', '+'), '_', '/') || '==')`;
  const from = (expr: string) => `SELECT * REPLACE (${expr} AS person_id) FROM (SELECT * REPLACE (${bytes} AS person_id) FROM read_parquet(${sql(curated)}))`;
  const encodings: Record<string, string> = {
    // 256 bits of per-person randomness as 64 hex characters (what ingestion wrote before).
    hex_256_bits: from(`lower(hex(person_id)) || left(sha256(hex(person_id)), 32)`),
    hex_128_bits: from('lower(hex(person_id))'),
    base64url_128_bits: from(`rtrim(replace(replace(to_base64(person_id), '+', '-'), '/', '_'), '=')`),
    binary_128_bits: from('person_id'),
  };
  const out: Record<string, { file_bytes: number; person_column_bytes: number }> = {};
  for (const [name, select] of Object.entries(encodings)) {
    const file = path.join(dir, `encoding-${name}.parquet`);
    await c.run(`COPY (${select}) TO ${sql(file)} (FORMAT parquet, COMPRESSION zstd)`);
    const col = await c.runAndReadAll(`SELECT sum(total_compressed_size) FROM parquet_metadata(${sql(file)}) WHERE path_in_schema = 'person_id'`);
    out[name] = { file_bytes: fs.statSync(file).size, person_column_bytes: Number(col.getRows()[0][0]) };
  }
  const pipeline = await c.runAndReadAll(`SELECT sum(total_compressed_size) FROM parquet_metadata(${sql(curated)}) WHERE path_in_schema = 'person_id'`);
  process.stdout.write(
    `${JSON.stringify({ rows: manifest.rowsWritten, pipeline_pseudonym_chars: width, pipeline_file_bytes: fs.statSync(curated).size, pipeline_person_column_bytes: Number(pipeline.getRows()[0][0]), encodings: out })}\n`,
  );
}

runBench(main);
