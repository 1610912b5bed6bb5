/**
 * One local query end to end: fetch the curated zone from the local S3 API into the
 * workdir's cache, open the project's DuckDB session, run the SQL, close everything.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { dataAccessEvent, LocalAuditWriter, localAuditEnv, projectQueryEvent } from '../../audit/local-audit-writer';
import type { SdeConfig } from '../../config/model';
import { curatedDatabaseName } from '../../config/naming';
import { startLocalS3 } from '../s3-api/server';
import { bucketNames, workdirLayout } from '../workdir';
import { ProjectSession, QueryResult } from '../../query/project-session';
import { QueryRefused } from '../../query/sql-guard';
import { syncCurated } from '../../query/sync-curated';

export interface LocalQueryOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly projectId: string;
  readonly sql: string;
  readonly maxRows?: number;
  /** Who runs it: the role session name recorded in the audit trail. @default 'local-researcher' */
  readonly sessionName?: string;
}

/** Where the local curated zone is cached for DuckDB, inside the workdir. */
export function curatedCacheRoot(config: SdeConfig, workdir: string): string {
  return path.join(workdirLayout(workdir).cache, bucketNames(config).curated);
}

/** Brings the workdir's cache of the curated zone up to date from the local S3 API. */
export async function syncCuratedCache(config: SdeConfig, workdir: string): Promise<string> {
  const layout = workdirLayout(workdir);
  const curatedBucket = bucketNames(config).curated;
  const curatedRoot = curatedCacheRoot(config, workdir);
  const s3 = await startLocalS3({ directory: layout.s3, buckets: [curatedBucket], region: config.platform.aws.region });
  try {
    await syncCurated(s3.client, curatedBucket, curatedRoot);
  } finally {
    await s3.stop();
  }
  return curatedRoot;
}

/** Syncs the curated zone, then runs one audited query as the project (see queryAsProject). */
/** A query's result with the id it is recorded under (Athena's QueryExecutionId). */
export interface ProjectQueryResult extends QueryResult {
  readonly queryExecutionId: string;
}

export async function runLocalQuery(options: LocalQueryOptions): Promise<ProjectQueryResult> {
  const curatedRoot = await syncCuratedCache(options.config, options.workdir);
  return queryAsProject({ ...options, curatedRoot });
}

/**
 * Runs one query as the project over an already synced curated cache, and records it in
 * the local audit trail, allowed or refused, as Athena and Lake Formation record it on AWS.
 */
export async function queryAsProject(options: LocalQueryOptions & { readonly curatedRoot: string }): Promise<ProjectQueryResult> {
  const layout = workdirLayout(options.workdir);
  const env = localAuditEnv(options.config);
  const audit = LocalAuditWriter.open(layout.root, env);
  const who = { projectId: options.projectId, sessionName: options.sessionName ?? 'local-researcher' };
  const database = curatedDatabaseName(options.config);
  let session: ProjectSession | undefined;
  try {
    session = await ProjectSession.open({ config: options.config, projectId: options.projectId, curatedRoot: options.curatedRoot });
    const result = await session.query(options.sql, { maxRows: options.maxRows });
    const queryExecutionId = randomUUID();
    // One write batch, one signed head: the query and the table accesses it made.
    audit.appendAll([
      projectQueryEvent(env, { ...who, queryString: options.sql, bytesScanned: result.bytesScanned, tables: result.tables, database, queryExecutionId }),
      ...result.tables.map((table) => dataAccessEvent(env, { ...who, database, table, queryExecutionId })),
    ]);
    return { ...result, queryExecutionId };
  } catch (e) {
    if (e instanceof QueryRefused) audit.append(projectQueryEvent(env, { ...who, queryString: options.sql, database, refused: { message: e.message } }));
    throw e;
  } finally {
    session?.close();
  }
}
