/**
 * The airlock's release service on AWS: the only principal that writes request state
 * (`requests/`), the egress (`released/`) and signs manifests (the AirlockStack's bucket and
 * key policies deny everyone else). Reviewers call it through an IAM-authorised Lambda
 * function URL (lambdas/airlock/release.ts); Lambda authenticates the SigV4 signature and
 * hands the function the caller's ARN, which the caller cannot choose. Each reviewer has
 * their own role, assumable only by them with MFA (AirlockReviewers), so the ARN names the
 * person: two approvals from one person are two calls from one role, and the workflow
 * refuses the second.
 *
 * The decisions are the local airlock's: the same `AirlockService` and workflow
 * (workflow.ts), over the S3 store and the KMS signer instead of the local ones. This module
 * is the part between an HTTP request and that service: parse the call (an allow-list of
 * actions and fields), decide who acts from the authenticated ARN, run one action, answer
 * with the outcome (a refusal with its reason, or the request as it now stands).
 */
import { AirlockInputError, AirlockService, type Outcome } from './airlock-service';
import { awsActor } from './aws-identity';
import type { AuditSink } from './audit-events';
import type { FileReport } from './report';
import type { S3Send } from './s3-store';
import { S3AirlockStore } from './s3-store';
import type { ManifestSigner } from './signing';
import { AirlockConflictError, AirlockStoreError } from './store';
import { COLUMN_ROLES, STATISTIC_KINDS, type ColumnRole, type StatisticKind } from './table-shape';
import type { OutputRequest, Refusal } from './workflow';
import { airlockSettings } from '../config/airlock-settings';
import type { SdeConfig } from '../config/model';

/** The actions reviewers take through the service (a researcher's submission is an S3 put). */
export const SERVICE_ACTIONS = ['check', 'classify', 'override', 'review', 'release'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

export type ServiceCall =
  | { readonly action: 'check'; readonly request: string }
  | {
      readonly action: 'classify';
      readonly request: string;
      readonly file: string;
      readonly column: string;
      readonly role: ColumnRole;
      readonly statistic?: StatisticKind;
      readonly reason: string;
    }
  | { readonly action: 'override'; readonly request: string; readonly file: string; readonly finding: string; readonly reason: string }
  | { readonly action: 'review'; readonly request: string; readonly decision: 'approve' | 'return' | 'reject'; readonly reason?: string }
  | { readonly action: 'release'; readonly request: string };

/** The service's answer: exactly one of refusal, error or request is set. */
export interface ServiceResponse {
  readonly ok: boolean;
  /** Who the service recorded as acting (the reviewer its role belongs to, else the caller's role). */
  readonly actor?: string;
  /** An audited refusal by the workflow. */
  readonly refusal?: Refusal;
  /** Not an audited refusal: a malformed call, an unknown request, a lost race, a forged record. */
  readonly error?: { readonly kind: 'input' | 'conflict' | 'store'; readonly message: string };
  readonly request?: OutputRequest;
  /** check and classify: each file's report, in brief (the full reports are in requests/<id>/reports/). */
  readonly reports?: readonly ReportBrief[];
  /** release: where the signed manifest is, the key that signed it, and (on a second run) what was published. */
  readonly manifestPath?: string;
  readonly signingKeyId?: string;
  readonly completed?: { readonly published: number };
}

/**
 * What the CLI prints of a file's report: its outcome, how many cells changed, its refusals
 * and findings without their cell lists. A function URL answers at most 6 MB; a full report
 * of a large table (every rounded cell, the grid) can be more, and is in the store anyway.
 */
export interface ReportBrief {
  readonly file: string;
  readonly outcome: FileReport['outcome'];
  readonly cellsChanged: number;
  readonly refusals: readonly { readonly reason: string }[];
  readonly findings: readonly {
    readonly id: string;
    readonly rule: FileReport['findings'][number]['rule'];
    readonly severity: 'review' | 'disclosive';
    readonly message: string;
  }[];
}

/** At most this many findings and refusals per file in an answer (each report names them all). */
const MAX_LISTED = 200;

export function reportBrief(r: FileReport): ReportBrief {
  return {
    file: r.file,
    outcome: r.outcome,
    cellsChanged: r.changes.filter((c) => c.action !== 'normalised').length,
    refusals: r.refusals.slice(0, MAX_LISTED).map((x) => ({ reason: x.reason.slice(0, 500) })),
    findings: r.findings.slice(0, MAX_LISTED).map((f) => ({ id: f.id, rule: f.rule, severity: f.severity, message: f.message.slice(0, 500) })),
  };
}

/** Request ids as the store makes them (store.ts newRequestId). */
const REQUEST_ID = /^req-\d{8}-[0-9a-f]{8}$/;
const MAX_TEXT = 4000;

/**
 * Reads a call from untrusted JSON: only the listed actions and fields, each of its type.
 * Anything else is refused with the field and the fix (unknown fields too: a call cannot
 * smuggle in a reviewer name or a time).
 */
export function parseServiceCall(body: unknown): { readonly ok: true; readonly call: ServiceCall } | { readonly ok: false; readonly message: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { ok: false, message: 'the body must be a JSON object with "action" and "request"' };
  const o = body as Record<string, unknown>;
  const action = o.action;
  if (typeof action !== 'string' || !(SERVICE_ACTIONS as readonly string[]).includes(action))
    return { ok: false, message: `"action" must be one of ${SERVICE_ACTIONS.join(', ')}` };
  const allowed: Record<ServiceAction, readonly string[]> = {
    check: [],
    classify: ['file', 'column', 'role', 'statistic', 'reason'],
    override: ['file', 'finding', 'reason'],
    review: ['decision', 'reason'],
    release: [],
  };
  const fields = ['action', 'request', ...allowed[action as ServiceAction]];
  const extra = Object.keys(o).filter((k) => !fields.includes(k));
  if (extra.length > 0)
    return { ok: false, message: `unexpected field${extra.length === 1 ? '' : 's'} ${extra.map((k) => JSON.stringify(k)).join(', ')} for ${action}` };
  const request = o.request;
  if (typeof request !== 'string' || !REQUEST_ID.test(request)) return { ok: false, message: '"request" must be a request id (req-YYYYMMDD-xxxxxxxx)' };
  const text = (name: string, required: boolean): string | undefined | { bad: string } => {
    const v = o[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT) return { bad: `"${name}" must be text of 1 to ${MAX_TEXT} characters` };
    return v;
  };
  const bad = (...vs: (string | undefined | { bad: string })[]) => vs.find((v): v is { bad: string } => typeof v === 'object');
  switch (action as ServiceAction) {
    case 'check':
    case 'release':
      return { ok: true, call: { action: action as 'check' | 'release', request } };
    case 'review': {
      const decision = o.decision;
      if (decision !== 'approve' && decision !== 'return' && decision !== 'reject')
        return { ok: false, message: '"decision" must be approve, return or reject' };
      const reason = text('reason', false);
      const b = bad(reason);
      if (b) return { ok: false, message: b.bad };
      return { ok: true, call: { action: 'review', request, decision, ...(reason === undefined ? {} : { reason: reason as string }) } };
    }
    case 'override': {
      const [file, finding, reason] = [text('file', true), text('finding', true), text('reason', false)];
      const b = bad(file, finding, reason);
      if (b) return { ok: false, message: b.bad };
      return {
        ok: true,
        call: { action: 'override', request, file: file as string, finding: finding as string, reason: (reason as string | undefined) ?? '' },
      };
    }
    case 'classify': {
      const [file, column, reason, statistic] = [text('file', true), text('column', true), text('reason', false), text('statistic', false)];
      const b = bad(file, column, reason, statistic);
      if (b) return { ok: false, message: b.bad };
      const role = o.role;
      if (typeof role !== 'string' || !(COLUMN_ROLES as readonly string[]).includes(role))
        return { ok: false, message: `"role" must be one of ${COLUMN_ROLES.join(', ')}` };
      if (statistic !== undefined && !(STATISTIC_KINDS as readonly string[]).includes(statistic as string))
        return { ok: false, message: `"statistic" must be one of ${STATISTIC_KINDS.join(', ')}` };
      return {
        ok: true,
        call: {
          action: 'classify',
          request,
          file: file as string,
          column: column as string,
          role: role as ColumnRole,
          ...(statistic === undefined ? {} : { statistic: statistic as StatisticKind }),
          reason: (reason as string | undefined) ?? '',
        },
      };
    }
  }
}

/** What the function is built with: the part of the validated config the airlock reads (bundled at synth). */
export interface AirlockConfigSnapshot {
  readonly platform: SdeConfig['platform'];
  readonly projects: SdeConfig['projects'];
}

export const AIRLOCK_SNAPSHOT_FILE = 'sde-airlock-config.json';

export function airlockConfigSnapshot(config: SdeConfig): AirlockConfigSnapshot {
  return { platform: config.platform, projects: config.projects };
}

/** The config as the service judges it on `today` (a project's period is judged on the day of the call, not of the deployment). */
export function configFromSnapshot(snapshot: AirlockConfigSnapshot, today: string): SdeConfig {
  return { dir: '', platform: snapshot.platform, projects: snapshot.projects, datasets: [], today };
}

export interface ReleaseServiceDeps {
  readonly snapshot: AirlockConfigSnapshot;
  readonly s3: S3Send;
  readonly bucket: string;
  /** Makes the signer on the first release of an invocation (KMS on AWS). */
  readonly signer: () => Promise<ManifestSigner>;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Where each decision's audit event goes. @default none: CloudTrail records every S3 write
   * and kms:Sign the service makes, and the function logs each outcome's code.
   */
  readonly sink?: AuditSink;
}

/**
 * Runs one call as `callerArn` (authenticated by AWS, never taken from the body). A caller
 * whose role is no reviewer's is recorded by its role ARN, and the workflow refuses it.
 */
export async function serveAirlockCall(deps: ReleaseServiceDeps, callerArn: string, call: ServiceCall): Promise<ServiceResponse> {
  const now = deps.now ?? (() => new Date());
  const config = configFromSnapshot(deps.snapshot, now().toISOString().slice(0, 10));
  const settings = airlockSettings(config.platform);
  let signingKeyId: string | undefined;
  const service = new AirlockService({
    config,
    workdir: '/tmp',
    store: new S3AirlockStore({ client: deps.s3, bucket: deps.bucket }),
    settings,
    sink: deps.sink ?? (() => undefined),
    now,
    signer: async () => {
      const s = await deps.signer();
      signingKeyId = s.keyId;
      return s;
    },
  });
  const actor = awsActor(callerArn, { platformName: config.platform.name, reviewers: settings.reviewers });
  const who = actor.reviewer ?? actor.principal;
  try {
    switch (call.action) {
      case 'check':
        return answer(who, await service.check(call.request), (v) => ({ request: v.request, reports: v.reports.map(reportBrief) }));
      case 'classify': {
        const { action: _a, request, ...c } = call;
        return answer(who, await service.classify(request, who, c), (v) => ({ request: v.request, reports: v.reports.map(reportBrief) }));
      }
      case 'override': {
        const { action: _a, request, ...o } = call;
        return answer(who, await service.override(request, who, o), (v) => ({ request: v }));
      }
      case 'review':
        return answer(who, await service.review(call.request, who, call.decision, call.reason), (v) => ({ request: v }));
      case 'release':
        return answer(who, await service.release(call.request, who), (v) => ({
          request: v.request,
          manifestPath: v.manifestPath,
          ...(signingKeyId === undefined ? {} : { signingKeyId }),
          ...(v.completed ? { completed: v.completed } : {}),
        }));
    }
  } catch (e) {
    if (e instanceof AirlockInputError) return { ok: false, actor: who, error: { kind: 'input', message: e.message } };
    if (e instanceof AirlockConflictError) return { ok: false, actor: who, error: { kind: 'conflict', message: e.message } };
    if (e instanceof AirlockStoreError) return { ok: false, actor: who, error: { kind: 'store', message: e.message } };
    throw e;
  }
}

function answer<T>(actor: string, outcome: Outcome<T>, value: (v: T) => Omit<ServiceResponse, 'ok' | 'actor'>): ServiceResponse {
  return outcome.ok ? { ok: true, actor, ...value(outcome.value) } : { ok: false, actor, refusal: outcome.refusal };
}

/** The part of a Lambda function URL event the service reads. */
export interface FunctionUrlEvent {
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly http?: { readonly method?: string }; readonly authorizer?: { readonly iam?: { readonly userArn?: string } } };
}

export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** HTTP status of an answer: 200 done, 403/409/400 refused (the body says why), 404 unknown request. */
function statusOf(r: ServiceResponse): number {
  if (r.ok) return 200;
  if (r.refusal) return r.refusal.errorCode === 'AccessDenied' ? 403 : r.refusal.errorCode === 'ResourceNotFoundException' ? 404 : 409;
  if (r.error?.kind === 'conflict') return 412;
  if (r.error?.kind === 'store') return 409;
  return 400;
}

/**
 * The function URL handler (lambdas/airlock/release.ts wires the SDK clients). The caller's
 * ARN is the one Lambda's IAM authorisation put in the event; with none (the URL's auth
 * type is not AWS_IAM) nothing runs. Logs carry the action, the request id and the outcome
 * code only.
 */
export function createReleaseHandler(deps: ReleaseServiceDeps, log: (line: string) => void = (l) => console.log(l)) {
  return async (event: FunctionUrlEvent): Promise<FunctionUrlResult> => {
    const reply = (statusCode: number, body: unknown): FunctionUrlResult => ({
      statusCode,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const callerArn = event.requestContext?.authorizer?.iam?.userArn;
    if (callerArn === undefined || callerArn === '') {
      log(JSON.stringify({ message: 'refused: no IAM caller' }));
      return reply(401, { ok: false, error: { kind: 'input', message: 'the release service takes only IAM-signed calls (SigV4)' } });
    }
    if (event.requestContext?.http?.method !== 'POST') return reply(405, { ok: false, error: { kind: 'input', message: 'POST a JSON call' } });
    let body: unknown;
    try {
      const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
      body = JSON.parse(raw);
    } catch {
      return reply(400, { ok: false, error: { kind: 'input', message: 'the body is not JSON' } });
    }
    const parsed = parseServiceCall(body);
    if (!parsed.ok) return reply(400, { ok: false, error: { kind: 'input', message: parsed.message } });
    const response = await serveAirlockCall(deps, callerArn, parsed.call);
    log(
      JSON.stringify({
        message: 'airlock call',
        action: parsed.call.action,
        request: parsed.call.request,
        outcome: response.ok ? 'done' : (response.refusal?.code ?? response.error?.kind),
        state: response.request?.state,
      }),
    );
    return reply(statusOf(response), response);
  };
}
