/**
 * Step 2, once per chunk inside the Distributed Map: parse, validate, apply the national
 * data opt-out, de-identify and write one Parquet part (lib/ingest/batch.ts).
 *
 * In: the batch reference and a chunk number. Out: a small summary (the full result is in
 * S3, where Commit reads it): the map's collected output must stay far below 256 KiB.
 */
import type { Context } from 'aws-lambda';
import { platformAppliesOptOut } from '../../lib/config/curated';
import { loadPlan, processChunk } from '../../lib/ingest/batch';
import {
  buckets,
  datasetNamed,
  logger,
  lookupsFor,
  metrics,
  MetricUnit,
  objectStore,
  optOutList,
  pseudonymisationKey,
  run,
} from '../../lib/ingest/lambda-runtime';
import type { BatchRef } from './plan';

export interface ChunkEvent {
  readonly batch: BatchRef;
  readonly chunk: number;
}

export interface ChunkSummary {
  readonly chunk: number;
  readonly rowsRead: number;
  /** Set when the chunk found the file unreadable (Commit quarantines the whole file). */
  readonly fileError?: string;
}

/** Lambda gives 1 vCPU per 1,769 MB: DuckDB's Parquet conversion uses what there is. */
function duckDbThreads(): number {
  const mb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 1769);
  return Math.max(1, Math.min(6, Math.floor(mb / 1769)));
}

export async function handler(event: ChunkEvent, context?: Context): Promise<ChunkSummary> {
  return run(context, async () => {
    if (!Number.isInteger(event.chunk) || event.chunk < 0) throw new Error('the event names no chunk number: start chunks from the state machine');
    const store = objectStore();
    const plan = await loadPlan(store, buckets().curated, event.batch.dataset, event.batch.batchId);
    const dataset = datasetNamed(plan.dataset);
    logger.appendKeys({ dataset: plan.dataset, batchId: plan.batchId, chunk: event.chunk });

    const result = await processChunk({
      store,
      plan,
      chunk: event.chunk,
      dataset,
      key: await pseudonymisationKey(),
      optOut: platformAppliesOptOut(dataset) ? await optOutList() : undefined,
      lookups: await lookupsFor(dataset),
      tmpDir: '/tmp',
      threads: duckDbThreads(),
    });

    const { counts } = result;
    logger.info(result.fileError === undefined ? 'chunk processed' : 'chunk found the file unreadable', {
      bytesRead: result.bytesRead,
      rowsRead: counts.rowsRead,
      rowsWritten: counts.rowsWritten,
      rowsRejected: counts.rowsRejected,
      rowsOptedOut: counts.rowsOptedOut,
      rejectedByReason: counts.rejectedByReason,
      ...(result.fileError === undefined ? {} : { fileError: result.fileError.code }),
    });
    metrics.addDimension('dataset', plan.dataset);
    metrics.addMetric('RowsRead', MetricUnit.Count, counts.rowsRead);
    metrics.addMetric('RowsWritten', MetricUnit.Count, counts.rowsWritten);
    metrics.addMetric('RowsRejected', MetricUnit.Count, counts.rowsRejected);
    metrics.addMetric('RowsOptedOut', MetricUnit.Count, counts.rowsOptedOut);
    metrics.addMetric('BytesRead', MetricUnit.Bytes, result.bytesRead);
    return { chunk: result.index, rowsRead: counts.rowsRead, ...(result.fileError === undefined ? {} : { fileError: result.fileError.code }) };
  });
}
