/**
 * The risk query on AWS: run by the platform in Athena (a platform workgroup and role, never
 * a project's: a project's Lake Formation grant would hide the rows and columns the
 * measure needs), over the Glue tables of the curated zone. A thin adapter: start the
 * query, wait for it, read every page of its result. Any client with `send` works (AWS's,
 * or a stand-in in tests that runs the same SQL in DuckDB).
 */
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import type { RiskQueryRunner } from './disclosure-risk';

export interface AthenaRiskOptions {
  readonly athena: Pick<AthenaClient, 'send'>;
  /** The platform's Athena workgroup (its result location and encryption are the workgroup's). */
  readonly workgroup: string;
  /** How long to wait between polls. @default 1000 ms */
  readonly pollMs?: number;
  /** Give up after this long. @default 15 minutes */
  readonly timeoutMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class AthenaQueryError extends Error {}

/** Athena returns every value as a string; numbers are turned back into numbers by the caller. */
export function athenaRiskRunner(options: AthenaRiskOptions): RiskQueryRunner {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = options.pollMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  return {
    async run(sql: string) {
      const started = await options.athena.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: options.workgroup }));
      const id = started.QueryExecutionId;
      if (!id) throw new AthenaQueryError('Athena did not return a query execution id');
      for (let waited = 0; ; waited += pollMs) {
        const e = (await options.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
        const state = e?.Status?.State;
        if (state === 'SUCCEEDED') break;
        if (state === 'FAILED' || state === 'CANCELLED')
          throw new AthenaQueryError(`the risk query ${id} ${state.toLowerCase()}: ${e?.Status?.StateChangeReason ?? 'no reason given'}`);
        if (waited >= timeoutMs)
          throw new AthenaQueryError(`the risk query ${id} did not finish in ${Math.round(timeoutMs / 1000)} s (state ${state ?? 'unknown'})`);
        await sleep(pollMs);
      }
      const rows: Record<string, unknown>[] = [];
      let header: string[] | undefined;
      let token: string | undefined;
      do {
        const page = await options.athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }));
        const names = page.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => c.Name ?? '') ?? [];
        for (const row of page.ResultSet?.Rows ?? []) {
          const values = (row.Data ?? []).map((d) => d.VarCharValue ?? null);
          // The first row of the first page repeats the column names.
          if (header === undefined) {
            header = names.length > 0 ? names : values.map((v) => v ?? '');
            if (values.every((v, i) => v === header![i])) continue;
          }
          rows.push(Object.fromEntries(header.map((h, i) => [h, values[i]])));
        }
        token = page.NextToken;
      } while (token);
      return rows;
    },
  };
}
