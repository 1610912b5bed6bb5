/**
 * The review flow on the local airlock: notes on findings, overrides of disclosive
 * findings, reviewers' classifications (and the re-check they cause), per-file
 * descriptions, returning and resubmitting with the history kept, and a check made stale
 * by a later release of the project. Each decision is in the signed manifest.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AirlockService } from '../../lib/airlock/airlock-service';
import type { ReleaseManifest } from '../../lib/airlock/manifest';
import { loadConfig } from '../../lib/config';
import { DEFAULT_AIRLOCK_SETTINGS } from '../../lib/config/airlock-settings';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const PROJECT = 'ncl-winter-planning';
const REQUESTER = 'NCL-R-0014'; // a researcher of ncl-winter-planning (config researchers[].id)
const OTHER_RESEARCHER = 'NCL-R-0022';
/** A reviewer who signs in through one of the project's researcher principals. */
const COLLEAGUE = 'arn:aws:iam::111122223333:user/ncl-icb-lead-analyst';
const SETTINGS = { ...DEFAULT_AIRLOCK_SETTINGS, reviewers: ['reviewer-a', 'reviewer-b', COLLEAGUE] };
const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-review-flow-'));
  roots.push(root);
  let minute = 0;
  const airlock = new AirlockService({
    config,
    workdir: path.join(root, 'work'),
    settings: SETTINGS,
    sink: () => undefined,
    now: () => new Date(Date.UTC(2026, 10, 22, 9, minute++)),
  });
  const file = (name: string, text: string) => {
    const p = path.join(root, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const submit = async (name: string, text: string, requester = REQUESTER, resubmits?: string) => {
    const r = await airlock.request({
      projectId: PROJECT,
      files: [{ path: file(name, text), description: `${name}: counts from a COUNT(*) query, grouped` }],
      statement: 'review flow test',
      requester,
      ...(resubmits ? { resubmits } : {}),
    });
    if (!r.ok) throw new Error(r.refusal.message);
    return r.value.id;
  };
  const checked = async (id: string) => {
    const c = await airlock.check(id);
    if (!c.ok) throw new Error(c.refusal.message);
    return c.value;
  };
  const manifestOf = (manifestPath: string) => (JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { manifest: ReleaseManifest }).manifest;
  return { airlock, submit, checked, manifestOf };
}

const refusal = (o: { ok: boolean; refusal?: { code: string } }) => (o.ok ? 'ok' : o.refusal!.code);

test('a finding for review: approving needs a note, which the manifest carries', async () => {
  const s = setup();
  const id = await s.submit('zeros.csv', 'area,admissions\nA,0\nB,150\nC,160\n');
  expect((await s.checked(id)).reports[0].findings.map((f) => f.id)).toEqual(['zeros:admissions']);
  expect(refusal(await s.airlock.review(id, 'reviewer-a', 'approve'))).toBe('note_required');
  expect(refusal(await s.airlock.review(id, 'reviewer-a', 'approve', 'ok'))).toBe('note_required');
  expect(refusal(await s.airlock.review(id, 'reviewer-a', 'approve', 'Area A has no acute trust: a structural zero'))).toBe('ok');
  expect(refusal(await s.airlock.review(id, 'reviewer-b', 'approve', 'Agreed: structural zero, nobody lives in scope'))).toBe('ok');
  const rel = await s.airlock.release(id);
  if (!rel.ok) throw new Error(rel.refusal.message);
  const m = s.manifestOf(rel.value.manifestPath);
  expect(m.reviewers.map((r) => r.note)).toEqual(['Area A has no acute trust: a structural zero', 'Agreed: structural zero, nobody lives in scope']);
  expect(m.files[0]).toMatchObject({
    description: 'zeros.csv: counts from a COUNT(*) query, grouped',
    outcome: 'review',
    findings: [{ id: 'zeros:admissions', rule: 'zeros', severity: 'review', cells: 1 }],
  });
});

test('a disclosive finding: no approval until a reviewer (not the requester, not the project) records why it is not', async () => {
  const s = setup();
  const first = await s.submit('model-a.csv', 'term,estimate,std_error,p_value\nintercept,1.25,0.31,0.001\ndf_resid,6,,\n');
  await s.checked(first);
  const finding = 'regression_dof:*';
  expect(refusal(await s.airlock.review(first, 'reviewer-a', 'approve', 'looked at the model, fine'))).toBe('override_required');
  expect(refusal(await s.airlock.override(first, REQUESTER, { file: 'model-a.csv', finding, reason: 'it is fine' }))).toBe('not_a_reviewer');
  expect(refusal(await s.airlock.override(first, COLLEAGUE, { file: 'model-a.csv', finding, reason: 'it is fine' }))).toBe('reviewer_is_project_researcher');
  expect(refusal(await s.airlock.override(first, 'reviewer-a', { file: 'model-a.csv', finding, reason: '' }))).toBe('reason_required');
  expect(refusal(await s.airlock.override(first, 'reviewer-a', { file: 'model-a.csv', finding: 'no_such:*', reason: 'x' }))).toBe('unknown_finding');
  const o = await s.airlock.override(first, 'reviewer-a', { file: 'model-a.csv', finding, reason: 'a published model refitted on synthetic data' });
  expect(refusal(o)).toBe('ok');
  expect(refusal(await s.airlock.review(first, 'reviewer-a', 'approve', 'degrees of freedom overridden: see the reason'))).toBe('ok');
  expect(refusal(await s.airlock.review(first, 'reviewer-b', 'approve', 'agree with the override and the model'))).toBe('ok');
  const rel = await s.airlock.release(first);
  if (!rel.ok) throw new Error(rel.refusal.message);
  expect(s.manifestOf(rel.value.manifestPath).files[0].findings.find((f) => f.id === finding)).toMatchObject({
    id: finding,
    severity: 'disclosive',
    override: { reviewer: 'reviewer-a', reason: 'a published model refitted on synthetic data' },
  });
});

test("a reviewer's classification: the files are checked again, the approvals start over, the reason is in the manifest", async () => {
  const s = setup();
  const id = await s.submit('by-year.csv', 'year,admissions\n2024,150\n2025,160\n2026,170\n');
  const first = await s.checked(id);
  // As counts, the years are rounded (2024 -> 2025) and a reviewer is asked.
  expect(first.reports[0].findings.map((f) => f.id)).toEqual(['numeric_category:year']);
  expect(refusal(await s.airlock.review(id, 'reviewer-a', 'approve', 'years are fine, approving'))).toBe('ok');
  const role = { file: 'by-year.csv', column: 'year', role: 'category' as const, reason: 'the calendar year of admission' };
  expect(refusal(await s.airlock.classify(id, REQUESTER, role))).toBe('not_a_reviewer');
  expect(refusal(await s.airlock.classify(id, 'reviewer-b', { ...role, reason: ' ' }))).toBe('reason_required');
  const again = await s.airlock.classify(id, 'reviewer-b', role);
  if (!again.ok) throw new Error(again.refusal.message);
  expect(again.value.request.approvals).toEqual([]);
  expect(again.value.request.state).toBe('checked');
  expect(again.value.reports[0].outcome).toBe('unchanged');
  expect(again.value.reports[0].findings).toEqual([]);
  for (const r of ['reviewer-a', 'reviewer-b']) expect(refusal(await s.airlock.review(id, r, 'approve'))).toBe('ok');
  const rel = await s.airlock.release(id);
  if (!rel.ok) throw new Error(rel.refusal.message);
  expect(fs.readFileSync(path.join(path.dirname(rel.value.manifestPath), 'files', 'by-year.csv'), 'utf8')).toBe(
    'year,admissions\n2024,150\n2025,160\n2026,170\n',
  );
  expect(s.manifestOf(rel.value.manifestPath).files[0].classifications).toEqual([
    { column: 'year', role: 'category', reviewer: 'reviewer-b', reason: 'the calendar year of admission' },
  ]);
});

test('returned with comments, resubmitted, the history of both rounds kept', async () => {
  const s = setup();
  const first = await s.submit('round.csv', 'area,admissions\nA,0\nB,150\nC,160\n');
  await s.checked(first);
  const back = await s.airlock.review(first, 'reviewer-a', 'return', 'please drop area A: it is empty by construction');
  expect(back.ok && back.value.state).toBe('returned');
  // Not by someone else, not from a request that was not returned.
  const stranger = await s.submit('round.csv', 'area,admissions\nB,150\nC,160\n', OTHER_RESEARCHER, first);
  expect(refusal(await s.airlock.check(stranger))).toBe('bad_resubmission');
  const second = await s.submit('round.csv', 'area,admissions\nB,150\nC,160\n', REQUESTER, first);
  const c = await s.checked(second);
  expect(c.request.state).toBe('checked');
  const twice = await s.submit('round.csv', 'area,admissions\nB,150\nC,160\n', REQUESTER, first);
  expect(refusal(await s.airlock.check(twice))).toBe('bad_resubmission');
  const thread = await s.airlock.thread(second);
  expect(thread.map((r) => [r.id, r.state])).toEqual([
    [first, 'returned'],
    [second, 'checked'],
  ]);
  expect(thread[0].resubmittedAs).toBe(second);
  expect(thread[0].history.map((h) => h.action)).toEqual(['submit', 'check', 'return', 'resubmit']);
  expect(thread[0].decision?.reason).toBe('please drop area A: it is empty by construction');
  expect(await s.airlock.thread(first)).toEqual(thread);
});

test('a release of the project after a check makes the check stale: approving and releasing need a new check', async () => {
  const s = setup();
  const a = await s.submit('a.csv', 'area,admissions\nA,150\nB,160\n');
  const b = await s.submit('b.csv', 'sex,deaths\nF,240\nM,250\n');
  await s.checked(a);
  await s.checked(b);
  for (const r of ['reviewer-a', 'reviewer-b']) expect(refusal(await s.airlock.review(b, r, 'approve'))).toBe('ok');
  expect(refusal(await s.airlock.release(b))).toBe('ok');
  expect(refusal(await s.airlock.review(a, 'reviewer-a', 'approve'))).toBe('stale_check');
  await s.checked(a);
  expect(refusal(await s.airlock.review(a, 'reviewer-a', 'approve'))).toBe('ok');
});

test('every file must be described', async () => {
  const s = setup();
  const p = path.join(os.tmpdir(), `undescribed-${process.pid}.csv`);
  fs.writeFileSync(p, 'area,n\nA,150\n');
  roots.push(p);
  const r = await s.airlock.request({ projectId: PROJECT, files: [{ path: p }], requester: REQUESTER });
  expect(refusal(r)).toBe('invalid_request');
});
