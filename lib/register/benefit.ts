/**
 * The register's public-benefit part: what each project promised, the benefit-sharing
 * terms of a commercial user, the outcomes it has reported, and whether an outcome report
 * is overdue. Kept apart from model.ts and render.ts (which only call in here), so the
 * same facts feed the page, register.json and register.csv.
 *
 * Only https references become links: the config refuses other link schemes, and the
 * renderer checks again, so no `javascript:` or `data:` link can reach the public page.
 */
import { outcomeReportStatus } from '../config/benefit';
import type { BenefitSharingTerm, OutcomeKind, OutcomeReportingConfig, ProjectConfig } from '../config/schema';
import { escapeHtml } from '../reports/html';

export const SHARING_TERM_LABELS: Record<BenefitSharingTerm, string> = {
  royalties: 'Royalties paid to the NHS',
  nhs_pricing: 'NHS pricing for products that result',
  free_nhs_access: 'Free access for the NHS',
  shared_results: 'Results shared with the NHS',
  equity: 'A share in the company for the NHS',
  other: 'Other terms (see the summary)',
};

export const OUTCOME_KIND_LABELS: Record<OutcomeKind, string> = {
  publication: 'Publication',
  service_change: 'Change to a service',
  product: 'Product',
  dataset_returned: 'Data returned to the platform',
  other: 'Other outcome',
};

export interface RegisterOutcome {
  readonly date: string;
  readonly kind: OutcomeKind;
  readonly kindLabel: string;
  readonly title: string;
  /** As recorded: a reference in words or an https link. */
  readonly reference: string;
  /** The https link, when the reference is one; otherwise null. */
  readonly link: string | null;
}

export interface RegisterOutcomeReports {
  /** How many outcome reports the project has made. */
  readonly made: number;
  readonly lastReport: string | null;
  readonly nextDue: string | null;
  /** A report due on this date has not been made; null when none is overdue. */
  readonly overdueSince: string | null;
  /** Once the project has ended: its final report's due date and the date it was made (or null). */
  readonly finalReport: { readonly due: string; readonly received: string | null; readonly overdue: boolean } | null;
  /** An interval or final report is overdue. */
  readonly overdue: boolean;
  /** Where the project stands, in one plain sentence. */
  readonly text: string;
}

export interface RegisterBenefit {
  readonly whoBenefits: string;
  readonly how: string;
  readonly byWhen: string;
  /** The benefit-sharing terms (commercial users); null when none are recorded. */
  readonly sharing: {
    readonly agreement: string;
    readonly terms: readonly { readonly term: BenefitSharingTerm; readonly label: string }[];
    readonly summary: string;
  } | null;
  /** Newest first. */
  readonly outcomes: readonly RegisterOutcome[];
  readonly reports: RegisterOutcomeReports;
}

/** The reference as a link, only when it is an https URL that parses. */
export function httpsLink(reference: string): string | null {
  if (!/^https:\/\//i.test(reference)) return null;
  try {
    const url = new URL(reference);
    return url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const words = (iso: string) => {
  const [y, m, d] = iso.split('-').map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
};

function reportsText(s: Omit<RegisterOutcomeReports, 'text'>): string {
  const last = s.lastReport === null ? 'No outcome report has been made yet.' : `Last outcome report: ${words(s.lastReport)}.`;
  if (s.finalReport?.received) return `Final report made on ${words(s.finalReport.received)}.`;
  if (s.finalReport?.overdue) return `Overdue: the project has ended and its final report, due by ${words(s.finalReport.due)}, has not been made. ${last}`;
  if (s.overdueSince !== null) return `Overdue: an outcome report was due on ${words(s.overdueSince)} and has not been made. ${last}`;
  if (s.finalReport !== null) return `The project has ended; its final report is due by ${words(s.finalReport.due)}. ${last}`;
  return `${last}${s.nextDue === null ? '' : ` Next report due by ${words(s.nextDue)}.`}`;
}

/** The benefit facts of one project on `today`; null for a project that states none (a config from before the rule). */
export function registerBenefit(project: ProjectConfig, settings: OutcomeReportingConfig, today: string): RegisterBenefit | null {
  const b = project.benefit;
  if (b === undefined) return null;
  const status = outcomeReportStatus(project, settings, today);
  const reports = { made: b.reports.length, ...status };
  return {
    whoBenefits: b.whoBenefits,
    how: b.how,
    byWhen: b.byWhen,
    sharing: b.sharing
      ? { agreement: b.sharing.agreement, terms: b.sharing.terms.map((term) => ({ term, label: SHARING_TERM_LABELS[term] })), summary: b.sharing.summary }
      : null,
    outcomes: [...b.outcomes]
      .sort((x, y) => y.date.localeCompare(x.date))
      .map((o) => ({
        date: o.date,
        kind: o.kind,
        kindLabel: OUTCOME_KIND_LABELS[o.kind],
        title: o.title,
        reference: o.reference,
        link: httpsLink(o.reference),
      })),
    reports: { ...reports, text: reportsText(reports) },
  };
}

const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(words(iso))}</time>`;

/** The project's "Public benefit" part of its section on the page. */
export function benefitSectionHtml(projectId: string, benefit: RegisterBenefit | null): string {
  if (benefit === null) return '<h4>Public benefit</h4>\n<p>No benefit statement is recorded for this project.</p>';
  const r = benefit.reports;
  const sharing = benefit.sharing
    ? `<dt>Benefit-sharing terms (commercial use)</dt><dd>${escapeHtml(benefit.sharing.summary)} Terms: ${escapeHtml(benefit.sharing.terms.map((t) => t.label).join('; '))}. Agreement reference ${escapeHtml(benefit.sharing.agreement)}.</dd>`
    : '';
  const outcomes =
    benefit.outcomes.length === 0
      ? '<p>No outcome has been reported yet.</p>'
      : `<ul>
${benefit.outcomes
  .map((o) => {
    // A link shows its address in <code>, which wraps anywhere: a long URL must not widen the page at 320 px.
    const ref = o.link === null ? escapeHtml(o.reference) : `<a href="${escapeHtml(o.link)}"><code>${escapeHtml(o.reference)}</code></a>`;
    return `<li>${time(o.date)}, ${escapeHtml(o.kindLabel.toLowerCase())}: ${escapeHtml(o.title)} (${ref})</li>`;
  })
  .join('\n')}
</ul>`;
  return `<h4>Public benefit</h4>
<dl>
<dt>Who benefits</dt><dd>${escapeHtml(benefit.whoBenefits)}</dd>
<dt>How</dt><dd>${escapeHtml(benefit.how)}</dd>
<dt>Expected by</dt><dd>${time(benefit.byWhen)}</dd>
${sharing}<dt>Outcome reports</dt><dd${r.overdue ? ' class="state-inactive"' : ''}>${escapeHtml(r.text)}</dd>
</dl>
<h4 id="${escapeHtml(projectId)}_outcomes">Outcomes reported so far</h4>
${outcomes}`;
}

/** register.csv's benefit columns, after each project's fixed columns and before its months of use. */
export const BENEFIT_CSV_COLUMNS = [
  'benefit_who',
  'benefit_how',
  'benefit_by',
  'benefit_sharing_agreement',
  'benefit_sharing_terms',
  'benefit_sharing_summary',
  'outcomes_reported',
  'outcomes',
  'outcome_reports_made',
  'last_outcome_report',
  'outcome_report_overdue',
  'final_report',
] as const;

export function benefitCsvValues(benefit: RegisterBenefit | null): (string | number)[] {
  if (benefit === null) return BENEFIT_CSV_COLUMNS.map(() => '');
  const r = benefit.reports;
  return [
    benefit.whoBenefits,
    benefit.how,
    benefit.byWhen,
    benefit.sharing?.agreement ?? '',
    benefit.sharing?.terms.map((t) => t.term).join('; ') ?? '',
    benefit.sharing?.summary ?? '',
    benefit.outcomes.length,
    benefit.outcomes.map((o) => `${o.date} ${o.kind}: ${o.title} (${o.reference})`).join(' | '),
    r.made,
    r.lastReport ?? '',
    r.overdue ? 'yes' : 'no',
    r.finalReport === null ? '' : (r.finalReport.received ?? `not made (due by ${r.finalReport.due})`),
  ];
}
