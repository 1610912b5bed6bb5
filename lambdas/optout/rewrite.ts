/**
 * Step 2 of the opt-out state machine, one Distributed Map item: one curated batch
 * rewritten without the listed people's rows, its manifest updated (lib/optout/apply.ts
 * `rewriteBatch`: conditional writes, idempotent per batch and list).
 *
 * In: `{ listSha256, dataset, batchId }` (an item of `items.json`). Out: counts only.
 */
import type { Context } from 'aws-lambda';
import { buckets, logger, metrics, MetricUnit, run } from '../../lib/ingest/lambda-runtime';
import { loadOptOutPlan, rewriteBatch, type BatchOutcome } from '../../lib/optout/apply';
import { loadList, rewriteStore } from '../../lib/optout/lambda-runtime';

export interface RewriteEvent {
  readonly listSha256: string;
  readonly dataset: string;
  readonly batchId: string;
}

export async function handler(event: RewriteEvent, context?: Context): Promise<BatchOutcome> {
  return run(context, async () => {
    logger.appendKeys({ list: event.listSha256.slice(0, 16), dataset: event.dataset, batchId: event.batchId });
    const store = rewriteStore();
    const curatedBucket = buckets().curated;
    const plan = await loadOptOutPlan(store.objects, curatedBucket, event.listSha256);
    const { list, pseudonyms } = await loadList(plan.listVersionId, plan.listDate);
    // The list object may have been replaced since the plan: the version pinned must still be the same list.
    if (list.sha256 !== plan.listSha256)
      throw new Error(`the opt-out list read is not the one planned (${list.sha256.slice(0, 16)}... for ${plan.listSha256.slice(0, 16)}...)`);
    const outcome = await rewriteBatch({ store, curatedBucket, plan, dataset: event.dataset, batchId: event.batchId, pseudonyms });
    logger.info(`batch ${outcome.status}`, { rowsRemoved: outcome.rowsRemoved });
    metrics.addDimension('dataset', event.dataset);
    if (outcome.status === 'rewritten') metrics.addMetric('OptOutRowsRemoved', MetricUnit.Count, outcome.rowsRemoved);
    return outcome;
  });
}
