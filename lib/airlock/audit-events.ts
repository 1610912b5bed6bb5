/**
 * CloudTrail-shaped audit records of the airlock's actions, so the same reader, named
 * queries and alarms that serve the rest of the platform's trail serve these too.
 *
 * Conventions (as lib/audit/README.md asks of local records):
 * - eventSource `sde-airlock.local`; eventName is the action (SubmitOutputRequest,
 *   CheckOutputRequest, ApproveOutputRequest, ReturnOutputRequest, RejectOutputRequest,
 *   ReleaseOutput, CompleteOutputRelease). As in CloudTrail, a refused call keeps its eventName and carries an
 *   errorCode and errorMessage: a refused approval is ApproveOutputRequest + AccessDenied.
 * - Refusals that are about who may do what use `AccessDenied`, so the access-denied
 *   query and alarm count them (a burst of them is someone probing the two-person rule);
 *   others use the code an AWS service would (ValidationException, BadDigest, ...).
 * - The project is in `additionalEventData.sdeProjectId`, the request in `sdeRequestId`.
 *
 * Pure: the caller supplies time and ids; nothing is written here (see the CLI's sink).
 */
import { randomUUID } from 'node:crypto';
import { cloudTrailTime, stableIamUniqueId } from '../audit/cloudtrail-record';

export const AIRLOCK_EVENT_SOURCE = 'sde-airlock.local';
export const AIRLOCK_EVENT_VERSION = '1.09';
/** The account local records claim when platform.yaml names none: clearly not a real one. */
export const AIRLOCK_LOCAL_ACCOUNT = '000000000000';
export const AIRLOCK_LOCAL_REGION = 'eu-west-2';

export type AirlockEventName =
  | 'SubmitOutputRequest'
  | 'CheckOutputRequest'
  | 'ApproveOutputRequest'
  | 'ReturnOutputRequest'
  | 'RejectOutputRequest'
  | 'ReleaseOutput'
  /** A release recorded but not yet readable, made readable (not a second release: not counted as one). */
  | 'CompleteOutputRelease';

export interface AirlockAuditEnv {
  readonly accountId: string;
  readonly region: string;
  /**
   * A project's researcher role (lib/config/naming.ts): a researcher, named by their id,
   * acts through it, with their id as the session's source identity, as on AWS.
   * @default - a name that is not an ARN appears as an IAM user
   */
  readonly projectRoleName?: (projectId: string) => string;
  /** @default randomUUID */
  readonly newId?: () => string;
}

/** The shape of a CloudTrail record (lib/audit/cloudtrail-record.ts reads it as a CloudTrailRecord). */
export interface AirlockAuditEvent {
  readonly eventVersion: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: AirlockEventName;
  readonly awsRegion: string;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly userIdentity: Record<string, unknown>;
  readonly requestParameters: Record<string, unknown>;
  readonly responseElements: Record<string, unknown> | null;
  readonly additionalEventData: Record<string, unknown>;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestID: string;
  readonly eventID: string;
  readonly readOnly: boolean;
  readonly resources: readonly { readonly type: string; readonly ARN: string; readonly accountId: string }[];
  readonly eventType: 'AwsApiCall';
  readonly managementEvent: true;
  readonly recipientAccountId: string;
  readonly eventCategory: 'Management';
}

/** An audit sink: where the CLI hands each event (the local hash-chained writer, a file, a test array). */
export type AuditSink = (event: AirlockAuditEvent) => void | Promise<void>;

const ROLE_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;
const USER_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):user\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

/**
 * How a principal appears in userIdentity: a role as an assumed-role session (people act
 * through roles on AWS), a user as an IAM user, and a local name (the local runtime has no
 * IAM) as an IAM user of the record's account.
 */
export function principalIdentity(env: AirlockAuditEnv, principal: string, projectId?: string): Record<string, unknown> {
  const role = ROLE_ARN.exec(principal);
  if (role) {
    const [, partition, account, name] = role;
    const roleId = stableIamUniqueId('AROA', principal);
    return {
      type: 'AssumedRole',
      principalId: `${roleId}:sde-airlock`,
      arn: `arn:${partition}:sts::${account}:assumed-role/${name}/sde-airlock`,
      accountId: account,
      sessionContext: { sessionIssuer: { type: 'Role', principalId: roleId, arn: principal, accountId: account, userName: name } },
    };
  }
  const user = USER_ARN.exec(principal);
  if (user) {
    const [, , account, name] = user;
    return { type: 'IAMUser', principalId: stableIamUniqueId('AIDA', principal), arn: principal, accountId: account, userName: name };
  }
  if (projectId !== undefined && env.projectRoleName !== undefined) {
    // A researcher by id: a session of the project role whose source identity is the person.
    const name = env.projectRoleName(projectId);
    const roleArn = `arn:aws:iam::${env.accountId}:role/${name}`;
    const roleId = stableIamUniqueId('AROA', roleArn);
    return {
      type: 'AssumedRole',
      principalId: `${roleId}:${principal}`,
      arn: `arn:aws:sts::${env.accountId}:assumed-role/${name}/${principal}`,
      accountId: env.accountId,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: roleId, arn: roleArn, accountId: env.accountId, userName: name },
        sourceIdentity: principal,
      },
    };
  }
  return {
    type: 'IAMUser',
    principalId: stableIamUniqueId('AIDA', principal),
    arn: `arn:aws:iam::${env.accountId}:user/${principal}`,
    accountId: env.accountId,
    userName: principal,
  };
}

export interface AirlockEventInput {
  readonly name: AirlockEventName;
  readonly time: Date;
  readonly actor: string;
  readonly requestId: string;
  readonly projectId: string;
  /** More request parameters (never file contents or cell values). */
  readonly parameters?: Record<string, unknown>;
  /** The request's state after the action (absent when refused). */
  readonly state?: string;
  readonly refusal?: { readonly code: string; readonly errorCode: string; readonly message: string };
}

export function airlockEvent(env: AirlockAuditEnv, e: AirlockEventInput): AirlockAuditEvent {
  const newId = env.newId ?? randomUUID;
  const refused = e.refusal !== undefined;
  return {
    eventVersion: AIRLOCK_EVENT_VERSION,
    eventTime: cloudTrailTime(e.time),
    eventSource: AIRLOCK_EVENT_SOURCE,
    eventName: e.name,
    awsRegion: env.region,
    sourceIPAddress: '127.0.0.1',
    userAgent: 'sde-airlock',
    // Requests are made by researchers; every later step by reviewers and the release service.
    userIdentity: principalIdentity(env, e.actor, e.name === 'SubmitOutputRequest' ? e.projectId : undefined),
    requestParameters: { requestId: e.requestId, projectId: e.projectId, ...(e.parameters ?? {}) },
    responseElements: refused ? null : { requestId: e.requestId, state: e.state ?? null },
    additionalEventData: {
      sdeProjectId: e.projectId,
      sdeRequestId: e.requestId,
      sdeAction: `output-${e.name.replace(/OutputRequest$|Output$/, '').toLowerCase()}`,
      ...(refused ? { sdeRefusal: e.refusal.code } : { sdeState: e.state ?? null }),
    },
    ...(refused ? { errorCode: e.refusal.errorCode, errorMessage: e.refusal.message } : {}),
    requestID: newId().replace(/-/g, '').slice(0, 16).toUpperCase(),
    eventID: newId(),
    readOnly: false,
    resources: [
      {
        type: 'SDE::Airlock::OutputRequest',
        ARN: `arn:aws:sde-airlock:${env.region}:${env.accountId}:output-request/${e.requestId}`,
        accountId: env.accountId,
      },
    ],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: env.accountId,
    eventCategory: 'Management',
  };
}
