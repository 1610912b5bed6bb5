/**
 * Kept query results, as Athena keeps them in the project's prefix of the results bucket:
 * `<workdir>/results/<project>/<query id>.csv`. The airlock takes an output from here by
 * query id (`sde output request --query-id ID`), so what is checked is exactly what the
 * audited query returned, not a file the researcher edited afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { QueryRecord } from '../query/provenance';
import { UsageError } from './command';

const QUERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PROJECT_ID = /^[a-z0-9][a-z0-9-]*$/;

/** Where a project's query result is kept; refuses ids that are not a query id (no path tricks). */
export function queryResultPath(workdir: string, projectId: string, queryExecutionId: string): string {
  if (!QUERY_ID.test(queryExecutionId)) throw new UsageError(`"${queryExecutionId}" is not a query id: sde query prints one (a UUID) after each query`);
  if (!PROJECT_ID.test(projectId)) throw new UsageError(`"${projectId}" is not a project id`);
  return path.join(path.resolve(workdir), 'results', projectId, `${queryExecutionId}.csv`);
}

/**
 * Keeps one result (CSV text), readable by the owner only, like the rest of the workdir,
 * and beside it the platform's record of how it was made (`<query id>.json`).
 */
export function saveQueryResult(workdir: string, projectId: string, queryExecutionId: string, csv: string, record?: QueryRecord): string {
  const file = queryResultPath(workdir, projectId, queryExecutionId);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, csv, { mode: 0o600 });
  if (record) fs.writeFileSync(file.replace(/\.csv$/, '.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** The record of how a kept result was made, or undefined for a result kept without one. */
export function readQueryRecord(workdir: string, projectId: string, queryExecutionId: string): QueryRecord | undefined {
  const file = queryResultPath(workdir, projectId, queryExecutionId).replace(/\.csv$/, '.json');
  if (!fs.existsSync(file)) return undefined;
  const record = JSON.parse(fs.readFileSync(file, 'utf8')) as QueryRecord;
  if (record.queryExecutionId !== queryExecutionId || record.projectId !== projectId)
    throw new UsageError(`${file} is not the record of query ${queryExecutionId}`);
  return record;
}

/** The kept result of one of the project's queries, or a clear error naming what to run. */
export function findQueryResult(workdir: string, projectId: string, queryExecutionId: string): string {
  const file = queryResultPath(workdir, projectId, queryExecutionId);
  if (!fs.existsSync(file)) {
    throw new UsageError(
      `project ${projectId} has no kept result for query ${queryExecutionId}: only a query run by the same project with sde query (in this --workdir) can be requested by id`,
    );
  }
  return file;
}
