import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMANDS, runCli } from '../../lib/cli/cli';
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

describe('help', () => {
  test.each(COMMANDS.map((c) => c.name))('sde %s --help describes the command and its options', async (name) => {
    const r = await run(name, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: sde ${name}`));
    expect(r.out).toMatch(/--help/);
  });

  test('every local command takes --config; the runtime ones take --workdir', () => {
    for (const c of COMMANDS) expect(Object.keys(c.options)).toContain('config');
    for (const name of ['demo', 'query']) expect(Object.keys(COMMANDS.find((c) => c.name === name)!.options)).toContain('workdir');
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
