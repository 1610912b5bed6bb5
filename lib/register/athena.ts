/**
 * Bytes scanned on AWS: CloudTrail's StartQueryExecution records carry the query
 * execution id (responseElements.queryExecutionId) but not the bytes, which Athena keeps
 * in its query history (45 days). `bytesFromExecutions` is the pure rule; `fetchQueryExecutions`
 * the thin SDK adapter (any client with `send`: AWS, or a stand-in in tests).
 */
import { BatchGetQueryExecutionCommand, type AthenaClient, type QueryExecution } from '@aws-sdk/client-athena';

/** How long Athena keeps query history; one day more, so that no boundary query is missed. */
export const ATHENA_HISTORY_DAYS = 46;

/** BatchGetQueryExecution takes at most 50 ids per call. */
export const ATHENA_BATCH_SIZE = 50;

/** States whose statistics are final. A failed or cancelled query still read what it scanned. */
const FINAL_STATES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/**
 * Bytes scanned by execution id, for the executions Athena returned that are final and
 * ran in the workgroup the trail attributed them to (`expected`: id -> workgroup). A query
 * still queued or running, or without statistics, stays unmeasured (the register says so).
 */
export function bytesFromExecutions(executions: readonly QueryExecution[], expected: ReadonlyMap<string, string>): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const e of executions) {
    const id = e.QueryExecutionId;
    if (id === undefined || expected.get(id) === undefined || e.WorkGroup !== expected.get(id)) continue;
    if (!FINAL_STATES.has(e.Status?.State ?? '')) continue;
    const scanned = e.Statistics?.DataScannedInBytes;
    if (typeof scanned === 'number' && Number.isFinite(scanned) && scanned >= 0) bytes.set(id, scanned);
  }
  return bytes;
}

export interface FetchedExecutions {
  readonly executions: QueryExecution[];
  /** Ids Athena did not return (older than its 45-day history, or an error): left unmeasured. */
  readonly unprocessed: number;
  readonly calls: number;
}

/** Asks Athena for the executions, 50 ids a call. */
export async function fetchQueryExecutions(athena: Pick<AthenaClient, 'send'>, ids: readonly string[]): Promise<FetchedExecutions> {
  const executions: QueryExecution[] = [];
  let unprocessed = 0;
  let calls = 0;
  for (let i = 0; i < ids.length; i += ATHENA_BATCH_SIZE) {
    const batch = ids.slice(i, i + ATHENA_BATCH_SIZE);
    const response = await athena.send(new BatchGetQueryExecutionCommand({ QueryExecutionIds: batch }));
    calls++;
    executions.push(...(response.QueryExecutions ?? []));
    unprocessed += response.UnprocessedQueryExecutionIds?.length ?? 0;
  }
  return { executions, unprocessed, calls };
}
