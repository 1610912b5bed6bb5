/**
 * Step 1 of the ingestion state machine: the landed object becomes a planned batch.
 *
 * In: the bucket, object and time of the S3 "Object Created" event (the state machine
 * passes these fields of the EventBridge event). Out: whether the batch is already
 * committed, the batch reference, and the chunk numbers the Distributed Map runs over (the
 * plan itself is stored in S3 by planBatch, so the state stays small).
 */
import type { Context } from 'aws-lambda';
import { planBatch } from '../../lib/ingest/batch';
import { datasetOfLandingKey } from '../../lib/ingest/layout';
import { buckets, ingestConfig, logger, metrics, MetricUnit, objectStore, run } from '../../lib/ingest/lambda-runtime';
import { ENV } from '../../lib/ingest/lambda-settings';

export interface PlanEvent {
  readonly bucket: string;
  readonly object: { readonly key: string; readonly size?: number; readonly etag?: string; readonly 'version-id'?: string };
  /** The event time (ISO 8601, UTC): the batch's load date, identical on every re-delivery. */
  readonly time: string;
}

export interface BatchRef {
  readonly dataset: string;
  readonly batchId: string;
}

export interface PlanResult {
  /** True when the batch is already committed: the state machine stops there. */
  readonly skip: boolean;
  readonly batch: BatchRef;
  /** Chunk numbers, 0..n-1. */
  readonly chunks: number[];
}

/**
 * The key as stored. S3 event notifications URL-encode keys ("a b.csv" arrives as
 * "a+b.csv"); EventBridge events are documented with plain keys. Trying the key as given
 * first, then decoded, handles odd characters either way without guessing.
 */
async function landedKey(bucket: string, key: string): Promise<string> {
  const store = objectStore();
  if ((await store.head({ bucket, key })) !== undefined) return key;
  let decoded: string;
  try {
    decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
  if (decoded !== key && (await store.head({ bucket, key: decoded })) !== undefined) return decoded;
  return key; // planBatch reports the missing object.
}

export async function handler(event: PlanEvent, context?: Context): Promise<PlanResult> {
  return run(context, async () => {
    const b = buckets();
    if (event.bucket !== b.landing)
      throw new Error(`event for bucket ${event.bucket}, but this deployment ingests from ${b.landing}: check the EventBridge rule`);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(event.time ?? '')) throw new Error('the event has no ISO 8601 time: start executions from the EventBridge rule');
    const key = await landedKey(event.bucket, event.object.key);
    const dataset = datasetOfLandingKey(key, ingestConfig().datasets);
    if (dataset === undefined)
      throw new Error(`s3://${event.bucket}/${key} is not under a configured dataset prefix: check the EventBridge rule and the config`);
    const chunkBytes = process.env[ENV.chunkBytes] === undefined ? undefined : Number(process.env[ENV.chunkBytes]);

    const plan = await planBatch({
      store: objectStore(),
      // The version the event is about, not whatever the key holds by now: a supplier
      // overwriting the key makes a new event, and so a batch of its own.
      source: { bucket: event.bucket, key, ...(event.object['version-id'] === undefined ? {} : { versionId: event.object['version-id'] }) },
      dataset,
      buckets: b,
      loadDate: event.time.slice(0, 10),
      chunkBytes,
    });
    logger.appendKeys({ dataset: plan.dataset, batchId: plan.batchId });
    logger.info(plan.alreadyCommitted ? 'batch already committed: nothing to do' : 'batch planned', {
      key,
      bytes: plan.source.size,
      chunks: plan.chunks.length,
      loadDate: plan.loadDate,
    });
    metrics.addDimension('dataset', plan.dataset);
    metrics.addMetric(plan.alreadyCommitted ? 'BatchesSkipped' : 'BatchesPlanned', MetricUnit.Count, 1);
    if (!plan.alreadyCommitted) {
      metrics.addMetric('ChunksPlanned', MetricUnit.Count, plan.chunks.length);
      metrics.addMetric('BytesLanded', MetricUnit.Bytes, plan.source.size);
    }
    return { skip: plan.alreadyCommitted, batch: { dataset: plan.dataset, batchId: plan.batchId }, chunks: plan.chunks.map((c) => c.index) };
  });
}
