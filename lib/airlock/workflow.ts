/**
 * The output request workflow as a pure state machine:
 *
 *   submitted --check--> checked --approve--> first_approval --approve--> second_approval --release--> released
 *       |                  |  \                    |  \                       |  \
 *       |  (a file refused by the checks)           return / reject (with a reason, by a reviewer)
 *       '--check--> returned                    --> returned | rejected
 *
 * The rules it enforces (each refusal has a reason and an audit event):
 * - only an active project (lib/config/model.ts projectState) may submit, be approved or
 *   be released: a project that expired or was suspended meanwhile releases nothing;
 * - only a researcher of the project may submit its outputs;
 * - reviewers must be on the configured list; the requester can never review their own
 *   request; the second approval must come from a different reviewer than the first;
 * - approvals bind to the checked files' SHA-256: a file that changed after approval
 *   (or after check) is refused at release;
 * - returned and rejected are final for the request: the researcher submits a new one.
 *
 * Every function returns the new request (or the refusal) and the audit event; nothing
 * is written here.
 */
import type { ProjectState } from '../config/model';
import { airlockEvent, type AirlockAuditEnv, type AirlockAuditEvent, type AirlockEventName } from './audit-events';
import type { CheckSettings, CheckSummary, FileDigest, FileOutcome } from './report';
import { principalKey } from '../config/airlock-settings';
import type { TableSpec } from './table-shape';

export const REQUEST_STATES = ['submitted', 'checked', 'first_approval', 'second_approval', 'released', 'returned', 'rejected'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export interface CheckedFile {
  readonly outcome: FileOutcome;
  /** The file that may be released (absent when refused). */
  readonly output?: FileDigest;
  readonly checks: readonly CheckSummary[];
  /** The thresholds the checks applied (the settings may change later; the record must not). */
  readonly settings: CheckSettings;
  readonly cellsChanged: number;
  readonly refusals: number;
}

export interface RequestFile {
  /** A plain file name, unique within the request. */
  readonly name: string;
  readonly submitted: FileDigest;
  readonly spec?: TableSpec;
  /** The contributions behind a magnitude table (checked, never released). */
  readonly contributions?: FileDigest;
  readonly checked?: CheckedFile;
}

export interface Approval {
  readonly reviewer: string;
  readonly time: string;
  /** What the reviewer approved: each file's checked SHA-256. */
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
}

export interface Decision {
  readonly kind: 'returned' | 'rejected';
  readonly by: string;
  readonly time: string;
  readonly reason: string;
}

export interface HistoryEntry {
  readonly time: string;
  readonly actor: string;
  readonly action: 'submit' | 'check' | 'approve' | 'return' | 'reject' | 'release';
  readonly from?: RequestState;
  readonly to: RequestState;
  readonly reason?: string;
}

export interface OutputRequest {
  readonly schemaVersion: 1;
  readonly id: string;
  readonly projectId: string;
  readonly requester: string;
  readonly statement: string;
  readonly state: RequestState;
  readonly submittedAt: string;
  readonly files: readonly RequestFile[];
  readonly approvals: readonly Approval[];
  readonly decision?: Decision;
  readonly release?: { readonly time: string; readonly by: string };
  readonly history: readonly HistoryEntry[];
}

export type RefusalCode =
  | 'unknown_project'
  | 'project_not_active'
  | 'not_project_researcher'
  | 'invalid_request'
  | 'file_too_large'
  | 'invalid_state'
  | 'not_a_reviewer'
  | 'requester_cannot_review'
  | 'reviewer_is_project_researcher'
  | 'same_reviewer_twice'
  | 'reason_required'
  | 'file_changed';

/** The CloudTrail errorCode of each refusal (see audit-events.ts for the choice). */
const ERROR_CODES: Record<RefusalCode, string> = {
  unknown_project: 'ResourceNotFoundException',
  project_not_active: 'AccessDenied',
  not_project_researcher: 'AccessDenied',
  invalid_request: 'ValidationException',
  file_too_large: 'EntityTooLarge',
  invalid_state: 'InvalidRequestStateException',
  not_a_reviewer: 'AccessDenied',
  requester_cannot_review: 'AccessDenied',
  reviewer_is_project_researcher: 'AccessDenied',
  same_reviewer_twice: 'AccessDenied',
  reason_required: 'ValidationException',
  file_changed: 'BadDigest',
};

export interface Refusal {
  readonly code: RefusalCode;
  readonly errorCode: string;
  readonly message: string;
}

export type WorkflowResult =
  | { readonly ok: true; readonly request: OutputRequest; readonly event: AirlockAuditEvent }
  | { readonly ok: false; readonly refusal: Refusal; readonly event: AirlockAuditEvent };

export interface WorkflowContext {
  /** The project's state today (projectState), or 'unknown' when the config has no such project. */
  readonly projectState: ProjectState | 'unknown';
  readonly reviewers: readonly string[];
  readonly audit: AirlockAuditEnv;
  /**
   * The project's researchers, by their ids (config `researchers[].id`: on AWS each one's
   * session source identity). Only they may request a release of the project's outputs,
   * and none of them may approve one. @default - none (no such check)
   */
  readonly projectResearchers?: readonly string[];
  /**
   * The principals the project's researchers sign in through (config `researchers[].principal`).
   * None of them may approve the project's outputs either: a reviewer acting through a
   * researcher's own principal would be approving their team's work. @default - none
   */
  readonly projectPrincipals?: readonly string[];
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function refusal(code: RefusalCode, message: string): Refusal {
  return { code, errorCode: ERROR_CODES[code], message };
}

function refused(
  ctx: WorkflowContext,
  name: AirlockEventName,
  actor: string,
  time: Date,
  requestId: string,
  projectId: string,
  r: Refusal,
  parameters?: Record<string, unknown>,
): WorkflowResult {
  return { ok: false, refusal: r, event: airlockEvent(ctx.audit, { name, time, actor, requestId, projectId, refusal: r, parameters }) };
}

function projectRefusal(ctx: WorkflowContext, projectId: string, doing: string): Refusal | undefined {
  if (ctx.projectState === 'unknown') return refusal('unknown_project', `there is no project "${projectId}" in the config`);
  if (ctx.projectState !== 'active') {
    const why = ctx.projectState === 'not_started' ? 'has not started yet' : ctx.projectState === 'suspended' ? 'is suspended' : 'has expired';
    return refusal('project_not_active', `project "${projectId}" ${why}: it cannot ${doing}`);
  }
  return undefined;
}

export interface SubmitInput {
  readonly id: string;
  readonly projectId: string;
  readonly requester: string;
  readonly statement: string;
  readonly time: Date;
  readonly files: readonly Omit<RequestFile, 'checked'>[];
}

export interface SubmitContext extends WorkflowContext {
  readonly projectResearchers: readonly string[];
  readonly maxFileBytes: number;
}

export function submitRequest(input: SubmitInput, ctx: SubmitContext): WorkflowResult {
  const params = { files: input.files.map((f) => ({ name: f.name, bytes: f.submitted.bytes, sha256: f.submitted.sha256 })) };
  const refuse = (r: Refusal) => refused(ctx, 'SubmitOutputRequest', input.requester, input.time, input.id, input.projectId, r, params);
  const notActive = projectRefusal(ctx, input.projectId, 'request a release of outputs');
  if (notActive) return refuse(notActive);
  if (!ctx.projectResearchers.some((r) => principalKey(r) === principalKey(input.requester))) {
    return refuse(
      refusal(
        'not_project_researcher',
        `the requester "${input.requester}" is not one of the named researchers of project "${input.projectId}": only they can request a release of its outputs`,
      ),
    );
  }
  if (input.files.length === 0) return refuse(refusal('invalid_request', 'name at least one file to release'));
  const names = new Set<string>();
  for (const f of input.files) {
    if (!FILE_NAME.test(f.name))
      return refuse(refusal('invalid_request', `file name "${f.name}" must be 1-128 characters of letters, digits, . _ - (starting with a letter or digit)`));
    if (names.has(f.name.toLowerCase())) return refuse(refusal('invalid_request', `two files are named "${f.name}": give each file its own name`));
    names.add(f.name.toLowerCase());
    if (f.submitted.bytes > ctx.maxFileBytes) {
      return refuse(
        refusal(
          'file_too_large',
          `file "${f.name}" is ${f.submitted.bytes} bytes; the airlock takes files of at most ${ctx.maxFileBytes} bytes (a results table that large is almost certainly row-level data)`,
        ),
      );
    }
  }
  const submittedAt = input.time.toISOString();
  const request: OutputRequest = {
    schemaVersion: 1,
    id: input.id,
    projectId: input.projectId,
    requester: input.requester,
    statement: input.statement,
    state: 'submitted',
    submittedAt,
    files: input.files.map((f) => ({ ...f })),
    approvals: [],
    history: [{ time: submittedAt, actor: input.requester, action: 'submit', to: 'submitted' }],
  };
  return {
    ok: true,
    request,
    event: airlockEvent(ctx.audit, {
      name: 'SubmitOutputRequest',
      time: input.time,
      actor: input.requester,
      requestId: input.id,
      projectId: input.projectId,
      state: 'submitted',
      parameters: params,
    }),
  };
}

export type WorkflowAction =
  | { readonly type: 'check'; readonly actor: string; readonly time: Date; readonly results: ReadonlyMap<string, CheckedFile> }
  | { readonly type: 'approve'; readonly actor: string; readonly time: Date }
  | { readonly type: 'return' | 'reject'; readonly actor: string; readonly time: Date; readonly reason: string }
  | {
      readonly type: 'release';
      readonly actor: string;
      readonly time: Date;
      /** The SHA-256 of each file as stored now: submitted and checked. */
      readonly current: ReadonlyMap<string, { readonly submitted: string; readonly checked?: string }>;
    }
  /**
   * Makes readable a release that was recorded but not published (the release stopped
   * between saving the released state and retagging the egress copy). No state changes.
   */
  | { readonly type: 'complete_release'; readonly actor: string; readonly time: Date };

const EVENT_NAMES: Record<WorkflowAction['type'], AirlockEventName> = {
  check: 'CheckOutputRequest',
  approve: 'ApproveOutputRequest',
  return: 'ReturnOutputRequest',
  reject: 'RejectOutputRequest',
  release: 'ReleaseOutput',
  complete_release: 'CompleteOutputRelease',
};

/** Which states each action may start from. */
const FROM: Record<WorkflowAction['type'], readonly RequestState[]> = {
  check: ['submitted'],
  approve: ['checked', 'first_approval'],
  return: ['checked', 'first_approval', 'second_approval'],
  reject: ['checked', 'first_approval', 'second_approval'],
  release: ['second_approval'],
  complete_release: ['released'],
};

const STATE_WORDS: Record<RequestState, string> = {
  submitted: 'submitted and not yet checked',
  checked: 'checked and waiting for its first approval',
  first_approval: 'approved once and waiting for a second reviewer',
  second_approval: 'approved by two reviewers and waiting for release',
  released: 'already released',
  returned: 'returned to the researcher',
  rejected: 'rejected',
};

function actionWord(type: WorkflowAction['type']): string {
  return { check: 'checked', approve: 'approved', return: 'returned', reject: 'rejected', release: 'released', complete_release: 'published' }[type];
}

export function transition(request: OutputRequest, action: WorkflowAction, ctx: WorkflowContext): WorkflowResult {
  const name = EVENT_NAMES[action.type];
  const refuse = (r: Refusal, parameters?: Record<string, unknown>) =>
    refused(ctx, name, action.actor, action.time, request.id, request.projectId, r, parameters);
  const reasonParam = action.type === 'return' || action.type === 'reject' ? { reason: action.reason } : undefined;

  if (!FROM[action.type].includes(request.state)) {
    return refuse(refusal('invalid_state', `request ${request.id} is ${STATE_WORDS[request.state]}: it cannot be ${actionWord(action.type)} now`), reasonParam);
  }

  if (action.type === 'approve' || action.type === 'return' || action.type === 'reject') {
    const reviewer = principalKey(action.actor);
    if (!ctx.reviewers.some((r) => principalKey(r) === reviewer)) {
      const none = ctx.reviewers.length === 0 ? ' (no reviewers are configured: add them to airlock.reviewers in platform.yaml)' : '';
      return refuse(refusal('not_a_reviewer', `the reviewer is not on the airlock's list of reviewers${none}`), reasonParam);
    }
    if (principalKey(request.requester) === reviewer)
      return refuse(refusal('requester_cannot_review', 'the requester can never review their own request'), reasonParam);
    if (action.type === 'approve' && [...(ctx.projectResearchers ?? []), ...(ctx.projectPrincipals ?? [])].some((r) => principalKey(r) === reviewer)) {
      return refuse(
        refusal('reviewer_is_project_researcher', `a researcher of project "${request.projectId}" cannot approve its outputs: another reviewer must`),
      );
    }
  }
  if (action.type === 'return' || action.type === 'reject') {
    if (action.reason.trim() === '')
      return refuse(refusal('reason_required', `say why the request is ${actionWord(action.type)} (--reason): the researcher reads it`));
  }
  if (action.type === 'approve' || action.type === 'release' || action.type === 'complete_release') {
    const notActive = projectRefusal(ctx, request.projectId, action.type === 'approve' ? 'have outputs approved' : 'have outputs released');
    if (notActive) return refuse(notActive);
  }

  const time = action.time.toISOString();
  const history = (to: RequestState, reason?: string): HistoryEntry[] => {
    const type = action.type;
    // Completing a release changes no state, so it has no history entry (its audit event records it).
    if (type === 'complete_release') throw new Error('completing a release adds no history entry');
    return [...request.history, { time, actor: action.actor, action: type, from: request.state, to, ...(reason === undefined ? {} : { reason }) }];
  };
  const ok = (next: OutputRequest, parameters?: Record<string, unknown>): WorkflowResult => ({
    ok: true,
    request: next,
    event: airlockEvent(ctx.audit, {
      name,
      time: action.time,
      actor: action.actor,
      requestId: request.id,
      projectId: request.projectId,
      state: next.state,
      parameters,
    }),
  });

  switch (action.type) {
    case 'check': {
      const missing = request.files.filter((f) => !action.results.has(f.name));
      if (missing.length > 0) return refuse(refusal('invalid_request', `no check result for ${missing.map((f) => f.name).join(', ')}`));
      const files = request.files.map((f) => ({ ...f, checked: action.results.get(f.name)! }));
      const refusedFiles = files.filter((f) => f.checked.outcome === 'refused');
      const parameters = { files: files.map((f) => ({ name: f.name, outcome: f.checked.outcome, cellsChanged: f.checked.cellsChanged })) };
      if (refusedFiles.length > 0) {
        // Nothing in a request with a refused file can be released: it goes back at once.
        const reason = `the disclosure checks refused ${refusedFiles.map((f) => f.name).join(', ')}: see the report${refusedFiles.length === 1 ? '' : 's'}, fix the output and submit a new request`;
        return ok(
          { ...request, files, state: 'returned', decision: { kind: 'returned', by: action.actor, time, reason }, history: history('returned', reason) },
          parameters,
        );
      }
      return ok({ ...request, files, state: 'checked', history: history('checked') }, parameters);
    }
    case 'approve': {
      if (request.approvals.some((a) => principalKey(a.reviewer) === principalKey(action.actor))) {
        return refuse(
          refusal('same_reviewer_twice', 'this reviewer has already approved the request: the second approval must come from a different reviewer'),
        );
      }
      const files = request.files.map((f) => ({ name: f.name, sha256: f.checked?.output?.sha256 ?? '' }));
      const approvals = [...request.approvals, { reviewer: action.actor, time, files }];
      const to: RequestState = approvals.length === 1 ? 'first_approval' : 'second_approval';
      return ok({ ...request, approvals, state: to, history: history(to) }, { approval: approvals.length, files });
    }
    case 'return':
    case 'reject': {
      const to: RequestState = action.type === 'return' ? 'returned' : 'rejected';
      return ok(
        { ...request, state: to, decision: { kind: to, by: action.actor, time, reason: action.reason }, history: history(to, action.reason) },
        reasonParam,
      );
    }
    case 'release': {
      const changed: string[] = [];
      for (const f of request.files) {
        const now = action.current.get(f.name);
        const approvedHashes = request.approvals.map((a) => a.files.find((x) => x.name === f.name)?.sha256);
        if (
          !now ||
          now.submitted !== f.submitted.sha256 ||
          now.checked === undefined ||
          now.checked !== f.checked?.output?.sha256 ||
          approvedHashes.some((h) => h !== now.checked)
        ) {
          changed.push(f.name);
        }
      }
      if (changed.length > 0) {
        return refuse(
          refusal(
            'file_changed',
            `${changed.join(', ')} changed after ${changed.length === 1 ? 'it was' : 'they were'} checked and approved (SHA-256 mismatch): nothing was released; submit a new request`,
          ),
          { files: changed },
        );
      }
      return ok({ ...request, state: 'released', release: { time, by: action.actor }, history: history('released') });
    }
    case 'complete_release':
      // The decision was made and recorded by the release; this only finishes publishing it.
      return ok(request);
  }
}
