/**
 * A first run over many batches builds their indexes within a time budget: a plan that runs
 * out of time reports `indexing` having kept what it built, the next plan continues, and
 * once every index exists the plan completes however little time is left (matching is not
 * bounded, so the state machine's plan loop always ends).
 */
import { createHash } from 'node:crypto';
import { planOptOut } from '../../lib/optout/apply';
import { listPseudonyms, type OptOutList } from '../../lib/optout/list';
import { testNhsNumber } from '../ingest/core/datasets';
import { MemoryStore } from '../ingest/helpers/memory-store';
import { BUCKETS, EPISODES, ingestDeliveries, KEY, memoryRewriteStore } from './helpers';

test('plans over several invocations when building indexes runs out of time, then completes', async () => {
  const store = new MemoryStore();
  const deliveries = [0, 1, 2].map((d) => [0, 1, 2, 3].map((i) => ({ id: `E${d}${i}`, nhs: testNhsNumber(d * 10 + i), los: i, ward: 'A' })));
  await ingestDeliveries(store, deliveries, new Set());
  const numbers = [testNhsNumber(0), testNhsNumber(11)];
  const list: OptOutList = { sha256: createHash('sha256').update(numbers.join('\n')).digest('hex'), date: '2026-11-23', numbers: new Set(numbers) };
  let clock = 0;
  const common = {
    store: memoryRewriteStore(store),
    curatedBucket: BUCKETS.curated,
    datasets: [EPISODES],
    list,
    pseudonyms: listPseudonyms(list, KEY),
    maxRemovedShare: 1,
    // Each reading of the clock is a second later: a budget of half a second allows one build per plan.
    now: () => new Date(1_000 * clock++),
  };
  const indexes = () => store.keys(BUCKETS.curated).filter((k) => k.startsWith('_optout/index/')).length;
  const seen: string[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    const outcome = await planOptOut({ ...common, buildIndexesUntil: 1_000 * clock + 500 });
    seen.push(`${outcome.status}:${indexes()}`);
    if (outcome.status === 'planned') {
      const expected = deliveries.map((rows) => rows.filter((r) => numbers.includes(r.nhs)).length).filter((n) => n > 0);
      expect(outcome.plan.items.map((i) => i.rowsToRemove)).toEqual(expected);
      break;
    }
  }
  expect(seen).toEqual(['indexing:1', 'indexing:2', 'planned:3']);
  // With every index built, no budget is too small.
  const again = await planOptOut({ ...common, list: { ...list, sha256: 'f'.repeat(64) }, buildIndexesUntil: 0 });
  expect(again.status).toBe('planned');
});
