/**
 * The prerequisite check `npm test` and `npm start` run first (bin/prerequisites.js), on a
 * made-up machine: a PATH and a file system (a folder standing in for `/`) where the tools
 * are absent or present, Debian or not, root or not. Nothing is installed: the command line
 * is run with --dry-run, which says what it would run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { checkPrerequisites, findBrowser, missingMessage, nodeSupport, satisfies, supportedNodeRange } from '../../bin/prerequisites';
import { REPO_ROOT } from '../helpers/config-fixture';

const SCRIPT = path.join(REPO_ROOT, 'bin', 'prerequisites.js');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-prereq-'));
  dirs.push(d);
  return d;
}

/** An executable file at `file` (a stand-in for a tool). */
function tool(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return file;
}

/** A machine: an empty root (or one with an os-release), and a PATH folder holding only `tools`. */
function fakeMachine(options: { osRelease?: string; tools?: readonly string[] } = {}) {
  const root = tempDir();
  const bin = path.join(root, 'usr', 'local', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  if (options.osRelease !== undefined) {
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'os-release'), options.osRelease);
  }
  for (const name of options.tools ?? []) tool(path.join(bin, name));
  return { root, bin, env: { PATH: bin, HOME: '/home/someone' } };
}

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n';
const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\n';
const SUPPORTED = '24.1.0';

describe('Node.js versions', () => {
  const range = supportedNodeRange();

  test('package.json names exactly the versions every locked package supports', () => {
    // The lock file's packages each state the Node.js versions they run on; the project's
    // range must not promise more than their intersection, nor refuse what they all allow.
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } | string[] }>;
    };
    const ranges = [
      ...new Set(
        Object.entries(lock.packages)
          .filter(([key]) => key !== '')
          .map(([, p]) => (Array.isArray(p.engines) ? undefined : p.engines?.node))
          .filter((r): r is string => r !== undefined),
      ),
    ];
    const { satisfies: npmSatisfies } = require('semver') as { satisfies: (v: string, r: string) => boolean };
    const versions = fc.sample(
      fc.tuple(fc.integer({ min: 16, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 5 })).map((v) => v.join('.')),
      { numRuns: 400, seed: 23 },
    );
    for (const v of [...versions, '20.18.9', '20.19.0', '22.12.0', '22.13.0', '23.11.0', '24.0.0']) {
      expect({ v, ours: satisfies(v, range) }).toEqual({ v, ours: ranges.every((r) => npmSatisfies(v, r)) });
    }
  });

  test('the lambda runtime (nodejs24.x) and the AWS SDK after January 2027 (22 or later) are both inside it', () => {
    expect(satisfies('24.0.0', range)).toBe(true);
    expect(satisfies('22.13.0', range)).toBe(true);
  });

  test.each([
    ['18.20.4', false],
    ['20.18.1', false],
    ['20.19.0', true],
    ['21.7.3', false],
    ['22.12.0', false],
    ['22.13.1', true],
    ['23.11.0', false],
    ['24.11.1', true],
    ['26.0.0', true],
  ])('Node.js %s: supported %s', (version, ok) => {
    const support = nodeSupport(version, range);
    expect(support.ok).toBe(ok);
    if (!ok)
      expect(support.message).toMatch(
        new RegExp(`Node\\.js ${version.replace(/\./g, '\\.')} is not supported: this project needs Node\\.js .*Install Node\\.js 24`),
      );
  });

  test('Node.js 20 works, with a note that it is past its end of life and the SDK leaves it in 2027', () => {
    expect(nodeSupport('v20.20.2', range)).toEqual({ ok: true, note: expect.stringMatching(/end of life.*January 2027 need Node\.js 22/) });
    expect(nodeSupport('v24.11.1', range).note).toBeUndefined();
  });

  test('the CLI refuses an unsupported Node.js before loading anything, with the message', () => {
    // A package.json stand-in whose range excludes the running Node.js: the refusal is the
    // same code path an old Node.js takes.
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(SCRIPT, path.join(dir, 'bin', 'prerequisites.js'));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ engines: { node: '>=99' } }));
    const run = spawnSync(process.execPath, ['-e', "require('./bin/prerequisites.js').refuseUnsupportedNode(); console.log('ran')"], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Node\.js \d+\.\d+\.\d+ is not supported: this project needs Node\.js >=99/);
  });

  test('a range it cannot read is an error, not a pass', () => {
    expect(() => satisfies('20.19.0', '>=20 || lts/*')).toThrow(/cannot read the version range/);
  });
});

describe('finding the browser', () => {
  test('with no browser anywhere: nothing found, and every place looked at is listed', () => {
    const m = fakeMachine();
    const found = findBrowser({ env: m.env, root: m.root, platform: 'linux' });
    expect(found.path).toBeUndefined();
    expect(found.tried).toEqual([
      'SDE_CHROMIUM (not set)',
      'chromium, chromium-browser, google-chrome, google-chrome-stable, chrome on PATH',
      '/usr/bin/chromium',
      '/usr/bin/chromium-browser',
      '/usr/lib/chromium/chromium',
      '/snap/bin/chromium',
      '/usr/bin/google-chrome',
      '/usr/bin/google-chrome-stable',
      '/opt/google/chrome/chrome',
    ]);
  });

  test('SDE_CHROMIUM first, then PATH, then the usual locations', () => {
    const m = fakeMachine({ tools: ['google-chrome'] });
    const installed = tool(path.join(m.root, 'usr', 'lib', 'chromium', 'chromium'));
    expect(findBrowser({ env: m.env, root: m.root, platform: 'linux' }).path).toBe(path.join(m.bin, 'google-chrome'));
    fs.rmSync(path.join(m.bin, 'google-chrome'));
    expect(findBrowser({ env: m.env, root: m.root, platform: 'linux' }).path).toBe(installed);
    const own = tool(path.join(m.root, 'opt', 'my-chrome'));
    expect(findBrowser({ env: { ...m.env, SDE_CHROMIUM: own }, root: m.root, platform: 'linux' })).toEqual({ path: own, tried: [`SDE_CHROMIUM=${own}`] });
  });

  test('on macOS, the application bundles (also under ~/Applications)', () => {
    const m = fakeMachine();
    const chrome = tool(path.join(m.root, 'home', 'someone', 'Applications', 'Google Chrome.app', 'Contents', 'MacOS', 'Google Chrome'));
    const found = findBrowser({ env: m.env, root: m.root, home: m.env.HOME, platform: 'darwin' });
    expect(found.path).toBe(chrome);
    expect(found.tried).toContain('/Applications/Chromium.app/Contents/MacOS/Chromium');
  });

  test('a wrong SDE_CHROMIUM is an error naming it, not a reason to use another browser', () => {
    const m = fakeMachine({ tools: ['chromium'] });
    const notExecutable = path.join(m.root, 'chrome.txt');
    fs.writeFileSync(notExecutable, 'not a program', { mode: 0o644 });
    for (const value of [path.join(m.root, 'nowhere', 'chrome'), notExecutable, m.root]) {
      const found = findBrowser({ env: { ...m.env, SDE_CHROMIUM: value }, root: m.root, platform: 'linux' });
      expect(found.path).toBeUndefined();
      expect(found.error).toBe(`SDE_CHROMIUM is set to ${value}, which is not an executable file`);
    }
  });
});

describe('what npm test needs, and what it does when something is missing', () => {
  test('everything present: nothing missing, nothing to install', () => {
    const m = fakeMachine({ osRelease: DEBIAN, tools: ['chromium', 'openssl', 'git', 'apt-get'] });
    const result = checkPrerequisites('test', { env: m.env, root: m.root, platform: 'linux', uid: 1000, nodeVersion: SUPPORTED });
    expect(result.missing).toEqual([]);
    expect(result.install).toBeUndefined();
    expect(result.browser?.path).toBe(path.join(m.bin, 'chromium'));
  });

  test.each([
    ['Debian', DEBIAN],
    ['Ubuntu', UBUNTU],
  ])('%s as root, chromium absent from PATH and disk: apt-get install of exactly what is missing', (_name, osRelease) => {
    const m = fakeMachine({ osRelease, tools: ['openssl', 'apt-get'] });
    const result = checkPrerequisites('test', { env: m.env, root: m.root, platform: 'linux', uid: 0, nodeVersion: SUPPORTED });
    expect(result.missing).toEqual(['chromium', 'git']);
    expect(result.install).toEqual([
      ['apt-get', 'update', '-qq'],
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'chromium', 'git'],
    ]);
  });

  test('Debian, not root: no install; one message naming each tool, what was tried and the sudo command', () => {
    const m = fakeMachine({ osRelease: DEBIAN, tools: ['apt-get'] });
    const result = checkPrerequisites('test', { env: m.env, root: m.root, platform: 'linux', uid: 1000, nodeVersion: SUPPORTED });
    expect(result.install).toBeUndefined();
    const message = missingMessage(result);
    expect(message).toMatch(/^npm test needs tools this machine does not have:/);
    expect(message).toMatch(
      /- chromium: .*\(looked for: SDE_CHROMIUM \(not set\); chromium, .* on PATH; \/usr\/bin\/chromium; .*\/opt\/google\/chrome\/chrome\)/,
    );
    expect(message).toMatch(/- openssl: /);
    expect(message).toMatch(/- git: /);
    expect(message).toMatch(/Install: sudo apt-get install chromium openssl git$/m);
    expect(message).toMatch(/SDE_CHROMIUM/);
  });

  test('not root, but allowed to use sudo (CI): the same install through sudo -n', () => {
    const m = fakeMachine({ osRelease: DEBIAN, tools: ['apt-get', 'sudo', 'chromium', 'git'] });
    const result = checkPrerequisites('test', { env: m.env, root: m.root, platform: 'linux', uid: 1000, nodeVersion: SUPPORTED, sudo: true });
    expect(result.install?.[1]).toEqual(['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'openssl']);
  });

  test.each([
    ['another Linux', 'linux' as const, FEDORA, /Install: install chromium, openssl, git with your system's package manager/],
    ['macOS', 'darwin' as const, undefined, /Install: brew install --cask chromium; brew install openssl; xcode-select --install/],
  ])('%s, even as root: no install, the message says how', (_name, platform, osRelease, advice) => {
    const m = fakeMachine({ osRelease, tools: ['apt-get'] });
    const result = checkPrerequisites('test', { env: m.env, root: m.root, platform, uid: 0, nodeVersion: SUPPORTED });
    expect(result.install).toBeUndefined();
    expect(missingMessage(result)).toMatch(advice);
  });

  test('npm start needs no browser, openssl or git', () => {
    const m = fakeMachine({ osRelease: DEBIAN });
    expect(checkPrerequisites('start', { env: m.env, root: m.root, platform: 'linux', uid: 0, nodeVersion: SUPPORTED }).missing).toEqual([]);
  });
});

describe('the command line, as npm runs it', () => {
  /** bin/prerequisites.js run with `node` found by its full path, on a PATH holding only `tools`. */
  function runScript(args: readonly string[], m: ReturnType<typeof fakeMachine>, env: Record<string, string> = {}) {
    return spawnSync(process.execPath, [SCRIPT, ...args], {
      env: { PATH: m.bin, HOME: m.env.HOME, SDE_PREREQUISITES_ROOT: m.root, ...env },
      encoding: 'utf8',
    });
  }
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

  test('Debian without chromium: as root it names the apt-get command it would run (--dry-run installs nothing); otherwise it stops with the sudo command', () => {
    const m = fakeMachine({ osRelease: DEBIAN, tools: ['apt-get', 'openssl', 'git'] });
    const run = runScript(['test', '--dry-run'], m);
    if (asRoot) {
      expect(run.stderr).toMatch(/npm test needs chromium: installing \(Debian package chromium\)/);
      expect(run.stderr).toMatch(/would run: apt-get update -qq\nwould run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium/);
      expect(run.status).toBe(0);
    } else {
      expect(run.stderr).toMatch(/- chromium: .*\nInstall: sudo apt-get install chromium/);
      expect(run.status).toBe(1);
    }
  });

  test('elsewhere: stops with the message and exit status 1', () => {
    const m = fakeMachine({ osRelease: FEDORA, tools: ['openssl'] });
    const run = runScript(['test', '--dry-run'], m);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /npm test needs tools this machine does not have:\n {2}- chromium: .*\n {2}- git: .*\nInstall: install chromium, git with your system's package manager/,
    );
    expect(run.stderr).not.toMatch(/would run/);
  });

  test('with everything present it prints nothing but a Node.js note, and exits 0', () => {
    const m = fakeMachine({ osRelease: FEDORA, tools: ['chromium', 'openssl', 'git'] });
    const run = runScript(['test'], m);
    expect(run.status).toBe(0);
    expect(run.stderr.replace(/^note: Node\.js 20\..*\n/, '')).toBe('');
  });
});
