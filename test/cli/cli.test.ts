import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMANDS, runCli, usageLine } from '../../lib/cli/cli';
import { isCalendarDate, todayUtc } from '../../lib/config/model';
import { ConfigFixture, EXAMPLE_CONFIG, REPO_ROOT, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const badConfig = new ConfigFixture()
  .edit('projects/ucl-multimorbidity.yaml', (d) => delete d.approval)
  .edit('datasets/prescriptions.yaml', (d) => (d.columns[2].rule = 'keep'));
afterAll(() => badConfig.cleanup());

describe('sde validate', () => {
  test('exits 0 on the example config and summarises it', async () => {
    const r = await run('validate', '--config', EXAMPLE_CONFIG, '--today', TEST_TODAY);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/valid/);
    expect(r.out).toMatch(/projects: 5 \(3 active, 2 expired/);
  });

  test('refuses a vocabulary code that reads as an identifier (ingestion never accepts a value as it)', async () => {
    const f = new ConfigFixture().edit('vocabularies/medicines.yaml', (d) => d.codes.push('Take 943 476 5919 daily'));
    try {
      const r = await run('validate', '--config', f.dir, '--today', TEST_TODAY);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/prescriptions\.yaml: columns\[6\] \(medicine_name\)\.format: 1 of its codes read as an identifier/);
      expect(r.err).not.toContain('943 476 5919');
    } finally {
      f.cleanup();
    }
  });

  test('refuses a kept placeholder that reads as an identifier (ingestion never keeps a value as it)', async () => {
    const f = new ConfigFixture().edit('datasets/hes_apc.yaml', (d) =>
      d.columns.find((c: { name: string }) => c.name === 'gpprac').placeholders.push('943 476 5919'),
    );
    try {
      const r = await run('validate', '--config', f.dir, '--today', TEST_TODAY);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/hes_apc\.yaml: columns\[\d+\] \(gpprac\)\.placeholders: 1 of its placeholders read as an identifier/);
      expect(r.err).not.toContain('943 476 5919');
    } finally {
      f.cleanup();
    }
  });

  test('validates a configuration directory outside the repository', async () => {
    const outside = new ConfigFixture(SECOND_CONFIG);
    try {
      expect(outside.dir.startsWith(REPO_ROOT)).toBe(false);
      expect((await run('validate', '--config', outside.dir, '--today', TEST_TODAY)).code).toBe(0);
    } finally {
      outside.cleanup();
    }
  });

  test('exits 1 on a bad config and prints every problem with file, field and fix', async () => {
    const r = await run('validate', '--config', badConfig.dir, '--today', TEST_TODAY);
    expect(r.code).toBe(1);
    // The kept name is refused twice: a direct identifier in clear, and a string kept with no value domain.
    expect(r.err).toMatch(/3 problems found/);
    expect(r.err).toMatch(/ucl-multimorbidity\.yaml: approval: is missing\n\s+fix: /);
    expect(r.err).toMatch(/prescriptions\.yaml: columns\[2\] \(prescriber_name\)\.rule: .*direct identifier.*\n\s+fix: /);
  });

  test('--format json gives the problems as data', async () => {
    const r = await run('validate', '--config', badConfig.dir, '--today', TEST_TODAY, '--format', 'json');
    expect(r.code).toBe(1);
    const parsed = JSON.parse(r.out);
    expect(parsed.valid).toBe(false);
    expect(parsed.problems).toHaveLength(3);
    expect(parsed.problems[0]).toEqual(expect.objectContaining({ file: expect.any(String), field: expect.any(String), fix: expect.any(String) }));
  });

  test('refuses a malformed --today and an unknown option with usage errors', async () => {
    expect((await run('validate', '--today', '22/11/2026')).code).toBe(2);
    const r = await run('validate', '--confg', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown option '--confg'/);
  });
});

describe('--today is a real calendar date, for every command that takes it', () => {
  const withToday = COMMANDS.filter((c) => 'today' in c.options).map((c) => c.name);
  // Generated, not listed: a day past the end of its month, for every month of several years.
  const impossible: string[] = [];
  for (const year of [2023, 2024, 2025, 2026, 2100]) {
    for (let month = 1; month <= 12; month++) {
      const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
      for (let day = days + 1; day <= 31; day++) impossible.push(`${year}-${String(month).padStart(2, '0')}-${day}`);
    }
  }
  impossible.push('2026-00-10', '2026-13-01', '2026-02-00', '2026-2-03', '２０２６-01-01', '2026-01-01T00:00', ' 2026-01-01');

  test('the generated impossible days are refused by the check and real ones (including 29 February in leap years) pass', () => {
    expect(impossible).toContain('2026-02-30');
    expect(impossible).toContain('2100-02-29');
    for (const d of impossible) expect({ d, ok: isCalendarDate(d) }).toEqual({ d, ok: false });
    for (const d of ['2024-02-29', '2000-02-29', '2026-12-31', '2026-04-30', '2026-01-01']) expect({ d, ok: isCalendarDate(d) }).toEqual({ d, ok: true });
  });

  test.each(withToday)('sde %s --today 2026-02-30 is a usage error, never 2 March', async (name) => {
    const r = await run(name, '--today', '2026-02-30');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--today must be a real date written YYYY-MM-DD, not "2026-02-30"/);
  });

  test('SDE_TODAY that is not a real date is refused with the fix', () => {
    const before = process.env.SDE_TODAY;
    try {
      process.env.SDE_TODAY = '2026-02-30';
      expect(() => todayUtc()).toThrow(/SDE_TODAY.*"2026-02-30" is not a real date[\s\S]*fix: set SDE_TODAY/);
      process.env.SDE_TODAY = '2024-02-29';
      expect(todayUtc()).toBe('2024-02-29');
    } finally {
      if (before === undefined) delete process.env.SDE_TODAY;
      else process.env.SDE_TODAY = before;
    }
  });
});

describe('sde access-matrix --format html', () => {
  test('writes into the workdir by default, never into the repository, and prints the absolute path', async () => {
    const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-matrix-'));
    try {
      const r = await run('access-matrix', '--format', 'html', '--workdir', workdir, '--today', TEST_TODAY);
      expect(r.code).toBe(0);
      const file = path.join(workdir, 'out', 'access-matrix.html');
      expect(r.out).toBe(`Access matrix written to ${file}`);
      expect(fs.readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/i);
      expect(fs.existsSync(path.join(REPO_ROOT, 'access-matrix.html'))).toBe(false);
    } finally {
      fs.rmSync(workdir, { recursive: true, force: true });
    }
  });
});

describe('help', () => {
  test.each(COMMANDS.map((c) => c.name))('sde %s --help describes the command and its options', async (name) => {
    const r = await run(name, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: sde ${name}`));
    expect(r.out).toMatch(/--help/);
  });

  test('every local command takes --config; the runtime ones take --workdir', () => {
    // Except sde init, which writes a new configuration rather than reading one.
    for (const c of COMMANDS.filter((x) => x.name !== 'init')) expect(Object.keys(c.options)).toContain('config');
    for (const name of ['demo', 'query']) expect(Object.keys(COMMANDS.find((c) => c.name === name)!.options)).toContain('workdir');
  });

  test("every command's usage line names every option it takes (sde register --help once left out --today)", () => {
    for (const c of COMMANDS) {
      const line = usageLine(c);
      if (line.includes('[options]')) continue;
      for (const name of Object.keys(c.options))
        expect({ command: c.name, line, has: line.includes(`--${name}`) }).toEqual({ command: c.name, line, has: true });
    }
  });

  test('sde --version prints the version from package.json', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await run(flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`sde ${pkg.version} (${pkg.name}, Node.js ${process.versions.node})`);
    }
    expect((await run('--help')).out).toMatch(/sde --version/);
  });

  test('sde demo --help says every step it runs and where it keeps them', async () => {
    const r = await run('demo', '--help');
    for (const step of [/opt-out/, /S3 API/, /ingests/, /access matrix/, /airlock/, /audit trail/, /register/, /bills/, /governance report/, /--workdir/])
      expect(r.out).toMatch(step);
  });

  test('an unknown command is refused with the list of commands', async () => {
    const r = await run('deploy');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "deploy".*validate, synth, demo, query, access-matrix, audit, output/);
  });
});

describe('npx cdk synth (the real CDK CLI, offline, no credentials)', () => {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'none', SDE_TODAY: TEST_TODAY };

  test('refuses a bad config with the same messages as sde validate', async () => {
    const cdk = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--context', `config=${badConfig.dir}`], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
    });
    expect(cdk.status).not.toBe(0);
    const validate = await run('validate', '--config', badConfig.dir, '--today', TEST_TODAY);
    for (const line of validate.err.split('\n').filter((l) => l.includes('.yaml'))) {
      expect(cdk.stderr).toContain(line.trim().replace(/^- /, ''));
    }
  });

  test('a directory that is not a config names the cdk context flag in its fix, not the sde one', () => {
    const cdk = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--context', 'config=/nonexistent-sde-config'], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
    });
    expect(cdk.status).not.toBe(0);
    expect(cdk.stderr).toMatch(/nonexistent-sde-config: is not a configuration directory\n\s+fix: pass --context config=DIR naming a folder/);
    expect(cdk.stderr).not.toMatch(/--config DIR/);
  });

  test('synthesizes a config outside the repo, with every gate passing', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-cdk-out-'));
    const cdk = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--context', `config=${SECOND_CONFIG}`, '--output', outdir], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
    });
    expect({ status: cdk.status, stderr: cdk.status === 0 ? '' : cdk.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.existsSync(path.join(outdir, 'DataLake.template.json'))).toBe(true);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});

describe('a reader that closes the pipe early (sde ... | head -1)', () => {
  test('EPIPE ends the command quietly with its exit status so far; other stream errors still surface', () => {
    const { EventEmitter } = require('node:events') as typeof import('node:events');
    const { exitQuietlyOnClosedPipe } = require('../../lib/cli/cli') as typeof import('../../lib/cli/cli');
    const stream = new EventEmitter() as unknown as NodeJS.WriteStream;
    const exits: number[] = [];
    exitQuietlyOnClosedPipe(stream, (code) => exits.push(code));
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(exits).toEqual([0]);
    expect(() => stream.emit('error', Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
  });

  test('the real command prints no stack trace when its output pipe is closed before it writes', async () => {
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/sde.js'), 'validate', '--config', EXAMPLE_CONFIG, '--today', TEST_TODAY], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed at once: the command (seconds to start) writes into a pipe with no reader.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\.ts:\d+|unexpected error/);
    expect(code).toBe(0);
  }, 60_000);
});
