/**
 * Step 3 of the opt-out state machine: every planned batch records the list, so the run's
 * record and its public trace are written (lib/optout/apply.ts `finishOptOut`).
 *
 * In: `{ listSha256 }`. Out: the run's counts (people, rows, batches), never who.
 */
import type { Context } from 'aws-lambda';
import { buckets, logger, metrics, MetricUnit, run } from '../../lib/ingest/lambda-runtime';
import { finishOptOut } from '../../lib/optout/apply';
import { rewriteStore } from '../../lib/optout/lambda-runtime';

export interface FinishEvent {
  readonly listSha256: string;
}

export interface FinishResult {
  readonly listDate: string;
  readonly people: number;
  readonly rowsRemoved: number;
  readonly batchesRewritten: number;
}

export async function handler(event: FinishEvent, context?: Context): Promise<FinishResult> {
  return run(context, async () => {
    logger.appendKeys({ list: event.listSha256.slice(0, 16) });
    const record = await finishOptOut({ store: rewriteStore(), curatedBucket: buckets().curated, listSha256: event.listSha256 });
    const result = { listDate: record.listDate, people: record.people, rowsRemoved: record.rowsRemoved, batchesRewritten: record.batchesRewritten };
    logger.info('opt-out list applied', result);
    metrics.addMetric('OptOutPeopleRemoved', MetricUnit.Count, record.people);
    metrics.addMetric('OptOutListsApplied', MetricUnit.Count, 1);
    return result;
  });
}
