/**
 * Outcome reports owed, for the governance report: projects whose interval report is
 * overdue, and projects that have ended without a final report (flagged as soon as they
 * end, overdue after platform.yaml's `finalReportWithinDays`). Judged on the config's own
 * day by lib/config/benefit.ts, as the register judges them.
 */
import { outcomeReportStatus } from '../config/benefit';
import type { SdeConfig } from '../config/model';

export type OutcomeConcernKind = 'overdue' | 'final-owed' | 'final-overdue';

export interface OutcomeReportConcern {
  readonly projectId: string;
  readonly kind: OutcomeConcernKind;
  readonly text: string;
}

export function outcomeReportConcerns(config: SdeConfig): OutcomeReportConcern[] {
  const settings = config.platform.governance.outcomeReports;
  const out: OutcomeReportConcern[] = [];
  for (const p of [...config.projects].sort((a, b) => a.id.localeCompare(b.id))) {
    const s = outcomeReportStatus(p, settings, config.today);
    const name = `${p.title} (${p.id})`;
    const last = s.lastReport === null ? 'no report has been recorded' : `the last report is dated ${s.lastReport}`;
    if (s.overdueSince !== null) {
      out.push({
        projectId: p.id,
        kind: 'overdue',
        text: `${name}: an outcome report was due on ${s.overdueSince} (every ${settings.intervalMonths} months from ${p.period.start}) and has not been made; ${last}.`,
      });
    }
    if (s.finalReport !== null && s.finalReport.received === null) {
      out.push({
        projectId: p.id,
        kind: s.finalReport.overdue ? 'final-overdue' : 'final-owed',
        text: s.finalReport.overdue
          ? `${name} ended on ${p.period.end < config.today ? p.period.end : config.today} without a final report: it was due by ${s.finalReport.due} and is overdue.`
          : `${name} has ended without a final report yet: it is due by ${s.finalReport.due}.`,
      });
    }
  }
  return out;
}
