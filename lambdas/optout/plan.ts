/**
 * Step 1 of the opt-out state machine: the current list is planned against every curated
 * batch (lib/optout/apply.ts `planOptOut`), or found applied already.
 *
 * In: `{ override?: boolean }` (an execution started by hand to apply a list above the
 * configured share). Out: the list's SHA-256, the status and counts only; the batches to
 * rewrite are in S3 (`_optout/runs/<sha>/items.json`, the Distributed Map's ItemReader).
 * Every run publishes the list's age, for the freshness alarm. A first run over many batches
 * builds their indexes over several invocations (`indexing`: the state machine plans again).
 */
import type { Context } from 'aws-lambda';
import { buckets, ingestConfig, logger, metrics, MetricUnit, run } from '../../lib/ingest/lambda-runtime';
import { planOptOut } from '../../lib/optout/apply';
import { runItemsKey } from '../../lib/optout/layout';
import { headList, loadList, maxRemovedShare, rewriteStore } from '../../lib/optout/lambda-runtime';

export interface PlanEvent {
  readonly override?: boolean;
}

export interface PlanResult {
  /** `planned`: rewrite `batches` batches; `already-applied`: nothing to do; `indexing`: plan again (indexes still being built). */
  readonly status: 'planned' | 'already-applied' | 'indexing';
  readonly listSha256: string;
  /** The curated bucket and the key of the Map's items (read by the Distributed Map's ItemReader). */
  readonly bucket: string;
  readonly itemsKey: string;
  readonly batches: number;
  readonly people: number;
}

export async function handler(event: PlanEvent, context?: Context): Promise<PlanResult> {
  return run(context, async () => {
    const head = await headList();
    metrics.addMetric('OptOutListAgeHours', MetricUnit.Count, Math.max(0, (Date.now() - head.lastModified.getTime()) / 3_600_000));
    const { list, pseudonyms } = await loadList(head.versionId, head.lastModified.toISOString().slice(0, 10));
    logger.appendKeys({ list: list.sha256.slice(0, 16) });
    const outcome = await planOptOut({
      store: rewriteStore(),
      curatedBucket: buckets().curated,
      datasets: ingestConfig().datasets,
      list,
      pseudonyms,
      maxRemovedShare: maxRemovedShare(),
      override: event.override === true,
      // Stop building indexes with two minutes left, and let the state machine plan again.
      ...(context === undefined ? {} : { buildIndexesUntil: Date.now() + context.getRemainingTimeInMillis() - 120_000 }),
    });
    const common = { listSha256: list.sha256, bucket: buckets().curated, itemsKey: runItemsKey(list.sha256) };
    const result: PlanResult =
      outcome.status === 'already-applied'
        ? { ...common, status: outcome.status, batches: 0, people: outcome.record.people }
        : outcome.status === 'indexing'
          ? { ...common, status: outcome.status, batches: 0, people: 0 }
          : { ...common, status: outcome.status, batches: outcome.plan.items.length, people: outcome.plan.people };
    if (outcome.status === 'indexing') logger.info('opt-out indexes still being built: planning again', { indexesBuilt: outcome.indexesBuilt });
    logger.info(`opt-out list ${result.status}`, { batches: result.batches, people: result.people, entries: list.numbers.size });
    return result;
  });
}
