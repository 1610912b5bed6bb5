/**
 * `sde audit`, run the way lib/cli/cli.ts runs every command (parseArgs with the
 * command's own option specs), so the test holds once the command is registered there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { closeAllAuditWriters } from '../../lib/audit/local-audit-writer';
import { UsageError } from '../../lib/cli/command';
import { auditCommand } from '../../lib/cli/commands/audit';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { REAL_TRAIL, TempDir } from './helpers/fixtures';
import { writeDemoTrail } from './helpers/local-trail';

async function sde(...argv: string[]) {
  const options = Object.fromEntries(Object.entries(auditCommand.options).map(([k, { description: _d, valueName: _v, ...spec }]) => [k, spec]));
  const parsed = parseArgs({ args: argv, options, allowPositionals: auditCommand.allowPositionals ?? false, strict: true } as Parameters<typeof parseArgs>[0]);
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await auditCommand.run({ values: parsed.values as never, positionals: parsed.positionals, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, out: out.join('\n'), err: `${err.join('\n')}${e.message}` };
    throw e;
  }
}

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const tmp = new TempDir();
const workdir = tmp.path('work');
beforeAll(() => writeDemoTrail(config, workdir));
afterAll(() => {
  tmp.cleanup();
  closeAllAuditWriters();
});
const common = ['--config', EXAMPLE_CONFIG, '--today', TEST_TODAY];

test('--list names every query with its parameters', async () => {
  const r = await sde('--list');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^data-access-by-principal --param principal=VALUE$/m);
  expect(r.out).toMatch(/^outside-approved-period --param project=\[VALUE, '' for all\]$/m);
  expect(r.out).toMatch(/^data-access-by-person --param person=VALUE$/m);
  expect(r.out.split('\n').filter((l) => !l.startsWith(' '))).toHaveLength(9);
});

test('runs a query over the local trail of a workdir, as a table', async () => {
  const r = await sde('--query', 'access-denied', '--workdir', workdir, ...common);
  expect(r.code).toBe(0);
  expect(r.out.split('\n')[0]).toMatch(/^event_time\s+event_source\s+event_name\s+principal\s+source_identity\s+error_code/);
  expect(r.out).toMatch(/StartQueryExecution .*AccessDenied/);
  expect(r.err).toMatch(/^read 7 records from 2 files$/m);
  expect(r.err).toMatch(/^2 rows$/m);
});

test('runs a query over a folder of real CloudTrail files, as CSV, and reports what it skipped on stderr', async () => {
  const r = await sde('--query', 'access-denied', '--trail', REAL_TRAIL, '--format', 'csv', ...common);
  expect(r.code).toBe(0);
  const lines = r.out.split('\n');
  expect(lines[0]).toBe('event_time,event_source,event_name,principal,source_identity,error_code,aws_region,source_ip,event_id,error_message');
  expect(lines).toHaveLength(52);
  expect(r.err).toMatch(/read 443 records from 7 files; skipped 2 records and 0 whole files/);
  expect(r.err).toMatch(/cloudtrail-log-file-examples\.Records\.json: insight: 2 skipped/);
});

test('takes parameters, and gives JSON', async () => {
  const r = await sde(
    '--query',
    'dataset-access',
    '--param',
    'dataset=hospital_episodes',
    '--workdir',
    workdir,
    '--curated-bucket',
    'onelondon-sde-curated',
    '--format',
    'json',
    ...common,
  );
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).map((x: { access_path: string }) => x.access_path)).toEqual([
    's3-object',
    'athena-query',
    'lake-formation',
    'athena-query',
    'athena-query',
  ]);
});

test('the curated bucket defaults to <platform>-curated', async () => {
  const r = await sde('--query', 'dataset-access', '--param', 'dataset=prescriptions', '--workdir', workdir, '--format', 'json', ...common);
  expect(JSON.parse(r.out)).toHaveLength(1);
});

test.each([
  [['--query', 'nope'], /there is no query "nope"/],
  [['--query', 'data-access-by-principal'], /needs --param principal=VALUE/],
  [['--query', 'access-denied', '--param', 'x'], /--param must be NAME=VALUE/],
  [['--query', 'access-denied', '--param', 'x=1'], /unknown parameter x/],
  [['--query', 'access-denied', '--format', 'xml'], /--format must be table, json or csv/],
  [['frobnicate'], /the only sub-command is verify/],
  [[], /say what to do/],
])('bad usage %j is refused with exit 2 and a clear message', async (args, message) => {
  const r = await sde(...(args as string[]), '--workdir', workdir, ...common);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
});

test('a missing trail folder is a usage error', async () => {
  const r = await sde('--query', 'access-denied', '--trail', tmp.path('nowhere'), ...common);
  expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/no such file or folder/) });
});

describe('sde audit verify', () => {
  test('exits 0 on an intact local trail', async () => {
    const r = await sde('verify', '--workdir', workdir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/local hash chain: 7 entries, 7 records found/);
    expect(r.out).toMatch(/verified: no missing, altered or reordered record found/);
  });

  test('exits 1 and names the record when one was altered', async () => {
    const copy = tmp.path('tampered');
    fs.cpSync(workdir, copy, { recursive: true });
    const file = fs
      .readdirSync(path.join(copy, 'audit'), { recursive: true })
      .map(String)
      .find((f) => f.endsWith('.json'))!;
    const abs = path.join(copy, 'audit', file);
    fs.writeFileSync(abs, fs.readFileSync(abs, 'utf8').replace('"bytesTransferredIn":52345', '"bytesTransferredIn":1'));
    const r = await sde('verify', '--trail', path.join(copy, 'audit'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ERROR altered: record [0-9a-f-]{36} \(chain entry 1, in AWSLogs\/.*\) does not match its hash/);
    expect(r.err).toMatch(/NOT verified: 1 problem found/);
  });

  test('exits 1 on a folder with nothing to check against', async () => {
    const r = await sde('verify', '--trail', REAL_TRAIL);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nothing to check the records against/);
  });
});
