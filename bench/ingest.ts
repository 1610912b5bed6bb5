/**
 * Ingestion benchmark (not part of the test suite):
 *
 *   npm run bench:ingest                 # >= 1,000,000 hospital-episode rows
 *   npm run bench:ingest -- --scale 5    # a 5x larger file (memory must stay flat)
 *
 * Generates (once, cached under .sde/bench/) a synthetic hospital_episodes file, then in
 * separate processes, so neither flatters the other's memory or JIT:
 *  - ours: the full pipeline through the same planBatch -> processChunk -> commitBatch the
 *    Lambdas run (parse, validate, opt-out, de-identify, Parquet zstd write), with DuckDB on
 *    one thread, over a folder-backed object store (the benchmark measures the pipeline,
 *    not an HTTP server);
 *  - the reference: DuckDB's own `COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet,
 *    COMPRESSION zstd)` on the same file, one thread, no transformation. read_csv is told the
 *    file's dialect from the dataset config (delimiter, quote, header) and skips the rows it
 *    cannot parse (`ignore_errors`): left to sniff, DuckDB reads this file, whose planted
 *    ragged rows defeat its sniffer, as one text column per line, which is no format
 *    conversion at all. That sniffed run is measured too and printed beside it.
 *
 * Rates are rows per CPU-second of the process (user + system, all its threads), i.e. per
 * core, which is also robust to other load on the machine. Prints one JSON line:
 *   {rows, rows_per_s, peak_rss_mb, reference_rows_per_s, ratio, ...}
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readOptOutList } from '../lib/ingest/core/opt-out';
import { commitBatch, DEFAULT_CHUNK_BYTES, planBatch, processChunk } from '../lib/ingest/batch';
import { FsObjectStore } from './fs-object-store';
import { arg, benchDataset, DATASET, ensureBenchInput, referenceDialect, REPO, runBench, sql, TODAY } from './ingest-input';

interface ChildResult {
  rows: number;
  /** For the reference: how many columns DuckDB wrote (17 when it parsed the CSV's columns). */
  columns?: number;
  cpu_s: number;
  wall_s: number;
  peak_rss_mb: number;
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function runOurs(dir: string): Promise<ChildResult> {
  const dataset = benchDataset();
  const root = path.join(dir, 'store');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'landing', DATASET), { recursive: true });
  fs.linkSync(path.join(dir, `${DATASET}.csv`), path.join(root, 'landing', DATASET, 'input.csv'));
  const store = new FsObjectStore(root);
  const optOut = await readOptOutList(fs.createReadStream(path.join(dir, 'national-data-opt-out.txt')));
  const key = Buffer.alloc(32, 7);
  const chunkBytes = Number(arg('chunk-size', String(DEFAULT_CHUNK_BYTES)));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const plan = await planBatch({
    store,
    source: { bucket: 'landing', key: `${DATASET}/input.csv` },
    dataset,
    buckets: { landing: 'landing', curated: 'curated', quarantine: 'quarantine' },
    loadDate: TODAY,
    chunkBytes,
  });
  for (const c of plan.chunks) await processChunk({ store, plan, chunk: c.index, dataset, key, optOut, tmpDir: dir, threads: 1 });
  const { manifest } = await commitBatch({ store, plan });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rows: manifest.rowsRead, cpu_s: cpuSeconds(process.cpuUsage(cpu0)), wall_s: wall, peak_rss_mb: peakRssMb() };
}

/** read_csv told the file's dialect, as the dataset config states it; or, `sniffed`, told nothing. */
function referenceReader(file: string, sniffed: boolean): string {
  return sniffed ? `read_csv(${sql(file)})` : `read_csv(${sql(file)}, ${referenceDialect(benchDataset())})`;
}

async function runReference(dir: string, sniffed: boolean): Promise<ChildResult> {
  const file = path.join(dir, `${DATASET}.csv`);
  const out = path.join(dir, 'reference.parquet');
  const reader = referenceReader(file, sniffed);
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await connection.run(`COPY (SELECT * FROM ${reader}) TO ${sql(out)} (FORMAT parquet, COMPRESSION zstd)`);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(process.cpuUsage(cpu0));
  const counted = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${sql(out)})`);
  const rows = Number(counted.getRows()[0][0]);
  const columns = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sql(out)})`)).getRows().length;
  connection.closeSync();
  instance.closeSync();
  return { rows, cpu_s: cpu, wall_s: wall, peak_rss_mb: peakRssMb(), columns };
}

type Mode = 'ours' | 'reference' | 'reference-sniffed';

function child(mode: Mode, dir: string): ChildResult {
  const tsx = path.join(REPO, 'node_modules', '.bin', 'tsx');
  // A larger young generation: the pipeline allocates many short-lived strings (the Lambda sets the same).
  const res = spawnSync(tsx, [__filename, '--child', mode, '--dir', dir, ...process.argv.slice(2)], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=64`.trim() },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`${mode} run failed:\n${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function main(): Promise<void> {
  const mode = arg('child', '');
  if (mode !== '') {
    const dir = arg('dir', '');
    const result = mode === 'ours' ? await runOurs(dir) : await runReference(dir, mode === 'reference-sniffed');
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const scale = Number(arg('scale', '1'));
  if (!(scale > 0)) throw new Error('--scale must be a positive number');
  const dir = await ensureBenchInput(scale);
  const ours = child('ours', dir);
  const reference = child('reference', dir);
  const sniffed = child('reference-sniffed', dir);
  const rowsPerS = ours.rows / ours.cpu_s;
  const referencePerS = reference.rows / reference.cpu_s;
  const line = {
    rows: ours.rows,
    rows_per_s: Math.round(rowsPerS),
    peak_rss_mb: ours.peak_rss_mb,
    reference_rows_per_s: Math.round(referencePerS),
    ratio: Number((rowsPerS / referencePerS).toFixed(3)),
    wall_s: Number(ours.wall_s.toFixed(2)),
    reference_wall_s: Number(reference.wall_s.toFixed(2)),
    reference_peak_rss_mb: reference.peak_rss_mb,
    reference_rows: reference.rows,
    reference_columns: reference.columns,
    sniffed_reference_rows_per_s: Math.round(sniffed.rows / sniffed.cpu_s),
    sniffed_reference_columns: sniffed.columns,
    input_mb: Number((fs.statSync(path.join(dir, `${DATASET}.csv`)).size / 1e6).toFixed(1)),
    threads: 1,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

runBench(main);
