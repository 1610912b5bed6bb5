/**
 * The corpus (test/airlock/corpus/corpus.ts): every disclosive output caught, and the share
 * of safe outputs released without a reviewer's note kept from sliding. The figures are
 * quoted in docs/airlock.md and the README (npm run airlock:corpus prints them).
 */
import { corpus, runEntry, summarise } from './corpus/corpus';

const results = corpus().map((e) => runEntry(e));
const summary = summarise(results);

test('the corpus holds at least 50 outputs, disclosive and safe, generated from many families', () => {
  expect(results.length).toBeGreaterThanOrEqual(50);
  expect(new Set(results.filter((r) => r.entry.kind === 'disclosive').map((r) => r.entry.family)).size).toBeGreaterThanOrEqual(15);
  expect(summary.safe).toBeGreaterThanOrEqual(25);
});

test('every disclosive output is caught (refused, held for a reviewer, or its disclosive cells suppressed)', () => {
  expect(summary.missed).toEqual([]);
  expect(summary.catchRate).toBe(1);
});

test('disclosive tables with known cells are mostly caught by suppression itself, not only by a reviewer', () => {
  expect(summary.suppressedAutomatically / summary.withCells).toBeGreaterThanOrEqual(0.9);
});

test("at least 80% of the safe outputs are released without a reviewer's note; the rest are the kinds the checker cannot judge", () => {
  expect(summary.safeReleasedWithoutReviewShare).toBeGreaterThanOrEqual(0.8);
  for (const held of summary.safeHeld) expect(held).toMatch(/numbers that are categories|structural zero|a chart|survival table/);
});
