/**
 * The demo's charging and oversight step: this month's statements from the demo's own
 * audit trail, and the governance report of what changed in the config over recent
 * commits (when the config is in a git repository). Run last, after every step that
 * writes audit records, so the bills see all the demo's queries.
 */
import * as path from 'node:path';
import { writeLocalBills } from '../../billing/local-bills';
import { monthOfDate } from '../../billing/month';
import { formatMoney } from '../../billing/money';
import type { SdeConfig } from '../../config/model';
import { ConfigError } from '../../config/problems';
import { defaultBaseRevision, GitConfigError } from '../../governance/git-config';
import { buildGovernanceReport, writeGovernanceReport } from '../../governance/write-report';
import { workdirLayout } from '../workdir';

/** How far back the demo's governance report looks, when the history is that long. */
export const DEMO_GOVERNANCE_COMMITS = 10;

export interface DemoChargingOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly log: (line: string) => void;
  /** @default now: the audit records carry the real time, so the bills use the real month */
  readonly now?: Date;
}

export async function writeDemoBillsAndGovernance(options: DemoChargingOptions): Promise<{ billFiles: readonly string[]; reportFiles: readonly string[] }> {
  const { config, log } = options;
  const layout = workdirLayout(options.workdir);
  const month = monthOfDate(options.now ?? new Date());
  const bills = await writeLocalBills({ config, workdir: layout.root, month, outDir: path.join(layout.out, 'bills') });
  log(
    `Bills for ${month.id} (${bills.statements.length} statement${bills.statements.length === 1 ? '' : 's'}, from the audit trail) in ${path.join(layout.out, 'bills', month.id)}:`,
  );
  for (const s of bills.statements)
    log(
      `  ${s.organisation.name} (${s.project.id}): ${formatMoney(s.totalMinor, s.currency)}, ${s.usage.length} quer${s.usage.length === 1 ? 'y' : 'ies'}${s.warnings.length > 0 ? `, ${s.warnings.length} warning(s)` : ''}`,
    );

  let reportFiles: string[] = [];
  try {
    const since = defaultBaseRevision(config.dir, DEMO_GOVERNANCE_COMMITS);
    const diff = buildGovernanceReport({ configDir: config.dir, since, today: config.today });
    reportFiles = writeGovernanceReport(diff, path.join(layout.out, 'governance'));
    log(
      `Governance report since ${diff.before.label}: ${diff.changes.length} change${diff.changes.length === 1 ? '' : 's'}, in ${path.dirname(reportFiles[0])}`,
    );
  } catch (e) {
    // The demo must run from a config copied anywhere: no history is a reason to skip, not to fail.
    if (e instanceof GitConfigError) log(`Governance report skipped: ${e.message}`);
    else if (e instanceof ConfigError)
      log(
        `Governance report skipped: the older config does not validate with today's schema (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}); run sde governance-report --since REF with a later revision`,
      );
    else throw e;
  }
  return { billFiles: bills.files, reportFiles };
}
