/**
 * What the three ingestion handlers share on AWS: the bundled dataset config, the S3
 * object store, the pseudonymisation key and opt-out list (cached for a warm container),
 * and Powertools logging and metrics. Handlers stay thin: event in, lib/ingest out.
 *
 * Nothing here logs an event, a row, a key or a list entry: log lines carry dataset
 * names, batch ids, object keys, counts and codes only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { DatasetConfig } from '../config/schema';
import { lookupsNeeded, parseLsoaLookup } from './core/lsoa-lookup';
import { readOptOutList, type OptOutSet } from './core/opt-out';
import type { IngestBuckets } from './layout';
import type { ObjectStore } from './object-store';
import { S3ObjectStore } from './s3-object-store';
import { ENV, referenceKey } from './lambda-settings';

export { MetricUnit };

/** The config the stack bundles next to the handler (see ingestionConfig in lib/stacks/ingestion-stack.ts). */
export interface BundledIngestConfig {
  readonly platform: { readonly name: string };
  readonly datasets: readonly DatasetConfig[];
}

export const logger = new Logger();
export const metrics = new Metrics();

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`environment variable ${name} is not set: the ingestion stack sets it; was the function deployed by hand?`);
  return value;
}

let config: BundledIngestConfig | undefined;
/** The bundled config, read once per container. SDE_INGEST_CONFIG_FILE points elsewhere (tests). */
export function ingestConfig(): BundledIngestConfig {
  if (config === undefined) {
    const file = process.env.SDE_INGEST_CONFIG_FILE ?? path.join(__dirname, 'sde-ingest-config.json');
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as BundledIngestConfig;
    if (!Array.isArray(parsed.datasets) || typeof parsed.platform?.name !== 'string')
      throw new Error(`${file} is not an ingestion config (datasets, platform.name)`);
    config = parsed;
  }
  return config;
}

export function datasetNamed(name: string): DatasetConfig {
  const found = ingestConfig().datasets.find((d) => d.name === name);
  if (found === undefined) throw new Error(`dataset "${name}" is not in this deployment's config: deploy the config that planned the batch`);
  return found;
}

export function buckets(): IngestBuckets {
  return { landing: required(ENV.landingBucket), curated: required(ENV.curatedBucket), quarantine: required(ENV.quarantineBucket) };
}

let store: ObjectStore | undefined;
export function objectStore(): ObjectStore {
  store ??= new S3ObjectStore(new S3Client({}));
  return store;
}

let secrets: SecretsManagerClient | undefined;
let readSecret = async (secretId: string): Promise<string> => {
  secrets ??= new SecretsManagerClient({});
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  return out.SecretString ?? '';
};

/**
 * Points the handlers at other adapters: an object store on the local S3 API, a secret
 * reader that is not Secrets Manager. For tests and the local runtime; the Lambdas use
 * the defaults. Clears what was cached from the previous adapters.
 */
export function configureIngestRuntime(adapters: { readonly objectStore?: ObjectStore; readonly readSecret?: (secretId: string) => Promise<string> }): void {
  if (adapters.objectStore !== undefined) store = adapters.objectStore;
  if (adapters.readSecret !== undefined) readSecret = adapters.readSecret;
  pseudonymKey = undefined;
  optOut = undefined;
  config = undefined;
  lookups.clear();
}

let pseudonymKey: Buffer | undefined;
/**
 * The pseudonymisation key: 32+ bytes, stored as hex (the stack generates 64 hex
 * characters). Read once per container: every chunk of a batch must use the same key,
 * so put a new version only while ingestion is paused (see the README).
 */
export async function pseudonymisationKey(): Promise<Buffer> {
  if (pseudonymKey === undefined) {
    const text = (await readSecret(required(ENV.pseudonymKeySecretArn))).trim();
    // The message states the rule only; the value never goes in an error or a log.
    if (!/^(?:[0-9a-fA-F]{2}){32,}$/.test(text)) throw new Error('the pseudonymisation key secret must hold at least 64 hex characters (32 bytes)');
    pseudonymKey = Buffer.from(text, 'hex');
  }
  return pseudonymKey;
}

let optOut: { etag: string; set: OptOutSet } | undefined;
/**
 * The national data opt-out list from the landing bucket, re-read when its ETag changes.
 * Fails closed: without the list, a dataset that applies the opt-out is not ingested.
 */
export async function optOutList(): Promise<OptOutSet> {
  const ref = { bucket: required(ENV.landingBucket), key: required(ENV.optOutKey) };
  const s = objectStore();
  let head;
  try {
    head = await s.head(ref);
  } catch (e) {
    // Without s3:ListBucket (not granted) S3 reports a missing object as access denied.
    throw new Error(
      `the national data opt-out list s3://${ref.bucket}/${ref.key} is missing or unreadable (${(e as Error).name}): upload a current list, then re-land the file`,
      { cause: e },
    );
  }
  if (head === undefined)
    throw new Error(`the national data opt-out list s3://${ref.bucket}/${ref.key} is missing: upload a current list, then re-land the file`);
  if (optOut === undefined || optOut.etag !== head.etag) {
    optOut = { etag: head.etag, set: await readOptOutList(await s.get(ref, undefined, head.versionId)) };
    logger.info('opt-out list loaded', { entries: optOut.set.size, etag: head.etag });
  }
  return optOut.set;
}

const lookups = new Map<string, { etag: string; map: ReadonlyMap<string, string> }>();
/**
 * The postcode-to-LSOA lookups a dataset's postcode_lsoa columns name, from
 * `_reference/<file>` in the landing bucket, re-read when a file's ETag changes. A missing
 * file fails the chunk with a message saying what to upload (Step Functions retries, then the
 * dead-letter queue): no row is ingested without its area.
 */
export async function lookupsFor(dataset: DatasetConfig): Promise<ReadonlyMap<string, ReadonlyMap<string, string>>> {
  const out = new Map<string, ReadonlyMap<string, string>>();
  const s = objectStore();
  for (const name of lookupsNeeded(dataset)) {
    const ref = { bucket: required(ENV.landingBucket), key: referenceKey(name) };
    const head = await s.head(ref).catch(() => undefined);
    if (head === undefined)
      throw new Error(
        `the postcode-to-LSOA lookup s3://${ref.bucket}/${ref.key} is missing or unreadable: upload it (columns postcode,lsoa), then re-land the file`,
      );
    let cached = lookups.get(name);
    if (cached === undefined || cached.etag !== head.etag) {
      const chunks: Buffer[] = [];
      for await (const c of await s.get(ref, undefined, head.versionId)) chunks.push(Buffer.from(c));
      cached = { etag: head.etag, map: parseLsoaLookup(Buffer.concat(chunks), name) };
      lookups.set(name, cached);
      logger.info('lookup loaded', { lookup: name, entries: cached.map.size, etag: head.etag });
    }
    out.set(name, cached.map);
  }
  return out;
}

/**
 * Runs a handler body with the Lambda context on every log line, and publishes the
 * metrics it recorded whether it succeeded or not. A failure is logged by name and
 * message (value-free by construction in lambdas/ingest and lib/ingest/core) and rethrown,
 * so Step Functions retries or catches it.
 */
export async function run<T>(context: Context | undefined, body: () => Promise<T>): Promise<T> {
  // Keys appended for the previous invocation (dataset, batch, chunk) must not label this one.
  logger.resetKeys();
  if (context !== undefined) logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    return await body();
  } catch (e) {
    const err = e as Error;
    logger.error('ingestion step failed', { errorName: err.name, errorMessage: err.message });
    metrics.addMetric('StepFailed', MetricUnit.Count, 1);
    throw e;
  } finally {
    metrics.publishStoredMetrics();
  }
}
