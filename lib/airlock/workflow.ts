/**
 * The output request workflow as a pure state machine:
 *
 *   submitted --check--> checked --approve--> first_approval --approve--> second_approval --release--> released
 *       |                  |  \                    |  \                       |  \
 *       |  (a file refused by the checks)           return / reject (with a reason, by a reviewer)
 *       '--check--> returned                    --> returned | rejected
 *   (checked | first_approval | second_approval) --check again / classify--> checked (approvals cleared)
 *   returned --(the requester resubmits: a new request naming it)--> the new request is submitted
 *
 * The rules it enforces (each refusal has a reason and an audit event):
 * - only an active project (lib/config/model.ts projectState) may submit, be approved or
 *   be released: a project that expired or was suspended meanwhile releases nothing;
 * - only a researcher of the project may submit its outputs;
 * - reviewers must be on the configured list; the requester can never review their own
 *   request; the second approval must come from a different reviewer than the first;
 * - approvals bind to the checked files' SHA-256: a file that changed after approval
 *   (or after check) is refused at release;
 * - a file whose checks found something for a reviewer (findings) is approved only with
 *   the reviewer's note, and a disclosive finding only once a reviewer has recorded why it
 *   is not (an override); only a reviewer can classify a column otherwise than the platform
 *   did, with a reason, and the files are then checked again;
 * - a check is stale once another request of the project was released after it (the
 *   memory it compared against has changed): approving or releasing needs a new check;
 * - returned is answered by a resubmission: a new request naming the returned one (the
 *   thread keeps every round's history); rejected is final.
 *
 * Every function returns the new request (or the refusal) and the audit event; nothing
 * is written here.
 */
import type { ProjectState } from '../config/model';
import type { QueryProvenance } from '../query/provenance';
import { airlockEvent, type AirlockAuditEnv, type AirlockAuditEvent, type AirlockEventName } from './audit-events';
import type { CheckSettings, CheckSummary, FileDigest, FileOutcome, FindingSummary } from './report';
import { principalKey } from '../config/airlock-settings';
import { COLUMN_ROLES, STATISTIC_KINDS, type ReviewerClassification, type TableSpec } from './table-shape';

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
  /** What a reviewer must decide (value-free). */
  readonly findings?: readonly FindingSummary[];
  /** When the check ran (a release of the project after this makes it stale). */
  readonly checkedAt?: string;
}

/** A reviewer's record of why a disclosive finding does not disclose. */
export interface FindingOverride {
  readonly file: string;
  readonly finding: string;
  readonly reviewer: string;
  readonly time: string;
  readonly reason: string;
}

export interface RequestFile {
  /** A plain file name, unique within the request. */
  readonly name: string;
  readonly submitted: FileDigest;
  /** The requester's description: what the file is and how it was made. */
  readonly description?: string;
  /** For an output of `sde query`: how it was made, recorded by the platform. */
  readonly provenance?: QueryProvenance;
  /** That query's text (kept in the airlock for the reviewers and for reproduction; the manifest has its hash). */
  readonly queryText?: string;
  readonly spec?: TableSpec;
  /** Reviewers' classifications of its columns, with their reasons (in order; a later one for a column wins). */
  readonly classifications?: readonly ReviewerClassification[];
  /** The contributions behind a magnitude table (checked, never released). */
  readonly contributions?: FileDigest;
  readonly checked?: CheckedFile;
}

export interface Approval {
  readonly reviewer: string;
  readonly time: string;
  /** What the reviewer approved: each file's checked SHA-256. */
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
  /** The reviewer's note on the findings (required when there are any). */
  readonly note?: string;
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
  readonly action: 'submit' | 'check' | 'approve' | 'return' | 'reject' | 'release' | 'classify' | 'override' | 'resubmit';
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
  /** Reviewers' overrides of disclosive findings. */
  readonly overrides?: readonly FindingOverride[];
  /** This request answers a returned one (the previous round of the thread). */
  readonly resubmits?: string;
  /** Set on a returned request once a resubmission of it has been checked. */
  readonly resubmittedAs?: string;
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
  | 'file_changed'
  | 'note_required'
  | 'override_required'
  | 'stale_check'
  | 'unknown_finding'
  | 'bad_resubmission';

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
  note_required: 'ValidationException',
  override_required: 'ValidationException',
  stale_check: 'InvalidRequestStateException',
  unknown_finding: 'ValidationException',
  bad_resubmission: 'ValidationException',
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
  /**
   * When another request of the project was last released (ISO time): a check older than
   * that compared against an out-of-date memory. @default - none
   */
  readonly lastProjectRelease?: string;
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
  readonly files: readonly Omit<RequestFile, 'checked' | 'classifications'>[];
  /** The returned request this one answers (checked when the new one is checked). */
  readonly resubmits?: string;
}

export interface SubmitContext extends WorkflowContext {
  readonly projectResearchers: readonly string[];
  readonly maxFileBytes: number;
}

export type { QueryProvenance };

export function submitRequest(input: SubmitInput, ctx: SubmitContext): WorkflowResult {
  const params = {
    files: input.files.map((f) => ({ name: f.name, bytes: f.submitted.bytes, sha256: f.submitted.sha256 })),
    ...(input.resubmits === undefined ? {} : { resubmits: input.resubmits }),
  };
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
    if ((f.description ?? '').trim().length < 10)
      return refuse(
        refusal(
          'invalid_request',
          `describe file "${f.name}": what it is and how it was made (--description ${f.name}:TEXT, at least 10 characters); the reviewers read it`,
        ),
      );
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
    ...(input.resubmits === undefined ? {} : { resubmits: input.resubmits }),
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
  | {
      readonly type: 'check';
      readonly actor: string;
      readonly time: Date;
      readonly results: ReadonlyMap<string, CheckedFile>;
      /** For a resubmission: the returned request it names, as stored now. */
      readonly previous?: OutputRequest;
    }
  | { readonly type: 'approve'; readonly actor: string; readonly time: Date; readonly note?: string }
  | {
      readonly type: 'classify';
      readonly actor: string;
      readonly time: Date;
      readonly file: string;
      readonly column: string;
      readonly role: ReviewerClassification['role'];
      readonly statistic?: ReviewerClassification['statistic'];
      readonly reason: string;
      /** The files checked again with the classification (made by the caller from `classified`). */
      readonly results: ReadonlyMap<string, CheckedFile>;
    }
  | { readonly type: 'override'; readonly actor: string; readonly time: Date; readonly file: string; readonly finding: string; readonly reason: string }
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
  classify: 'ClassifyOutputColumn',
  override: 'OverrideOutputFinding',
  approve: 'ApproveOutputRequest',
  return: 'ReturnOutputRequest',
  reject: 'RejectOutputRequest',
  release: 'ReleaseOutput',
  complete_release: 'CompleteOutputRelease',
};

/** Which states each action may start from. */
const FROM: Record<WorkflowAction['type'], readonly RequestState[]> = {
  // Checking again (a new memory, new settings) clears the approvals.
  check: ['submitted', 'checked', 'first_approval', 'second_approval'],
  classify: ['checked', 'first_approval', 'second_approval'],
  override: ['checked', 'first_approval', 'second_approval'],
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
  return {
    check: 'checked',
    classify: 'classified',
    override: 'overridden',
    approve: 'approved',
    return: 'returned',
    reject: 'rejected',
    release: 'released',
    complete_release: 'published',
  }[type];
}

/** A request's files as classified: the given classification added to the named file's. */
export function classified(request: OutputRequest, file: string, c: ReviewerClassification): RequestFile[] {
  return request.files.map((f) => (f.name === file ? { ...f, classifications: [...(f.classifications ?? []).filter((x) => x.column !== c.column), c] } : f));
}

/** Disclosive findings no reviewer has overridden yet, as `file: finding`. */
export function openDisclosiveFindings(request: OutputRequest): string[] {
  return request.files.flatMap((f) =>
    (f.checked?.findings ?? [])
      .filter((x) => x.severity === 'disclosive' && !(request.overrides ?? []).some((o) => o.file === f.name && o.finding === x.id))
      .map((x) => `${f.name}: ${x.id}`),
  );
}

/** Whether any file's checks found something for a reviewer. */
export function hasFindings(request: OutputRequest): boolean {
  return request.files.some((f) => (f.checked?.findings ?? []).length > 0 || f.checked?.outcome === 'review');
}

export function transition(request: OutputRequest, action: WorkflowAction, ctx: WorkflowContext): WorkflowResult {
  const name = EVENT_NAMES[action.type];
  const refuse = (r: Refusal, parameters?: Record<string, unknown>) =>
    refused(ctx, name, action.actor, action.time, request.id, request.projectId, r, parameters);
  const reasonParam =
    action.type === 'return' || action.type === 'reject' || action.type === 'override' || action.type === 'classify' ? { reason: action.reason } : undefined;

  if (!FROM[action.type].includes(request.state)) {
    return refuse(refusal('invalid_state', `request ${request.id} is ${STATE_WORDS[request.state]}: it cannot be ${actionWord(action.type)} now`), reasonParam);
  }

  if (action.type === 'approve' || action.type === 'return' || action.type === 'reject' || action.type === 'classify' || action.type === 'override') {
    const reviewer = principalKey(action.actor);
    if (!ctx.reviewers.some((r) => principalKey(r) === reviewer)) {
      const none = ctx.reviewers.length === 0 ? ' (no reviewers are configured: add them to airlock.reviewers in platform.yaml)' : '';
      // Who may: the reviewers are named in platform.yaml, which every project can read anyway.
      const who = ctx.reviewers.length === 0 ? '' : `; those who may review: ${ctx.reviewers.join(', ')}`;
      return refuse(refusal('not_a_reviewer', `the reviewer is not on the airlock's list of reviewers${none}${who}`), reasonParam);
    }
    if (principalKey(request.requester) === reviewer)
      return refuse(refusal('requester_cannot_review', 'the requester can never review their own request'), reasonParam);
    if (
      action.type !== 'return' &&
      action.type !== 'reject' &&
      [...(ctx.projectResearchers ?? []), ...(ctx.projectPrincipals ?? [])].some((r) => principalKey(r) === reviewer)
    ) {
      return refuse(
        refusal(
          'reviewer_is_project_researcher',
          `a researcher of project "${request.projectId}" cannot approve, classify or override for its outputs: another reviewer must`,
        ),
        reasonParam,
      );
    }
  }
  if (action.type === 'return' || action.type === 'reject' || action.type === 'classify' || action.type === 'override') {
    if (action.reason.trim() === '')
      return refuse(
        refusal(
          'reason_required',
          action.type === 'return' || action.type === 'reject'
            ? `say why the request is ${actionWord(action.type)} (--reason): the researcher reads it`
            : `say why (--reason): the reason is recorded in the request and the release manifest`,
        ),
      );
  }
  if (action.type === 'approve' || action.type === 'release') {
    const checkedAt = request.files.map((f) => f.checked?.checkedAt ?? '').sort()[0] ?? '';
    if (ctx.lastProjectRelease !== undefined && checkedAt !== '' && ctx.lastProjectRelease > checkedAt)
      return refuse(
        refusal(
          'stale_check',
          `another output of project "${request.projectId}" was released after this request was checked, so its comparison with earlier releases is out of date: run sde output check --request ${request.id} again (the approvals so far are cleared)`,
        ),
      );
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
    case 'check':
    case 'classify': {
      if (action.type === 'check' && request.resubmits !== undefined && request.state === 'submitted') {
        const problem = resubmissionProblem(request, action.previous);
        if (problem) return refuse(refusal('bad_resubmission', problem));
      }
      const missing = request.files.filter((f) => !action.results.has(f.name));
      if (missing.length > 0) return refuse(refusal('invalid_request', `no check result for ${missing.map((f) => f.name).join(', ')}`));
      let base = request.files;
      let overrides = request.overrides;
      if (action.type === 'classify') {
        const file = request.files.find((f) => f.name === action.file);
        if (!file) return refuse(refusal('invalid_request', `request ${request.id} has no file "${action.file}"`), reasonParam);
        if (!(COLUMN_ROLES as readonly string[]).includes(action.role))
          return refuse(refusal('invalid_request', `a column's role is one of ${COLUMN_ROLES.join(', ')}, not "${action.role}"`), reasonParam);
        if (action.statistic !== undefined && !(STATISTIC_KINDS as readonly string[]).includes(action.statistic))
          return refuse(refusal('invalid_request', `a statistic is one of ${STATISTIC_KINDS.join(', ')}, not "${action.statistic}"`), reasonParam);
        base = classified(request, action.file, {
          column: action.column,
          role: action.role,
          ...(action.statistic ? { statistic: action.statistic } : {}),
          reviewer: action.actor,
          time,
          reason: action.reason,
        });
        // The file is checked again: what was overridden before no longer applies to it.
        overrides = (overrides ?? []).filter((o) => o.file !== action.file);
      }
      const files = base.map((f) => ({ ...f, checked: action.results.get(f.name)! }));
      const refusedFiles = files.filter((f) => f.checked.outcome === 'refused');
      const parameters = {
        files: files.map((f) => ({
          name: f.name,
          outcome: f.checked.outcome,
          cellsChanged: f.checked.cellsChanged,
          findings: f.checked.findings?.length ?? 0,
        })),
        ...(action.type === 'classify' ? { file: action.file, column: action.column, role: action.role, reason: action.reason } : {}),
      };
      // Approvals were of the files as they were: checking again starts the approvals over.
      const fresh = { ...request, files, approvals: [], ...(overrides === undefined ? {} : { overrides }) };
      if (refusedFiles.length > 0) {
        // Nothing in a request with a refused file can be released: it goes back at once.
        const reason = `the disclosure checks refused ${refusedFiles.map((f) => f.name).join(', ')}: see the report${refusedFiles.length === 1 ? '' : 's'}, fix the output and resubmit (sde output resubmit --request ${request.id})`;
        return ok(
          { ...fresh, state: 'returned', decision: { kind: 'returned', by: action.actor, time, reason }, history: history('returned', reason) },
          parameters,
        );
      }
      return ok({ ...fresh, state: 'checked', history: history('checked', action.type === 'classify' ? action.reason : undefined) }, parameters);
    }
    case 'override': {
      const file = request.files.find((f) => f.name === action.file);
      const finding = file?.checked?.findings?.find((x) => x.id === action.finding);
      if (!file || !finding)
        return refuse(
          refusal(
            'unknown_finding',
            `request ${request.id} has no finding "${action.finding}" in file "${action.file}" (its findings: ${
              request.files.flatMap((f) => (f.checked?.findings ?? []).map((x) => `${f.name}: ${x.id}`)).join(', ') || 'none'
            })`,
          ),
          reasonParam,
        );
      if (finding.severity !== 'disclosive')
        return refuse(
          refusal('unknown_finding', `finding "${action.finding}" is for review, not disclosive: address it in the note when approving (--note)`),
          reasonParam,
        );
      const overrides = [
        ...(request.overrides ?? []).filter((o) => !(o.file === action.file && o.finding === action.finding)),
        { file: action.file, finding: action.finding, reviewer: action.actor, time, reason: action.reason },
      ];
      return ok(
        { ...request, overrides, history: history(request.state, action.reason) },
        { file: action.file, finding: action.finding, reason: action.reason },
      );
    }
    case 'approve': {
      if (request.approvals.some((a) => principalKey(a.reviewer) === principalKey(action.actor))) {
        return refuse(
          refusal('same_reviewer_twice', 'this reviewer has already approved the request: the second approval must come from a different reviewer'),
        );
      }
      const open = openDisclosiveFindings(request);
      if (open.length > 0)
        return refuse(
          refusal(
            'override_required',
            `the checks found ${open.length === 1 ? 'a disclosive finding' : 'disclosive findings'} (${open.join(', ')}): return the request, or record why each does not disclose (sde output override --request ${request.id} --file FILE --finding ID --reason TEXT)`,
          ),
        );
      const note = action.note?.trim() ?? '';
      if (hasFindings(request) && note.length < 10)
        return refuse(
          refusal(
            'note_required',
            `the checks found things a reviewer must judge (see the reports): approve with --note saying what you checked and why it is safe (at least 10 characters); the note goes into the release manifest`,
          ),
        );
      const files = request.files.map((f) => ({ name: f.name, sha256: f.checked?.output?.sha256 ?? '' }));
      const approvals = [...request.approvals, { reviewer: action.actor, time, files, ...(note === '' ? {} : { note }) }];
      const to: RequestState = approvals.length === 1 ? 'first_approval' : 'second_approval';
      return ok({ ...request, approvals, state: to, history: history(to, note === '' ? undefined : note) }, { approval: approvals.length, files });
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

/**
 * Why a resubmission cannot be accepted, or undefined: the request it names must be a
 * returned request of the same project and requester, not already answered by another.
 */
export function resubmissionProblem(request: OutputRequest, previous: OutputRequest | undefined): string | undefined {
  if (request.resubmits === undefined) return undefined;
  if (previous === undefined || previous.id !== request.resubmits) return `it resubmits ${request.resubmits}, which does not exist`;
  if (previous.projectId !== request.projectId) return `it resubmits ${previous.id}, a request of another project`;
  if (principalKey(previous.requester) !== principalKey(request.requester)) return `it resubmits ${previous.id}, which another researcher requested`;
  if (previous.state !== 'returned') return `it resubmits ${previous.id}, which is ${previous.state}, not returned`;
  if (previous.resubmittedAs !== undefined && previous.resubmittedAs !== request.id)
    return `${previous.id} was already resubmitted as ${previous.resubmittedAs}`;
  return undefined;
}

/** The returned request marked as answered by its resubmission (its state stays returned; the thread is kept). */
export function markResubmitted(previous: OutputRequest, next: OutputRequest, actor: string, time: Date): OutputRequest {
  if (previous.resubmittedAs === next.id) return previous;
  return {
    ...previous,
    resubmittedAs: next.id,
    history: [
      ...previous.history,
      { time: time.toISOString(), actor, action: 'resubmit', from: previous.state, to: previous.state, reason: `resubmitted as ${next.id}` },
    ],
  };
}
