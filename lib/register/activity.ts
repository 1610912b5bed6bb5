/**
 * Project activity from the audit trail: which records are a project's use of the data,
 * and their sums per calendar month (UTC). Pure: records in, raw sums out.
 *
 * The raw sums are NOT publishable: they can hold small counts. Only `buildRegister`
 * (model.ts) turns them into public figures, after the disclosure threshold is applied.
 * Nothing that identifies a person (userIdentity, session names, query text, row values)
 * is ever read from a record here, so it cannot leak into the register by mistake.
 */
import type { CloudTrailRecord } from '../audit/cloudtrail-record';
import { SDE_PROJECT_FIELD } from '../audit/local-audit-events';
import { AIRLOCK_EVENT_SOURCE } from '../airlock/audit-events';

export interface MonthActivity {
  /** `YYYY-MM` (UTC). */
  readonly month: string;
  /** Queries run (Athena StartQueryExecution that succeeded). */
  queries: number;
  /** Queries refused (StartQueryExecution with an error code). */
  refused: number;
  /** Bytes scanned by the queries that recorded it. */
  bytesScanned: number;
  /** How many of the month's queries recorded bytes scanned (local records do; AWS CloudTrail does not). */
  queriesWithBytes: number;
  /** Output requests released through the airlock. */
  outputsReleased: number;
}

export interface ProjectActivity {
  /** Ordered by month. */
  readonly months: MonthActivity[];
  /** Day (YYYY-MM-DD, UTC) of the first and last query run. */
  firstUse?: string;
  lastUse?: string;
}

export interface ActivityInput {
  /** Project id by Athena workgroup name (lib/naming.ts `projectWorkgroupName`). */
  readonly projectByWorkgroup: ReadonlyMap<string, string>;
  /** The project ids in the config: records naming another project are not counted. */
  readonly projectIds: ReadonlySet<string>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * The project a query record belongs to. On AWS the workgroup is the only reliable
 * attribution (every project has its own, with enforced settings); local records carry
 * the same workgroup plus `sdeProjectId`, used only when the workgroup is absent.
 */
function queryProject(record: CloudTrailRecord, input: ActivityInput): string | undefined {
  const workgroup = str(record.requestParameters?.workGroup);
  if (workgroup !== undefined) return input.projectByWorkgroup.get(workgroup);
  const id = str(record.additionalEventData?.[SDE_PROJECT_FIELD]);
  return id !== undefined && input.projectIds.has(id) ? id : undefined;
}

export type ActivityKind = 'query' | 'refused' | 'release';

/** What a record counts as on the register, and for which project; undefined when it is not project use. */
export function classifyRecord(record: CloudTrailRecord, input: ActivityInput): { kind: ActivityKind; projectId: string } | undefined {
  if (record.eventSource === 'athena.amazonaws.com' && record.eventName === 'StartQueryExecution') {
    const projectId = queryProject(record, input);
    if (projectId === undefined) return undefined;
    return { kind: str(record.errorCode) === undefined ? 'query' : 'refused', projectId };
  }
  if (record.eventSource === AIRLOCK_EVENT_SOURCE && record.eventName === 'ReleaseOutput' && str(record.errorCode) === undefined) {
    const id = str(record.additionalEventData?.[SDE_PROJECT_FIELD]) ?? str(record.requestParameters?.projectId);
    return id !== undefined && input.projectIds.has(id) ? { kind: 'release', projectId: id } : undefined;
  }
  return undefined;
}

function bytesOf(record: CloudTrailRecord): number | undefined {
  const v = record.additionalEventData?.sdeBytesScanned;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Sums the records per project and month. The same record delivered twice (the local
 * trail and the airlock's own event file can both hold it) is counted once, by eventID.
 */
export function summariseActivity(records: Iterable<CloudTrailRecord>, input: ActivityInput): Map<string, ProjectActivity> {
  const byProject = new Map<string, ProjectActivity>();
  const seen = new Set<string>();
  for (const record of records) {
    const what = classifyRecord(record, input);
    if (what === undefined) continue;
    const eventId = str(record.eventID);
    if (eventId !== undefined) {
      if (seen.has(eventId)) continue;
      seen.add(eventId);
    }
    const month = record.eventTime.slice(0, 7);
    const day = record.eventTime.slice(0, 10);
    let project = byProject.get(what.projectId);
    if (!project) {
      project = { months: [] };
      byProject.set(what.projectId, project);
    }
    let m = project.months.find((x) => x.month === month);
    if (!m) {
      m = { month, queries: 0, refused: 0, bytesScanned: 0, queriesWithBytes: 0, outputsReleased: 0 };
      project.months.push(m);
    }
    switch (what.kind) {
      case 'query': {
        m.queries++;
        const bytes = bytesOf(record);
        if (bytes !== undefined) {
          m.bytesScanned += bytes;
          m.queriesWithBytes++;
        }
        if (project.firstUse === undefined || day < project.firstUse) project.firstUse = day;
        if (project.lastUse === undefined || day > project.lastUse) project.lastUse = day;
        break;
      }
      case 'refused':
        m.refused++;
        break;
      case 'release':
        m.outputsReleased++;
        break;
    }
  }
  for (const p of byProject.values()) p.months.sort((a, b) => a.month.localeCompare(b.month));
  return byProject;
}
