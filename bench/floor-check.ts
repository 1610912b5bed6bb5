/**
 * What the costing prototypes (bench:ingest-js-floor, bench:ingest-native-floor) share: the
 * DuckDB conversion of a spool and the reference conversion, timed the same way, and the
 * check that a prototype's spool holds only lines the real pipeline writes, in its order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { csvOptionsFor, readCsvBatches } from '../lib/ingest/core/csv-reader';
import type { OptOutSet } from '../lib/ingest/core/opt-out';
import { createPipeline, emptyCounts, processRecords } from '../lib/ingest/core/pipeline';
import { ParquetPartWriter, spoolToParquetSql } from '../lib/ingest/parquet-writer';
import { benchDataset, referenceDialect, sql, TODAY } from './ingest-input';

/** Runs `body` with a fresh folder under `dir`, removed afterwards whatever happens. */
export async function withWorkDir<T>(dir: string, prefix: string, body: (work: string) => Promise<T>): Promise<T> {
  const work = fs.mkdtempSync(path.join(dir, prefix));
  try {
    return await body(work);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The pseudonymisation key the prototypes and the pipeline run with here. */
export const FLOOR_KEY = Buffer.alloc(32, 7);

export const cpuSecondsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

/**
 * CPU-seconds, on one DuckDB thread, to convert `spool` into the curated Parquet with the
 * pipeline's own statement, and for the reference (DuckDB's plain CSV -> Parquet conversion
 * of `file`, as bench:ingest measures it).
 */
export async function convertAndReference(spool: string, file: string, work: string, optOut: OptOutSet): Promise<{ convert: number; reference: number }> {
  const dataset = benchDataset();
  const columns = createPipeline(dataset, { key: FLOOR_KEY, loadDate: TODAY, optOut }).columns;
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    let t0 = process.cpuUsage();
    await connection.run(spoolToParquetSql(columns, spool, path.join(work, 'prototype.parquet')));
    const convert = cpuSecondsSince(t0);
    t0 = process.cpuUsage();
    await connection.run(`COPY (SELECT * FROM read_csv(${sql(file)}, ${referenceDialect(dataset)})) TO ${sql(path.join(work, 'reference.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
    return { convert, reference: cpuSecondsSince(t0) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The real pipeline's spool of the same file (not timed): what a prototype's lines are checked against. */
async function coreSpool(file: string, work: string, optOut: OptOutSet): Promise<string> {
  const dataset = benchDataset();
  const pipeline = createPipeline(dataset, { key: FLOOR_KEY, loadDate: TODAY, optOut });
  const writer = new ParquetPartWriter(pipeline.columns, work);
  const sinks = { curated: () => undefined, curatedValues: writer.appendValues.bind(writer), rejected: () => undefined };
  const counts = emptyCounts();
  for await (const records of readCsvBatches(fs.createReadStream(file), csvOptionsFor(dataset))) processRecords(pipeline, records, sinks, counts);
  // finish, not close: it writes out the rows still buffered (and converts them, untimed).
  await writer.finish(path.join(work, 'core.parquet'));
  return writer.spoolPath;
}

/**
 * Checks that every line of the prototype's spool is the line the pipeline writes for that
 * row, in order (a subsequence of the pipeline's spool), and that it wrote `written` lines.
 * Returns how many lines were checked.
 */
export async function checkAgainstCore(spool: string, written: number, file: string, work: string, optOut: OptOutSet): Promise<number> {
  const core = await coreSpool(file, work, optOut);
  const coreLines = readline.createInterface({ input: fs.createReadStream(core), crlfDelay: Infinity })[Symbol.asyncIterator]();
  let matched = 0;
  for await (const line of readline.createInterface({ input: fs.createReadStream(spool), crlfDelay: Infinity })) {
    for (;;) {
      const next = await coreLines.next();
      if (next.done) throw new Error(`line ${matched + 1} of the prototype's spool is not in the pipeline's spool (in order): the prototype's checks differ from the core's`);
      if (next.value === line) break;
    }
    matched++;
  }
  if (matched !== written) throw new Error(`the prototype wrote ${written} rows but ${matched} were checked`);
  return matched;
}
