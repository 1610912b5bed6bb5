/**
 * The questions security teams ask of the audit trail, as named SQL queries. One
 * definition per query (name, description, parameters, SQL) serves both engines:
 * - on AWS, each becomes an Athena named query in the security workgroup, over the Glue
 *   table of the trail (audit-table.ts), with `?` execution parameters;
 * - locally, `sde audit --query NAME` runs the same text in DuckDB over the same table
 *   shape, loaded from the local trail or from a folder of real CloudTrail files.
 *
 * The SQL is written in Athena's dialect (Trino). DuckDB runs it through three macros
 * (DUCKDB_TRINO_COMPAT: json_extract_scalar, regexp_like, array_join), and the text
 * avoids the spots where the engines differ: regexp_extract and split_part return NULL
 * in Trino but '' in DuckDB when nothing matches, so every use is wrapped in NULLIF or
 * compared in a way both agree on; concatenation uses `||` (NULL in both), and
 * concat_ws skips NULLs in both. A definition can still carry `athenaSql` where no
 * common text exists; none needs it today.
 *
 * Athena allows `?` parameters only in WHERE clauses and binds them by position, so each
 * parameter appears exactly once, in the order `parameters` lists them (checked when
 * rendering). An optional parameter takes '' for "all". No `?` appears anywhere else,
 * not even inside a string literal (regular expressions write `{0,1}`), so no tool can
 * mistake one for a parameter.
 *
 * Conventions the queries rely on (the workspace issue creates roles and workgroups by
 * the same names, through lib/config/naming.ts):
 * - a project's researchers act through the IAM role `<platform>-project-<project id>`
 *   and query in the Athena workgroup of the same name;
 * - local records name the project in `additionalEventData.sdeProjectId`.
 */
import type { SdeConfig } from '../config/model';
import { projectRoleName, projectWorkgroupName } from '../config/naming';
import { AUDIT_TABLE } from './audit-table';
import { accessDeniedCodeVariants } from './cloudtrail-record';
import { SDE_PROJECT_FIELD } from './local-audit-events';

export interface AuditProject {
  readonly id: string;
  readonly roleName: string;
  readonly workgroup: string;
  /** YYYY-MM-DD, inclusive. */
  readonly periodStart: string;
  readonly periodEnd: string;
}

/** Facts about the deployment the queries need (from the config, or the CDK app). */
export interface AuditQueryContext {
  readonly projects: readonly AuditProject[];
  /** Role names of project roles start with this (`<platform>-project-`). */
  readonly projectRolePrefix: string;
  /** Workgroup names of project workgroups start with this. */
  readonly projectWorkgroupPrefix: string;
  /** Names of the curated bucket(s): reads of `<dataset>/...` in them are reads of the dataset. */
  readonly curatedBuckets: readonly string[];
}

export function auditQueryContext(config: SdeConfig, overrides: Partial<AuditQueryContext> = {}): AuditQueryContext {
  return {
    projects: config.projects.map((p) => ({
      id: p.id,
      roleName: projectRoleName(config, p.id),
      workgroup: projectWorkgroupName(config, p.id),
      periodStart: p.period.start,
      periodEnd: p.period.end,
    })),
    projectRolePrefix: projectRoleName(config, ''),
    projectWorkgroupPrefix: projectWorkgroupName(config, ''),
    curatedBuckets: [],
    ...overrides,
  };
}

export interface QueryParameter {
  readonly name: string;
  readonly description: string;
  /** An optional parameter given as '' means "all". */
  readonly required: boolean;
  readonly example: string;
}

export interface NamedQueryDefinition {
  /** kebab-case, for `sde audit --query NAME`. */
  readonly name: string;
  /** Short title: the Athena named query's name (at most 128 characters). */
  readonly title: string;
  /** What it answers and how to read it (at most 1024 characters with the parameter list). */
  readonly description: string;
  readonly parameters: readonly QueryParameter[];
  /** Trino-dialect SQL with `{{parameter}}` markers. */
  readonly sql: (ctx: AuditQueryContext) => string;
  /** Athena text, only where the common text cannot serve. @default sql */
  readonly athenaSql?: (ctx: AuditQueryContext) => string;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const list = (items: readonly string[]) => items.map(lit).join(', ');
/** `x IN (...)`, or false for an empty list (SQL has no empty IN list). */
const inList = (expr: string, items: readonly string[]) => (items.length === 0 ? '1 = 0' : `${expr} IN (${list(items)})`);
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const json = (column: string, jsonPath: string) => `json_extract_scalar(t.${column}, ${lit(jsonPath)})`;

/** S3 object-level calls, for records older than eventVersion 1.07 (no eventCategory). */
const S3_OBJECT_EVENTS = [
  'GetObject',
  'HeadObject',
  'GetObjectAttributes',
  'SelectObjectContent',
  'PutObject',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'DeleteObject',
  'DeleteObjects',
  'RestoreObject',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
];
const LAKE_FORMATION_DATA_EVENTS = ['GetDataAccess', 'GetTemporaryGlueTableCredentials', 'GetTemporaryGluePartitionCredentials'];
const ATHENA_DATA_EVENTS = ['StartQueryExecution', 'GetQueryResults'];
const ASSUME_ROLE_EVENTS = ['AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity'];

export const LAKE_FORMATION_PERMISSION_EVENTS = [
  'GrantPermissions',
  'RevokePermissions',
  'BatchGrantPermissions',
  'BatchRevokePermissions',
  'PutDataLakeSettings',
  'CreateDataCellsFilter',
  'UpdateDataCellsFilter',
  'DeleteDataCellsFilter',
  'RegisterResource',
  'DeregisterResource',
  'UpdateResource',
  'CreateLFTag',
  'UpdateLFTag',
  'DeleteLFTag',
  'AddLFTagsToResource',
  'RemoveLFTagsFromResource',
  'CreateLFTagExpression',
  'UpdateLFTagExpression',
  'DeleteLFTagExpression',
  'CreateLakeFormationOptIn',
  'DeleteLakeFormationOptIn',
];

/** Calls that weaken or change what is recorded, who may read the buckets, or the keys. */
export const PROTECTION_CHANGE_EVENTS = {
  'cloudtrail.amazonaws.com': ['CreateTrail', 'DeleteTrail', 'UpdateTrail', 'StopLogging', 'StartLogging', 'PutEventSelectors', 'PutInsightSelectors'],
  's3.amazonaws.com': [
    'PutBucketPolicy',
    'DeleteBucketPolicy',
    'PutBucketAcl',
    'PutBucketPublicAccessBlock',
    'DeleteBucketPublicAccessBlock',
    'PutBucketOwnershipControls',
    'DeleteBucketOwnershipControls',
    'PutBucketEncryption',
    'DeleteBucketEncryption',
    'PutBucketVersioning',
    'PutBucketLogging',
    'PutBucketLifecycle',
    'DeleteBucketLifecycle',
    'PutBucketReplication',
    'DeleteBucketReplication',
    'PutObjectLockConfiguration',
    'DeleteBucket',
  ],
  'kms.amazonaws.com': [
    'DisableKey',
    'ScheduleKeyDeletion',
    'CancelKeyDeletion',
    'PutKeyPolicy',
    'DisableKeyRotation',
    'DeleteImportedKeyMaterial',
    'UpdateAlias',
    'DeleteAlias',
  ],
} as const;

/** Data access: data events (S3 objects and the like), Lake Formation credential vending, Athena queries. */
const DATA_ACCESS = `(t.eventcategory = 'Data'
    OR (t.eventcategory IS NULL AND t.eventsource IN ('s3.amazonaws.com', 's3-outposts.amazonaws.com') AND t.eventname IN (${list(S3_OBJECT_EVENTS)}))
    OR (t.eventsource = 'lakeformation.amazonaws.com' AND t.eventname IN (${list(LAKE_FORMATION_DATA_EVENTS)}))
    OR (t.eventsource = 'athena.amazonaws.com' AND t.eventname IN (${list(ATHENA_DATA_EVENTS)})))`;

/**
 * The person behind a call: the session's source identity (a project role admits a session
 * only for one of its named researchers, and the value then follows every call of the
 * session, also through Athena and Lake Formation); for an AssumeRole, the one it asks for.
 */
const SOURCE_IDENTITY = `COALESCE(t.useridentity.sessioncontext.sourceidentity,
    CASE WHEN t.eventsource = 'sts.amazonaws.com' THEN ${json('requestparameters', '$.sourceIdentity')} END)`;

/** The columns every result starts with. */
const COMMON = `t.eventtime AS event_time,
  t.eventsource AS event_source,
  t.eventname AS event_name,
  COALESCE(t.useridentity.arn, t.useridentity.principalid, t.useridentity.invokedby, t.useridentity.type) AS principal,
  ${SOURCE_IDENTITY} AS source_identity,
  t.errorcode AS error_code,
  t.awsregion AS aws_region,
  t.sourceipaddress AS source_ip,
  t.eventid AS event_id`;
const COMMON_NAMES = 'event_time, event_source, event_name, principal, source_identity, error_code, aws_region, source_ip, event_id';

const OBJECT_KEY = `COALESCE(${json('requestparameters', '$.key')}, ${json('requestparameters', '$.Key')})`;
const RESOURCE = `COALESCE(
    ${json('requestparameters', '$.bucketName')} || '/' || COALESCE(${OBJECT_KEY}, ''),
    ${json('requestparameters', '$.tableArn')},
    ${json('requestparameters', '$.workGroup')})`;
/** The role an AssumeRole call named; refused calls log no requestParameters, only the message. */
const ASSUMED_ROLE_ARN = `COALESCE(${json('requestparameters', '$.roleArn')}, NULLIF(regexp_extract(t.errormessage, 'on resource: (arn:[^ ]+)', 1), ''))`;

function projectsTable(ctx: AuditQueryContext): string {
  const cols = 'project_id, role_name, workgroup, period_start, period_end';
  if (ctx.projects.length === 0) {
    return `SELECT * FROM (VALUES ('', '', '', '', '')) AS v(${cols}) WHERE 1 = 0`;
  }
  const rows = ctx.projects.map((p) => `(${list([p.id, p.roleName, p.workgroup, p.periodStart, p.periodEnd])})`).join(',\n    ');
  return `SELECT * FROM (VALUES\n    ${rows}) AS v(${cols})`;
}

export const NAMED_QUERIES: readonly NamedQueryDefinition[] = [
  {
    name: 'data-access-by-person',
    title: 'Every data access by a named researcher',
    description:
      "Every data access (S3 and other data events, Lake Formation credential vending, Athena queries) in sessions opened for one person: their id as the project config names them (researchers[].id), which AWS records as the session's source identity and which the caller cannot change. Matched exactly, as AWS compares it.",
    parameters: [{ name: 'person', description: "the researcher's id (source identity)", required: true, example: 'NCL-R-0014' }],
    sql: () => `SELECT ${COMMON},
  ${RESOURCE} AS resource
FROM ${AUDIT_TABLE} t
WHERE ${DATA_ACCESS}
  AND t.useridentity.sessioncontext.sourceidentity = {{person}}
ORDER BY t.eventtime, t.eventid`,
  },
  {
    name: 'data-access-by-principal',
    title: 'Every data access by a principal',
    description:
      'Every data access (S3 and other data events, Lake Formation credential vending, Athena queries) by a principal: a role, user or session ARN, or any part of one (case-insensitive), matched against the caller, its role, the Lake Formation principal and the source identity (for one person exactly, use data-access-by-person).',
    parameters: [{ name: 'principal', description: 'ARN or part of one, e.g. a role name', required: true, example: 'ncl-icb-analyst' }],
    sql: () => `SELECT ${COMMON},
  ${RESOURCE} AS resource
FROM ${AUDIT_TABLE} t
WHERE ${DATA_ACCESS}
  AND strpos(lower(concat_ws(' ', t.useridentity.arn, t.useridentity.principalid, t.useridentity.sessioncontext.sessionissuer.arn, t.useridentity.sessioncontext.sourceidentity, ${json('additionaleventdata', '$.lakeFormationPrincipal')})), lower({{principal}})) > 0
ORDER BY t.eventtime, t.eventid`,
  },
  {
    name: 'dataset-access',
    title: 'Every access to a dataset',
    description:
      "Every access to a dataset: S3 object calls under <dataset>/ in the curated bucket (or under curated/<dataset>/ in any bucket), Lake Formation GetDataAccess for the dataset's table, and Athena queries in project workgroups that name it. access_path says which.",
    parameters: [{ name: 'dataset', description: 'dataset (curated table) name', required: true, example: 'hospital_episodes' }],
    sql: (ctx) => `SELECT ${COMMON_NAMES}, access_path, resource
FROM (
  SELECT ${COMMON},
    ${RESOURCE} AS resource,
    CASE
      WHEN t.eventsource = 'lakeformation.amazonaws.com' THEN 'lake-formation'
      WHEN t.eventsource = 'athena.amazonaws.com' THEN 'athena-query'
      ELSE 's3-object'
    END AS access_path,
    '|' || COALESCE(CASE
      WHEN t.eventsource = 'lakeformation.amazonaws.com'
        THEN NULLIF(regexp_extract(${json('requestparameters', '$.tableArn')}, '[^/]+$'), '')
      WHEN t.eventsource = 'athena.amazonaws.com' AND ${json('requestparameters', '$.workGroup')} LIKE ${lit(`${ctx.projectWorkgroupPrefix}%`)}
        THEN array_join(regexp_extract_all(lower(${json('requestparameters', '$.queryString')}), '[a-z0-9_]+'), '|')
      WHEN ${inList(json('requestparameters', '$.bucketName'), ctx.curatedBuckets)}
        THEN split_part(${OBJECT_KEY}, '/', 1)
      WHEN ${OBJECT_KEY} LIKE 'curated/%'
        THEN split_part(${OBJECT_KEY}, '/', 2)
    END, '') || '|' AS touched
  FROM ${AUDIT_TABLE} t
  WHERE ${DATA_ACCESS}
) d
WHERE strpos(d.touched, '|' || lower({{dataset}}) || '|') > 0
ORDER BY event_time, event_id`,
  },
  {
    name: 'lake-formation-permission-changes',
    title: 'Lake Formation permission changes',
    description:
      'Every call that changes who may read what through Lake Formation: grants and revokes (single and batch), data lake settings (administrators, default permissions), data cells filters, registered locations and LF-tags. Failed attempts are listed too (error_code set).',
    parameters: [],
    sql: () => `SELECT ${COMMON},
  ${json('requestparameters', '$.principal.dataLakePrincipalIdentifier')} AS grantee,
  t.requestparameters AS request
FROM ${AUDIT_TABLE} t
WHERE t.eventsource = 'lakeformation.amazonaws.com'
  AND t.eventname IN (${list(LAKE_FORMATION_PERMISSION_EVENTS)})
ORDER BY t.eventtime, t.eventid`,
  },
  {
    name: 'access-denied',
    title: 'Access denied events',
    description: `Every call refused for lack of permission: errorCode ${accessDeniedCodeVariants().join(', ')}. Bad requests, missing resources, throttling and failed sign-ins are not included.`,
    parameters: [],
    sql: () => `SELECT ${COMMON},
  t.errormessage AS error_message
FROM ${AUDIT_TABLE} t
WHERE t.errorcode IN (${list(accessDeniedCodeVariants())})
ORDER BY t.eventtime, t.eventid`,
  },
  {
    name: 'outside-approved-period',
    title: 'Accesses outside a project approved period',
    description:
      "Data accesses and role assumptions attributable to a project (its role <platform>-project-<id>, its workgroup, or sdeProjectId in local records) dated before the project's approved start or after its end (UTC dates, inclusive period). Periods are those of the config at deployment.",
    parameters: [{ name: 'project', description: "project id, or '' for every project", required: false, example: 'ncl-winter-planning' }],
    sql: (ctx) => `WITH projects AS (
  ${projectsTable(ctx)}
),
events AS (
  SELECT ${COMMON},
    ${json('additionaleventdata', `$.${SDE_PROJECT_FIELD}`)} AS sde_project,
    t.useridentity.sessioncontext.sessionissuer.username AS issuer_role,
    ${json('requestparameters', '$.workGroup')} AS workgroup,
    CASE WHEN t.eventsource = 'sts.amazonaws.com' THEN ${ASSUMED_ROLE_ARN} END AS assumed_role_arn,
    ${json('additionaleventdata', '$.lakeFormationPrincipal')} AS lf_principal
  FROM ${AUDIT_TABLE} t
  WHERE ${DATA_ACCESS}
    OR (t.eventsource = 'sts.amazonaws.com' AND t.eventname IN (${list(ASSUME_ROLE_EVENTS)}))
)
SELECT p.project_id, p.period_start, p.period_end,
  e.event_time, e.event_source, e.event_name, e.principal, e.source_identity, e.error_code, e.aws_region, e.source_ip, e.event_id
FROM events e
JOIN projects p ON (
  e.sde_project = p.project_id
  OR e.issuer_role = p.role_name
  OR e.workgroup = p.workgroup
  OR e.assumed_role_arn LIKE ('%/' || p.role_name)
  OR e.lf_principal LIKE ('%/' || p.role_name))
WHERE (substr(e.event_time, 1, 10) < p.period_start OR substr(e.event_time, 1, 10) > p.period_end)
  AND p.project_id = COALESCE(NULLIF({{project}}, ''), p.project_id)
ORDER BY e.event_time, e.event_id`,
  },
  {
    name: 'assume-project-role',
    title: 'Assume-role into project roles',
    description:
      'Every AssumeRole (also SAML and web identity) into a project role, allowed or refused, with the project the role belongs to and the person (source identity) the session was asked for. Refused calls carry no request parameters, so the role is read from the error message.',
    parameters: [{ name: 'project', description: "project id, or '' for every project", required: false, example: 'ucl-multimorbidity' }],
    sql: (ctx) => `SELECT ${COMMON_NAMES}, role_arn, project_id, role_session_name
FROM (
  SELECT x.*, NULLIF(regexp_extract(x.role_arn, ${lit(`:role/(.*/){0,1}${escapeRegex(ctx.projectRolePrefix)}([^/]+)$`)}, 2), '') AS project_id
  FROM (
    SELECT ${COMMON},
      ${ASSUMED_ROLE_ARN} AS role_arn,
      ${json('requestparameters', '$.roleSessionName')} AS role_session_name
    FROM ${AUDIT_TABLE} t
    WHERE t.eventsource = 'sts.amazonaws.com' AND t.eventname IN (${list(ASSUME_ROLE_EVENTS)})
  ) x
) r
WHERE r.project_id IS NOT NULL
  AND r.project_id = COALESCE(NULLIF({{project}}, ''), r.project_id)
ORDER BY event_time, event_id`,
  },
  {
    name: 'protection-changes',
    title: 'Changes to the trail, bucket policies and KMS keys',
    description:
      'Every call that changes what is recorded (trail created, deleted, updated, stopped; event selectors), who may reach the buckets (policy, ACL, public access block, ownership, encryption, versioning, logging, lifecycle, replication, Object Lock, deletion) or the keys (disable, deletion scheduled or cancelled, key policy, rotation off, aliases). Failed attempts are listed too.',
    parameters: [],
    sql: () => `SELECT ${COMMON},
  CASE t.eventsource WHEN 'cloudtrail.amazonaws.com' THEN 'trail' WHEN 'kms.amazonaws.com' THEN 'kms-key' ELSE 'bucket' END AS category,
  COALESCE(${json('requestparameters', '$.name')}, ${json('requestparameters', '$.trailName')}, ${json('requestparameters', '$.bucketName')},
    ${json('requestparameters', '$.keyId')}, ${json('requestparameters', '$.aliasName')}) AS target
FROM ${AUDIT_TABLE} t
WHERE ${Object.entries(PROTECTION_CHANGE_EVENTS)
      .map(([source, names]) => `(t.eventsource = ${lit(source)} AND t.eventname IN (${list(names)}))`)
      .join('\n   OR ')}
ORDER BY t.eventtime, t.eventid`,
  },
  {
    name: 'root-account-activity',
    title: 'Root account activity',
    description:
      'Every call made with the account root user itself (not by an AWS service on its behalf). The root user should be locked away: any use needs an explanation.',
    parameters: [],
    sql: () => `SELECT ${COMMON}
FROM ${AUDIT_TABLE} t
WHERE t.useridentity.type = 'Root'
  AND t.useridentity.invokedby IS NULL
  AND (t.eventtype IS NULL OR t.eventtype <> 'AwsServiceEvent')
ORDER BY t.eventtime, t.eventid`,
  },
];

/** A query name or parameter the user gave is wrong: fix the command line. */
export class AuditQueryError extends Error {}

export function findNamedQuery(name: string): NamedQueryDefinition {
  const found = NAMED_QUERIES.find((q) => q.name === name);
  if (!found) throw new AuditQueryError(`there is no audit query "${name}"; the queries are: ${NAMED_QUERIES.map((q) => q.name).join(', ')}`);
  return found;
}

export interface RenderedQuery {
  /** The SQL with `?` in place of each parameter. */
  readonly sql: string;
  /** Parameter names in the order of the `?` marks. */
  readonly parameterOrder: readonly string[];
}

const MARKER = /\{\{([a-z_]+)\}\}/g;

/** The text to run: Athena (execution parameters) or DuckDB (prepared statement); both bind `?` by position. */
export function renderQuery(def: NamedQueryDefinition, ctx: AuditQueryContext, engine: 'athena' | 'duckdb'): RenderedQuery {
  const text = (engine === 'athena' ? (def.athenaSql ?? def.sql) : def.sql)(ctx);
  const order = [...text.matchAll(MARKER)].map((m) => m[1]);
  const declared = def.parameters.map((p) => p.name);
  if (order.length !== declared.length || order.some((n, i) => n !== declared[i])) {
    throw new Error(
      `audit query ${def.name}: its SQL uses parameters [${order.join(', ')}] but declares [${declared.join(', ')}] (each must appear once, in order)`,
    );
  }
  return { sql: text.replace(MARKER, '?'), parameterOrder: order };
}

/** The Athena named query description: the query's description and how to fill its `?` marks. */
export function athenaDescription(def: NamedQueryDefinition): string {
  if (def.parameters.length === 0) return def.description;
  const params = def.parameters.map((p, i) => `${i + 1}. ${p.name}: ${p.description}${p.required ? '' : " ('' for all)"}, e.g. '${p.example}'`).join('; ');
  return `${def.description} Parameters, in order (quoted as strings): ${params}.`;
}

/**
 * Checks the values given for a query's parameters and returns them in `?` order.
 * Required parameters must be non-empty (an empty principal would match everyone).
 */
export function bindParameters(def: NamedQueryDefinition, given: Readonly<Record<string, string>>): string[] {
  const known = new Set(def.parameters.map((p) => p.name));
  const unknown = Object.keys(given).filter((k) => !known.has(k));
  const problems: string[] = [];
  if (unknown.length > 0) {
    problems.push(
      `unknown parameter${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (${def.name} takes ${def.parameters.length === 0 ? 'no parameters' : def.parameters.map((p) => p.name).join(', ')})`,
    );
  }
  for (const p of def.parameters) {
    if (p.required && (given[p.name] ?? '').trim() === '') problems.push(`${def.name} needs --param ${p.name}=VALUE (${p.description}, e.g. ${p.example})`);
  }
  if (problems.length > 0) throw new AuditQueryError(problems.join('; '));
  return def.parameters.map((p) => (given[p.name] ?? '').trim());
}
