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
 *  - the yardstick that decides: the same rules for hospital_episodes written as DuckDB SQL
 *    (bench/ingest-sql.ts) on the same file and thread, its output checked row for row
 *    against the pipeline's.
 *
 * Rates are rows per CPU-second of the process (user + system, all its threads), i.e. per
 * core, which is also robust to other load on the machine. Runs `--pairs` (default 3)
 * interleaved rounds of ours, the SQL rules and the reference, and prints one JSON line of
 * medians: the ratio of ours to the SQL rules (target >= 1.0), ours' CPU-seconds per
 * million rows (target <= 15), the ratio to the plain conversion, peak memory; with
 * `--memory-scale 5` it also runs ours once on the 5x file and prints the peak's ratio to
 * the 1x median (target <= 1.2, under 1 GB).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readOptOutList } from '../lib/ingest/core/opt-out';
import { commitBatch, DEFAULT_CHUNK_BYTES, planBatch, processChunk } from '../lib/ingest/batch';
import { FsObjectStore } from './fs-object-store';
import { runSqlRules } from './ingest-sql';
import { arg, benchDataset, DATASET, ensureBenchInput, referenceDialect, REPO, runBench, sql, TODAY } from './ingest-input';

interface ChildResult {
  rows: number;
  /** The SQL rules: rows handed to the core (non-ASCII, or a key that may hold words), and rows written. */
  handed?: number;
  written?: number;
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

async function runSql(dir: string): Promise<ChildResult> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const counts = await runSqlRules(
    connection,
    benchDataset(),
    path.join(dir, `${DATASET}.csv`),
    path.join(dir, 'national-data-opt-out.txt'),
    Buffer.alloc(32, 7),
    path.join(dir, 'sql-rules.parquet'),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(process.cpuUsage(cpu0));
  connection.closeSync();
  instance.closeSync();
  return { rows: counts.read, cpu_s: cpu, wall_s: wall, peak_rss_mb: peakRssMb(), handed: counts.handed, written: counts.written };
}

/** Every row the SQL rules wrote is a row the pipeline wrote, and the other way round less the rows the SQL handed to the core. */
async function checkSqlOutput(dir: string, handed: number): Promise<{ equal: number; only_ours: number }> {
  const ours = fs
    .readdirSync(path.join(dir, 'store', 'curated', DATASET), { recursive: true })
    .map(String)
    .find((f) => f.endsWith('.parquet'));
  if (ours === undefined) throw new Error('the pipeline wrote no curated Parquet to check against');
  const oursFile = path.join(dir, 'store', 'curated', DATASET, ours);
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const count = async (q: string) => Number((await connection.runAndReadAll(q)).getRows()[0][0]);
  const o = `SELECT * EXCLUDE (load_date) FROM read_parquet(${sql(oursFile)})`;
  const s = `SELECT * FROM read_parquet(${sql(path.join(dir, 'sql-rules.parquet'))})`;
  const onlySql = await count(`SELECT count(*) FROM (${s} EXCEPT ALL ${o})`);
  const onlyOurs = await count(`SELECT count(*) FROM (${o} EXCEPT ALL ${s})`);
  const equal = await count(`SELECT count(*) FROM (${s})`);
  connection.closeSync();
  instance.closeSync();
  if (onlySql !== 0) throw new Error(`the SQL rules wrote ${onlySql} rows the pipeline did not: they are not the same rules`);
  if (onlyOurs > handed) throw new Error(`the pipeline wrote ${onlyOurs} rows the SQL rules did not, more than the ${handed} rows they handed to the core`);
  return { equal, only_ours: onlyOurs };
}

type Mode = 'ours' | 'reference' | 'reference-sniffed' | 'sql';

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
    const result = mode === 'ours' ? await runOurs(dir) : mode === 'sql' ? await runSql(dir) : await runReference(dir, mode === 'reference-sniffed');
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const scale = Number(arg('scale', '1'));
  if (!(scale > 0)) throw new Error('--scale must be a positive number');
  const dir = await ensureBenchInput(scale);
  const pairs = Number(arg('pairs', '3'));
  if (!(Number.isInteger(pairs) && pairs >= 1)) throw new Error('--pairs must be a whole number, at least 1');
  const rounds: { ours: ChildResult; sql: ChildResult; reference: ChildResult }[] = [];
  let check: { equal: number; only_ours: number } | undefined;
  for (let i = 0; i < pairs; i++) {
    // Interleaved, so a change in the machine's load affects both sides alike.
    const ours = child('ours', dir);
    const sqlRules = child('sql', dir);
    check ??= await checkSqlOutput(dir, sqlRules.handed ?? 0);
    rounds.push({ ours, sql: sqlRules, reference: child('reference', dir) });
  }
  const sniffed = child('reference-sniffed', dir);
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const rate = (r: ChildResult) => r.rows / r.cpu_s;
  const rows = rounds[0].ours.rows;
  const oursRate = median(rounds.map((r) => rate(r.ours)));
  const sqlRate = median(rounds.map((r) => rate(r.sql)));
  const referenceRate = median(rounds.map((r) => rate(r.reference)));
  const peak = median(rounds.map((r) => r.ours.peak_rss_mb));
  const memoryScale = Number(arg('memory-scale', '0'));
  let memory: Record<string, number> = {};
  if (memoryScale > 0) {
    const big = child('ours', await ensureBenchInput(memoryScale));
    memory = { [`peak_rss_mb_x${memoryScale}`]: big.peak_rss_mb, [`peak_ratio_x${memoryScale}_to_x${scale}`]: Number((big.peak_rss_mb / peak).toFixed(3)) };
  }
  const line = {
    rows,
    pairs,
    ratio_to_sql_rules: Number(median(rounds.map((r) => rate(r.ours) / rate(r.sql))).toFixed(3)),
    cpu_s_per_million_rows: Number(median(rounds.map((r) => (r.ours.cpu_s * 1e6) / r.ours.rows)).toFixed(2)),
    sql_rules_cpu_s_per_million_rows: Number(median(rounds.map((r) => (r.sql.cpu_s * 1e6) / r.sql.rows)).toFixed(2)),
    peak_rss_mb: peak,
    ...memory,
    rows_per_s: Math.round(oursRate),
    sql_rules_rows_per_s: Math.round(sqlRate),
    sql_rules_rows_checked_equal: check?.equal,
    sql_rules_rows_handed_to_core: rounds[0].sql.handed,
    reference_rows_per_s: Math.round(referenceRate),
    ratio: Number(median(rounds.map((r) => rate(r.ours) / rate(r.reference))).toFixed(3)),
    wall_s: Number(median(rounds.map((r) => r.ours.wall_s)).toFixed(2)),
    reference_wall_s: Number(median(rounds.map((r) => r.reference.wall_s)).toFixed(2)),
    reference_peak_rss_mb: median(rounds.map((r) => r.reference.peak_rss_mb)),
    reference_rows: rounds[0].reference.rows,
    reference_columns: rounds[0].reference.columns,
    sniffed_reference_rows_per_s: Math.round(sniffed.rows / sniffed.cpu_s),
    sniffed_reference_columns: sniffed.columns,
    input_mb: Number((fs.statSync(path.join(dir, `${DATASET}.csv`)).size / 1e6).toFixed(1)),
    threads: 1,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

runBench(main);
