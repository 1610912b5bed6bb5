/**
 * Athena's query metadata (GetQueryExecution / BatchGetQueryExecution) as billing usage.
 * Pure: takes the SDK's QueryExecution shape, makes no calls.
 *
 * Which executions are charged, following Athena's own pricing:
 * - SUCCEEDED and CANCELLED DML queries: for the bytes Athena says they scanned (a
 *   cancelled query is charged for what it scanned before it stopped);
 * - FAILED queries: not charged; DDL and UTILITY statements (CREATE, SHOW, DESCRIBE...):
 *   not charged;
 * - QUEUED and RUNNING: skipped and counted, so the job can say a month was not complete.
 * The 10 MB minimum and whole-MB rounding are applied later, by lib/billing (one rule
 * for the local and the AWS path).
 */
import type { QueryExecution } from '@aws-sdk/client-athena';
import type { QueryUsage, WorkgroupProjects } from './usage';

export interface AthenaUsage {
  readonly usage: QueryUsage[];
  /** Executions still queued or running: their month is not final yet. */
  readonly unfinished: number;
  /** Executions in no project's workgroup (e.g. the security team's): not billed to a project. */
  readonly otherWorkgroups: number;
}

const CHARGED_STATES = new Set(['SUCCEEDED', 'CANCELLED']);

export function usageFromAthena(executions: readonly QueryExecution[], projectOf: WorkgroupProjects): AthenaUsage {
  const usage: QueryUsage[] = [];
  let unfinished = 0;
  let otherWorkgroups = 0;
  for (const e of executions) {
    const state = e.Status?.State;
    if (state === 'QUEUED' || state === 'RUNNING') {
      unfinished++;
      continue;
    }
    if (state === undefined || !CHARGED_STATES.has(state)) continue;
    if (e.StatementType !== undefined && e.StatementType !== 'DML') continue;
    const projectId = e.WorkGroup === undefined ? undefined : projectOf(e.WorkGroup);
    if (projectId === undefined || e.WorkGroup === undefined) {
      otherWorkgroups++;
      continue;
    }
    const submitted = e.Status?.SubmissionDateTime;
    if (e.QueryExecutionId === undefined || submitted === undefined) continue;
    usage.push({
      projectId,
      workgroup: e.WorkGroup,
      queryId: e.QueryExecutionId,
      time: new Date(submitted).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      bytesScanned: e.Statistics?.DataScannedInBytes ?? 0,
    });
  }
  return { usage, unfinished, otherWorkgroups };
}
