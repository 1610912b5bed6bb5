import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError, WORKDIR_OPTION } from '../command';

const FORMATS = ['table', 'csv', 'json'] as const;

export const queryCommand: Command = {
  name: 'query',
  summary: "run SQL as a project, over the local curated data, within the project's approval",
  usage: '--project ID --sql "SELECT ..." [--format table|csv|json] [--max-rows N] [--config DIR] [--workdir DIR]',
  description: [
    'Runs one SELECT with DuckDB over the local curated Parquet, as the project: it sees only its approved',
    'tables, columns and rows (the same model the Lake Formation grants are built from). A query that reaches',
    'for anything else (another table or column, files, settings, several statements) is refused with a',
    'message naming the project and what it is not approved for, and returns no data. Every query, allowed',
    'or refused, is recorded in the local audit trail (CloudTrail format; see `sde audit`). A mistake in the',
    "SQL prints DuckDB's own message. The bytes scanned are those of the columns the query read, as Athena",
    'counts them (bills then charge each query at least 10 MB, as Athena does).',
    'Exit status: 0 on success, 1 when the query is refused or fails, or nothing has been ingested yet.',
  ].join('\n'),
  options: {
    project: { type: 'string', valueName: 'ID', description: 'the project to query as' },
    sql: { type: 'string', valueName: 'SQL', description: 'one SELECT statement' },
    format: { type: 'string', default: 'table', valueName: 'table|csv|json', description: 'output format' },
    'max-rows': { type: 'string', default: '1000', valueName: 'N', description: 'return at most N rows' },
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
      // Kept, as Athena keeps results, so the output airlock can take exactly this result.
      saveQueryResult(workdir, projectId, result.queryExecutionId, formatCsv(shown));
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
