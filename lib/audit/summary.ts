/**
 * A short account of a local audit trail, for `sde demo` to print at the end of a run:
 * what was recorded, per project, and whether the hash chain is intact.
 */
import * as path from 'node:path';
import { AIRLOCK_EVENT_SOURCE } from '../airlock/audit-events';
import type { CloudTrailRecord } from './cloudtrail-record';
import { AUDIT_DIR, SDE_PROJECT_FIELD } from './local-audit-writer';
import { plural } from './findings';
import { verifyTrail } from './verify';

export interface ProjectActivity {
  queriesAllowed: number;
  queriesRefused: number;
  bytesScanned: number;
  releases: number;
}

export interface AuditSummary {
  readonly records: number;
  readonly ingestionWrites: number;
  readonly queriesAllowed: number;
  readonly queriesRefused: number;
  readonly releases: number;
  readonly byProject: ReadonlyMap<string, ProjectActivity>;
}

/**
 * The S3 calls that make an object appear: a write each. (A multipart upload's
 * CreateMultipartUpload and parts are steps of the one CompleteMultipartUpload; deletes of
 * ingestion's own staging are not writes of data.)
 */
const OBJECT_CREATING_CALLS = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload']);

/** Pure: counts what a set of local records says happened. */
export function summariseAudit(records: readonly CloudTrailRecord[]): AuditSummary {
  let ingestionWrites = 0;
  let queriesAllowed = 0;
  let queriesRefused = 0;
  let releases = 0;
  const byProject = new Map<string, ProjectActivity>();
  for (const r of records) {
    const extra = r.additionalEventData ?? {};
    const project = typeof extra[SDE_PROJECT_FIELD] === 'string' ? (extra[SDE_PROJECT_FIELD] as string) : undefined;
    const activity = project === undefined ? undefined : (byProject.get(project) ?? { queriesAllowed: 0, queriesRefused: 0, bytesScanned: 0, releases: 0 });
    if (project !== undefined && activity) byProject.set(project, activity);
    if (r.eventSource === 'athena.amazonaws.com' && r.eventName === 'StartQueryExecution') {
      if (r.errorCode === undefined) {
        queriesAllowed++;
        if (activity) {
          activity.queriesAllowed++;
          activity.bytesScanned += typeof extra.sdeBytesScanned === 'number' ? extra.sdeBytesScanned : 0;
        }
      } else {
        queriesRefused++;
        if (activity) activity.queriesRefused++;
      }
    } else if (r.eventSource === AIRLOCK_EVENT_SOURCE && r.eventName === 'ReleaseOutput') {
      // The airlock records each release (and each refused attempt) under its own source.
      if (r.errorCode === undefined) {
        releases++;
        if (activity) activity.releases++;
      }
    } else if (r.eventSource === 's3.amazonaws.com' && OBJECT_CREATING_CALLS.has(r.eventName) && r.errorCode === undefined) {
      // Locally only ingestion writes to the S3 API (the airlock keeps its files in the workdir).
      ingestionWrites++;
    }
  }
  return { records: records.length, ingestionWrites, queriesAllowed, queriesRefused, releases, byProject };
}

/** Reads `<workdir>/audit`, verifies it (chain and signed heads), and describes it in a few lines. */
export async function localAuditSummary(workdir: string): Promise<string[]> {
  const dir = path.join(workdir, AUDIT_DIR);
  const report = await verifyTrail(dir);
  const s = summariseAudit((report.read?.records ?? []).map((r) => r.record));
  const chain = report.localChain;
  const head = chain?.latestSignedHead;
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const lines = [
    `audit: ${plural(s.records, 'record')} in ${dir} (${plural(s.ingestionWrites, 'ingestion write')}, ${plural(s.queriesAllowed, 'query', 'queries')} allowed, ${s.queriesRefused} refused, ${plural(s.releases, 'output release')})`,
    report.ok && head
      ? `  verified: hash chain of ${plural(chain.chainEntries, 'entry', 'entries')}, signed head ${head.sha256.slice(0, 16)}… (entry ${head.seq}, key ${head.key.slice(0, 16)}…)`
      : `  NOT verified: ${plural(errors, 'problem')}; run \`sde audit verify --workdir ${workdir}\``,
  ];
  for (const [project, a] of [...s.byProject].sort(([x], [y]) => x.localeCompare(y))) {
    lines.push(
      `  ${project}: ${plural(a.queriesAllowed, 'query', 'queries')} allowed (${a.bytesScanned} bytes scanned), ${a.queriesRefused} refused, ${plural(a.releases, 'release')}`,
    );
  }
  return lines;
}
