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
import { BARE_ARRAYS, LOGSTASH_NDJSON, REAL_TRAIL, TempDir } from './helpers/fixtures';
import { cloudTrailKey, s3Record, signedTrail, writeTrailFolder } from './helpers/signed-cloudtrail';
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
  expect(r.err).toMatch(/read 444 records from 8 files; skipped 2 records and 0 whole files/);
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

test('counts each event once across overlapping inputs, and says how many duplicates it dropped', async () => {
  // The Stratus detonations as bare arrays and inside the delivery; OTRF as Logstash NDJSON and as the delivery.
  const once = await sde('--query', 'access-denied', '--trail', REAL_TRAIL, '--trail', BARE_ARRAYS, '--trail', LOGSTASH_NDJSON, '--format', 'json', ...common);
  expect(once.code).toBe(0);
  expect(JSON.parse(once.out)).toHaveLength(51);
  // 37 + 103 copies, and one eventID two AWS documentation examples share (a placeholder) with different content.
  expect(once.err).toMatch(
    /^dropped 141 duplicate records \(an eventID seen before; each event is counted once\); 1 of them differ from the record kept: an edited copy, or two events sharing an id$/m,
  );
  expect(once.err).toMatch(/^5 records without an eventID kept as they are/m);
  expect(once.err).toMatch(/103 records read with a change: eventTime taken from Logstash's @timestamp/);
  // The same folder twice is the same events.
  const twice = await sde('--query', 'root-account-activity', '--trail', REAL_TRAIL, '--trail', REAL_TRAIL, '--format', 'json', ...common);
  expect(JSON.parse(twice.out)).toHaveLength(1);
  // 444 again less the 5 documentation examples that have no eventID, which cannot be matched and are kept twice.
  expect(twice.err).toMatch(/^dropped 440 duplicate records .*; 2 of them differ/m);
  expect(twice.err).toMatch(/^10 records without an eventID kept as they are/m);
});

test('a duplicate that differs from the record kept is counted as such', async () => {
  const dir = tmp.path('differing');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify([s3Record('same-id', '2026-05-01T10:00:00Z')]));
  fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify([{ ...s3Record('same-id', '2026-05-01T10:00:00Z'), eventName: 'DeleteObject' }]));
  const r = await sde('--query', 'data-access-by-principal', '--param', 'principal=x', '--trail', dir, ...common);
  expect(r.err).toMatch(/dropped 1 duplicate record .*; 1 of them differ from the record kept/);
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
    expect(r.out).toMatch(/verified: no missing, altered, reordered or unsigned record found/);
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

  test('checks CloudTrail digest signatures with the keys given; without them exits 1 saying what was not checked', async () => {
    const key = cloudTrailKey();
    const copy = tmp.path('bucket-copy');
    writeTrailFolder(copy, signedTrail(key, [{ delivered: '2026-05-01T10:05:00Z', records: [s3Record('e1', '2026-05-01T10:01:00Z')] }]));
    const keys = tmp.write('keys.json', JSON.stringify(key.listPublicKeys));
    const ok = await sde('verify', '--trail', copy, '--public-keys', keys);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/CloudTrail digests: 1 digest file \(1 with a verified signature\), 1 log file hash checked, 1 log file verified/);
    const without = await sde('verify', '--trail', copy);
    expect(without.code).toBe(1);
    expect(without.err).toMatch(/ERROR signature-not-checked: 1 digest signature NOT checked/);
    const bad = await sde('verify', '--trail', copy, '--public-keys', tmp.write('bad-keys.json', '{"Keys": []}'));
    expect(bad).toMatchObject({ code: 2, err: expect.stringMatching(/not the output of `aws cloudtrail list-public-keys`/) });
  });

  test('checks the trail against a register published earlier (--published), and a copied trail against its public key (--audit-key)', async () => {
    const copy = tmp.path('published-check');
    fs.cpSync(workdir, copy, { recursive: true });
    const heads = fs
      .readFileSync(path.join(copy, 'audit', 'heads.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const publicKey = fs.readFileSync(path.join(copy, 'keys', 'audit', 'signing-public-key.pem'), 'utf8');
    const register = tmp.write('register.json', JSON.stringify({ auditTrail: { signedHead: JSON.parse(heads[heads.length - 1]), publicKey } }));
    expect((await sde('verify', '--workdir', copy, '--published', register)).code).toBe(0);
    // Cut the last record with its chain entry and head: alone it passes, against the register it does not.
    const chain = fs
      .readFileSync(path.join(copy, 'audit', 'chain.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const last = JSON.parse(chain[chain.length - 1]);
    const file = path.join(copy, 'audit', last.file);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ Records: doc.Records.slice(0, -1) }));
    fs.writeFileSync(path.join(copy, 'audit', 'chain.jsonl'), `${chain.slice(0, -1).join('\n')}\n`);
    fs.writeFileSync(path.join(copy, 'audit', 'heads.jsonl'), `${heads.slice(0, -1).join('\n')}\n`);
    expect((await sde('verify', '--workdir', copy)).code).toBe(0);
    const caught = await sde('verify', '--workdir', copy, '--published', register);
    expect(caught.code).toBe(1);
    expect(caught.err).toMatch(/ERROR truncated: the chain has 6 entries, but the head published in .*register\.json .* covers entry 7/);
    // A copy of the audit folder alone: no key, unless given.
    const alone = tmp.path('audit-alone');
    fs.cpSync(path.join(workdir, 'audit'), alone, { recursive: true });
    expect((await sde('verify', '--trail', alone)).err).toMatch(/ERROR no-trusted-key/);
    expect((await sde('verify', '--trail', alone, '--audit-key', path.join(workdir, 'keys', 'audit', 'signing-public-key.pem'))).code).toBe(0);
    expect((await sde('verify', '--trail', alone, '--audit-key', register)).code).toBe(2);
  });

  test('exits 1 on an empty trail', async () => {
    const empty = tmp.path('empty-work');
    fs.cpSync(workdir, empty, { recursive: true });
    fs.rmSync(path.join(empty, 'audit'), { recursive: true });
    fs.mkdirSync(path.join(empty, 'audit'));
    fs.writeFileSync(path.join(empty, 'audit', 'chain.jsonl'), '');
    const r = await sde('verify', '--workdir', empty);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ERROR empty-trail/);
  });

  test('exits 1 on a folder with nothing to check against', async () => {
    const r = await sde('verify', '--trail', REAL_TRAIL);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nothing to check the records against/);
  });
});
