/**
 * A small, fixed story of project use written to a real local audit trail (with the same
 * writer `sde query` and the airlock CLI use), and what the register must say about it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { airlockEvent } from '../../lib/airlock/audit-events';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { closeAllAuditWriters, dataAccessEvent, localAuditEnv, LocalAuditWriter, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import type { SdeConfig } from '../../lib/config/model';

/** Researcher session names and a pseudonym that must never reach the register. */
export const SECRETS = {
  nclSession: 'ncl-icb-analyst',
  uclSession: 'researcher-alpha-7',
  pseudonym: 'f3a9'.repeat(16),
  rowValue: 'E01000001',
} as const;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const at = (iso: string) => new Date(iso);

/**
 * - ncl-winter-planning: 12 queries of 1 MB in October 2026; 3 queries and 2 refusals in
 *   November (both small, so withheld);
 * - ucl-multimorbidity: 8 queries in November (just above the threshold of 7, so shown)
 *   with no bytes recorded for one, and 1 output released (withheld);
 * - medisight-prescribing and kcl-covid-recovery: no use.
 */
export function writeStory(config: SdeConfig, workdir: string): CloudTrailRecord[] {
  const env = localAuditEnv(config);
  const writer = LocalAuditWriter.open(workdir, env);
  const records: CloudTrailRecord[] = [];
  const add = (r: CloudTrailRecord) => {
    writer.append(r);
    records.push(r);
  };
  const database = 'onelondon_sde_curated';
  for (let i = 0; i < 12; i++) {
    const time = at(`2026-10-${String(3 + i).padStart(2, '0')}T10:00:00Z`);
    add(
      projectQueryEvent(env, {
        projectId: 'ncl-winter-planning',
        sessionName: SECRETS.nclSession,
        queryString: `SELECT count(*) FROM hospital_episodes WHERE lsoa_code = '${SECRETS.rowValue}'`,
        bytesScanned: 1_000_000,
        tables: ['hospital_episodes'],
        database,
        time,
        queryExecutionId: `q-ncl-${i}`,
      }),
    );
    add(
      dataAccessEvent(env, {
        projectId: 'ncl-winter-planning',
        sessionName: SECRETS.nclSession,
        database,
        table: 'hospital_episodes',
        time,
        queryExecutionId: `q-ncl-${i}`,
      }),
    );
  }
  for (let i = 0; i < 3; i++) {
    add(
      projectQueryEvent(env, {
        projectId: 'ncl-winter-planning',
        sessionName: SECRETS.nclSession,
        queryString: 'SELECT 1',
        bytesScanned: 500,
        time: at(`2026-11-0${i + 1}T09:00:00Z`),
      }),
    );
  }
  for (let i = 0; i < 2; i++) {
    add(
      projectQueryEvent(env, {
        projectId: 'ncl-winter-planning',
        sessionName: SECRETS.nclSession,
        queryString: `SELECT person_id FROM gp_events WHERE person_id = '${SECRETS.pseudonym}'`,
        time: at('2026-11-05T09:00:00Z'),
        refused: { message: 'project ncl-winter-planning is not approved for table gp_events' },
      }),
    );
  }
  for (let i = 0; i < 8; i++) {
    const r = projectQueryEvent(env, {
      projectId: 'ucl-multimorbidity',
      sessionName: SECRETS.uclSession,
      queryString: `SELECT * FROM demographics WHERE person_id = '${SECRETS.pseudonym}'`,
      bytesScanned: 2_000_000,
      time: at(`2026-11-${String(10 + i).padStart(2, '0')}T14:30:00Z`),
    });
    // One query without a measurement, as AWS CloudTrail records them (Athena does not log bytes scanned).
    const { sdeBytesScanned: _unmeasured, ...withoutBytes } = r.additionalEventData ?? {};
    add(i === 0 ? { ...r, additionalEventData: withoutBytes } : r);
  }
  add(
    airlockEvent(
      { accountId: env.accountId, region: env.region },
      {
        name: 'ReleaseOutput',
        time: at('2026-11-19T16:00:00Z'),
        actor: 'arn:aws:iam::111122223333:role/SdeOutputChecker1',
        requestId: 'req-1',
        projectId: 'ucl-multimorbidity',
        state: 'released',
      },
    ) as unknown as CloudTrailRecord,
  );
  // A refused release is not an output released.
  add(
    airlockEvent(
      { accountId: env.accountId, region: env.region },
      {
        name: 'ReleaseOutput',
        time: at('2026-11-20T16:00:00Z'),
        actor: 'arn:aws:iam::111122223333:role/SdeOutputChecker1',
        requestId: 'req-2',
        projectId: 'ucl-multimorbidity',
        refusal: { code: 'file_changed', errorCode: 'BadDigest', message: 'changed' },
      },
    ) as unknown as CloudTrailRecord,
  );
  closeAllAuditWriters();
  return records;
}
