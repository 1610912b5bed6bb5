import { checkRecord } from '../../lib/audit/cloudtrail-record';
import { AIRLOCK_EVENT_SOURCE, type AirlockAuditEnv } from '../../lib/airlock/audit-events';
import type { CheckedFile, OutputRequest, SubmitContext, WorkflowAction, WorkflowContext, WorkflowResult } from '../../lib/airlock/workflow';
import { submitRequest, transition } from '../../lib/airlock/workflow';
import { DEFAULT_AIRLOCK_SETTINGS } from '../../lib/config/airlock-settings';

const { reviewers: _r, ...CHECK_SETTINGS } = DEFAULT_AIRLOCK_SETTINGS;
const audit: AirlockAuditEnv = { accountId: '000000000000', region: 'eu-west-2', projectRoleName: (id) => `onelondon-sde-project-${id}` };
const REQUESTER = 'NCL-R-0014'; // a researcher of ncl-winter-planning (config researchers[].id)
const REVIEWER_C = 'arn:aws:iam::111122223333:role/output-checker-c';
const REVIEWERS = ['reviewer-a', 'reviewer-b', REVIEWER_C, REQUESTER];
const ctx: WorkflowContext = { projectState: 'active', reviewers: REVIEWERS, audit };
const submitCtx: SubmitContext = { ...ctx, projectResearchers: [REQUESTER], maxFileBytes: 1000 };
const T = (minute: number) => new Date(Date.UTC(2026, 10, 22, 10, minute));

const SUBMITTED = { bytes: 40, sha256: 'a'.repeat(64) };
const CHECKED = { bytes: 42, sha256: 'b'.repeat(64) };
const passed: CheckedFile = { outcome: 'changed', output: CHECKED, checks: [], settings: CHECK_SETTINGS, cellsChanged: 2, refusals: 0 };
const refusedFile: CheckedFile = { outcome: 'refused', checks: [], settings: CHECK_SETTINGS, cellsChanged: 0, refusals: 1 };

function ok(result: WorkflowResult): OutputRequest {
  if (!result.ok) throw new Error(`refused: ${result.refusal.message}`);
  return result.request;
}

function refusedWith(result: WorkflowResult, code: string, errorCode: string): string {
  expect(result.ok).toBe(false);
  if (result.ok) return '';
  expect(result.refusal.code).toBe(code);
  expect(result.event.errorCode).toBe(errorCode);
  expect(result.event.errorMessage).toBe(result.refusal.message);
  expect(result.event.responseElements).toBeNull();
  return result.refusal.message;
}

const submit = (over: Partial<Parameters<typeof submitRequest>[0]> = {}, c: SubmitContext = submitCtx) =>
  submitRequest(
    {
      id: 'req-20261122-0000abcd',
      projectId: 'ncl-winter-planning',
      requester: REQUESTER,
      statement: 'Bed need by age band',
      time: T(0),
      files: [{ name: 'beds.csv', submitted: SUBMITTED }],
      ...over,
    },
    c,
  );

const act = (request: OutputRequest, action: WorkflowAction, c: WorkflowContext = ctx) => transition(request, action, c);
const checkAction = (files: CheckedFile = passed): WorkflowAction => ({
  type: 'check',
  actor: 'sde-airlock',
  time: T(1),
  results: new Map([['beds.csv', files]]),
});
const approve = (actor: string, minute = 2): WorkflowAction => ({ type: 'approve', actor, time: T(minute) });
const release = (checked = CHECKED.sha256, submitted = SUBMITTED.sha256): WorkflowAction => ({
  type: 'release',
  actor: 'sde-airlock',
  time: T(9),
  current: new Map([['beds.csv', { submitted, checked }]]),
});

const checked = () => ok(act(ok(submit()), checkAction()));
const approvedTwice = () => ok(act(ok(act(checked(), approve('reviewer-a'))), approve('reviewer-b', 3)));

describe('the happy path: submitted -> checked -> approved twice -> released', () => {
  test('every transition, its history and its audit event', () => {
    const s = submit();
    const submitted = ok(s);
    expect(submitted.state).toBe('submitted');
    const c = act(submitted, checkAction());
    expect(ok(c).state).toBe('checked');
    const a1 = act(ok(c), approve('reviewer-a'));
    expect(ok(a1).state).toBe('first_approval');
    const a2 = act(ok(a1), approve('Reviewer-B', 3));
    expect(ok(a2).state).toBe('second_approval');
    const r = act(ok(a2), release());
    const released = ok(r);
    expect(released.state).toBe('released');
    expect(released.release).toEqual({ time: T(9).toISOString(), by: 'sde-airlock' });
    expect(released.approvals.map((a) => [a.reviewer, a.files])).toEqual([
      ['reviewer-a', [{ name: 'beds.csv', sha256: CHECKED.sha256 }]],
      ['Reviewer-B', [{ name: 'beds.csv', sha256: CHECKED.sha256 }]],
    ]);
    expect(released.history.map((h) => `${h.action}:${h.from ?? ''}->${h.to}`)).toEqual([
      'submit:->submitted',
      'check:submitted->checked',
      'approve:checked->first_approval',
      'approve:first_approval->second_approval',
      'release:second_approval->released',
    ]);
    const events = [s, c, a1, a2, r].map((x) => x.event);
    expect(events.map((e) => e.eventName)).toEqual([
      'SubmitOutputRequest',
      'CheckOutputRequest',
      'ApproveOutputRequest',
      'ApproveOutputRequest',
      'ReleaseOutput',
    ]);
    for (const e of events) {
      expect(e.eventSource).toBe(AIRLOCK_EVENT_SOURCE);
      expect(e.errorCode).toBeUndefined();
      expect(e.requestParameters).toMatchObject({ requestId: 'req-20261122-0000abcd', projectId: 'ncl-winter-planning' });
      expect(e.additionalEventData.sdeProjectId).toBe('ncl-winter-planning');
      // The same shape the audit reader accepts for CloudTrail records.
      expect(checkRecord(JSON.parse(JSON.stringify(e))).ok).toBe(true);
    }
    // The researcher acts through the project role, their id the session's source identity.
    expect(events[0].userIdentity).toMatchObject({
      type: 'AssumedRole',
      arn: `arn:aws:sts::000000000000:assumed-role/onelondon-sde-project-ncl-winter-planning/${REQUESTER}`,
      sessionContext: { sourceIdentity: REQUESTER },
    });
    expect(events[2].userIdentity).toMatchObject({ type: 'IAMUser', userName: 'reviewer-a' });
    expect(events[2].eventTime).toBe('2026-11-22T10:02:00Z');
  });

  test('a reviewer returns or rejects, with a reason, from any review state', () => {
    for (const start of [checked(), ok(act(checked(), approve('reviewer-a'))), approvedTwice()]) {
      for (const type of ['return', 'reject'] as const) {
        const result = act(start, { type, actor: REVIEWER_C, time: T(5), reason: 'Cell for E01000001 is too small' });
        const next = ok(result);
        expect(next.state).toBe(type === 'return' ? 'returned' : 'rejected');
        expect(next.decision).toEqual({ kind: next.state, by: REVIEWER_C, time: T(5).toISOString(), reason: 'Cell for E01000001 is too small' });
        expect(result.event.eventName).toBe(type === 'return' ? 'ReturnOutputRequest' : 'RejectOutputRequest');
      }
    }
  });

  test('a file refused by the checks returns the request at once', () => {
    const result = act(ok(submit()), checkAction(refusedFile));
    const returned = ok(result);
    expect(returned.state).toBe('returned');
    expect(returned.decision?.reason).toMatch(/disclosure checks refused beds.csv/);
    expect(result.event.additionalEventData.sdeState).toBe('returned');
  });
});

describe('refusals: each with a reason and an audit event, and nothing changes', () => {
  test.each([
    ['unknown project', { ...submitCtx, projectState: 'unknown' as const }, 'unknown_project', 'ResourceNotFoundException', /no project "ncl-winter-planning"/],
    ['expired project', { ...submitCtx, projectState: 'expired' as const }, 'project_not_active', 'AccessDenied', /has expired/],
    ['suspended project', { ...submitCtx, projectState: 'suspended' as const }, 'project_not_active', 'AccessDenied', /is suspended/],
    ['project not started', { ...submitCtx, projectState: 'not_started' as const }, 'project_not_active', 'AccessDenied', /has not started/],
    [
      'not a researcher of the project',
      { ...submitCtx, projectResearchers: ['arn:aws:iam::111122223333:role/someone-else'] },
      'not_project_researcher',
      'AccessDenied',
      /is not one of the named researchers/,
    ],
    ['a huge file', { ...submitCtx, maxFileBytes: 10 }, 'file_too_large', 'EntityTooLarge', /at most 10 bytes/],
  ])('submit: %s', (_name, c, code, errorCode, message) => {
    const result = submit({}, c);
    expect(refusedWith(result, code, errorCode)).toMatch(message);
    expect(result.event.eventName).toBe('SubmitOutputRequest');
  });

  test.each([
    ['no files', { files: [] }, /at least one file/],
    ['a path as a file name', { files: [{ name: '../etc/passwd', submitted: SUBMITTED }] }, /file name/],
    [
      'two files with one name',
      {
        files: [
          { name: 'a.csv', submitted: SUBMITTED },
          { name: 'A.csv', submitted: SUBMITTED },
        ],
      },
      /two files are named/,
    ],
  ])('submit: %s', (_name, over, message) => {
    expect(refusedWith(submit(over), 'invalid_request', 'ValidationException')).toMatch(message);
  });

  test('a reviewer not on the list', () => {
    const result = act(checked(), approve('arn:aws:iam::111122223333:role/not-a-reviewer'));
    expect(refusedWith(result, 'not_a_reviewer', 'AccessDenied')).toMatch(/not on the airlock's list/);
    expect(result.event.eventName).toBe('ApproveOutputRequest');
    expect(result.event.additionalEventData.sdeRefusal).toBe('not_a_reviewer');
  });

  test('no reviewers configured: nobody can approve', () => {
    expect(refusedWith(act(checked(), approve('reviewer-a'), { ...ctx, reviewers: [] }), 'not_a_reviewer', 'AccessDenied')).toMatch(
      /no reviewers are configured/,
    );
  });

  test('the requester approving (or returning) their own request, even when on the reviewers list', () => {
    expect(refusedWith(act(checked(), approve(REQUESTER)), 'requester_cannot_review', 'AccessDenied')).toMatch(/never review their own/);
    // Names are compared ignoring case: the same person written in lower case is still the requester.
    refusedWith(act(checked(), approve(REQUESTER.toLowerCase())), 'requester_cannot_review', 'AccessDenied');
    refusedWith(act(checked(), { type: 'return', actor: REQUESTER, time: T(3), reason: 'x' }), 'requester_cannot_review', 'AccessDenied');
  });

  test('a researcher of the project cannot approve its outputs, whoever the request names as requester', () => {
    // A reviewer who is one of the project's researchers, or who acts through a principal
    // its researchers sign in with, would be approving their own team's work.
    const colleague = 'NCL-R-0003';
    const withTeam: WorkflowContext = { ...ctx, projectResearchers: [REQUESTER, colleague], projectPrincipals: [REVIEWER_C] };
    const byColleague = ok(submit({ requester: colleague }, { ...submitCtx, projectResearchers: [REQUESTER, colleague] }));
    const checkedByColleague = ok(act(byColleague, checkAction(), withTeam));
    expect(refusedWith(act(checkedByColleague, approve(REVIEWER_C), withTeam), 'reviewer_is_project_researcher', 'AccessDenied')).toMatch(
      /a researcher of project "ncl-winter-planning" cannot approve its outputs/,
    );
    // A reviewer who is not on this project's team still can.
    expect(act(checkedByColleague, approve('reviewer-a'), withTeam).ok).toBe(true);
    // Returning it with a reason is not approving: allowed.
    expect(act(checkedByColleague, { type: 'return', actor: REVIEWER_C, time: T(3), reason: 'round the totals' }, withTeam).ok).toBe(true);
  });

  test('a second approval by the same reviewer (names compared ignoring case, as IAM does)', () => {
    const once = ok(act(checked(), approve('reviewer-a')));
    expect(refusedWith(act(once, approve('REVIEWER-A', 3)), 'same_reviewer_twice', 'AccessDenied')).toMatch(/different reviewer/);
  });

  test('actions in the wrong state', () => {
    const submitted = ok(submit());
    refusedWith(act(submitted, approve('reviewer-a')), 'invalid_state', 'InvalidRequestStateException');
    refusedWith(act(checked(), checkAction()), 'invalid_state', 'InvalidRequestStateException');
    refusedWith(act(ok(act(checked(), approve('reviewer-a'))), release()), 'invalid_state', 'InvalidRequestStateException');
    refusedWith(act(approvedTwice(), approve(REVIEWER_C, 4)), 'invalid_state', 'InvalidRequestStateException');
    const released = ok(act(approvedTwice(), release()));
    expect(refusedWith(act(released, release()), 'invalid_state', 'InvalidRequestStateException')).toMatch(/already released/);
    const returned = ok(act(checked(), { type: 'return', actor: 'reviewer-a', time: T(3), reason: 'why' }));
    expect(refusedWith(act(returned, approve('reviewer-b')), 'invalid_state', 'InvalidRequestStateException')).toMatch(/returned to the researcher/);
  });

  test('completing a release: only from released, changes nothing, records CompleteOutputRelease; refused once the project has ended', () => {
    const complete: WorkflowAction = { type: 'complete_release', actor: 'sde-airlock', time: T(20) };
    const released = ok(act(approvedTwice(), release()));
    const done = act(released, complete);
    expect(ok(done)).toBe(released);
    expect(done.event).toMatchObject({ eventName: 'CompleteOutputRelease', eventSource: AIRLOCK_EVENT_SOURCE });
    expect(done.event.errorCode).toBeUndefined();
    expect(refusedWith(act(approvedTwice(), complete), 'invalid_state', 'InvalidRequestStateException')).toMatch(/cannot be published now/);
    refusedWith(act(released, complete, { ...ctx, projectState: 'expired' }), 'project_not_active', 'AccessDenied');
  });

  test('returning or rejecting without a reason', () => {
    refusedWith(act(checked(), { type: 'reject', actor: 'reviewer-a', time: T(3), reason: '  ' }), 'reason_required', 'ValidationException');
  });

  test('a file changed after approval (checked or submitted copy) is refused at release', () => {
    expect(refusedWith(act(approvedTwice(), release('c'.repeat(64))), 'file_changed', 'BadDigest')).toMatch(
      /beds.csv changed after it was checked and approved/,
    );
    refusedWith(act(approvedTwice(), release(CHECKED.sha256, 'd'.repeat(64))), 'file_changed', 'BadDigest');
    const missing: WorkflowAction = { type: 'release', actor: 'sde-airlock', time: T(9), current: new Map() };
    refusedWith(act(approvedTwice(), missing), 'file_changed', 'BadDigest');
  });

  test('a project that expired or was suspended after submission: no approval, no release', () => {
    refusedWith(act(checked(), approve('reviewer-a'), { ...ctx, projectState: 'expired' }), 'project_not_active', 'AccessDenied');
    refusedWith(act(approvedTwice(), release(), { ...ctx, projectState: 'suspended' }), 'project_not_active', 'AccessDenied');
  });
});
