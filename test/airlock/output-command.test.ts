/**
 * `sde output` as the CLI runs it (arguments parsed the way lib/cli/cli.ts parses them),
 * with an audit sink plugged in as lib/cli/cli.ts will plug in the local audit writer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify, parse } from 'yaml';
import type { AirlockAuditEvent } from '../../lib/airlock/audit-events';
import { UsageError } from '../../lib/cli/command';
import { commandHelp } from '../../lib/cli/cli';
import { createOutputCommand } from '../../lib/cli/commands/output';
import { ConfigFixture, TEST_TODAY } from '../helpers/config-fixture';
import { SETTINGS } from './helpers';

const REQUESTER = 'NCL-R-0014'; // a researcher of ncl-winter-planning (config researchers[].id)
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

function setup(settings?: typeof SETTINGS) {
  const fixture = new ConfigFixture();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-output-cli-'));
  cleanups.push(
    () => fixture.cleanup(),
    () => fs.rmSync(root, { recursive: true, force: true }),
  );
  const events: AirlockAuditEvent[] = [];
  const command = createOutputCommand({ auditSink: () => (e) => void events.push(e), ...(settings ? { settings: () => settings } : {}) });
  const file = path.join(root, 'admissions.csv');
  fs.writeFileSync(file, 'age_band,admissions\n0-17,4\n18-64,123\n65+,45\n');
  return { fixture, root, events, command, file, workdir: path.join(root, 'work') };
}

async function run(s: ReturnType<typeof setup>, args: string[]) {
  const options = Object.fromEntries(Object.entries(s.command.options).map(([k, { description: _d, valueName: _v, ...spec }]) => [k, spec]));
  const parsed = parseArgs({
    args: [...args, '--config', s.fixture.dir, '--workdir', s.workdir, '--today', TEST_TODAY],
    options,
    allowPositionals: true,
    strict: true,
  } as Parameters<typeof parseArgs>[0]);
  const out: string[] = [];
  const err: string[] = [];
  const code = await s.command.run({
    values: parsed.values as Record<string, string | boolean | string[] | undefined>,
    positionals: parsed.positionals,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Adds the airlock block to platform.yaml (works once the schema has it; see README). */
function withReviewers(s: ReturnType<typeof setup>) {
  const text = fs.readFileSync(s.fixture.path('platform.yaml'), 'utf8');
  const doc = parse(text);
  doc.airlock = { reviewers: ['reviewer-a', 'reviewer-b'] };
  fs.writeFileSync(s.fixture.path('platform.yaml'), stringify(doc));
}

test('help describes every action', () => {
  const help = commandHelp(createOutputCommand());
  for (const a of ['request', 'check', 'review', 'release', 'verify', 'list']) expect(help).toContain(`sde output ${a}`);
  expect(help).toContain('--config DIR');
  expect(help).toContain('--workdir DIR');
});

test('request, check and list', async () => {
  const s = setup();
  const req = await run(s, [
    'request',
    '--project',
    'ncl-winter-planning',
    '--file',
    s.file,
    '--description',
    'Admissions by age band (a test table)',
    '--statement',
    'Admissions by age band',
  ]);
  expect(req.code).toBe(0);
  const id = /Submitted output request (req-\d{8}-[0-9a-f]{8})/.exec(req.out)?.[1];
  expect(id).toBeDefined();
  const check = await run(s, ['check', '--request', id!]);
  expect(check.code).toBe(0);
  expect(check.out).toMatch(/admissions.csv: changed \(3 cells changed\)/);
  const list = await run(s, ['list', '--format', 'json']);
  expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ id, project: 'ncl-winter-planning', state: 'checked', requester: REQUESTER })]);
  expect(s.events.map((e) => e.eventName)).toEqual(['SubmitOutputRequest', 'CheckOutputRequest']);
});

async function wholeFlow(s: ReturnType<typeof setup>) {
  const req = await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--description', 'Admissions by age band (a test table)']);
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(req.out)![1];
  expect((await run(s, ['check', '--request', id])).code).toBe(0);
  expect((await run(s, ['review', '--request', id, '--as', 'reviewer-a', '--approve'])).out).toMatch(/approved by 1 of 2/);
  const twice = await run(s, ['review', '--request', id, '--as', 'reviewer-a', '--approve']);
  expect(twice.code).toBe(1);
  expect(twice.err).toMatch(/different reviewer/);
  expect((await run(s, ['review', '--request', id, '--as', 'reviewer-b', '--approve'])).out).toMatch(/approved by 2 of 2/);
  const rel = await run(s, ['release', '--request', id]);
  expect(rel.code).toBe(0);
  const manifest = /manifest: (.+)$/m.exec(rel.out)![1];
  // Releasing again finishes an interrupted release (see s3-store.test.ts); a finished one is left alone.
  const again = await run(s, ['release', '--request', id]);
  expect(again.code).toBe(0);
  expect(again.out).toContain(`Request ${id} of project ncl-winter-planning was released already, and its copy is readable: nothing to do.`);
  // Verifying needs no config: remove it.
  s.fixture.cleanup();
  const verify = await run(s, ['verify', manifest]);
  expect(verify.code).toBe(0);
  expect(verify.out).toMatch(/verified release/);
  fs.appendFileSync(path.join(path.dirname(manifest), 'files', 'admissions.csv'), 'x');
  const tampered = await run(s, ['verify', manifest, '--format', 'json']);
  expect(tampered.code).toBe(1);
  expect(JSON.parse(tampered.out).ok).toBe(false);
  expect(s.events.map((e) => `${e.eventName}${e.errorCode ? `:${e.errorCode}` : ''}`)).toEqual([
    'SubmitOutputRequest',
    'CheckOutputRequest',
    'ApproveOutputRequest',
    'ApproveOutputRequest:AccessDenied',
    'ApproveOutputRequest',
    'ReleaseOutput',
    'CompleteOutputRelease',
  ]);
}

test('the whole flow through the CLI: request, check, two reviews, release, verify', async () => {
  await wholeFlow(setup(SETTINGS));
});

test('the whole flow with the reviewers read from platform.yaml', async () => {
  const s = setup();
  withReviewers(s);
  await wholeFlow(s);
});

test('docs/airlock.md as written: reviewers by their id in platform.yaml (any case), and a refusal lists who may review', async () => {
  // The example config names REVIEWER-1 and REVIEWER-2, each with the principal they stand for.
  const s = setup();
  const req = await run(s, [
    'request',
    '--project',
    'ncl-winter-planning',
    '--file',
    s.file,
    '--description',
    'Admissions by age band (a test table)',
    '--statement',
    'Admissions by age band',
    '--as',
    REQUESTER,
  ]);
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(req.out)![1];
  expect((await run(s, ['check', '--request', id])).code).toBe(0);
  // Someone who is not a reviewer, typed as an id might be: refused (and recorded), naming who may review.
  const stranger = await run(s, ['review', '--request', id, '--as', 'REVIEWER-3', '--approve']);
  expect(stranger.code).toBe(1);
  expect(stranger.err).toMatch(
    /not on the airlock's list of reviewers; those who may review: arn:aws:iam::111122223333:role\/SdeOutputChecker1, arn:aws:iam::111122223333:role\/SdeOutputChecker2/,
  );
  expect((await run(s, ['review', '--request', id, '--as', 'REVIEWER-1', '--approve'])).out).toMatch(/approved by 1 of 2/);
  // The same reviewer by another spelling of the id, or by the principal, is the same person.
  for (const same of ['reviewer-1', 'arn:aws:iam::111122223333:role/SdeOutputChecker1']) {
    const twice = await run(s, ['review', '--request', id, '--as', same, '--approve']);
    expect(twice.err).toMatch(/different reviewer/);
  }
  expect((await run(s, ['review', '--request', id, '--as', 'REVIEWER-2', '--approve'])).out).toMatch(/approved by 2 of 2/);
  const rel = await run(s, ['release', '--request', id, '--as', 'REVIEWER-1']);
  expect(rel.code).toBe(0);
  const file = JSON.parse(fs.readFileSync(/manifest: (.+)$/m.exec(rel.out)![1], 'utf8'));
  const manifest = file.reviewers === undefined ? Object.values(file).find((v: any) => v?.reviewers !== undefined) : file;
  // The record names the principals, not the ids typed.
  expect((manifest as any).reviewers.map((r: { principal: string }) => r.principal)).toEqual([
    'arn:aws:iam::111122223333:role/SdeOutputChecker1',
    'arn:aws:iam::111122223333:role/SdeOutputChecker2',
  ]);
  expect(s.events.filter((e) => e.errorCode !== undefined).map((e) => e.eventName)).toEqual([
    'ApproveOutputRequest',
    'ApproveOutputRequest',
    'ApproveOutputRequest',
  ]);
});

test('refusals exit 1 with the reason; bad usage is a UsageError', async () => {
  const s = setup();
  const expired = await run(s, ['request', '--project', 'kcl-covid-recovery', '--file', s.file, '--description', 'Admissions by age band (a test table)']);
  expect(expired.code).toBe(1);
  expect(expired.err).toMatch(/Refused \(AccessDenied\): project "kcl-covid-recovery" has expired/);
  const stranger = await run(s, [
    'request',
    '--project',
    'ncl-winter-planning',
    '--file',
    s.file,
    '--description',
    'Admissions by age band (a test table)',
    '--as',
    'arn:aws:iam::111122223333:role/someone',
  ]);
  expect(stranger.err).toMatch(/is not one of the named researchers of project "ncl-winter-planning"/);

  await expect(run(s, [])).rejects.toThrow(UsageError);
  await expect(run(s, ['publish'])).rejects.toThrow(/say what to do/);
  await expect(run(s, ['request', '--project', 'ncl-winter-planning'])).rejects.toThrow(/--file/);
  await expect(run(s, ['request', '--project', 'ncl-winter-planning', '--file', path.join(s.root, 'missing.csv')])).rejects.toThrow(/does not exist/);
  await expect(run(s, ['check', '--request', '../../etc'])).rejects.toThrow(/not a request id/);
  await expect(run(s, ['check', '--request', 'req-20261122-00000000'])).rejects.toThrow(/no output request/);
  await expect(run(s, ['review', '--request', 'req-20261122-00000000', '--as', 'x', '--approve', '--reject'])).rejects.toThrow(/exactly one/);
  await expect(run(s, ['verify'])).rejects.toThrow(/one MANIFEST/);
});

test('explicit count columns, per file', async () => {
  const s = setup();
  const req = await run(s, [
    'request',
    '--project',
    'ncl-winter-planning',
    '--file',
    s.file,
    '--description',
    'Admissions by age band (a test table)',
    '--count-columns',
    'admissions.csv:age_band',
  ]);
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(req.out)![1];
  const check = await run(s, ['check', '--request', id]);
  // A label only adds checks: age_band is checked as a count too, and its text goes to a reviewer.
  expect(check.code).toBe(0);
  expect(check.out).toMatch(/admissions.csv: review/);
  expect(check.out).toMatch(/review mixed_column:age_band/);
});

test('the review flow through the CLI: a note, a classification, a return and a resubmission, and the thread shown', async () => {
  const s = setup(SETTINGS);
  fs.writeFileSync(s.file, 'year,admissions\n2024,150\n2025,0\n2026,170\n');
  const req = await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--description', 'Admissions by year (a test table)']);
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(req.out)![1];
  const check = await run(s, ['check', '--request', id]);
  expect(check.out).toMatch(/review numeric_category:year/);
  expect(check.out).toMatch(/review zeros:admissions/);
  const bare = await run(s, ['review', '--request', id, '--as', 'reviewer-a', '--approve']);
  expect(bare.code).toBe(1);
  expect(bare.err).toMatch(/approve with --note/);
  const classify = await run(s, [
    'classify',
    '--request',
    id,
    '--as',
    'reviewer-a',
    '--file',
    'admissions.csv',
    '--column',
    'year',
    '--role',
    'category',
    '--reason',
    'calendar year',
  ]);
  expect(classify.code).toBe(0);
  expect(classify.out).toMatch(/checked again/);
  await expect(run(s, ['classify', '--request', id, '--as', 'reviewer-a', '--file', 'admissions.csv', '--column', 'year', '--role', 'date'])).rejects.toThrow(
    /--role must be one of/,
  );
  const back = await run(s, ['review', '--request', id, '--as', 'reviewer-b', '--return', '--reason', 'drop 2025: no data yet']);
  expect(back.code).toBe(0);
  fs.writeFileSync(s.file, 'year,admissions\n2024,150\n2026,170\n');
  const again = await run(s, ['resubmit', '--request', id, '--file', s.file, '--description', 'Admissions by year, without 2025']);
  expect(again.out).toMatch(new RegExp(`answering ${id}`));
  const next = /Submitted output request (req-\d{8}-[0-9a-f]{8})/.exec(again.out)![1];
  await run(s, ['check', '--request', next]);
  const show = await run(s, ['show', '--request', next]);
  expect(show.out).toMatch(new RegExp(`${id} .*returned`));
  expect(show.out).toMatch(/reviewer-b {2}return checked -> returned: drop 2025: no data yet/);
  expect(show.out).toMatch(new RegExp(`${next} .*resubmits ${id}`));
  expect(show.out).toMatch(/column year classified category by reviewer-a: calendar year/);
});
