/**
 * Run as a separate process by the concurrency test: appends N records to a workdir's
 * local audit trail, as another `sde` process would.
 *   node --import tsx append-records.ts <workdir> <count> <tag>
 */
import { LocalAuditWriter, projectQueryEvent, LocalAuditEnv } from '../../../lib/audit/local-audit-writer';

const [workdir, countText, tag] = process.argv.slice(2);
const env: LocalAuditEnv = {
  accountId: '000000000000',
  region: 'eu-west-2',
  platformName: 'onelondon-sde',
  projectRoleName: (id) => `onelondon-sde-project-${id}`,
  projectWorkgroupName: (id) => `onelondon-sde-project-${id}`,
  userAgent: 'sde-local',
};
const writer = LocalAuditWriter.open(workdir, env, { maxRecordsPerFile: 7 });
for (let i = 0; i < Number(countText); i++) {
  writer.append(
    projectQueryEvent(env, { projectId: 'ncl-winter-planning', sessionName: `${tag}-${i}`, queryString: 'SELECT 1', time: new Date('2026-11-21T10:00:00Z') }),
  );
}
