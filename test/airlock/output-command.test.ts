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
  fs.writeFileSync(file, 'age_band,admissions\n0-17,4\n18-64,123\n65+,0\n');
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
  const req = await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--statement', 'Admissions by age band']);
  expect(req.code).toBe(0);
  const id = /Submitted output request (req-\d{8}-[0-9a-f]{8})/.exec(req.out)?.[1];
  expect(id).toBeDefined();
  const check = await run(s, ['check', '--request', id!]);
  expect(check.code).toBe(0);
  expect(check.out).toMatch(/admissions.csv: changed \(2 cells changed\)/);
  const list = await run(s, ['list', '--format', 'json']);
  expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ id, project: 'ncl-winter-planning', state: 'checked', requester: REQUESTER })]);
  expect(s.events.map((e) => e.eventName)).toEqual(['SubmitOutputRequest', 'CheckOutputRequest']);
});

async function wholeFlow(s: ReturnType<typeof setup>) {
  const req = await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file]);
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

test('refusals exit 1 with the reason; bad usage is a UsageError', async () => {
  const s = setup();
  const expired = await run(s, ['request', '--project', 'kcl-covid-recovery', '--file', s.file]);
  expect(expired.code).toBe(1);
  expect(expired.err).toMatch(/Refused \(AccessDenied\): project "kcl-covid-recovery" has expired/);
  const stranger = await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--as', 'arn:aws:iam::111122223333:role/someone']);
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
  const req = await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--count-columns', 'admissions.csv:age_band']);
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(req.out)![1];
  const check = await run(s, ['check', '--request', id]);
  // age_band holds "0-17", not whole numbers: the explicit classification is refused.
  expect(check.code).toBe(1);
  expect(check.out).toMatch(/refused: count column "age_band" holds something other than a whole number/);
});
