/**
 * The local airlock end to end on a temporary workdir: store layout and permissions,
 * egress only at release, the signed manifest, and `verify` accepting an untouched
 * release and rejecting a changed byte in a file or in the manifest.
 */
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AirlockAuditEvent } from '../../lib/airlock/audit-events';
import { AirlockService } from '../../lib/airlock/airlock-service';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { SETTINGS } from './helpers';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const PROJECT = 'ncl-winter-planning';
const REQUESTER = 'NCL-R-0014'; // a researcher of ncl-winter-planning (config researchers[].id)
const TABLE = 'area,F,M,total\nA,5,30,35\nB,22,41,63\nC,18,26,44\nTotal,45,97,142\n';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-airlock-'));
  dirs.push(root);
  const workdir = path.join(root, 'work');
  const input = path.join(root, 'beds-by-area.csv');
  fs.writeFileSync(input, TABLE);
  const events: AirlockAuditEvent[] = [];
  let minute = 0;
  const airlock = new AirlockService({
    config,
    workdir,
    settings: SETTINGS,
    sink: (e) => void events.push(e),
    now: () => new Date(Date.UTC(2026, 10, 22, 9, minute++)),
  });
  return { root, workdir, input, events, airlock };
}

async function releasedRequest() {
  const s = setup();
  const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], statement: 'Emergency bed need by area', requester: REQUESTER });
  if (!req.ok) throw new Error(req.refusal.message);
  const id = req.value.id;
  const checked = await s.airlock.check(id);
  if (!checked.ok) throw new Error(checked.refusal.message);
  for (const reviewer of ['reviewer-a', 'reviewer-b']) {
    const r = await s.airlock.review(id, reviewer, 'approve');
    if (!r.ok) throw new Error(r.refusal.message);
  }
  const rel = await s.airlock.release(id);
  if (!rel.ok) throw new Error(rel.refusal.message);
  return { ...s, id, manifestPath: rel.value.manifestPath };
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('a release through both reviewers', () => {
  test('store layout, permissions, egress copy and the audit events', async () => {
    const s = setup();
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    expect(req.ok).toBe(true);
    if (!req.ok) return;
    const id = req.value.id;
    const dir = path.join(s.workdir, 'airlock', 'requests', id);
    expect(fs.readFileSync(path.join(dir, 'files', 'beds-by-area.csv'), 'utf8')).toBe(TABLE);
    expect(mode(path.join(dir, 'request.json'))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(s.workdir, 'airlock'))).toBe(0o700);

    await s.airlock.check(id);
    expect(fs.readFileSync(path.join(dir, 'checked', 'beds-by-area.csv'), 'utf8')).toBe(
      'area,F,M,total\nA,[c],[c],35\nB,20,40,65\nC,[c],[c],45\nTotal,45,95,140\n',
    );
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'beds-by-area.csv.json'), 'utf8')).outcome).toBe('changed');
    expect(fs.readFileSync(path.join(dir, 'reports', 'beds-by-area.csv.txt'), 'utf8')).toMatch(/secondary suppression/);

    await s.airlock.review(id, 'reviewer-a', 'approve');
    await s.airlock.review(id, 'reviewer-b', 'approve');
    // Nothing leaves before release.
    expect(fs.readdirSync(path.join(s.workdir, 'airlock', 'released'))).toEqual([]);
    const rel = await s.airlock.release(id);
    expect(rel.ok).toBe(true);
    if (!rel.ok) return;
    const releaseDir = path.join(s.workdir, 'airlock', 'released', PROJECT, id);
    expect(rel.value.manifestPath).toBe(path.join(releaseDir, 'manifest.json'));
    expect(fs.readdirSync(releaseDir).sort()).toEqual(['files', 'manifest.json']);
    expect(fs.readFileSync(path.join(releaseDir, 'files', 'beds-by-area.csv'), 'utf8')).toMatch(/^area,F,M,total\nA,\[c\]/);
    expect(mode(path.join(s.workdir, 'airlock', 'keys', 'signing-key.pem'))).toBe(0o600);

    const { manifest, signature } = JSON.parse(fs.readFileSync(rel.value.manifestPath, 'utf8'));
    expect(manifest).toMatchObject({
      type: 'sde-airlock-release',
      platform: 'onelondon-sde',
      request: { id, requester: REQUESTER },
      project: { id: PROJECT, approvalReference: expect.any(String) },
      reviewers: [
        { order: 1, principal: 'reviewer-a', approvedAt: expect.any(String) },
        { order: 2, principal: 'reviewer-b', approvedAt: expect.any(String) },
      ],
      releasedBy: 'sde-airlock',
    });
    expect(manifest.files[0]).toMatchObject({
      name: 'beds-by-area.csv',
      path: 'files/beds-by-area.csv',
      outcome: 'changed',
      settings: { suppressionThreshold: 7, roundingBase: 5 },
    });
    expect(manifest.files[0].checks).toContainEqual({ id: 'secondary_suppression', outcome: 'changed', cellsChanged: 3 });
    expect(JSON.stringify(manifest)).not.toMatch(/"from"/); // no cell values leave in the manifest
    expect(signature).toMatchObject({ algorithm: 'ECDSA_SHA_256', keyId: expect.stringMatching(/^local:[0-9a-f]{64}$/) });

    expect(s.events.map((e) => [e.eventName, e.errorCode ?? 'ok'])).toEqual([
      ['SubmitOutputRequest', 'ok'],
      ['CheckOutputRequest', 'ok'],
      ['ApproveOutputRequest', 'ok'],
      ['ApproveOutputRequest', 'ok'],
      ['ReleaseOutput', 'ok'],
    ]);
    expect((await s.airlock.list(PROJECT)).map((r) => [r.id, r.state])).toEqual([[id, 'released']]);
    expect(await s.airlock.list('ucl-multimorbidity')).toEqual([]);
  });

  test('the default audit sink appends one JSON record per line', async () => {
    const s = setup();
    const airlock = new AirlockService({ config, workdir: s.workdir, settings: SETTINGS });
    await airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    await airlock.request({ projectId: 'kcl-covid-recovery', files: [{ path: s.input }] });
    const lines = fs
      .readFileSync(path.join(s.workdir, 'airlock', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.eventName, l.errorCode ?? 'ok'])).toEqual([
      ['SubmitOutputRequest', 'ok'],
      ['SubmitOutputRequest', 'AccessDenied'],
    ]);
  });
});

describe('verify', () => {
  test('accepts an untouched release', async () => {
    const r = await releasedRequest();
    const report = r.airlock.verify(r.manifestPath);
    expect(report.items.filter((i) => !i.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  test('rejects a release with one changed byte in a released file', async () => {
    const r = await releasedRequest();
    const file = path.join(path.dirname(r.manifestPath), 'files', 'beds-by-area.csv');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 2] ^= 0x01; // "140" -> "141"
    fs.writeFileSync(file, bytes);
    const report = r.airlock.verify(r.manifestPath);
    expect(report.ok).toBe(false);
    expect(report.items.find((i) => i.what === 'file beds-by-area.csv')).toMatchObject({ ok: false, detail: expect.stringMatching(/has changed/) });
    expect(report.items.find((i) => i.what === 'signature')?.ok).toBe(true);
  });

  test('rejects a release with one changed byte in the manifest', async () => {
    const r = await releasedRequest();
    const text = fs.readFileSync(r.manifestPath, 'utf8');
    // reviewer-b -> reviewer-c: one byte.
    fs.writeFileSync(r.manifestPath, text.replace('"reviewer-b"', '"reviewer-c"'));
    const report = r.airlock.verify(r.manifestPath);
    expect(report.ok).toBe(false);
    expect(report.items.find((i) => i.what === 'signature')).toMatchObject({ ok: false, detail: expect.stringMatching(/altered/) });
  });

  test('rejects a manifest whose layout changed even when its meaning did not', async () => {
    const r = await releasedRequest();
    fs.appendFileSync(r.manifestPath, ' ');
    const report = r.airlock.verify(r.manifestPath);
    expect(report.ok).toBe(false);
    expect(report.items.find((i) => i.what === 'manifest bytes')?.ok).toBe(false);
  });

  test('rejects a manifest signed by another key than the trusted one, and a missing file', async () => {
    const r = await releasedRequest();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(r.airlock.verify(r.manifestPath, other).items.find((i) => i.what === 'signature')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/another key/),
    });
    fs.rmSync(path.join(path.dirname(r.manifestPath), 'files', 'beds-by-area.csv'));
    expect(r.airlock.verify(r.manifestPath).items.find((i) => i.what === 'file beds-by-area.csv')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/missing/),
    });
  });

  test('rejects something that is not a manifest', async () => {
    const r = await releasedRequest();
    fs.writeFileSync(r.manifestPath, '{"hello":1}');
    expect(r.airlock.verify(r.manifestPath).ok).toBe(false);
    fs.writeFileSync(r.manifestPath, 'not json');
    expect(r.airlock.verify(r.manifestPath).items[0].detail).toMatch(/not valid JSON/);
  });
});

describe('bad input: refused with a reason and an audit record; nothing released', () => {
  test('a file changed inside the airlock after approval is refused at release', async () => {
    const s = setup();
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    const id = req.value.id;
    await s.airlock.check(id);
    await s.airlock.review(id, 'reviewer-a', 'approve');
    await s.airlock.review(id, 'reviewer-b', 'approve');
    const checkedFile = path.join(s.workdir, 'airlock', 'requests', id, 'checked', 'beds-by-area.csv');
    fs.writeFileSync(checkedFile, fs.readFileSync(checkedFile, 'utf8').replace('[c]', '4'));
    const rel = await s.airlock.release(id);
    expect(rel.ok).toBe(false);
    if (rel.ok) return;
    expect(rel.refusal.code).toBe('file_changed');
    expect(s.events.at(-1)).toMatchObject({ eventName: 'ReleaseOutput', errorCode: 'BadDigest' });
    expect(fs.readdirSync(path.join(s.workdir, 'airlock', 'released'))).toEqual([]);
    expect((await s.airlock.store.read(id)).state).toBe('second_approval');
  });

  test('a request for an expired project', async () => {
    const s = setup();
    const req = await s.airlock.request({ projectId: 'kcl-covid-recovery', files: [{ path: s.input }] });
    expect(req.ok).toBe(false);
    if (!req.ok) expect(req.refusal.message).toMatch(/"kcl-covid-recovery" has expired/);
    expect(fs.readdirSync(path.join(s.workdir, 'airlock', 'requests'))).toEqual([]);
  });

  test('a huge file is refused by its size without being read', async () => {
    const s = setup();
    const airlock = new AirlockService({ config, workdir: s.workdir, settings: { ...SETTINGS, maxFileBytes: 50 }, sink: (e) => void s.events.push(e) });
    const req = await airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    expect(req.ok).toBe(false);
    expect(s.events[0]).toMatchObject({ eventName: 'SubmitOutputRequest', errorCode: 'EntityTooLarge' });
  });

  test('a file that is not a table is returned by the check', async () => {
    const s = setup();
    fs.writeFileSync(s.input, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00])); // a zip header
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    const checked = await s.airlock.check(req.value.id);
    expect(checked.ok && checked.value.request.state).toBe('returned');
    expect(fs.existsSync(path.join(s.workdir, 'airlock', 'requests', req.value.id, 'checked', 'beds-by-area.csv'))).toBe(false);
    const approve = await s.airlock.review(req.value.id, 'reviewer-a', 'approve');
    expect(approve.ok).toBe(false);
  });

  test('the requester cannot approve, a reviewer cannot approve twice, a stranger cannot review', async () => {
    const s = setup();
    const settings = { ...SETTINGS, reviewers: [...SETTINGS.reviewers, REQUESTER] };
    const airlock = new AirlockService({ config, workdir: s.workdir, settings, sink: (e) => void s.events.push(e) });
    const req = await airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    await airlock.check(req.value.id);
    expect((await airlock.review(req.value.id, REQUESTER, 'approve')).ok).toBe(false);
    expect((await airlock.review(req.value.id, 'reviewer-a', 'approve')).ok).toBe(true);
    expect((await airlock.review(req.value.id, 'reviewer-a', 'approve')).ok).toBe(false);
    expect((await airlock.review(req.value.id, 'mallory', 'approve')).ok).toBe(false);
    expect(s.events.map((e) => e.errorCode ?? 'ok')).toEqual(['ok', 'ok', 'AccessDenied', 'ok', 'AccessDenied', 'AccessDenied']);
    expect((await airlock.store.read(req.value.id)).state).toBe('first_approval');
  });

  test('if the audit sink fails, the action does not take effect', async () => {
    const s = setup();
    const airlock = new AirlockService({
      config,
      workdir: s.workdir,
      settings: SETTINGS,
      sink: () => {
        throw new Error('audit trail unavailable');
      },
    });
    await expect(airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER })).rejects.toThrow(/audit trail unavailable/);
    expect(fs.readdirSync(path.join(s.workdir, 'airlock', 'requests'))).toEqual([]);
  });
});
