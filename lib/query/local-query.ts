/**
 * One local query end to end: fetch the curated zone from the local S3 API into the
 * workdir's cache, open the project's DuckDB session, run the SQL, close everything.
 */
import * as path from 'node:path';
import type { SdeConfig } from '../config/model';
import { startLocalS3 } from '../local/s3-server';
import { bucketNames, workdirLayout } from '../local/workdir';
import { ProjectSession, QueryResult } from './project-session';
import { syncCurated } from './sync-curated';

export interface LocalQueryOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly projectId: string;
  readonly sql: string;
  readonly maxRows?: number;
}

export async function runLocalQuery(options: LocalQueryOptions): Promise<QueryResult> {
  const layout = workdirLayout(options.workdir);
  const curatedBucket = bucketNames(options.config).curated;
  const curatedRoot = path.join(layout.cache, curatedBucket);
  const s3 = await startLocalS3({ directory: layout.s3, buckets: [curatedBucket], region: options.config.platform.aws.region });
  try {
    await syncCurated(s3.client, curatedBucket, curatedRoot);
  } finally {
    await s3.stop();
  }
  const session = await ProjectSession.open({ config: options.config, projectId: options.projectId, curatedRoot });
  try {
    return await session.query(options.sql, { maxRows: options.maxRows });
  } finally {
    session.close();
  }
}
