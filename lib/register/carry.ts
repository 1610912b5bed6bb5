/**
 * Data scanned for months Athena has forgotten. Athena keeps query history 45 days, so
 * on AWS a month's bytes scanned can be measured only while its queries are recent; the
 * previously published register.json is where older figures live. Pure: the parsed
 * previous register and the fresh sums in, the sums with carried figures out.
 *
 * The rule, per project and month (never adding two figures, so nothing is counted twice):
 * - the fresh figure when Athena (or the local records) measured every query of the month;
 * - otherwise the published figure when it measured every query and its query count is
 *   the month's count today (the same queries);
 * - otherwise the larger of the two lower bounds (both sums over measured queries of the
 *   same month), marked as partial;
 * - never a published figure whose query count is larger than today's (it would hold
 *   bytes of queries the trail no longer attributes to the month), nor one that was
 *   withheld (a withheld figure was never published, so it cannot be carried).
 */
import type { ProjectActivity } from './activity';

/** What a month's data scanned says when some of its queries were not measured (model.ts renders it). */
export const PARTIAL_SCAN_NOTE = 'some queries not measured';

export interface PublishedScan {
  /** The month's query count as published (only exact counts carry a figure). */
  readonly queries: number;
  readonly bytes: number;
  /** The published figure measured every query of the month. */
  readonly complete: boolean;
}

/** Published figures by project id and month (`YYYY-MM`). */
export type PublishedScans = ReadonlyMap<string, ReadonlyMap<string, PublishedScan>>;

const MONTH = /^\d{4}-\d{2}$/;

function isCount(v: unknown): v is { count: number } {
  return v !== null && typeof v === 'object' && typeof (v as { count?: unknown }).count === 'number' && Number.isInteger((v as { count: number }).count);
}

/**
 * The data-scanned figures of a published register.json. Throws on a file that is not a
 * register (the caller stops rather than publish over figures it could not read); entries
 * without a usable figure are skipped.
 */
export function publishedScans(json: unknown): PublishedScans {
  const projects = (json as { projects?: unknown } | null)?.projects;
  if (json === null || typeof json !== 'object' || !Array.isArray(projects)) throw new Error('the previous register.json is not a register (no projects list)');
  const out = new Map<string, Map<string, PublishedScan>>();
  for (const p of projects as unknown[]) {
    const id = (p as { id?: unknown } | null)?.id;
    const months = (p as { activity?: { months?: unknown } } | null)?.activity?.months;
    if (typeof id !== 'string' || !Array.isArray(months)) continue;
    const byMonth = new Map<string, PublishedScan>();
    for (const m of months as Record<string, unknown>[]) {
      if (m === null || typeof m !== 'object' || typeof m.month !== 'string' || !MONTH.test(m.month)) continue;
      const bytes = m.dataScannedBytes;
      if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0 || !isCount(m.queries)) continue;
      // The model renders this note (model.ts), so the two cannot drift.
      const complete = typeof m.dataScanned === 'string' && !m.dataScanned.includes(PARTIAL_SCAN_NOTE);
      byMonth.set(m.month, { queries: m.queries.count, bytes, complete });
    }
    if (byMonth.size > 0) out.set(id, byMonth);
  }
  return out;
}

/** Sets `carried` on the months whose published figure is better than what can be measured now. */
export function carryPublishedScans(activity: ReadonlyMap<string, ProjectActivity>, published: PublishedScans): void {
  for (const [projectId, project] of activity) {
    const months = published.get(projectId);
    if (months === undefined) continue;
    for (const m of project.months) {
      const p = months.get(m.month);
      if (p === undefined || m.queries === 0 || p.queries > m.queries) continue;
      if (m.queriesWithBytes === m.queries) continue;
      if (p.complete && p.queries === m.queries) m.carried = { bytes: p.bytes, complete: true };
      else if (m.queriesWithBytes === 0 || p.bytes > m.bytesScanned) m.carried = { bytes: p.bytes, complete: false };
    }
  }
}
