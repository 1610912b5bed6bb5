/**
 * What compiled ingestion could cost (not part of the test suite):
 *
 *   npm run bench:ingest-native-floor               # the 1x bench:ingest file
 *   npm run bench:ingest-native-floor -- --scale 5
 *
 * A costing prototype for the decision docs/architecture.md leaves open: the loop of
 * bench:ingest-js-floor (the checks and rules of `hospital_episodes` by hand, rows it is not
 * sure of only counted) written in Rust with the standard library only
 * (bench/native-floor/, built here with `cargo build --release --offline`; needs cargo),
 * including its own HMAC-SHA256. The input's SHA-256 for the manifest is measured in Node
 * (OpenSSL), as the pipeline would keep computing it; DuckDB converts the prototype's spool
 * with the pipeline's own statement; every line is checked against the pipeline's.
 *
 * Prints one JSON line, CPU-seconds per million rows: the compiled loop, the input's
 * SHA-256, the spool's conversion, the reference, and the ratio their total would give
 * (counting the rows handed to the core at nothing, which flatters it).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOptOutList } from '../lib/ingest/core/opt-out';
import { checkAgainstCore, convertAndReference, cpuSecondsSince, withWorkDir } from './floor-check';
import { arg, DATASET, ensureBenchInput, REPO, runBench, TODAY } from './ingest-input';

const CRATE = path.join(REPO, 'bench', 'native-floor');

interface NativeResult {
  rows: number;
  rows_handled: number;
  rows_for_the_core: number;
  rows_opted_out: number;
  distinct_people_hashed: number;
  cpu_s: number;
}

function run(command: string, args: readonly string[], cwd: string): string {
  const res = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (res.error !== undefined) throw new Error(`${command} could not be run (${res.error.message}): bench:ingest-native-floor needs a Rust toolchain (cargo)`);
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${res.stderr}`);
  return res.stdout;
}

async function inputSha256Seconds(file: string): Promise<number> {
  const digest = createHash('sha256');
  const t0 = process.cpuUsage();
  for await (const block of fs.createReadStream(file, { highWaterMark: 1 << 16 })) digest.update(block as Buffer);
  digest.digest();
  return cpuSecondsSince(t0);
}

async function main(): Promise<void> {
  const scale = Number(arg('scale', '1'));
  const dir = await ensureBenchInput(scale);
  const file = path.join(dir, `${DATASET}.csv`);
  const optOutFile = path.join(dir, 'national-data-opt-out.txt');
  run('cargo', ['build', '--release', '--offline', '--quiet'], CRATE);
  await withWorkDir(dir, 'native-floor-', async (work) => {
    // Read strictly first (the prototype reads the list leniently).
    const optOut = await readOptOutList(fs.createReadStream(optOutFile));
    const spool = path.join(work, 'native-spool.csv');
    const native = JSON.parse(run(path.join(CRATE, 'target', 'release', 'sde-native-floor'), [file, optOutFile, spool, TODAY], CRATE).trim()) as NativeResult;
    const sha256 = await inputSha256Seconds(file);
    const { convert, reference } = await convertAndReference(spool, file, work, optOut);
    const matched = await checkAgainstCore(spool, native.rows_handled - native.rows_opted_out, file, work, optOut);
    const perMillion = (s: number) => Number(((s * 1e6) / native.rows).toFixed(2));
    const total = native.cpu_s + sha256 + convert;
    process.stdout.write(
      `${JSON.stringify({
        rows: native.rows,
        rows_handled: native.rows_handled,
        rows_for_the_core: native.rows_for_the_core,
        rows_checked_equal_to_core: matched,
        native_loop_cpu_s_per_m: perMillion(native.cpu_s),
        input_sha256_cpu_s_per_m: perMillion(sha256),
        distinct_people_hashed: native.distinct_people_hashed,
        spool_to_parquet_cpu_s_per_m: perMillion(convert),
        total_cpu_s_per_m: perMillion(total),
        reference_cpu_s_per_m: perMillion(reference),
        projected_ratio: Number((reference / total).toFixed(3)),
        threads: 1,
      })}\n`,
    );
  });
}

runBench(main);
