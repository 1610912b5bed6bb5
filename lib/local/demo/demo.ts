/**
 * `sde demo`: the platform end to end on this machine, as a sequence of small steps.
 * Today: a synthetic population, a real S3 API on loopback with the platform's buckets,
 * and every dataset delivered to the landing bucket as a supplier would.
 */
import * as path from 'node:path';
import type { SdeConfig } from '../../config/model';
import { progressBar } from '../progress';
import { LocalS3, startLocalS3 } from '../s3-api/server';
import { uploadFile } from '../s3-api/upload';
import { ingestStep, type LandedObject } from '../runners/ingest';
import { laterOptOutStep } from './optout';
import { BAD_ROW_KINDS, generatePopulation, PopulationGeneration } from '../synthetic/population';
import { bucketNames, ensurePseudonymKey, workdirLayout, WorkdirLayout, Zone } from '../workdir';
import { writeDemoRegister } from '../runners/register';
import { runDemoQueries } from './queries';
import { runAirlockDemo } from './airlock';
import type { CloudTrailRecord } from '../../audit/cloudtrail-record';
import { LocalAuditWriter, localAuditEnv } from '../../audit/local-audit-writer';
import { localAuditSummary } from '../../audit/summary';
import { writeDemoBillsAndGovernance } from './charging-oversight';
import { writeDemoScrutinyReport } from './scrutiny';

export interface DemoOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  /** @default 2000 */
  readonly people?: number;
  /** @default 42 */
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface DemoResult {
  readonly layout: WorkdirLayout;
  /** The local buckets, by zone. */
  readonly buckets: Readonly<Record<Zone, string>>;
  /** Where the local S3 API listened during the run (it is stopped when runDemo returns). */
  readonly endpoint: string;
  readonly population: PopulationGeneration;
  readonly landed: readonly LandedObject[];
}

type Log = (line: string) => void;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The landing key a supplier delivery gets: `<dataset>/<YYYY-MM-DD>-synthetic-<seed>.csv`. */
export function landingKey(dataset: string, date: string, seed: number): string {
  return `${dataset}/${date}-synthetic-${seed}.csv`;
}

async function generateStep(options: Required<Omit<DemoOptions, 'log'>>, layout: WorkdirLayout, log: Log): Promise<PopulationGeneration> {
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
    const kinds = BAD_ROW_KINDS.filter((k) => d.badRows[k]).map((k) => `${d.badRows[k]} ${k}`);
    const bad = kinds.length > 0 ? `: ${kinds.join(', ')}` : '';
    log(`  ${d.dataset.padEnd(24)} ${String(d.rows).padStart(8)} rows, ${d.badRowCount} deliberately bad${bad}; ${d.bytes} bytes`);
  }
  log(`  national data opt-out list: ${population.optOutCount} people (${population.optOutFile})`);
  log(`  files in ${outDir}`);
  return population;
}

async function landStep(s3: LocalS3, config: SdeConfig, population: PopulationGeneration, log: Log): Promise<LandedObject[]> {
  const bucket = bucketNames(config).landing;
  const landed: LandedObject[] = [];
  for (const d of population.datasets) {
    // As a supplier would: one object per delivery, named by dataset and day.
    const key = landingKey(d.dataset, config.today, population.seed);
    const { bytes } = await uploadFile(s3.client, { bucket, key, file: d.file, contentType: 'text/csv' });
    landed.push({ dataset: d.dataset, bucket, key, bytes });
  }
  log(`Delivered ${landed.length} files to s3://${bucket}/ on the local S3 API (${s3.endpoint}):`);
  for (const l of landed) log(`  s3://${l.bucket}/${l.key} (${kib(l.bytes)})`);
  return landed;
}

/** One output released through both reviewers, and the refusals the airlock must make. */
async function airlockStep(config: SdeConfig, layout: WorkdirLayout, log: Log): Promise<void> {
  const writer = LocalAuditWriter.open(layout.root, localAuditEnv(config));
  log('Output airlock (disclosure checks, two reviewers, a signed release record):');
  // Airlock events are CloudTrail-shaped (checked against checkRecord in test/airlock).
  await runAirlockDemo({
    config,
    workdir: layout.root,
    sink: (event) => void writer.append(event as unknown as CloudTrailRecord),
    out: (line) => log(`  ${line}`),
  });
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const settings = { config: options.config, workdir: options.workdir, people: options.people ?? 2000, seed: options.seed ?? 42 };
  const layout = workdirLayout(settings.workdir);
  log(`${options.config.platform.displayName}: local demo in ${layout.root} (no AWS account used)`);
  ensurePseudonymKey(layout);

  const population = await generateStep(settings, layout, log);
  const buckets = bucketNames(options.config);
  const s3 = await startLocalS3({ directory: layout.s3, buckets: Object.values(buckets), region: options.config.platform.aws.region });
  try {
    log(`Local S3 API on ${s3.endpoint} (loopback only), objects stored in ${layout.s3}; buckets: ${Object.values(buckets).join(', ')}`);
    const landed = await landStep(s3, options.config, population, log);
    await ingestStep({ s3, config: options.config, layout, landed, optOutFile: population.optOutFile, log });
    await laterOptOutStep({ s3, config: options.config, layout, population, today: options.config.today, log });
    await runDemoQueries({ config: options.config, workdir: layout.root, log });
    await airlockStep(options.config, layout, log);
    for (const line of await localAuditSummary(layout.root)) log(line);
    // After every step that writes audit records, so the register sees them all.
    await writeDemoRegister({ config: options.config, workdir: layout.root, log });
    await writeDemoBillsAndGovernance({ config: options.config, workdir: layout.root, log });
    await writeDemoScrutinyReport({ config: options.config, workdir: layout.root, log });
    log(`Done. State kept in ${layout.root}; run again with another --workdir to start a separate platform.`);
    return { layout, buckets, endpoint: s3.endpoint, population, landed };
  } finally {
    await s3.stop();
  }
}
