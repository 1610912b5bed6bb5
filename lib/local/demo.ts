/**
 * `sde demo`: the platform end to end on this machine, as a sequence of small steps.
 * Today: a synthetic population, a real S3 API on loopback with the platform's buckets,
 * and every dataset delivered to the landing bucket as a supplier would.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SdeConfig } from '../config/model';
import { progressBar } from './progress';
import { LocalS3, startLocalS3 } from './s3-server';
import { generatePopulation, PopulationGeneration } from './synthetic';
import { bucketNames, ensurePseudonymKey, workdirLayout, WorkdirLayout } from './workdir';

export interface DemoOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  /** @default 2000 */
  readonly people?: number;
  /** @default 42 */
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface LandedObject {
  readonly dataset: string;
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
}

export interface DemoResult {
  readonly layout: WorkdirLayout;
  readonly population: PopulationGeneration;
  readonly landed: readonly LandedObject[];
}

/** The landing key a supplier delivery gets: `<dataset>/<YYYY-MM-DD>-synthetic-<seed>.csv`. */
export function landingKey(dataset: string, date: string, seed: number): string {
  return `${dataset}/${date}-synthetic-${seed}.csv`;
}

async function generateStep(options: Required<Omit<DemoOptions, 'log'>>, layout: WorkdirLayout, log: (l: string) => void): Promise<PopulationGeneration> {
  const outDir = path.join(layout.generated, `seed-${options.seed}`);
  const expectedRows = options.config.datasets.length * options.people * 3;
  const bar = progressBar('Generating synthetic population', expectedRows);
  let done = 0;
  const seen = new Map<string, number>();
  const population = await generatePopulation({
    config: options.config,
    outDir,
    people: options.people,
    seed: options.seed,
    onProgress: (dataset, rows) => {
      done += rows - (seen.get(dataset) ?? 0);
      seen.set(dataset, rows);
      bar.update(done);
    },
  });
  bar.finish();
  log(`Synthetic population: ${population.people} people (seed ${population.seed}); NHS numbers from the 999 test range, never issued to anyone.`);
  for (const d of population.datasets) {
    const bad = Object.values(d.badRows).reduce((a, b) => a + (b ?? 0), 0);
    log(`  ${d.dataset.padEnd(24)} ${String(d.rows).padStart(8)} rows (${bad} deliberately bad), ${(d.bytes / 1024).toFixed(0)} KiB`);
  }
  log(`  national data opt-out list: ${population.optOutCount} people`);
  return population;
}

async function landStep(s3: LocalS3, config: SdeConfig, population: PopulationGeneration, log: (l: string) => void): Promise<LandedObject[]> {
  const bucket = bucketNames(config).landing;
  const landed: LandedObject[] = [];
  for (const d of population.datasets) {
    const key = landingKey(d.dataset, config.today, population.seed);
    const bytes = fs.statSync(d.file).size;
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.createReadStream(d.file), ContentLength: bytes, ContentType: 'text/csv' }));
    landed.push({ dataset: d.dataset, bucket, key, bytes });
  }
  log(`Delivered ${landed.length} files to s3://${bucket}/ on the local S3 API (${s3.endpoint}):`);
  for (const l of landed) log(`  s3://${l.bucket}/${l.key}`);
  return landed;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const settings = { config: options.config, workdir: options.workdir, people: options.people ?? 2000, seed: options.seed ?? 42 };
  const layout = workdirLayout(settings.workdir);
  log(`${options.config.platform.displayName}: local demo in ${layout.root} (no AWS account used)`);
  ensurePseudonymKey(layout);

  const population = await generateStep(settings, layout, log);
  const s3 = await startLocalS3({ directory: layout.s3, buckets: Object.values(bucketNames(options.config)), region: options.config.platform.aws.region });
  try {
    const landed = await landStep(s3, options.config, population, log);
    log(`Done. State kept in ${layout.root}; run again with another --workdir to start a separate platform.`);
    return { layout, population, landed };
  } finally {
    await s3.stop();
  }
}
