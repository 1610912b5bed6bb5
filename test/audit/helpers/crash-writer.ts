/**
 * Run as a separate process by the crash tests, to be killed:
 *   node --import tsx crash-writer.ts <workdir> batch <tag>   appends 3 records in one batch
 *                                                           (with SDE_CRASH_AT set, dies at that point)
 *   node --import tsx crash-writer.ts <workdir> hold-lock     takes the audit lock, says "locked", and never lets go
 */
import * as path from 'node:path';
import { AUDIT_DIR, LocalAuditEnv, LocalAuditWriter, projectQueryEvent, withAuditLock } from '../../../lib/audit/local-audit-writer';

const [workdir, mode, tag] = process.argv.slice(2);
const env: LocalAuditEnv = {
  accountId: '000000000000',
  region: 'eu-west-2',
  platformName: 'onelondon-sde',
  projectRoleName: (id) => `onelondon-sde-project-${id}`,
  projectWorkgroupName: (id) => `onelondon-sde-project-${id}`,
  userAgent: 'sde-local',
};
if (mode === 'hold-lock') {
  withAuditLock(path.join(workdir, AUDIT_DIR), { timeoutMs: 60_000, staleMs: 2_000 }, () => {
    process.stdout.write('locked\n');
    // Holds the lock in synchronous code until killed, as a writer stuck mid-write would.
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
  });
} else {
  const writer = LocalAuditWriter.open(workdir, env, { maxRecordsPerFile: 2 });
  const q = (i: number) =>
    projectQueryEvent(env, { projectId: 'ncl-winter-planning', sessionName: `${tag}-${i}`, queryString: 'SELECT 1', time: new Date('2026-11-21T10:00:00Z') });
  writer.appendAll([q(1), q(2), q(3)]);
}
