/**
 * Public benefit: who a project is commercial for, the checks on its promised and
 * delivered benefit, and when it owes an outcome report. Pure, on the validated model, so
 * `sde validate`, `sde governance-report`, the register and the scrutiny report judge
 * the same project the same way.
 *
 * The reporting rule (platform.yaml `governance.outcomeReports`):
 * - while the approved period runs, a report is due every `intervalMonths` from its start
 *   (start + 1 interval, + 2, ... up to the period's end); the latest due date that has
 *   passed is met by any report dated after the due date before it (so a late report still
 *   counts, and one report covers one interval);
 * - once the period has ended (or the project is marked expired), a final report
 *   (`final: true`) is owed within `finalReportWithinDays`: without one the project is
 *   flagged, and overdue after that deadline.
 */
import { projectState } from './model';
import type { Sourced } from './model';
import type { ConfigProblem } from './problems';
import type { OutcomeReportingConfig, PlatformConfig, ProjectConfig } from './schema';

/**
 * A commercial user: a company, whatever tier it is charged at, or any organisation charged
 * at a tier platform.yaml marks `commercial: true`. Either alone makes it commercial, so a
 * company cannot avoid sharing terms by being put on a public tier.
 */
export function isCommercial(project: Pick<ProjectConfig, 'organisation'>, platform: Pick<PlatformConfig, 'pricing'>): boolean {
  return project.organisation.type === 'company' || platform.pricing.tiers[project.organisation.tier]?.commercial === true;
}

/** `iso` (YYYY-MM-DD) plus `months` calendar months, the day clamped to the month's length (31 Jan + 1 = 28/29 Feb). */
export function addMonths(iso: string, months: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export function addDays(iso: string, days: number): string {
  const t = new Date(`${iso}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + days);
  return t.toISOString().slice(0, 10);
}

export interface FinalReportStatus {
  /** The day the final report is due by. */
  readonly due: string;
  /** The date of the final report, or null when none is recorded. */
  readonly received: string | null;
  /** Past its due day without a final report. */
  readonly overdue: boolean;
}

export interface OutcomeReportStatus {
  /** The latest report's date, or null. */
  readonly lastReport: string | null;
  /** The next interval report's due date while the period runs; null once it has ended or before it starts. */
  readonly nextDue: string | null;
  /** The due date of an interval report that has passed without a report; null when none is overdue. */
  readonly overdueSince: string | null;
  /** Set once the approved period has ended or the project is marked expired: the final report. */
  readonly finalReport: FinalReportStatus | null;
  /** True when an interval report or the final report is overdue. */
  readonly overdue: boolean;
}

/** Where a project stands with its outcome reports on `today`. */
export function outcomeReportStatus(project: ProjectConfig, settings: OutcomeReportingConfig, today: string): OutcomeReportStatus {
  const reports = [...(project.benefit?.reports ?? [])].sort((a, b) => a.date.localeCompare(b.date));
  const lastReport = reports.at(-1)?.date ?? null;
  const state = projectState(project, today);
  if (state === 'not_started') return { lastReport, nextDue: null, overdueSince: null, finalReport: null, overdue: false };
  const ended = state === 'expired';
  // Interval reports fall due inside the period (after it ends, the final report covers the
  // rest); a report is late from the day after its due date.
  let latestDue: string | null = null;
  let nextDue: string | null = null;
  for (let k = 1; ; k++) {
    const due = addMonths(project.period.start, k * settings.intervalMonths);
    if (due > project.period.end) break;
    if (due < today) latestDue = due;
    else {
      nextDue = ended ? null : due;
      break;
    }
  }
  let overdueSince: string | null = null;
  if (latestDue !== null) {
    const windowStart = addMonths(latestDue, -settings.intervalMonths);
    if (!reports.some((r) => r.date > windowStart)) overdueSince = latestDue;
  }
  let finalReport: FinalReportStatus | null = null;
  if (ended) {
    // A project stopped early (status expired before its end date) owes it by the same date: its period's end is the one date on record.
    const due = addDays(project.period.end, settings.finalReportWithinDays);
    const received = reports.find((r) => r.final)?.date ?? null;
    finalReport = { due, received, overdue: received === null && today > due };
    // A final report also answers any interval report still owed.
    if (received !== null) overdueSince = null;
  }
  return { lastReport, nextDue, overdueSince, finalReport, overdue: overdueSince !== null || finalReport?.overdue === true };
}

/**
 * The benefit block's checks: every project states its benefit; a commercial user records
 * its benefit-sharing terms; the benefit is expected after access begins; and nothing
 * delivered or reported is dated in the future.
 */
export function checkBenefit(
  project: Sourced<ProjectConfig>,
  platform: PlatformConfig,
  today: string,
  options: { readonly requireStatement: boolean } = { requireStatement: true },
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file, benefit } = project;
  if (benefit === undefined && options.requireStatement) {
    problems.push({
      file,
      field: 'benefit',
      message: 'is missing: every project must state the public benefit it promises, for the committee and the public register',
      fix: 'add benefit: with whoBenefits (who gains, in plain English), how (how they gain, in a sentence) and byWhen (YYYY-MM-DD, when the benefit is expected)',
    });
  }
  if (options.requireStatement && isCommercial(project, platform) && benefit?.sharing === undefined) {
    const why =
      project.organisation.type === 'company'
        ? `the organisation is a company`
        : `tier "${project.organisation.tier}" is marked commercial in platform.yaml`;
    problems.push({
      file,
      field: 'benefit.sharing',
      message: `is missing: ${why}, so the project must record the benefit-sharing terms agreed with it`,
      fix: 'add benefit.sharing with agreement (the signed agreement\'s reference), terms (one or more of royalties, nhs_pricing, free_nhs_access, shared_results, equity, other) and summary (the terms in plain English)',
    });
  }
  if (benefit === undefined) return problems;
  if (benefit.byWhen < project.period.start) {
    problems.push({
      file,
      field: 'benefit.byWhen',
      message: `is ${benefit.byWhen}, before the project's access begins (${project.period.start}): no benefit can come from the data by then`,
      fix: 'give the date by which the benefit is expected, after the period starts',
    });
  }
  // Dated when it happened: not in the future. (An outcome before the period's start is left
  // alone: a period moved later by a re-approval keeps the outcomes already delivered.)
  const dated = (list: readonly { date: string }[], name: string, what: string) =>
    list.forEach((item, i) => {
      if (item.date > today) {
        problems.push({ file, field: `benefit.${name}[${i}].date`, message: `is ${item.date}, in the future`, fix: `record the ${what} once it has happened, with the date it happened` });
      }
    });
  dated(benefit.outcomes, 'outcomes', 'outcome');
  dated(benefit.reports, 'reports', 'report');
  const finals = benefit.reports.map((r, i) => (r.final ? i : -1)).filter((i) => i >= 0);
  if (finals.length > 1) {
    problems.push({ file, field: `benefit.reports[${finals[1]}].final`, message: 'is a second final report', fix: 'mark only the report at the end of the project final: true' });
  }
  return problems;
}
