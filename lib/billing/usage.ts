/**
 * Query usage: one line per charged query, from whichever record the deployment has.
 * Locally that is the CloudTrail-format trail `sde query` writes (Athena
 * StartQueryExecution records carrying the bytes scanned); on AWS it is Athena's own
 * query metadata (lib/billing/athena-usage.ts), because real CloudTrail records of
 * StartQueryExecution do not say how much data the query went on to scan.
 *
 * Athena's billing rules are modelled (and documented in the README, "Charging"):
 * - data scanned is rounded **up** to the next whole megabyte, with a **10 MB minimum
 *   per query** (megabytes and terabytes are decimal: 1 MB = 10^6 bytes, 1 TB = 10^12
 *   bytes, as in the schema's 10 MB scan-limit floor);
 * - refused or failed queries and DDL statements are not charged; a cancelled query is
 *   charged for what it had scanned (the Athena adapter decides which is which).
 */
import type { CloudTrailRecord } from '../audit/cloudtrail-record';
import { SDE_PROJECT_FIELD, SDE_QUERY_STATE_FIELD } from '../audit/local-audit-events';

export const BYTES_PER_MB = 1_000_000;
export const BYTES_PER_TB = 1_000_000_000_000;
/** Athena's minimum charge per query. */
export const MINIMUM_BILLED_BYTES = 10 * BYTES_PER_MB;

/** One charged query. Names the query and the workgroup, never the person who ran it. */
export interface QueryUsage {
  readonly projectId: string;
  readonly workgroup: string;
  /** Athena's QueryExecutionId (locally, the id the audit record carries; else its eventID). */
  readonly queryId: string;
  /** When the query was submitted, ISO 8601 UTC. */
  readonly time: string;
  readonly bytesScanned: number;
}

/** The bytes a query is billed for: rounded up to whole MB, at least 10 MB. */
export function billedBytes(bytesScanned: number): number {
  const mb = Math.ceil(Math.max(0, bytesScanned) / BYTES_PER_MB);
  return Math.max(MINIMUM_BILLED_BYTES, mb * BYTES_PER_MB);
}

/** Maps an Athena workgroup name to the project it belongs to (see lib/config/naming.ts). */
export type WorkgroupProjects = (workgroup: string) => string | undefined;

export interface TrailUsage {
  readonly usage: QueryUsage[];
  /** Allowed queries whose record had no usable byte count: reported, never billed as zero silently. */
  readonly withoutBytes: number;
  /** Refused queries seen (never charged). */
  readonly refused: number;
  /** Queries accepted that then failed, a mistake in the SQL (never charged, as on Athena). @default 0 */
  readonly failed?: number;
}

function stringField(obj: Record<string, unknown> | null | undefined, key: string): string | undefined {
  const v = obj?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The charged queries in CloudTrail-format records: successful Athena
 * StartQueryExecution calls in a project workgroup. The project comes from the
 * workgroup (what AWS bills by), cross-checked with the local `sdeProjectId` field.
 */
export function usageFromTrail(records: readonly CloudTrailRecord[], projectOf: WorkgroupProjects): TrailUsage {
  const usage: QueryUsage[] = [];
  let withoutBytes = 0;
  let refused = 0;
  let failed = 0;
  for (const r of records) {
    if (r.eventSource !== 'athena.amazonaws.com' || r.eventName !== 'StartQueryExecution') continue;
    const workgroup = stringField(r.requestParameters, 'workGroup');
    const projectId = (workgroup === undefined ? undefined : projectOf(workgroup)) ?? stringField(r.additionalEventData, SDE_PROJECT_FIELD);
    if (projectId === undefined || workgroup === undefined) continue;
    if (r.errorCode !== undefined) {
      refused++;
      continue;
    }
    if (r.additionalEventData?.[SDE_QUERY_STATE_FIELD] === 'FAILED') {
      failed++;
      continue;
    }
    const bytes = r.additionalEventData?.sdeBytesScanned;
    if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) {
      withoutBytes++;
      continue;
    }
    const queryId = stringField(r.responseElements, 'queryExecutionId') ?? r.eventID ?? `${r.eventTime}-${usage.length}`;
    usage.push({ projectId, workgroup, queryId, time: r.eventTime, bytesScanned: bytes });
  }
  return { usage, withoutBytes, refused, failed };
}
