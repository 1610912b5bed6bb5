/**
 * The audit writer survives a kill at any point, without a way to hide a real edit:
 * - a process killed at each step of a write (after its signed intent, after a record file,
 *   after the chain lines, after the head): `verify` completes the write and passes, the
 *   next write goes on, and every record is there exactly once;
 * - the same kill followed by an edit of a record the dead writer wrote, an edited or
 *   unsigned intent, or an old intent put back: refused, never completed or laundered;
 * - a process killed while holding the lock delays the next writer by about the stale
 *   threshold, not more.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTrail } from '../../lib/audit/cloudtrail-reader';
import {
  AUDIT_DIR,
  AuditTrailNotAnchoredError,
  closeAllAuditWriters,
  LocalAuditWriter,
  localAuditEnv,
  PENDING_FILE,
  projectQueryEvent,
} from '../../lib/audit/local-audit-writer';
import { verifyTrail } from '../../lib/audit/verify';
import { loadConfig } from '../../lib/config';
import type { CrashPoint } from '../../lib/config/crash-points';
import { EXAMPLE_CONFIG, REPO_ROOT, TEST_TODAY } from '../helpers/config-fixture';
import { TempDir } from './helpers/fixtures';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const env = localAuditEnv(config);
const SCRIPT = path.join(REPO_ROOT, 'test', 'audit', 'helpers', 'crash-writer.ts');
const POINTS: CrashPoint[] = ['audit:intent-written', 'audit:record-written', 'audit:chain-written', 'audit:head-written'];

afterEach(() => closeAllAuditWriters());

function runChild(workdir: string, args: string[], crashAt?: CrashPoint): Promise<number | string | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, workdir, ...args], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
    env: { ...process.env, NODE_ENV: 'test', ...(crashAt === undefined ? {} : { SDE_CRASH_AT: crashAt }) },
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
}

const q = (name: string) => projectQueryEvent(env, { projectId: 'p', sessionName: name, queryString: 'SELECT 1', time: new Date('2026-11-21T11:00:00Z') });

/** A workdir whose trail has two batches already, written by this process. */
function startedTrail(tmp: TempDir): LocalAuditWriter {
  const writer = openWriter(tmp.dir);
  writer.append(q('before-1'));
  writer.appendAll([q('before-2'), q('before-3')]);
  return writer;
}

/** The session names of the queries recorded (each test names its queries). */
async function eventIds(tmp: TempDir): Promise<string[]> {
  return (await readTrail(path.join(tmp.dir, AUDIT_DIR))).records.map((r) =>
    String(/assumed-role\/[^/]+\/(.+)$/.exec(String(r.record.userIdentity?.arn))?.[1]),
  );
}

/** The stale threshold the dead writers' locks are broken after, here (the minimum proper-lockfile allows). */
const STALE = 2_000;
const verify = (dir: string) => verifyTrail(dir, { auditLockStaleMs: STALE });
const openWriter = (workdir: string) => LocalAuditWriter.open(workdir, env, { lockStaleMs: STALE });

describe.each(POINTS)('a writer killed at %s', (point) => {
  test('verify completes the write and passes; the next write goes on; every record once', async () => {
    const tmp = new TempDir();
    try {
      startedTrail(tmp);
      expect(await runChild(tmp.dir, ['batch', 'dead'], point)).toBe('SIGKILL');
      const interrupted = point !== 'audit:head-written';
      expect(fs.existsSync(path.join(tmp.dir, AUDIT_DIR, PENDING_FILE))).toBe(true);
      const report = await verify(path.join(tmp.dir, AUDIT_DIR));
      expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.findings.some((f) => f.kind === 'interrupted-write')).toBe(interrupted);
      expect(report.localChain?.chainEntries).toBe(6);
      expect(fs.existsSync(path.join(tmp.dir, AUDIT_DIR, PENDING_FILE))).toBe(false);
      // Another process's writer goes on from there.
      closeAllAuditWriters();
      openWriter(tmp.dir).append(q('after'));
      const again = await verify(path.join(tmp.dir, AUDIT_DIR));
      expect(again.findings).toEqual([]);
      expect((await eventIds(tmp)).sort()).toEqual(['after', 'before-1', 'before-2', 'before-3', 'dead-1', 'dead-2', 'dead-3'].sort());
    } finally {
      tmp.cleanup();
    }
  }, 30_000);

  test('the next writer completes it too, without verify', async () => {
    const tmp = new TempDir();
    try {
      startedTrail(tmp);
      expect(await runChild(tmp.dir, ['batch', 'dead'], point)).toBe('SIGKILL');
      closeAllAuditWriters();
      openWriter(tmp.dir).append(q('after'));
      const report = await verify(path.join(tmp.dir, AUDIT_DIR));
      expect(report.findings).toEqual([]);
      expect(report.localChain?.chainEntries).toBe(7);
    } finally {
      tmp.cleanup();
    }
  }, 30_000);
});

describe('an interrupted write does not open a way to hide an edit', () => {
  async function killedAt(tmp: TempDir, point: CrashPoint): Promise<string> {
    startedTrail(tmp);
    expect(await runChild(tmp.dir, ['batch', 'dead'], point)).toBe('SIGKILL');
    closeAllAuditWriters();
    return path.join(tmp.dir, AUDIT_DIR);
  }

  test('a record the dead writer wrote, edited afterwards: refused, not completed', async () => {
    const tmp = new TempDir();
    try {
      const dir = await killedAt(tmp, 'audit:record-written');
      const pending = JSON.parse(fs.readFileSync(path.join(dir, PENDING_FILE), 'utf8')) as { entries: { file: string }[] };
      const file = path.join(dir, pending.entries[0].file);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"SELECT 1"', '"SELECT 2"'));
      const report = await verify(dir);
      expect(report.ok).toBe(false);
      expect(report.findings.map((f) => f.kind)).toContain('interrupted-write');
      expect(() => openWriter(tmp.dir).append(q('after'))).toThrow(AuditTrailNotAnchoredError);
    } finally {
      tmp.cleanup();
    }
  }, 30_000);

  test.each([
    ['an edited record in the intent', (p: Record<string, unknown>) => ((p.records as { eventName: string }[])[1].eventName = 'GetObject')],
    ['an intent signature from elsewhere', (p: Record<string, unknown>) => (p.sig = Buffer.alloc(70, 1).toString('base64'))],
    ['an intent attached elsewhere', (p: Record<string, unknown>) => ((p.after as { seq: number }).seq = 1)],
  ])(
    '%s: refused, not completed',
    async (_label, edit) => {
      const tmp = new TempDir();
      try {
        const dir = await killedAt(tmp, 'audit:chain-written');
        const file = path.join(dir, PENDING_FILE);
        const pending = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
        edit(pending);
        fs.writeFileSync(file, JSON.stringify(pending));
        const report = await verify(dir);
        expect(report.ok).toBe(false);
        expect(report.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['interrupted-write', 'unsigned-entries']));
        expect(() => openWriter(tmp.dir).append(q('after'))).toThrow(AuditTrailNotAnchoredError);
      } finally {
        tmp.cleanup();
      }
    },
    30_000,
  );

  test('an old intent put back after its write was completed: refused (it cannot be replayed)', async () => {
    const tmp = new TempDir();
    try {
      const dir = await killedAt(tmp, 'audit:chain-written');
      const old = fs.readFileSync(path.join(dir, PENDING_FILE));
      expect((await verify(dir)).ok).toBe(true);
      openWriter(tmp.dir).append(q('after'));
      fs.writeFileSync(path.join(dir, PENDING_FILE), old);
      const report = await verify(dir);
      expect(report.ok).toBe(false);
      expect(report.findings.find((f) => f.kind === 'interrupted-write')?.message).toMatch(/stale or replayed/);
    } finally {
      tmp.cleanup();
    }
  }, 30_000);

  test('records appended outside the writer with no intent are still refused', async () => {
    const tmp = new TempDir();
    try {
      const dir = await killedAt(tmp, 'audit:chain-written');
      fs.rmSync(path.join(dir, PENDING_FILE));
      const report = await verify(dir);
      expect(report.ok).toBe(false);
      expect(report.findings.map((f) => f.kind)).toContain('unsigned-entries');
    } finally {
      tmp.cleanup();
    }
  }, 30_000);
});

test('a process killed holding the audit lock delays the next write by about the stale threshold, no more', async () => {
  const tmp = new TempDir();
  try {
    startedTrail(tmp);
    closeAllAuditWriters();
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, tmp.dir, 'hold-lock'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const writer = openWriter(tmp.dir);
    const started = Date.now();
    writer.append(q('after'));
    const waited = Date.now() - started;
    // The lock's mtime was refreshed at most ~1 s before the kill: broken 2 s after that.
    expect(waited).toBeLessThan(2_000 + 1_500);
    expect((await verify(path.join(tmp.dir, AUDIT_DIR))).findings).toEqual([]);
  } finally {
    tmp.cleanup();
  }
}, 30_000);
