/**
 * Where ingestion puts things: the keys of every object it writes, and the batch id.
 * One place, so the Lambdas, the local runtime, the tests and the README agree.
 *
 *   landing     <dataset>/<anything>                         the supplier's object (read only)
 *   curated     <dataset>/load_date=YYYY-MM-DD/<batch>.parquet           committed data, one object per batch (Glue table location)
 *               _staging/<dataset>/<batch>/plan.json, chunks.json          the plan and the Distributed Map items
 *               _staging/<dataset>/<batch>/part-<chunk>.parquet            a chunk's output, not yet committed
 *               _staging/<dataset>/<batch>/chunk-<chunk>.json              a chunk's result (counts, part)
 *               _manifests/<dataset>/<batch>.json                          the commit record, written last
 *   quarantine  <dataset>/<batch>/rejected/chunk-<chunk>.csv               bad rows: line, reasons, the record
 *               <dataset>/<batch>/source.csv + error.json                  a bad file, whole, and why
 *
 * `_staging/` and `_manifests/` sit outside every table location (`s3://curated/<dataset>/`),
 * so neither Athena nor the local query engine ever reads them as data.
 */
import { createHash } from 'node:crypto';
import { PARTITION_COLUMN } from '../config/curated';
import type { DatasetConfig } from '../config/schema';

export interface IngestBuckets {
  readonly landing: string;
  readonly curated: string;
  readonly quarantine: string;
}

export const STAGING_PREFIX = '_staging';
export const MANIFEST_PREFIX = '_manifests';

const pad = (n: number) => String(n).padStart(5, '0');

/**
 * The batch id: a digest of where the object is, which bytes it holds (its version, or its
 * ETag and size where the bucket is not versioned), and the fingerprint of the dataset's
 * config it is read under (`schemaVersionOf`). S3 re-delivering the same event, a Lambda
 * retry or someone re-running `sde ingest` on the same object under the same config all get
 * the same id, and so find the same manifest; a new delivery to the same key is a new batch;
 * and a file quarantined under one config is a new batch once the config is fixed, so it can
 * be ingested again. (Its content cannot be committed twice: see `deliveryKey`.)
 */
export function batchIdOf(source: { bucket: string; key: string; etag: string; size: number; versionId?: string }, schemaVersion: string): string {
  const identity = source.versionId !== undefined ? `v:${source.versionId}` : `e:${source.etag}:${source.size}`;
  return createHash('sha256').update(`${source.bucket}\n${source.key}\n${identity}\n${schemaVersion}`).digest('hex').slice(0, 24);
}

/**
 * A fingerprint of what the dataset's config says about reading and de-identifying it (the
 * source settings, the person key, the opt-out, every column's type, format, rule and
 * options; not the descriptions, which change nothing ingested): a batch planned under one
 * version of the config is not finished under another.
 */
export function schemaVersionOf(dataset: DatasetConfig): string {
  const columns = dataset.columns.map(({ description: _description, ...rest }) => rest);
  const relevant = { source: dataset.source, personKey: dataset.personKey, nationalDataOptOut: dataset.nationalDataOptOut, optOut: dataset.optOut, columns };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

export const DELIVERIES_PREFIX = `${MANIFEST_PREFIX}/_deliveries`;
/**
 * The record that a dataset's content (by SHA-256) has been committed, written by the commit
 * of the first batch holding it, before its data, with a conditional write: a delivery whose
 * content is already there is quarantined as `duplicate_delivery` naming that batch, so the
 * same rows are never committed twice, under any object name or config version.
 */
export const deliveryKey = (dataset: string, sha256: string) => `${DELIVERIES_PREFIX}/${dataset}/${sha256}.json`;

export const stagingPrefix = (dataset: string, batchId: string) => `${STAGING_PREFIX}/${dataset}/${batchId}/`;
export const planKey = (dataset: string, batchId: string) => `${stagingPrefix(dataset, batchId)}plan.json`;
export const chunkItemsKey = (dataset: string, batchId: string) => `${stagingPrefix(dataset, batchId)}chunks.json`;
export const stagedPartKey = (dataset: string, batchId: string, chunk: number) => `${stagingPrefix(dataset, batchId)}part-${pad(chunk)}.parquet`;
export const chunkResultKey = (dataset: string, batchId: string, chunk: number) => `${stagingPrefix(dataset, batchId)}chunk-${pad(chunk)}.json`;
export const manifestKey = (dataset: string, batchId: string) => `${MANIFEST_PREFIX}/${dataset}/${batchId}.json`;
export const partitionPrefix = (dataset: string, loadDate: string) => `${dataset}/${PARTITION_COLUMN}=${loadDate}/`;
export const curatedBatchKey = (dataset: string, loadDate: string, batchId: string) => `${partitionPrefix(dataset, loadDate)}${batchId}.parquet`;
export const quarantinePrefix = (dataset: string, batchId: string) => `${dataset}/${batchId}/`;
export const rejectedKey = (dataset: string, batchId: string, chunk: number) => `${quarantinePrefix(dataset, batchId)}rejected/chunk-${pad(chunk)}.csv`;
export const quarantinedSourceKey = (dataset: string, batchId: string) => `${quarantinePrefix(dataset, batchId)}source.csv`;
export const errorReportKey = (dataset: string, batchId: string) => `${quarantinePrefix(dataset, batchId)}error.json`;

/** The dataset a landing key belongs to: its first path segment, when that names a configured dataset. */
export function datasetOfLandingKey<D extends { name: string }>(key: string, datasets: readonly D[]): D | undefined {
  const first = key.split('/')[0];
  return key.includes('/') ? datasets.find((d) => d.name === first) : undefined;
}
