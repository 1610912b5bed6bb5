/**
 * Later national data opt-outs in the register: per month, how many people's records were
 * removed from curated data, and when the last list was applied. Read from the audit trail
 * only, and from one thing in it: the PutObject of a run's public trace in the curated
 * bucket, whose key carries the counts (lib/optout/layout.ts). So the register can learn
 * nothing but counts and dates, by construction. A trace written twice (a resumed run) is
 * one run, in the month it was first written.
 */
import type { CloudTrailRecord } from '../audit/cloudtrail-record';
import { parseAppliedTraceKey } from '../optout/layout';

export interface OptOutRun {
  /** When the run finished (the trace's record time, UTC). */
  readonly appliedAt: string;
  /** The list's date. */
  readonly listDate: string;
  readonly people: number;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The finished opt-out runs in the records, one per list, oldest first. */
export function optOutRuns(records: Iterable<CloudTrailRecord>, curatedBucket?: string): OptOutRun[] {
  const byList = new Map<string, OptOutRun>();
  for (const record of records) {
    if (record.eventName !== 'PutObject' || str(record.errorCode) !== undefined) continue;
    if (curatedBucket !== undefined && str(record.requestParameters?.bucketName) !== curatedBucket) continue;
    const trace = parseAppliedTraceKey(str(record.requestParameters?.key) ?? '');
    const time = str(record.eventTime);
    if (trace === undefined || time === undefined) continue;
    const earlier = byList.get(trace.list);
    if (earlier === undefined || time < earlier.appliedAt) byList.set(trace.list, { appliedAt: time, listDate: trace.listDate, people: trace.people });
  }
  return [...byList.values()].sort((a, b) => a.appliedAt.localeCompare(b.appliedAt));
}

/** People removed per month (`YYYY-MM`, UTC), raw sums: the model applies the disclosure threshold. */
export function optOutMonths(runs: readonly OptOutRun[]): { month: string; people: number }[] {
  const months = new Map<string, number>();
  for (const r of runs) months.set(r.appliedAt.slice(0, 7), (months.get(r.appliedAt.slice(0, 7)) ?? 0) + r.people);
  return [...months].sort(([a], [b]) => a.localeCompare(b)).map(([month, people]) => ({ month, people }));
}
