/**
 * Step 3: commit the batch (lib/ingest/batch.ts) — publish the parts into the table
 * location and write the manifest, or quarantine the whole file with its error report.
 *
 * In: the batch reference. Out: the manifest's status and counts (no keys of rows, no values).
 */
import type { Context } from 'aws-lambda';
import { commitBatch, loadPlan } from '../../lib/ingest/batch';
import { buckets, logger, metrics, MetricUnit, objectStore, run } from '../../lib/ingest/lambda-runtime';
import type { BatchRef } from './plan';

export interface CommitEvent {
  readonly batch: BatchRef;
}

export interface CommitSummary {
  readonly batchId: string;
  readonly dataset: string;
  readonly status: string;
  readonly alreadyCommitted: boolean;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly rowsRejected: number;
  readonly rowsOptedOut: number;
}

export async function handler(event: CommitEvent, context?: Context): Promise<CommitSummary> {
  return run(context, async () => {
    const store = objectStore();
    const plan = await loadPlan(store, buckets().curated, event.batch.dataset, event.batch.batchId);
    logger.appendKeys({ dataset: plan.dataset, batchId: plan.batchId });
    const { manifest, alreadyCommitted } = await commitBatch({ store, plan });
    const summary: CommitSummary = {
      batchId: manifest.batchId,
      dataset: manifest.dataset,
      status: manifest.status,
      alreadyCommitted,
      rowsRead: manifest.rowsRead,
      rowsWritten: manifest.rowsWritten,
      rowsRejected: manifest.rowsRejected,
      rowsOptedOut: manifest.rowsOptedOut,
    };
    logger.info(`batch ${manifest.status}`, {
      ...summary,
      outputs: manifest.outputs.length,
      ...(manifest.quarantine === undefined ? {} : { fileError: manifest.quarantine.error.code }),
    });
    metrics.addDimension('dataset', plan.dataset);
    if (!alreadyCommitted) metrics.addMetric(manifest.status === 'committed' ? 'BatchesCommitted' : 'BatchesQuarantined', MetricUnit.Count, 1);
    return summary;
  });
}
