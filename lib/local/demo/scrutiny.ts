/**
 * The demo's scrutiny step: the report for an elected scrutiny body for the quarter the
 * demo ran in, from the demo's own verified trail and bills. Run after the bills, so it sees
 * every record the other steps wrote.
 */
import type { SdeConfig } from '../../config/model';
import { quarterOf } from '../../governance/scrutiny';
import { generateLocalScrutinyReport, type WrittenScrutinyReport } from '../runners/scrutiny';
import { workdirLayout } from '../workdir';
import * as path from 'node:path';

export async function writeDemoScrutinyReport(options: {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly log: (line: string) => void;
  /** @default now: the audit records carry the real time, so the report covers the real quarter (as the bills cover the real month) */
  readonly now?: Date;
}): Promise<WrittenScrutinyReport> {
  const day = (options.now ?? new Date()).toISOString().slice(0, 10);
  // The later of the config's day and the real one: the demo's records are dated now.
  const today = day > options.config.today ? day : options.config.today;
  const quarter = quarterOf(today);
  const written = await generateLocalScrutinyReport({
    config: options.config,
    workdir: options.workdir,
    quarter,
    today,
    out: path.join(workdirLayout(options.workdir).out, 'scrutiny'),
  });
  const r = written.report;
  options.log(
    `Scrutiny report for ${quarter.id}: ${r.approved.length} approved, ${r.extended.length} extended, ${r.ended.length} ended; ` +
      `${r.benefit.outcomes.length} outcome(s) reported, ${r.benefit.overdue.length} report(s) overdue; in ${path.dirname(written.files[0])}`,
  );
  return written;
}
