/**
 * One local query end to end: fetch the curated zone from the local S3 API into the
 * workdir's cache, open the project's DuckDB session, run the SQL, close everything.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { dataAccessEvent, LocalAuditWriter, localAuditEnv, projectQueryEvent } from '../../audit/local-audit-writer';
import type { SdeConfig } from '../../config/model';
import { curatedDatabaseName } from '../../config/naming';
import { startLocalS3 } from '../s3-api/server';
import { bucketNames, workdirLayout } from '../workdir';
import { ProjectSession, QueryFailed, QueryResult } from '../../query/project-session';
import { QueryRefused } from '../../query/sql-guard';
import { syncCurated } from '../../query/sync-curated';

export interface LocalQueryOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly projectId: string;
  readonly sql: string;
  readonly maxRows?: number;
  /**
   * The researcher running it: their id among the project's researchers (config
   * `researchers[].id`), recorded as the session's name and source identity, as on AWS.
   * @default the project's first researcher
   */
  readonly researcher?: string;
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

/** A query's result with the id it is recorded under (Athena's QueryExecutionId). */
export interface ProjectQueryResult extends QueryResult {
  readonly queryExecutionId: string;
}

/** The workdir's curated zone holds nothing: there is no data to query yet. */
export class NothingIngested extends Error {
  constructor(workdir: string) {
    super(
      `Nothing has been ingested into ${workdir} yet, so there is no curated data to query. ` +
        'Run `sde demo` to load a synthetic population, or `sde ingest --dataset NAME --file FILE` to load an extract ' +
        '(with the same --workdir), then query again.',
    );
    this.name = 'NothingIngested';
  }
}

function holdsParquet(dir: string): boolean {
  return fs.existsSync(dir) && fs.readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => e.isFile() && e.name.endsWith('.parquet'));
}

/** Syncs the curated zone, then runs one audited query as the project (see queryAsProject). */
export async function runLocalQuery(options: LocalQueryOptions): Promise<ProjectQueryResult> {
  const curatedRoot = await syncCuratedCache(options.config, options.workdir);
  if (!holdsParquet(curatedRoot)) throw new NothingIngested(options.workdir);
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
  const project = options.config.projects.find((p) => p.id === options.projectId);
  const researcher = options.researcher ?? project?.researchers[0]?.id ?? 'unknown';
  const who = { projectId: options.projectId, sessionName: researcher };
  const database = curatedDatabaseName(options.config);
  let session: ProjectSession | undefined;
  try {
    // On AWS someone else cannot open a session of the project role at all (its trust names the people).
    if (project && !project.researchers.some((r) => r.id === researcher)) {
      throw new QueryRefused(
        'not_a_researcher',
        `"${researcher}" is not one of the named researchers of project ${project.id} (${project.researchers.map((r) => r.id).join(', ')}).`,
      );
    }
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
    if (e instanceof QueryFailed)
      audit.append(projectQueryEvent(env, { ...who, queryString: options.sql, database, failed: true, queryExecutionId: randomUUID() }));
    throw e;
  } finally {
    session?.close();
  }
}
