/**
 * One event once. The same CloudTrail event can reach a reader more than once: the same
 * records exported twice (a JSON array and a `.json.gz`), overlapping copies of a bucket,
 * a record in both the local trail and the airlock's own file. CloudTrail gives each
 * event a unique `eventID`, so readers keep the first record of each id and say how many
 * they dropped, and how many of those differed from the one kept (a copy that was edited,
 * or two events wrongly sharing an id: worth a look either way).
 */
import type { CloudTrailRecord } from './cloudtrail-record';
import { canonicalJson } from './hash-chain';
import { plural } from './findings';

export interface Deduplicated<T> {
  readonly items: T[];
  /** Records dropped because an earlier one had the same eventID. */
  readonly duplicates: number;
  /** Of those, how many were not identical to the record kept. */
  readonly differing: number;
  /** Records with no eventID: kept, as they cannot be matched. */
  readonly withoutId: number;
}

export function dedupeByEventId<T>(items: readonly T[], recordOf: (item: T) => CloudTrailRecord): Deduplicated<T> {
  const kept = new Map<string, { index: number; canonical?: string }>();
  const out: T[] = [];
  let duplicates = 0;
  let differing = 0;
  let withoutId = 0;
  for (const item of items) {
    const r = recordOf(item);
    const id = typeof r.eventID === 'string' && r.eventID !== '' ? r.eventID : undefined;
    if (id === undefined) {
      withoutId++;
      out.push(item);
      continue;
    }
    const first = kept.get(id);
    if (!first) {
      kept.set(id, { index: out.length });
      out.push(item);
      continue;
    }
    duplicates++;
    // The canonical form is computed only when a second copy turns up.
    first.canonical ??= canonicalJson(recordOf(out[first.index]));
    if (canonicalJson(r) !== first.canonical) differing++;
  }
  return { items: out, duplicates, differing, withoutId };
}

/** One line for stderr, or none when nothing was dropped. */
export function describeDeduplication(d: Pick<Deduplicated<unknown>, 'duplicates' | 'differing' | 'withoutId'>): string[] {
  const lines: string[] = [];
  if (d.duplicates > 0) {
    lines.push(
      `dropped ${plural(d.duplicates, 'duplicate record')} (an eventID seen before; each event is counted once)` +
        (d.differing > 0 ? `; ${d.differing} of them differ from the record kept: an edited copy, or two events sharing an id` : ''),
    );
  }
  if (d.withoutId > 0) lines.push(`${plural(d.withoutId, 'record')} without an eventID kept as they are (they cannot be de-duplicated)`);
  return lines;
}
