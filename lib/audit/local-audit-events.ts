/**
 * CloudTrail-format records for what the local runtime does, with the same field names
 * and shapes as the records AWS writes for the same actions, so that one set of named
 * queries answers the same questions locally and on AWS:
 * - an ingestion write: S3 `PutObject` to the curated bucket (a data event);
 * - a query run as a project: Athena `StartQueryExecution` in the project's workgroup,
 *   allowed or refused (`errorCode: AccessDenied`), with the bytes scanned;
 * - Lake Formation `GetDataAccess` for each table an allowed query reads (what Athena
 *   asks Lake Formation for on AWS);
 *
 * Output releases are recorded by the airlock itself, under its own event source
 * (lib/airlock/audit-events.ts), into the same trail.
 *
 * The SDE-specific facts ride in `additionalEventData` (a free-form field in real
 * records too), under `sde*` keys: `sdeProjectId` names the project the action was done
 * for. Pure: no I/O; the writer appends what these return.
 */
import { randomUUID } from 'node:crypto';
import type { SdeConfig } from '../config/model';
import { projectRoleName, projectWorkgroupName } from '../config/naming';
import { cloudTrailTime, stableIamUniqueId, type CloudTrailRecord, type UserIdentity } from './cloudtrail-record';

/** Written by CloudTrail in 2024-2025 records; the local writer uses the same. */
export const LOCAL_EVENT_VERSION = '1.09';
/** The account local records claim when platform.yaml names none: clearly not a real one. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'eu-west-2';
/** Where the local runtime's calls come from. */
export const LOCAL_SOURCE_IP = '127.0.0.1';

/** The `additionalEventData` key naming the project an action was done for. */
export const SDE_PROJECT_FIELD = 'sdeProjectId';
/** additionalEventData field: `FAILED` for a query accepted and then failed (Athena's final state). */
export const SDE_QUERY_STATE_FIELD = 'sdeQueryState';

export interface LocalAuditEnv {
  readonly accountId: string;
  readonly region: string;
  readonly platformName: string;
  /** The IAM role a project's researchers act through (lib/config/naming.ts). */
  readonly projectRoleName: (projectId: string) => string;
  /** The project's Athena workgroup (lib/config/naming.ts). */
  readonly projectWorkgroupName: (projectId: string) => string;
  readonly userAgent: string;
}

export function localAuditEnv(config: SdeConfig): LocalAuditEnv {
  return {
    accountId: config.platform.aws.account ?? LOCAL_ACCOUNT_ID,
    region: config.platform.aws.region ?? LOCAL_REGION,
    platformName: config.platform.name,
    projectRoleName: (id) => projectRoleName(config, id),
    projectWorkgroupName: (id) => projectWorkgroupName(config, id),
    userAgent: 'sde-local',
  };
}

/** An IAM role session: how every local actor appears (as on AWS, people act through roles). */
export interface LocalPrincipal {
  readonly roleName: string;
  /** The role session name; on AWS the researcher's sign-in name or the function name. */
  readonly sessionName: string;
  /** @default false */
  readonly mfaAuthenticated?: boolean;
  /** The person the session was opened for (a researcher's id): CloudTrail's sessionContext.sourceIdentity. @default none */
  readonly sourceIdentity?: string;
}

export function assumedRoleIdentity(env: LocalAuditEnv, principal: LocalPrincipal, time: Date, invokedBy?: string): UserIdentity {
  const roleId = stableIamUniqueId('AROA', principal.roleName);
  return {
    type: 'AssumedRole',
    principalId: `${roleId}:${principal.sessionName}`,
    arn: `arn:aws:sts::${env.accountId}:assumed-role/${principal.roleName}/${principal.sessionName}`,
    accountId: env.accountId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: roleId,
        arn: `arn:aws:iam::${env.accountId}:role/${principal.roleName}`,
        accountId: env.accountId,
        userName: principal.roleName,
      },
      attributes: { creationDate: cloudTrailTime(time), mfaAuthenticated: String(principal.mfaAuthenticated ?? false) },
      ...(principal.sourceIdentity === undefined ? {} : { sourceIdentity: principal.sourceIdentity }),
    },
    ...(invokedBy === undefined ? {} : { invokedBy }),
  };
}

/**
 * The researcher role session of a project. On AWS the role's trust admits a session only
 * when its name and its source identity are one of the project's researchers' ids, so the
 * local record names the person the same way.
 */
export function projectPrincipal(env: LocalAuditEnv, projectId: string, researcher: string): LocalPrincipal {
  return { roleName: env.projectRoleName(projectId), sessionName: researcher, mfaAuthenticated: true, sourceIdentity: researcher };
}

interface Common {
  /** @default now */
  readonly time?: Date;
  /** @default a random UUID */
  readonly eventID?: string;
}

function envelope(
  env: LocalAuditEnv,
  time: Date,
  eventID: string | undefined,
): Pick<
  CloudTrailRecord,
  'eventVersion' | 'eventTime' | 'awsRegion' | 'sourceIPAddress' | 'userAgent' | 'requestID' | 'eventID' | 'eventType' | 'recipientAccountId'
> {
  return {
    eventVersion: LOCAL_EVENT_VERSION,
    eventTime: cloudTrailTime(time),
    awsRegion: env.region,
    sourceIPAddress: LOCAL_SOURCE_IP,
    userAgent: env.userAgent,
    requestID: randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(),
    eventID: eventID ?? randomUUID(),
    eventType: 'AwsApiCall',
    recipientAccountId: env.accountId,
  };
}

function s3Resources(env: LocalAuditEnv, bucket: string, key: string) {
  return [
    { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
    { accountId: env.accountId, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
  ];
}

export interface IngestionWrite extends Common {
  readonly bucket: string;
  /** `<dataset>/<partition>/<batch>.parquet` in the curated bucket. */
  readonly key: string;
  readonly bytes: number;
  readonly dataset?: string;
  readonly batchId?: string;
  /** @default the `<platform>-ingest` role, session `local-ingest` */
  readonly principal?: LocalPrincipal;
}

/** Ingestion committing a curated object: an S3 PutObject data event (SSE-KMS, signed with SigV4). */
export function ingestionWriteEvent(env: LocalAuditEnv, e: IngestionWrite): CloudTrailRecord {
  const time = e.time ?? new Date();
  const principal = e.principal ?? { roleName: `${env.platformName}-ingest`, sessionName: 'local-ingest' };
  const base = envelope(env, time, e.eventID);
  return {
    eventVersion: base.eventVersion,
    userIdentity: assumedRoleIdentity(env, principal, time),
    eventTime: base.eventTime,
    eventSource: 's3.amazonaws.com',
    eventName: 'PutObject',
    awsRegion: base.awsRegion,
    sourceIPAddress: base.sourceIPAddress,
    userAgent: base.userAgent,
    requestParameters: {
      bucketName: e.bucket,
      Host: `${e.bucket}.s3.${env.region}.amazonaws.com`,
      key: e.key,
      'x-amz-server-side-encryption': 'aws:kms',
    },
    responseElements: { 'x-amz-server-side-encryption': 'aws:kms' },
    additionalEventData: {
      SignatureVersion: 'SigV4',
      AuthenticationMethod: 'AuthHeader',
      bytesTransferredIn: e.bytes,
      bytesTransferredOut: 0,
      ...(e.dataset === undefined ? {} : { sdeDataset: e.dataset }),
      ...(e.batchId === undefined ? {} : { sdeBatchId: e.batchId }),
    },
    requestID: base.requestID,
    eventID: base.eventID,
    readOnly: false,
    resources: s3Resources(env, e.bucket, e.key),
    eventType: base.eventType,
    managementEvent: false,
    recipientAccountId: base.recipientAccountId,
    eventCategory: 'Data',
  };
}

export interface ProjectQuery extends Common {
  readonly projectId: string;
  /** The researcher's session name (their sign-in name on AWS). */
  readonly sessionName: string;
  readonly queryString: string;
  /** Bytes read; Athena's "data scanned". @default 0 */
  readonly bytesScanned?: number;
  /** Curated tables the query read. */
  readonly tables?: readonly string[];
  readonly database?: string;
  /** Set when the query was refused: the message the researcher was shown. */
  readonly refused?: { readonly message: string };
  /**
   * Set when the query was accepted but failed (a mistake in the SQL). Athena records the
   * StartQueryExecution as a success and the query then fails; it is not charged.
   */
  readonly failed?: boolean;
  /** @default a random UUID */
  readonly queryExecutionId?: string;
}

/** A query run as a project: Athena StartQueryExecution in the project's workgroup. */
export function projectQueryEvent(env: LocalAuditEnv, q: ProjectQuery): CloudTrailRecord {
  const time = q.time ?? new Date();
  const base = envelope(env, time, q.eventID);
  const workGroup = env.projectWorkgroupName(q.projectId);
  const refused = q.refused !== undefined;
  return {
    eventVersion: base.eventVersion,
    userIdentity: assumedRoleIdentity(env, projectPrincipal(env, q.projectId, q.sessionName), time),
    eventTime: base.eventTime,
    eventSource: 'athena.amazonaws.com',
    eventName: 'StartQueryExecution',
    awsRegion: base.awsRegion,
    sourceIPAddress: base.sourceIPAddress,
    userAgent: base.userAgent,
    ...(refused ? { errorCode: 'AccessDenied', errorMessage: q.refused.message } : {}),
    requestParameters: {
      queryString: q.queryString,
      clientRequestToken: randomUUID(),
      ...(q.database === undefined ? {} : { queryExecutionContext: { catalog: 'AwsDataCatalog', database: q.database } }),
      workGroup,
    },
    responseElements: refused ? null : { queryExecutionId: q.queryExecutionId ?? randomUUID() },
    additionalEventData: {
      [SDE_PROJECT_FIELD]: q.projectId,
      sdeBytesScanned: refused || q.failed ? 0 : (q.bytesScanned ?? 0),
      sdeTables: [...(q.tables ?? [])],
      ...(q.failed ? { [SDE_QUERY_STATE_FIELD]: 'FAILED' } : {}),
    },
    requestID: base.requestID,
    eventID: base.eventID,
    readOnly: false,
    resources: [{ accountId: env.accountId, type: 'AWS::Athena::WorkGroup', ARN: `arn:aws:athena:${env.region}:${env.accountId}:workgroup/${workGroup}` }],
    eventType: base.eventType,
    managementEvent: true,
    recipientAccountId: base.recipientAccountId,
    eventCategory: 'Management',
  };
}

export interface TableDataAccess extends Common {
  readonly projectId: string;
  readonly sessionName: string;
  readonly database: string;
  readonly table: string;
  readonly queryExecutionId?: string;
}

/** Lake Formation vending credentials for one table of an allowed Athena query. */
export function dataAccessEvent(env: LocalAuditEnv, d: TableDataAccess): CloudTrailRecord {
  const time = d.time ?? new Date();
  const base = envelope(env, time, d.eventID);
  const principal = projectPrincipal(env, d.projectId, d.sessionName);
  return {
    eventVersion: base.eventVersion,
    userIdentity: assumedRoleIdentity(env, principal, time, 'athena.amazonaws.com'),
    eventTime: base.eventTime,
    eventSource: 'lakeformation.amazonaws.com',
    eventName: 'GetDataAccess',
    awsRegion: base.awsRegion,
    sourceIPAddress: 'athena.amazonaws.com',
    userAgent: 'athena.amazonaws.com',
    requestParameters: {
      tableArn: `arn:aws:glue:${env.region}:${env.accountId}:table/${d.database}/${d.table}`,
      permissions: ['SELECT'],
      auditContext: { additionalAuditContext: `{queryId: ${d.queryExecutionId ?? randomUUID()}}` },
      cellLevelSecurityEnforced: true,
    },
    responseElements: null,
    additionalEventData: {
      requesterService: 'ATHENA',
      lakeFormationPrincipal: `arn:aws:iam::${env.accountId}:role/${principal.roleName}`,
      [SDE_PROJECT_FIELD]: d.projectId,
    },
    requestID: base.requestID,
    eventID: base.eventID,
    readOnly: true,
    eventType: base.eventType,
    managementEvent: true,
    recipientAccountId: base.recipientAccountId,
    eventCategory: 'Management',
  };
}
