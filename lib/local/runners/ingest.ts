/**
 * Ingestion on this machine: the same plan -> chunks -> commit functions the Lambdas run
 * (lib/ingest/batch.ts), against the local S3 API, with the workdir's pseudonymisation
 * key and opt-out list, and every write recorded in the local audit trail.
 *
 * Used by `sde ingest` (one file) and by `sde demo` (the whole synthetic population).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalAuditWriter, localAuditEnv } from '../../audit/local-audit-writer';
import { platformAppliesOptOut } from '../../config/curated';
import type { SdeConfig } from '../../config/model';
import type { DatasetConfig } from '../../config/schema';
import { commitBatch, CommitResult, planBatch, processChunk } from '../../ingest/batch';
import type { BatchPlan, Manifest } from '../../ingest/manifest';
import type { ObjectRef, ObjectStore } from '../../ingest/object-store';
import { S3ObjectStore } from '../../ingest/s3-object-store';
import { lookupsNeeded, parseLsoaLookup } from '../../ingest/core/lsoa-lookup';
import { readOptOutList } from '../../ingest/core/opt-out';
import { AuditedObjectStore } from './audited-object-store';
import { progressBar } from '../progress';
import { LocalS3, startLocalS3 } from '../s3-api/server';
import { keyPartTooLong, MAX_LOCAL_KEY_PART_BYTES } from '../s3-api/s3rver-key-length';
import { uploadFile } from '../s3-api/upload';
import { bucketNames, ensurePseudonymKey, workdirLayout, WorkdirLayout } from '../workdir';

/** The local stand-in for the restricted opt-out location: beside the key, owner-only. */
/** A file a supplier delivered to the landing bucket (the demo lands one per dataset). */
export interface LandedObject {
  readonly dataset: string;
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
}

export function optOutListPath(layout: WorkdirLayout): string {
  return path.join(layout.keys, 'national-data-opt-out.txt');
}

/** Installs an opt-out list into the workdir (0600), replacing any earlier one. */
export function installOptOutList(layout: WorkdirLayout, file: string): string {
  const target = optOutListPath(layout);
  const tmp = `${target}.tmp`;
  fs.copyFileSync(file, tmp);
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, target);
  return target;
}

/** Reads the opt-out list strictly (a bad line stops ingestion; see lib/ingest/core/opt-out.ts). */
export async function loadOptOutFile(file: string): Promise<Set<string>> {
  return readOptOutList(fs.createReadStream(file));
}

export interface IngestObjectOptions {
  readonly store: ObjectStore;
  readonly config: SdeConfig;
  readonly dataset: DatasetConfig;
  readonly source: ObjectRef;
  readonly key: Buffer;
  readonly optOut?: ReadonlySet<string>;
  /** The dataset's postcode-to-LSOA lookups. @default read from the config directory (`localLookups`) */
  readonly lookups?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly chunkBytes?: number;
  /** @default config.today */
  readonly loadDate?: string;
  /** DuckDB threads per chunk. @default 1 */
  readonly threads?: number;
  /** Bytes of the object processed so far. */
  readonly onProgress?: (bytes: number) => void;
}

export interface IngestObjectResult extends CommitResult {
  readonly plan: BatchPlan;
}

/** A lookup a dataset needs is not where the local runtime reads it: a user's fix, not a fault. */
export class MissingLookup extends Error {}

/**
 * The postcode-to-LSOA lookups a dataset's postcode_lsoa columns name, read from
 * `reference/<file>` under the config directory (on AWS: `_reference/<file>` in the landing bucket).
 */
export function localLookups(config: SdeConfig, dataset: DatasetConfig): Map<string, ReadonlyMap<string, string>> {
  const out = new Map<string, ReadonlyMap<string, string>>();
  for (const name of lookupsNeeded(dataset)) {
    const file = path.join(config.dir, 'reference', name);
    if (!fs.existsSync(file)) {
      throw new MissingLookup(
        `dataset ${dataset.name}: a postcode_lsoa column names lookup ${name}, and there is no ${file}: put the postcode-to-LSOA CSV (columns postcode,lsoa) there, or use rule: postcode_outward`,
      );
    }
    out.set(name, parseLsoaLookup(fs.readFileSync(file), name));
  }
  return out;
}

/** One landed object through plan, every chunk (in turn: one machine) and commit. */
export async function ingestObject(options: IngestObjectOptions): Promise<IngestObjectResult> {
  const buckets = bucketNames(options.config);
  // Read before the plan: a missing lookup is reported before anything is written.
  const lookups = options.lookups ?? localLookups(options.config, options.dataset);
  const plan = await planBatch({
    store: options.store,
    source: options.source,
    dataset: options.dataset,
    buckets: { landing: buckets.landing, curated: buckets.curated, quarantine: buckets.quarantine },
    loadDate: options.loadDate ?? options.config.today,
    chunkBytes: options.chunkBytes,
  });
  if (!plan.alreadyCommitted) {
    for (const chunk of plan.chunks) {
      await processChunk({
        store: options.store,
        plan,
        chunk: chunk.index,
        dataset: options.dataset,
        key: options.key,
        optOut: options.optOut,
        lookups,
        threads: options.threads,
        onProgress: (n) => options.onProgress?.(chunk.start + n),
      });
    }
  }
  const commit = await commitBatch({ store: options.store, plan });
  options.onProgress?.(plan.source.size);
  return { ...commit, plan };
}

/** The ingestion store for a local S3 API: the SDK adapter, with every write audited. */
export function localIngestStore(s3: LocalS3, config: SdeConfig, layout: WorkdirLayout, dataset: string): ObjectStore {
  const env = localAuditEnv(config);
  return new AuditedObjectStore(new S3ObjectStore(s3.client), { writer: LocalAuditWriter.open(layout.root, env), env, dataset });
}

/** The opt-out list a dataset needs, or undefined when it does not apply one. */
async function optOutFor(dataset: DatasetConfig, file: string | undefined): Promise<Set<string> | undefined> {
  if (!platformAppliesOptOut(dataset)) return undefined;
  if (file === undefined || !fs.existsSync(file)) return undefined;
  return loadOptOutFile(file);
}

export interface LocalIngestOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly dataset: string;
  readonly file: string;
  readonly chunkBytes?: number;
  /** @default the workdir's list (`keys/national-data-opt-out.txt`) */
  readonly optOutFile?: string;
  /** Show a progress bar on stderr (only drawn on a terminal). @default false */
  readonly progress?: boolean;
}

export interface LocalIngestResult {
  readonly manifest: Manifest;
  readonly alreadyCommitted: boolean;
  readonly landed: ObjectRef;
}

export class MissingOptOutList extends Error {}

/** An opt-out list named for a dataset it cannot apply to: refused, never silently ignored. */
export class OptOutNotApplicable extends Error {}

/** The file's landing name is longer than the local S3 API can store: a user's fix (rename the file). */
export class LandingNameTooLong extends Error {}

/** `sde ingest`: lands one file in the landing bucket and ingests it. */
export async function runLocalIngest(options: LocalIngestOptions): Promise<LocalIngestResult> {
  const { config } = options;
  const dataset = config.datasets.find((d) => d.name === options.dataset);
  if (dataset === undefined) throw new Error(`unknown dataset "${options.dataset}"`);
  const layout = workdirLayout(options.workdir);
  const key = ensurePseudonymKey(layout);
  if (options.optOutFile !== undefined && !platformAppliesOptOut(dataset)) {
    throw new OptOutNotApplicable(
      dataset.nationalDataOptOut
        ? `${dataset.file}: optOut.appliedBy: the supplier applied the national data opt-out to ${dataset.name} before delivery, and its rows carry no NHS number to match: ` +
            'an opt-out list cannot be applied to it here (ask the supplier to apply it and send a new extract), so --opt-out is refused rather than ignored'
        : `${dataset.file}: nationalDataOptOut: ${dataset.name} does not apply the national data opt-out, so --opt-out would change nothing: remove --opt-out`,
    );
  }
  const optOutFile = options.optOutFile ?? optOutListPath(layout);
  const optOut = await optOutFor(dataset, optOutFile);
  if (platformAppliesOptOut(dataset) && optOut === undefined) {
    throw new MissingOptOutList(
      `${dataset.file}: nationalDataOptOut: dataset ${dataset.name} applies the national data opt-out, ` +
        `and there is no opt-out list at ${optOutFile}: pass --opt-out FILE (one NHS number per line), or run \`sde demo\` to install the synthetic one`,
    );
  }
  const buckets = bucketNames(config);
  const s3 = await startLocalS3({ directory: layout.s3, buckets: [buckets.landing, buckets.curated, buckets.quarantine], region: config.platform.aws.region });
  try {
    // As a supplier delivers: <dataset>/<date>-<file name>.
    const landed = { bucket: buckets.landing, key: `${dataset.name}/${config.today}-${path.basename(options.file)}` };
    if (keyPartTooLong(landed.key) !== undefined) {
      throw new LandingNameTooLong(
        `the file name ${path.basename(options.file).slice(0, 40)}... is ${Buffer.byteLength(path.basename(options.file))} bytes; it lands as ${config.today}-<file name>, ` +
          `which the local S3 API stores as a file name of at most ${MAX_LOCAL_KEY_PART_BYTES} bytes: rename the file (on AWS, S3 takes names up to 1,024 bytes)`,
      );
    }
    await landOnce(s3.client, landed, options.file);
    const size = fs.statSync(options.file).size;
    const bar = options.progress ? progressBar(`Ingesting ${dataset.name}`, size) : undefined;
    const result = await ingestObject({
      store: localIngestStore(s3, config, layout, dataset.name),
      config,
      dataset,
      source: landed,
      key,
      optOut,
      chunkBytes: options.chunkBytes,
      onProgress: (n) => bar?.update(n),
    });
    bar?.finish();
    return { manifest: result.manifest, alreadyCommitted: result.alreadyCommitted, landed };
  } finally {
    await s3.stop();
  }
}

/** The file's MD5 (hex), streamed: what the local S3 API gives as the ETag of the object holding these bytes. */
async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const piece of fs.createReadStream(file)) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/**
 * Lands the file unless the landing bucket already holds exactly these bytes under the key
 * (same size and MD5 ETag): a rerun, or a concurrent `sde ingest` of the same file, must not
 * replace an object other runs have planned on and are reading.
 */
async function landOnce(client: S3Client, landed: ObjectRef, file: string): Promise<void> {
  const size = fs.statSync(file).size;
  const head = await new S3ObjectStore(client).head(landed);
  if (head !== undefined && head.size === size && head.etag === (await md5OfFile(file))) return;
  await uploadFile(client, { bucket: landed.bucket, key: landed.key, file, contentType: 'text/csv' });
}

export interface IngestTotals {
  readonly batches: number;
  readonly committed: number;
  readonly quarantined: number;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly rowsRejected: number;
  readonly rowsOptedOut: number;
}

export function manifestTotals(manifests: readonly Manifest[]): IngestTotals {
  const sum = (f: (m: Manifest) => number) => manifests.reduce((s, m) => s + f(m), 0);
  return {
    batches: manifests.length,
    committed: manifests.filter((m) => m.status === 'committed').length,
    quarantined: manifests.filter((m) => m.status === 'quarantined').length,
    rowsRead: sum((m) => m.rowsRead),
    rowsWritten: sum((m) => m.rowsWritten),
    rowsRejected: sum((m) => m.rowsRejected),
    rowsOptedOut: sum((m) => m.rowsOptedOut),
  };
}

export interface IngestStepOptions {
  readonly s3: LocalS3;
  readonly config: SdeConfig;
  readonly layout: WorkdirLayout;
  readonly landed: readonly LandedObject[];
  /** The synthetic population's opt-out list, installed into the workdir first. */
  readonly optOutFile: string;
  readonly log: (line: string) => void;
  readonly chunkBytes?: number;
}

/** `sde demo`'s ingest step: every landed file, with a progress bar, then the manifest totals. */
export async function ingestStep(options: IngestStepOptions): Promise<Manifest[]> {
  const { config, layout, log } = options;
  const key = ensurePseudonymKey(layout);
  const listFile = installOptOutList(layout, options.optOutFile);
  const optOut = await loadOptOutFile(listFile);
  const total = options.landed.reduce((s, l) => s + l.bytes, 0);
  const bar = progressBar('Ingesting (validate, opt-out, de-identify, Parquet)', total);
  let before = 0;
  const manifests: Manifest[] = [];
  for (const landed of options.landed) {
    const dataset = config.datasets.find((d) => d.name === landed.dataset);
    if (dataset === undefined) continue;
    const result = await ingestObject({
      store: localIngestStore(options.s3, config, layout, dataset.name),
      config,
      dataset,
      source: { bucket: landed.bucket, key: landed.key },
      key,
      optOut: platformAppliesOptOut(dataset) ? optOut : undefined,
      chunkBytes: options.chunkBytes,
      onProgress: (n) => bar.update(before + n),
    });
    before += landed.bytes;
    manifests.push(result.manifest);
  }
  bar.finish();
  const t = manifestTotals(manifests);
  log(
    `Ingested ${t.batches} files into s3://${bucketNames(config).curated}/ (Parquet, zstd): ${t.rowsRead} rows read, ${t.rowsWritten} written, ` +
      `${t.rowsRejected} rejected to quarantine, ${t.rowsOptedOut} removed by the national data opt-out; ${t.quarantined} whole files quarantined.`,
  );
  for (const m of manifests) {
    const state =
      m.status === 'committed'
        ? `${m.rowsWritten} written, ${m.rowsRejected} rejected, ${m.rowsOptedOut} opted out`
        : `quarantined: ${m.quarantine?.error.code}`;
    log(`  ${m.dataset.padEnd(24)} batch ${m.batchId}: ${m.rowsRead} read, ${state}`);
  }
  return manifests;
}
