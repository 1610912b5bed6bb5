#!/usr/bin/env node
'use strict';
/**
 * What `npm start` and `npm test` need from the machine, checked before they run (the
 * `prestart` and `pretest` scripts; `.ci/run` too), so a fresh machine gets one clear
 * message, or the missing tools installed, instead of a red test suite:
 *
 *   node bin/prerequisites.js start|test [--dry-run] [--sudo]   (or SDE_INSTALL_WITH_SUDO=1)
 *
 * - Node.js: the versions `engines.node` in package.json names (the versions every package
 *   of the lock file supports); anything else is refused with the versions to install.
 * - For `test`: a Chromium or Chrome for the register's browser test (found, never assumed:
 *   SDE_CHROMIUM, then the commands on PATH, then the usual Linux and macOS locations),
 *   `openssl` (the KMS signer test's stand-in) and `git` (the governance report).
 *   `start` needs none of them (without git the demo skips its governance report).
 *
 * What is missing is installed where that is possible and allowed: on Debian or Ubuntu, as
 * root (or with --sudo, through `sudo -n`), `apt-get install chromium openssl git`.
 * Elsewhere the run stops with one message naming each missing tool, what was tried, and
 * the command that installs it. --dry-run says what it would install and installs nothing.
 *
 * Plain CommonJS with no dependencies and no syntax newer than Node.js 12 understands, so
 * that even an unsupported Node.js gets the message rather than a syntax error.
 */
const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');

const PACKAGE_JSON = path.join(__dirname, '..', 'package.json');

/** The Debian package that provides each tool (the same names on Ubuntu). */
const DEBIAN_PACKAGES = { chromium: 'chromium', openssl: 'openssl', git: 'git' };
/** Homebrew's names for the same tools on macOS. */
const BREW_INSTALL = { chromium: 'brew install --cask chromium', openssl: 'brew install openssl', git: 'xcode-select --install (or brew install git)' };

const WHY = {
  chromium: "the register's page is checked in a real headless browser",
  openssl: "the KMS signer test's stand-in signs a raw digest, which Node.js cannot",
  git: 'the governance report reads the config at a git revision',
};

/** What each command needs. `start` needs only a supported Node.js. */
const NEEDS = { start: [], test: ['chromium', 'openssl', 'git'] };

/** Commands a Chromium or Chrome answers to on PATH, in order of preference. */
const BROWSER_COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
/** Where Chromium and Chrome are installed when they are not on PATH. */
const BROWSER_LOCATIONS = {
  linux: [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/lib/chromium/chromium',
    '/snap/bin/chromium',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
  ],
  darwin: [
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '~/Applications/Chromium.app/Contents/MacOS/Chromium',
    '~/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  ],
};

// ---------------------------------------------------------------------------------------
// Node.js versions

/** [major, minor, patch] of "v20.19.1" or "20.19.1" (missing parts are 0). */
function parseVersion(text) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(String(text).trim());
  if (!m) throw new Error(`not a version: ${text}`);
  return [Number(m[1]), Number(m[2] || 0), Number(m[3] || 0)];
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * Whether `version` satisfies an npm range made of `||` alternatives, each a space-separated
 * list of `^X.Y.Z`, `~X.Y.Z`, `>=`, `>`, `<=`, `<`, `=` or a bare version (the forms
 * `engines` uses). An unknown form throws: a range this cannot read must not pass silently.
 */
function satisfies(version, range) {
  const v = parseVersion(version);
  // Every part is read before any is judged, so an unreadable part fails even when an
  // earlier alternative would have matched.
  const alternatives = range.split('||').map((alternative) =>
    alternative
      .trim()
      .split(/\s+/)
      .filter((part) => part !== '')
      .map((part) => {
        const m = /^(\^|~|>=|>|<=|<|=)?\s*v?(\d+(?:\.\d+){0,2})$/.exec(part);
        if (!m) throw new Error(`cannot read the version range "${range}" (part "${part}")`);
        return { op: m[1] || '=', text: m[2], bound: parseVersion(m[2]) };
      }),
  );
  return alternatives.some((comparators) =>
    comparators.every(({ op, text, bound }) => {
      const c = compare(v, bound);
      if (op === '>=') return c >= 0;
      if (op === '>') return c > 0;
      if (op === '<=') return c <= 0;
      if (op === '<') return c < 0;
      if (op === '^') return c >= 0 && v[0] === bound[0];
      if (op === '~') return c >= 0 && v[0] === bound[0] && v[1] === bound[1];
      return text.split('.').every((n, i) => Number(n) === v[i]);
    }),
  );
}

/** The supported Node.js range: package.json `engines.node`. */
function supportedNodeRange(packageJson) {
  const pkg = packageJson || JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8'));
  if (!pkg.engines || !pkg.engines.node) throw new Error('package.json names no engines.node');
  return pkg.engines.node;
}

/**
 * Whether this Node.js can run the platform: `{ ok, message }`, the message saying which
 * versions to install when it cannot, and a note when it can but its support is ending.
 */
function nodeSupport(version, range) {
  const v = parseVersion(version);
  const shown = v.join('.');
  if (!satisfies(version, range)) {
    return {
      ok: false,
      message:
        `Node.js ${shown} is not supported: this project needs Node.js ${range} (what its locked dependencies support). ` +
        'Install Node.js 24 (the runtime the Lambda functions deploy on) or 22, for example with nvm (nvm install 24) or from https://nodejs.org/.',
    };
  }
  if (v[0] === 20) {
    return {
      ok: true,
      note:
        `Node.js ${shown} works with the locked dependencies, but Node.js 20 is past its end of life (April 2026) and AWS SDK ` +
        'releases after the first week of January 2027 need Node.js 22 or later: move to Node.js 24, the runtime the Lambda functions deploy on.',
    };
  }
  return { ok: true };
}

/** Exits with the message when this Node.js is not supported (the CLI and the CDK app call it first). */
function refuseUnsupportedNode() {
  const support = nodeSupport(process.version, supportedNodeRange());
  if (!support.ok) {
    process.stderr.write(`${support.message}\n`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------
// Finding tools

/**
 * The file system and environment the checks look at: the real ones by default; tests
 * pass others (a PATH without the tools, a root folder standing in for `/`).
 */
function machine(overrides) {
  const o = overrides || {};
  const env = o.env || process.env;
  const root = o.root || env.SDE_PREREQUISITES_ROOT || '/';
  const home = o.home || env.HOME || '';
  return {
    env,
    platform: o.platform || process.platform,
    uid: o.uid !== undefined ? o.uid : typeof process.getuid === 'function' ? process.getuid() : -1,
    /** An absolute location on this machine, under `root` (for tests) and with ~ expanded. */
    at: (location) => path.join(root, location.startsWith('~/') ? path.join(home, location.slice(2)) : location),
  };
}

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch (e) {
    return false;
  }
}

/** A command on PATH, as the shell would find it. */
function findCommand(name, m) {
  const dirs = String(m.env.PATH || '')
    .split(path.delimiter)
    .filter((d) => d !== '');
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

/**
 * The Chromium or Chrome to drive: `{ path, tried }`. SDE_CHROMIUM first (when set it must
 * be an executable file: a wrong setting is an error, not a reason to look elsewhere), then
 * the browser commands on PATH, then the platform's usual install locations. `tried` lists
 * every place looked at, for the message.
 */
function findBrowser(overrides) {
  const m = machine(overrides);
  const tried = [];
  const configured = m.env.SDE_CHROMIUM;
  if (configured !== undefined && configured !== '') {
    if (isExecutableFile(configured)) return { path: configured, tried: [`SDE_CHROMIUM=${configured}`] };
    return { tried: [`SDE_CHROMIUM=${configured}`], error: `SDE_CHROMIUM is set to ${configured}, which is not an executable file` };
  }
  tried.push('SDE_CHROMIUM (not set)');
  for (const name of BROWSER_COMMANDS) {
    const found = findCommand(name, m);
    if (found) return { path: found, tried: tried.concat(`${name} on PATH`) };
  }
  tried.push(`${BROWSER_COMMANDS.join(', ')} on PATH`);
  for (const location of BROWSER_LOCATIONS[m.platform] || []) {
    const file = m.at(location);
    tried.push(location);
    if (isExecutableFile(file)) return { path: file, tried };
  }
  return { tried };
}

/** The Linux distribution family from os-release: 'debian' for Debian, Ubuntu and their derivatives. */
function linuxFamily(m) {
  if (m.platform !== 'linux') return undefined;
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    let text;
    try {
      text = fs.readFileSync(m.at(file), 'utf8');
    } catch (e) {
      continue;
    }
    const field = (name) => {
      const f = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
      return f ? f[1].replace(/^["']|["']$/g, '') : '';
    };
    const ids = `${field('ID')} ${field('ID_LIKE')}`.split(/\s+/);
    return ids.indexOf('debian') >= 0 || ids.indexOf('ubuntu') >= 0 ? 'debian' : 'other';
  }
  return 'other';
}

/**
 * What `purpose` (start or test) needs and what is missing: `{ node, missing, browser, install }`.
 * `install` is the commands that would install the missing tools here, when that is
 * possible and allowed (Debian or Ubuntu with apt-get, as root or with `sudo`), else undefined.
 */
function checkPrerequisites(purpose, overrides) {
  if (!NEEDS[purpose]) throw new Error(`unknown purpose "${purpose}": use start or test`);
  const o = overrides || {};
  const m = machine(o);
  const node = nodeSupport(o.nodeVersion || process.version, supportedNodeRange(o.packageJson));
  const missing = [];
  let browser;
  for (const tool of NEEDS[purpose]) {
    if (tool === 'chromium') {
      browser = findBrowser(o);
      if (!browser.path) missing.push(tool);
    } else if (!findCommand(tool, m)) {
      missing.push(tool);
    }
  }
  let install;
  if (missing.length > 0 && linuxFamily(m) === 'debian' && findCommand('apt-get', m)) {
    const sudo = m.uid === 0 ? [] : o.sudo && findCommand('sudo', m) ? ['sudo', '-n'] : undefined;
    if (sudo) {
      const packages = missing.map((t) => DEBIAN_PACKAGES[t]);
      install = [
        sudo.concat(['apt-get', 'update', '-qq']),
        sudo.concat(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq']).concat(packages),
      ];
    }
  }
  return { purpose, node, missing, browser, install, family: linuxFamily(m), platform: m.platform };
}

/** How a person installs the missing tools on this kind of machine. */
function installAdvice(result) {
  const packages = result.missing.map((t) => DEBIAN_PACKAGES[t]).join(' ');
  if (result.family === 'debian') return `sudo apt-get install ${packages}`;
  if (result.platform === 'darwin') return result.missing.map((t) => BREW_INSTALL[t]).join('; ');
  return `install ${result.missing.join(', ')} with your system's package manager`;
}

/** The one message for a run that cannot go on: each missing tool, why, what was tried, how to install. */
function missingMessage(result) {
  const lines = [`npm ${result.purpose} needs ${result.missing.length === 1 ? 'a tool' : 'tools'} this machine does not have:`];
  for (const tool of result.missing) {
    let line = `  - ${tool}: ${WHY[tool]}`;
    if (tool === 'chromium' && result.browser) {
      line += result.browser.error ? ` (${result.browser.error})` : ` (looked for: ${result.browser.tried.join('; ')})`;
    }
    lines.push(line);
  }
  lines.push(`Install: ${installAdvice(result)}`);
  if (result.missing.indexOf('chromium') >= 0) lines.push('Or point SDE_CHROMIUM at a Chromium or Chrome executable.');
  return lines.join('\n');
}

function run(command, dryRun, log) {
  log(`${dryRun ? 'would run' : 'running'}: ${command.join(' ')}`);
  if (dryRun) return true;
  const r = childProcess.spawnSync(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0;
}

/** The command line: exit status 0 when the run can go on, 1 when it cannot (with the message). */
function main(argv, log) {
  const say = log || ((line) => process.stderr.write(`${line}\n`));
  const purpose = argv.filter((a) => !a.startsWith('--'))[0] || 'test';
  const dryRun = argv.indexOf('--dry-run') >= 0;
  // CI passes the environment variable through `npm test` (pre-scripts take no arguments).
  const sudo = argv.indexOf('--sudo') >= 0 || process.env.SDE_INSTALL_WITH_SUDO === '1';
  let result = checkPrerequisites(purpose, { sudo });
  if (!result.node.ok) {
    say(result.node.message);
    return 1;
  }
  if (result.node.note) say(`note: ${result.node.note}`);
  if (result.missing.length === 0) return 0;
  if (result.install) {
    say(
      `npm ${purpose} needs ${result.missing.join(', ')}: installing (Debian package${result.missing.length === 1 ? '' : 's'} ${result.missing.map((t) => DEBIAN_PACKAGES[t]).join(' ')})`,
    );
    const ok = result.install.every((command) => run(command, dryRun, say));
    if (dryRun) return 0;
    if (ok) result = checkPrerequisites(purpose, { sudo });
    if (ok && result.missing.length === 0) return 0;
    say(`the installation did not provide everything (${result.missing.join(', ')} still missing).`);
  }
  say(missingMessage(result));
  return 1;
}

module.exports = {
  satisfies,
  supportedNodeRange,
  nodeSupport,
  refuseUnsupportedNode,
  findCommand: (name, overrides) => findCommand(name, machine(overrides)),
  findBrowser,
  checkPrerequisites,
  missingMessage,
  main,
};

if (require.main === module) process.exitCode = main(process.argv.slice(2));
