/**
 * A local audit trail as a demo run writes it: ingestion commits, queries allowed and
 * refused (with Lake Formation data access for the allowed ones), and an output release
 * as the airlock records it (its own event source, into the same trail).
 */
import { airlockEvent } from '../../../lib/airlock/audit-events';
import type { SdeConfig } from '../../../lib/config/model';
import { dataAccessEvent, ingestionWriteEvent, LocalAuditEnv, localAuditEnv, LocalAuditWriter, projectQueryEvent } from '../../../lib/audit/local-audit-writer';
import type { CloudTrailRecord } from '../../../lib/audit/cloudtrail-record';

export const LOCAL_CURATED_BUCKET = 'onelondon-sde-curated';

export interface LocalRun {
  readonly env: LocalAuditEnv;
  readonly writer: LocalAuditWriter;
  readonly records: CloudTrailRecord[];
}

const at = (iso: string) => new Date(iso);

/** Writes a small, fixed story to `<workdir>/audit` and returns what was written. */
export function writeDemoTrail(config: SdeConfig, workdir: string): LocalRun {
  const env = localAuditEnv(config);
  const writer = LocalAuditWriter.open(workdir, env);
  const records: CloudTrailRecord[] = [
    // Ingestion commits two curated objects.
    ingestionWriteEvent(env, {
      bucket: LOCAL_CURATED_BUCKET,
      key: 'hospital_episodes/load_date=2026-11-20/batch-001.parquet',
      bytes: 52_345,
      dataset: 'hospital_episodes',
      batchId: 'batch-001',
      time: at('2026-11-20T09:00:00Z'),
    }),
    ingestionWriteEvent(env, {
      bucket: LOCAL_CURATED_BUCKET,
      key: 'prescriptions/load_date=2026-11-20/batch-002.parquet',
      bytes: 81_000,
      dataset: 'prescriptions',
      time: at('2026-11-20T09:05:00Z'),
    }),
    // NCL runs an allowed query in its period; Athena asks Lake Formation for the table.
    projectQueryEvent(env, {
      projectId: 'ncl-winter-planning',
      sessionName: 'ncl-icb-analyst',
      queryString: 'SELECT age_band_at_admission, count(*) FROM hospital_episodes GROUP BY 1',
      bytesScanned: 52_345,
      tables: ['hospital_episodes'],
      database: 'onelondon_sde_curated',
      time: at('2026-11-21T10:00:00Z'),
      queryExecutionId: 'q-ncl-1',
    }),
    dataAccessEvent(env, {
      projectId: 'ncl-winter-planning',
      sessionName: 'ncl-icb-analyst',
      database: 'onelondon_sde_curated',
      table: 'hospital_episodes',
      time: at('2026-11-21T10:00:01Z'),
      queryExecutionId: 'q-ncl-1',
    }),
    // The same analyst asks for a column the approval does not name: refused.
    projectQueryEvent(env, {
      projectId: 'ncl-winter-planning',
      sessionName: 'ncl-icb-analyst',
      queryString: 'SELECT primary_procedure FROM hospital_episodes',
      tables: ['hospital_episodes'],
      refused: { message: 'column primary_procedure is not approved for project ncl-winter-planning' },
      time: at('2026-11-21T10:05:00Z'),
    }),
    // KCL's approval ended on 2025-07-31: its query is refused, and it is outside the period.
    projectQueryEvent(env, {
      projectId: 'kcl-covid-recovery',
      sessionName: 'kcl-covid-recovery-researcher',
      queryString: 'SELECT count(*) FROM hospital_episodes',
      refused: { message: 'project kcl-covid-recovery is expired' },
      time: at('2026-11-21T11:00:00Z'),
    }),
    // The airlock releases a checked output to NCL, after two reviewers approved it.
    airlockEvent(
      { accountId: env.accountId, region: env.region },
      {
        name: 'ReleaseOutput',
        time: at('2026-11-21T15:00:00Z'),
        actor: 'output-reviewer-2',
        requestId: 'req-20261121-beds',
        projectId: 'ncl-winter-planning',
        parameters: { files: ['beds-by-age.csv'] },
        state: 'released',
      },
    ) as unknown as CloudTrailRecord,
  ];
  for (const r of records) writer.append(r);
  return { env, writer, records };
}
