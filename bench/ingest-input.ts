/**
 * What the ingestion benchmarks share: the synthetic hospital-episodes file (generated once
 * per scale under .sde/bench/), the dialect the reference's read_csv is told, and small helpers.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../lib/config';
import type { DatasetConfig } from '../lib/config/schema';
import { generatePopulation } from '../lib/local/synthetic/population';

export const REPO = path.resolve(__dirname, '..');
export const DATASET = 'hospital_episodes';
export const TODAY = '2026-11-22';
const SEED = 7;

/** The 999 test range has about 909,000 valid NHS numbers: larger files give each person more episodes. */
const MAX_PEOPLE = 900_000;
const BASE_PEOPLE = 340_000;

/**
 * What the generated file depends on: the generator's code and the dataset's config. Part of
 * the cache folder's name, so a changed generator (a new planted kind, say) is never
 * measured on a file it did not make.
 */
function generatorFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of ['lib/local/synthetic/population.ts', 'lib/local/synthetic/values.ts']) hash.update(fs.readFileSync(path.join(REPO, file)));
  hash.update(JSON.stringify(benchDataset()));
  return hash.digest('hex').slice(0, 8);
}

/** The folder holding `<DATASET>.csv` (about 1,019,000 rows at scale 1) and its opt-out list. */
export async function ensureBenchInput(scale: number): Promise<string> {
  const people = Math.min(MAX_PEOPLE, Math.round(BASE_PEOPLE * scale));
  const eventsPerPerson = (3 * BASE_PEOPLE * scale) / people;
  const dir = path.join(REPO, '.sde', 'bench', `${DATASET}-x${scale}-${SEED}-${generatorFingerprint()}`);
  if (!fs.existsSync(path.join(dir, `${DATASET}.csv`))) {
    const config = loadConfig(path.join(REPO, 'config'), { today: TODAY });
    process.stderr.write(`generating ${DATASET} for ${people} synthetic people in ${dir} ...\n`);
    await generatePopulation({
      config: { ...config, datasets: config.datasets.filter((d) => d.name === DATASET) },
      outDir: dir,
      people,
      seed: SEED,
      eventsPerPerson,
    });
  }
  return dir;
}

/** `--name value` from the command line, or the fallback. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** A SQL string literal. */
export const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The benchmarked dataset's config. */
export function benchDataset(): DatasetConfig {
  return loadConfig(path.join(REPO, 'config'), { today: TODAY }).datasets.find((d) => d.name === DATASET)!;
}

/**
 * read_csv options for the reference: the file's dialect as the dataset config states it,
 * skipping the rows DuckDB cannot parse (it has no quarantine).
 */
export function referenceDialect(dataset: DatasetConfig): string {
  const { source } = dataset;
  return `delim = ${sql(source.delimiter)}, quote = ${sql(source.quote)}, escape = ${sql(source.quote)}, header = ${source.header}, ignore_errors = true`;
}

/** Runs a benchmark's main: an error prints its stack and exits 1 (no half-printed JSON line). */
export function runBench(main: () => Promise<void>): void {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
