import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import type { SdeConfig } from '../../config/model';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError, WORKDIR_OPTION } from '../command';

const FORMATS = ['table', 'csv', 'json'] as const;

export const queryCommand: Command = {
  name: 'query',
  summary: "run SQL as a project, over the local curated data, within the project's approval",
  usage: '--project ID --sql "SELECT ..." [--athena] [--format table|csv|json] [--max-rows N] [--config DIR] [--workdir DIR]',
  description: [
    'Runs one SELECT with DuckDB over the local curated Parquet, as the project: it sees only its approved',
    'tables, columns and rows (the same model the Lake Formation grants are built from). A query that reaches',
    'for anything else (another table or column, files, settings, several statements) is refused with a',
    'message naming the project and what it is not approved for, and returns no data. Every query, allowed',
    'or refused, is recorded in the local audit trail (CloudTrail format; see `sde audit`). A mistake in the',
    "SQL prints DuckDB's own message. The bytes scanned are those of the columns the query read, as Athena",
    'counts them (bills then charge each query at least 10 MB, as Athena does).',
    '',
    "With --athena, the same SQL runs in the project's Athena workgroup on AWS instead (from the analysis",
    'workspace: its results can be read only from there), with the default AWS credentials (the project role),',
    'in platform.yaml aws.region; Lake Formation decides what it may read, and the result is printed the same way',
    "and kept in the workgroup's results prefix. Nothing is recorded locally: CloudTrail is the record.",
    'Exit status: 0 on success, 1 when the query is refused or fails, or nothing has been ingested yet.',
  ].join('\n'),
  options: {
    project: { type: 'string', valueName: 'ID', description: 'the project to query as' },
    sql: { type: 'string', valueName: 'SQL', description: 'one SELECT statement' },
    format: { type: 'string', default: 'table', valueName: 'table|csv|json', description: 'output format' },
    'max-rows': { type: 'string', default: '1000', valueName: 'N', description: 'return at most N rows' },
    athena: { type: 'boolean', description: "run in the project's Athena workgroup on AWS (from the analysis workspace), not locally" },
    as: {
      type: 'string',
      valueName: 'ID',
      description: "the researcher running it, by their id in the project's config (default: its first researcher); recorded as the session's source identity",
    },
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    ...TODAY_OPTION,
  },
  async run({ values, out, err }) {
    const projectId = values.project as string | undefined;
    const sql = values.sql as string | undefined;
    if (!projectId) throw new UsageError('--project ID is required');
    if (!sql) throw new UsageError('--sql "SELECT ..." is required');
    const format = values.format as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${format}"`);
    const maxRows = Number(values['max-rows']);
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new UsageError(`--max-rows must be a positive whole number, not "${String(values['max-rows'])}"`);

    const config = loadConfig(values.config as string, { today: values.today as string | undefined });
    if (values.athena === true) return runOnAthena(config, projectId, sql, format, maxRows, values.as as string | undefined, out, err);
    // Loaded on use: DuckDB and the S3 server are heavy, and other commands do not need them.
    const { NothingIngested, runLocalQuery } = require('../../local/runners/query') as typeof import('../../local/runners/query');
    const { QueryFailed } = require('../../query/project-session') as typeof import('../../query/project-session');
    const { formatCsv, formatJson, formatTable } = require('../../reports/format') as typeof import('../../reports/format');
    const { QueryRefused } = require('../../query/sql-guard') as typeof import('../../query/sql-guard');
    const { saveQueryResult } = require('../query-results') as typeof import('../query-results');
    try {
      const workdir = path.resolve(values.workdir as string);
      const result = await runLocalQuery({ config, workdir, projectId, sql, maxRows: maxRows + 1, researcher: values.as as string | undefined });
      for (const table of result.emptyTables ?? []) err(`Note: no data has been ingested into table ${table} yet.`);
      const truncated = result.rows.length > maxRows;
      const shown = truncated ? { ...result, rows: result.rows.slice(0, maxRows) } : result;
      out((format === 'csv' ? formatCsv(shown) : format === 'json' ? formatJson(shown) : formatTable(shown)).trimEnd());
      err(
        `${shown.rows.length} row${shown.rows.length === 1 ? '' : 's'}${truncated ? ` (more not shown: raise --max-rows)` : ''}; ${result.bytesScanned} bytes scanned`,
      );
      // Kept, as Athena keeps results, so the output airlock can take exactly this result,
      // with the platform's record of how it was made (the release manifest carries it).
      const csv = formatCsv(shown);
      const { sha256Text } = require('../../query/provenance') as typeof import('../../query/provenance');
      saveQueryResult(workdir, projectId, result.queryExecutionId, csv, {
        queryExecutionId: result.queryExecutionId,
        projectId,
        sql,
        querySha256: sha256Text(sql),
        engine: result.engine,
        curatedObjects: result.curatedObjects,
        maxRows,
        ranAt: new Date().toISOString(),
        resultSha256: sha256Text(csv),
      });
      err(`query id ${result.queryExecutionId} (to ask for its release: sde output request --project ${projectId} --query-id ${result.queryExecutionId})`);
      return 0;
    } catch (e) {
      if (e instanceof QueryRefused) {
        err(`Refused: ${e.message}`);
        return 1;
      }
      if (e instanceof QueryFailed) {
        err(`Query failed: ${e.message}`);
        return 1;
      }
      if (e instanceof NothingIngested) {
        err(e.message);
        return 1;
      }
      throw e;
    }
  },
};

/** `--athena`: the project's workgroup on AWS, printed as a local result is. */
async function runOnAthena(
  config: SdeConfig,
  projectId: string,
  sql: string,
  format: (typeof FORMATS)[number],
  maxRows: number,
  as: string | undefined,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  if (as !== undefined)
    throw new UsageError('--as is for the local runtime: on AWS you query as the person your project-role session was opened for (its source identity)');
  const { AthenaQueryFailed, athenaQueryRequest, runAthenaQuery } = await import('../../query/athena-query');
  const { formatCsv, formatJson, formatTable } = await import('../../reports/format');
  let request;
  try {
    request = athenaQueryRequest(config, projectId, sql);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // The SDK warns on every client that Node 20 support ends in 2027: about our runtime, not the call.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { AthenaClient } = await import('@aws-sdk/client-athena');
  const region = config.platform.aws.region;
  const athena = new AthenaClient(region ? { region } : {});
  try {
    const { result, queryExecutionId, outputLocation } = await runAthenaQuery({ athena, request, maxRows });
    const truncated = result.rows.length > maxRows;
    const shown = truncated ? { ...result, rows: result.rows.slice(0, maxRows) } : result;
    out((format === 'csv' ? formatCsv(shown) : format === 'json' ? formatJson(shown) : formatTable(shown)).trimEnd());
    err(
      `${shown.rows.length} row${shown.rows.length === 1 ? '' : 's'}${truncated ? ' (more not shown: raise --max-rows)' : ''}; ${result.bytesScanned} bytes scanned`,
    );
    err(`query id ${queryExecutionId} in workgroup ${request.WorkGroup}${outputLocation ? `; result kept at ${outputLocation}` : ''}`);
    return 0;
  } catch (e) {
    if (e instanceof AthenaQueryFailed) {
      err(`Query failed: ${e.message}`);
      return 1;
    }
    const x = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (x?.name === 'CredentialsProviderError' || x?.name === 'TokenProviderError') {
      err(
        `sde query --athena: no AWS credentials: ${(x.message ?? '').replace(/\.$/, '')}. Sign in as the project role (from the analysis workspace), or leave out --athena to query the local data.`,
      );
      return 1;
    }
    if (x?.$metadata !== undefined) {
      err(`sde query --athena: AWS refused the call: ${x.name ?? 'Error'}: ${x.message ?? ''} (HTTP ${x.$metadata.httpStatusCode ?? '?'})`);
      return 1;
    }
    throw e;
  } finally {
    athena.destroy();
  }
}
