/**
 * `sde query --athena`: the same SQL in the project's Athena workgroup, from the analysis
 * workspace. What a project can read is decided on AWS (Lake Formation's column and row
 * grants, the workgroup's enforced settings and scan cutoff, the role's network guard), so
 * no local check is made first: the request names the workgroup and database only.
 *
 * Pure parts (the request, the result as the local engine's QueryResult, the failure
 * message) and one small adapter (start, wait, page) over any `send`.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type Row,
} from '@aws-sdk/client-athena';
import { curatedDatabaseName, projectWorkgroupName } from '../config/naming';
import type { SdeConfig } from '../config/model';
import type { QueryResult } from './project-session';

export interface AthenaQueryRequest {
  readonly QueryString: string;
  readonly WorkGroup: string;
  readonly QueryExecutionContext: { readonly Catalog: 'AwsDataCatalog'; readonly Database: string };
}

/** The StartQueryExecution input: the project's own workgroup (its results location and encryption are enforced there). */
export function athenaQueryRequest(config: SdeConfig, projectId: string, sql: string): AthenaQueryRequest {
  if (!config.projects.some((p) => p.id === projectId)) throw new Error(`there is no project "${projectId}" in ${config.dir}`);
  return {
    QueryString: sql,
    WorkGroup: projectWorkgroupName(config, projectId),
    QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: curatedDatabaseName(config) },
  };
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint']);
const FLOAT_TYPES = new Set(['float', 'real', 'double']);

/** One Athena cell (always a string, or absent for NULL) as the local engine gives it. */
function cell(value: string | undefined, column: ColumnInfo | undefined): unknown {
  if (value === undefined) return null;
  const type = (column?.Type ?? 'varchar').toLowerCase();
  if (INTEGER_TYPES.has(type)) {
    const n = Number(value);
    // Beyond 2^53 a number would silently change; the digits are kept as text instead.
    return Number.isSafeInteger(n) ? n : value;
  }
  if (FLOAT_TYPES.has(type)) return Number(value);
  if (type === 'boolean') return value === 'true';
  return value;
}

/**
 * Athena's result pages as a QueryResult (what the local formats print). The first row of a
 * SELECT's first page repeats the column names; it is dropped by position, never by value
 * (a data row may hold the same text).
 */
export function athenaResult(pages: readonly { readonly columns?: readonly ColumnInfo[]; readonly rows: readonly Row[] }[], bytesScanned: number): QueryResult {
  const columns = pages.find((p) => p.columns !== undefined)?.columns ?? [];
  const rows: unknown[][] = [];
  pages.forEach((page, pageIndex) => {
    page.rows.forEach((row, i) => {
      if (pageIndex === 0 && i === 0) return;
      rows.push((row.Data ?? []).map((d, c) => cell(d.VarCharValue, columns[c])));
    });
  });
  return { columns: columns.map((c) => c.Name ?? c.Label ?? ''), rows, tables: [], bytesScanned };
}

/** Why a query did not succeed, for the researcher: Athena's own reason, with what to do for a permission one. */
export function athenaFailure(state: string | undefined, reason: string | undefined): string {
  const r = reason ?? 'Athena gave no reason';
  const hint = /insufficient (lake formation )?permissions|access denied|not authorized/i.test(r)
    ? " (the project's approval does not cover it: its columns and rows are those of sde access-matrix)"
    : '';
  return `the query ${(state ?? 'stopped').toLowerCase()}: ${r}${hint}`;
}

export class AthenaQueryFailed extends Error {}

export interface RunAthenaQueryOptions {
  readonly athena: Pick<AthenaClient, 'send'>;
  readonly request: AthenaQueryRequest;
  /** Stop reading after this many data rows. */
  readonly maxRows: number;
  /** @default 1000 */
  readonly pollMs?: number;
  /** @default 10 minutes */
  readonly timeoutMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AthenaQueryOutcome {
  readonly result: QueryResult;
  readonly queryExecutionId: string;
  /** Where the workgroup keeps the full result (the project's results prefix). */
  readonly outputLocation?: string;
}

/** Starts the query, waits for it, and reads at most `maxRows` rows of its result. */
export async function runAthenaQuery(options: RunAthenaQueryOptions): Promise<AthenaQueryOutcome> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = await options.athena.send(
    new StartQueryExecutionCommand({ ...options.request, QueryExecutionContext: { ...options.request.QueryExecutionContext } }),
  );
  const id = started.QueryExecutionId;
  if (id === undefined) throw new AthenaQueryFailed('Athena did not return a query execution id');
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  for (;;) {
    const execution = (await options.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
    const state = execution?.Status?.State;
    if (state === 'SUCCEEDED') {
      const pages: { columns?: ColumnInfo[]; rows: Row[] }[] = [];
      let token: string | undefined;
      let read = 0;
      do {
        const page = await options.athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
        const rows = page.ResultSet?.Rows ?? [];
        pages.push({ columns: page.ResultSet?.ResultSetMetadata?.ColumnInfo, rows });
        read += rows.length;
        token = page.NextToken;
      } while (token !== undefined && read <= options.maxRows);
      const result = athenaResult(pages, execution?.Statistics?.DataScannedInBytes ?? 0);
      return { result, queryExecutionId: id, outputLocation: execution?.ResultConfiguration?.OutputLocation };
    }
    if (state === 'FAILED' || state === 'CANCELLED') throw new AthenaQueryFailed(athenaFailure(state, execution?.Status?.StateChangeReason));
    if (Date.now() > deadline)
      throw new AthenaQueryFailed(`query ${id} did not finish in time (state ${state ?? 'unknown'}); it may still be running in the workgroup`);
    await sleep(options.pollMs ?? 1000);
  }
}
