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
  /**
   * How many of the month's queries have bytes scanned: local records carry them; on AWS
   * they come from Athena (`bytesByQueryId`), which keeps query history 45 days.
   */
  queriesWithBytes: number;
  /**
   * The month's data scanned as the previously published register gave it, used instead of
   * `bytesScanned` when Athena no longer knows enough of the month's queries (carry.ts).
   * `complete`: that figure measured every query of the month.
   */
  carried?: { readonly bytes: number; readonly complete: boolean };
  /** Output requests released through the airlock (one per request, in the month it was first released). */
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
  /** Project id by Athena workgroup name (lib/config/naming.ts `projectWorkgroupName`). */
  readonly projectByWorkgroup: ReadonlyMap<string, string>;
  /** The project ids in the config: records naming another project are not counted. */
  readonly projectIds: ReadonlySet<string>;
  /**
   * The airlock bucket (AirlockStack) whose S3 data events in the trail are releases on AWS.
   * Unset: no S3 event is read as a release.
   */
  readonly airlockBucket?: string;
  /**
   * Bytes scanned by query execution id, for query records that do not carry them (AWS:
   * CloudTrail's StartQueryExecution has the id in responseElements, Athena has the bytes).
   */
  readonly bytesByQueryId?: ReadonlyMap<string, number>;
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

/**
 * `released/<project>/<request>/manifest.json` (lib/airlock/s3-store.ts): the key whose
 * retagging completes a release. Project and request id as the airlock validates them.
 */
const RELEASE_MANIFEST_KEY = /^released\/([a-z][a-z0-9-]{2,39})\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/manifest\.json$/;

/** The tag value of the `sde-airlock` tag a PutObjectTagging record sets, when CloudTrail logged the body. */
function taggedValues(record: CloudTrailRecord): string[] | undefined {
  const tagging = record.requestParameters?.Tagging as { TagSet?: { Tag?: unknown } } | undefined;
  const tags = tagging?.TagSet?.Tag;
  if (tags === undefined) return undefined;
  return [tags]
    .flat()
    .filter((t): t is { Key: unknown; Value: unknown } => t !== null && typeof t === 'object')
    .filter((t) => t.Key === 'sde-airlock')
    .map((t) => String(t.Value));
}

/**
 * A release on AWS, from the airlock bucket's S3 data events. The release is the
 * successful PutObjectTagging of the request's `manifest.json` (to `sde-airlock=released`):
 * the airlock writes every file and the manifest tagged `staged` (unreadable, and the
 * release can still lose a race), saves the released state, then retags the files and the
 * manifest last, so this event is the moment the whole output became readable to the
 * project. The PutObject of the manifest is not a release.
 */
function s3Release(record: CloudTrailRecord, input: ActivityInput): { projectId: string; requestId: string } | undefined {
  if (input.airlockBucket === undefined || record.eventName !== 'PutObjectTagging' || str(record.errorCode) !== undefined) return undefined;
  if (str(record.requestParameters?.bucketName) !== input.airlockBucket) return undefined;
  const m = RELEASE_MANIFEST_KEY.exec(str(record.requestParameters?.key) ?? str(record.requestParameters?.Key) ?? '');
  if (!m || !input.projectIds.has(m[1])) return undefined;
  const values = taggedValues(record);
  // When the tag set is logged, it must be the released tag (a retag to `staged` is no release).
  if (values !== undefined && !values.includes('released')) return undefined;
  return { projectId: m[1], requestId: m[2] };
}

/** What a record counts as on the register, and for which project; undefined when it is not project use. */
export function classifyRecord(record: CloudTrailRecord, input: ActivityInput): { kind: ActivityKind; projectId: string; requestId?: string } | undefined {
  if (record.eventSource === 'athena.amazonaws.com' && record.eventName === 'StartQueryExecution') {
    const projectId = queryProject(record, input);
    if (projectId === undefined) return undefined;
    return { kind: str(record.errorCode) === undefined ? 'query' : 'refused', projectId };
  }
  if (record.eventSource === AIRLOCK_EVENT_SOURCE && record.eventName === 'ReleaseOutput' && str(record.errorCode) === undefined) {
    const id = str(record.additionalEventData?.[SDE_PROJECT_FIELD]) ?? str(record.requestParameters?.projectId);
    const requestId = str(record.requestParameters?.requestId) ?? str(record.additionalEventData?.sdeRequestId);
    return id !== undefined && input.projectIds.has(id) ? { kind: 'release', projectId: id, requestId } : undefined;
  }
  if (record.eventSource === 's3.amazonaws.com') {
    const release = s3Release(record, input);
    return release === undefined ? undefined : { kind: 'release', ...release };
  }
  return undefined;
}

/** The Athena query execution id of a StartQueryExecution record (responseElements), if any. */
export function queryExecutionId(record: CloudTrailRecord): string | undefined {
  const response = record.responseElements as Record<string, unknown> | null | undefined;
  return str(response?.queryExecutionId);
}

/**
 * The execution ids (with their workgroups) of the project queries in the trail that carry
 * no bytes scanned of their own: what the publisher asks Athena about. `since` (an ISO
 * time): older queries are left out, Athena having forgotten them (45 days of history).
 */
export function queriesToMeasure(records: Iterable<CloudTrailRecord>, input: ActivityInput, since?: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const record of records) {
    if (since !== undefined && record.eventTime < since) continue;
    if (classifyRecord(record, input)?.kind !== 'query' || bytesOf(record) !== undefined) continue;
    const id = queryExecutionId(record);
    const workgroup = str(record.requestParameters?.workGroup);
    if (id !== undefined && workgroup !== undefined) ids.set(id, workgroup);
  }
  return ids;
}

function bytesOf(record: CloudTrailRecord): number | undefined {
  const v = record.additionalEventData?.sdeBytesScanned;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function measuredBytes(record: CloudTrailRecord, input: ActivityInput): number | undefined {
  const own = bytesOf(record);
  if (own !== undefined) return own;
  const id = queryExecutionId(record);
  return id === undefined ? undefined : input.bytesByQueryId?.get(id);
}

/**
 * Sums the records per project and month. The same record delivered twice (the local
 * trail and the airlock's own event file can both hold it) is counted once, by eventID.
 * A release is counted once per project and request id, in the month of its earliest
 * event, however many records show it (a retag, or both an airlock `ReleaseOutput` and
 * the S3 retag of its manifest).
 */
export function summariseActivity(records: Iterable<CloudTrailRecord>, input: ActivityInput): Map<string, ProjectActivity> {
  const byProject = new Map<string, ProjectActivity>();
  const seen = new Set<string>();
  const releases = new Map<string, { projectId: string; time: string }>();
  const monthOf = (projectId: string, month: string): MonthActivity => {
    let project = byProject.get(projectId);
    if (!project) {
      project = { months: [] };
      byProject.set(projectId, project);
    }
    let m = project.months.find((x) => x.month === month);
    if (!m) {
      m = { month, queries: 0, refused: 0, bytesScanned: 0, queriesWithBytes: 0, outputsReleased: 0 };
      project.months.push(m);
    }
    return m;
  };
  for (const record of records) {
    const what = classifyRecord(record, input);
    if (what === undefined) continue;
    const eventId = str(record.eventID);
    if (eventId !== undefined) {
      if (seen.has(eventId)) continue;
      seen.add(eventId);
    }
    if (what.kind === 'release') {
      // Without a request id (an old local record), the record itself is the release.
      const key =
        what.requestId === undefined ? (eventId === undefined ? `record:${releases.size}` : `event:${eventId}`) : `request:${what.projectId}/${what.requestId}`;
      const earlier = releases.get(key);
      if (earlier === undefined || record.eventTime < earlier.time) releases.set(key, { projectId: what.projectId, time: record.eventTime });
      continue;
    }
    const month = record.eventTime.slice(0, 7);
    const day = record.eventTime.slice(0, 10);
    const m = monthOf(what.projectId, month);
    switch (what.kind) {
      case 'query': {
        m.queries++;
        const bytes = measuredBytes(record, input);
        if (bytes !== undefined) {
          m.bytesScanned += bytes;
          m.queriesWithBytes++;
        }
        const p = byProject.get(what.projectId)!;
        if (p.firstUse === undefined || day < p.firstUse) p.firstUse = day;
        if (p.lastUse === undefined || day > p.lastUse) p.lastUse = day;
        break;
      }
      case 'refused':
        m.refused++;
        break;
    }
  }
  for (const { projectId, time } of releases.values()) monthOf(projectId, time.slice(0, 7)).outputsReleased++;
  for (const p of byProject.values()) p.months.sort((a, b) => a.month.localeCompare(b.month));
  return byProject;
}
