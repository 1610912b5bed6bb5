/**
 * Property: for random populations ingested in random deliveries, and random later opt-out
 * lists (people from the population, people it never had, people already removed at
 * ingestion), applying the list leaves no listed person's pseudonym in curated, every other
 * row in its batch with the same values in the same order, manifests whose counts add up,
 * and a second run (the same list, or the same people in another file) changes nothing.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { pseudonymise } from '../../lib/ingest/core/deidentify';
import { applyOptOut } from '../../lib/optout/apply';
import { listPseudonyms, type OptOutList } from '../../lib/optout/list';
import { testNhsNumber } from '../ingest/core/datasets';
import { MemoryStore } from '../ingest/helpers/memory-store';
import { BUCKETS, COUNTS, curatedRows, EPISODES, EpisodeRow, ingestDeliveries, KEY, manifestsIn, memoryRewriteStore } from './helpers';

function listOf(numbers: readonly string[], date = '2026-11-23', salt = ''): OptOutList {
  const text = `${salt}${numbers.join('\n')}\n`;
  return { sha256: createHash('sha256').update(text).digest('hex'), date, numbers: new Set(numbers) };
}

function snapshot(store: MemoryStore): Map<string, string> {
  return new Map([...store.objects].map(([k, v]) => [k, createHash('sha256').update(v).digest('hex')]));
}

const population = fc
  .record({
    people: fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 25 }),
    rows: fc.array(fc.record({ person: fc.nat(), los: fc.integer({ min: 0, max: 1000 }), ward: fc.constantFrom('A', 'B', 'C'), noNhs: fc.boolean() }), {
      minLength: 1,
      maxLength: 60,
    }),
    deliveries: fc.integer({ min: 1, max: 4 }),
  })
  .chain((p) =>
    fc.record({
      p: fc.constant(p),
      atIngestion: fc.subarray(p.people),
      later: fc.subarray(p.people),
      strangers: fc.uniqueArray(fc.integer({ min: 6000, max: 9000 }), { maxLength: 5 }),
    }),
  );

test('property: a later list removes exactly its people, keeps every other row as it was, and is idempotent', async () => {
  await fc.assert(
    fc.asyncProperty(population, async ({ p, atIngestion, later, strangers }) => {
      const nhs = (i: number) => testNhsNumber(i);
      const rows: EpisodeRow[] = p.rows.map((r, i) => ({
        id: `E${String(i).padStart(5, '0')}`,
        nhs: r.noNhs && i % 3 === 0 ? '' : nhs(p.people[r.person % p.people.length]),
        los: r.los,
        ward: r.ward,
      }));
      const deliveries = Array.from({ length: p.deliveries }, (_, d) => rows.filter((_, i) => i % p.deliveries === d)).filter((d) => d.length > 0);
      const store = new MemoryStore();
      await ingestDeliveries(store, deliveries, new Set(atIngestion.map(nhs)));
      const before = await curatedRows(store);

      const listed = [...new Set([...atIngestion, ...later, ...strangers])].map(nhs);
      const list = listOf(listed);
      const pseudonyms = listPseudonyms(list, KEY);
      const ctx = { store: memoryRewriteStore(store), curatedBucket: BUCKETS.curated, now: () => new Date('2026-11-23T06:00:00Z') };
      const outcome = await applyOptOut({ ...ctx, datasets: [EPISODES, COUNTS], list, pseudonyms, maxRemovedShare: 1 });
      expect(outcome.status).toBe('applied');
      const after = await curatedRows(store);

      // Exactly the listed people's rows are gone; the rest are there, same values, same order.
      let removed = 0;
      for (const [batch, rowsBefore] of before) {
        const kept = rowsBefore.filter((r) => r[1] === null || !pseudonyms.has(String(r[1])));
        removed += rowsBefore.length - kept.length;
        expect(after.get(batch)).toEqual(kept);
      }
      for (const rowsAfter of after.values()) for (const r of rowsAfter) expect(r[1] === null || !pseudonyms.has(String(r[1]))).toBe(true);
      if (outcome.status !== 'applied') return;
      expect(outcome.record.rowsRemoved).toBe(removed);
      const people = new Set([...before.values()].flat().flatMap((r) => (r[1] !== null && pseudonyms.has(String(r[1])) ? [String(r[1])] : [])));
      expect(outcome.record.people).toBe(people.size);
      expect(outcome.record.datasets.find((d) => d.dataset === COUNTS.name)?.skipped).toMatch(/does not apply/);

      // Manifests: counts add up and match the objects.
      for (const m of await manifestsIn(store, EPISODES)) {
        expect(m.rowsRead).toBe(m.rowsWritten + m.rowsRejected + m.rowsOptedOut + (m.rowsRemovedForOptOut ?? 0));
        if (m.outputs.length > 0) expect(m.outputs[0].rows).toBe(after.get(m.batchId)?.length);
        expect(m.outputs.reduce((s, o) => s + o.rows, 0)).toBe(m.rowsWritten);
      }

      // Twice: the same list changes nothing; the same people in another file remove nothing more.
      const state = snapshot(store);
      const again = await applyOptOut({ ...ctx, datasets: [EPISODES, COUNTS], list, pseudonyms, maxRemovedShare: 1 });
      expect(again.status).toBe('already-applied');
      expect(snapshot(store)).toEqual(state);
      const reordered = listOf([...listed].reverse(), '2026-11-24', '# reissued\n');
      const third = await applyOptOut({
        ...ctx,
        datasets: [EPISODES, COUNTS],
        list: reordered,
        pseudonyms: listPseudonyms(reordered, KEY),
        maxRemovedShare: 1,
      });
      expect(third.status === 'applied' && third.record.rowsRemoved).toBe(0);
      expect(await curatedRows(store)).toEqual(after);
      // No pseudonym of anyone leaves in a record (the run's record, the plan).
      for (const [id, bytes] of store.objects) {
        if (!id.includes('_optout/runs/')) continue;
        for (const n of listed) expect(bytes.toString('utf8')).not.toContain(pseudonymise(KEY, n));
      }
    }),
    { numRuns: 25 },
  );
}, 300_000);
