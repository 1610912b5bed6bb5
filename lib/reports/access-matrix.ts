/**
 * The access matrix: for every project, who it is, why, for how long, and exactly which
 * columns of which datasets it may read. Built from the same `projectAccess` model as the
 * Lake Formation grants and the local views, so the committee reviews what is enforced.
 */
import { curatedColumns, CuratedClass } from '../config/curated';
import { projectAccess, projectState, ProjectState, SdeConfig } from '../config/model';
import type { RiskReport, RiskVerdict } from '../governance/disclosure-risk';
import { GlossaryEntry, grantedColumnMeaning, jargonGlossary, sourceColumns } from './plain-words';

export interface MatrixColumn {
  readonly name: string;
  readonly curatedClass: CuratedClass | 'partition';
  /** The source column's description, as the dataset config gives it (for reviewers of the config). */
  readonly description: string;
  /** What the curated column holds after de-identification, in plain words (lib/reports/plain-words.ts). */
  readonly meaning: string;
}

export interface MatrixProject {
  readonly id: string;
  readonly title: string;
  readonly organisation: string;
  readonly organisationType: string;
  readonly tier: string;
  readonly tierLabel: string;
  readonly purpose: string;
  readonly summary: string;
  readonly period: { readonly start: string; readonly end: string };
  readonly state: ProjectState;
  readonly approval: { readonly committee: string; readonly reference: string; readonly date: string; readonly citizenMembersPresent: number };
  /** What the project may read today (empty unless active). */
  readonly datasets: readonly {
    readonly dataset: string;
    readonly title: string;
    readonly columns: readonly MatrixColumn[];
    readonly rowFilter?: string;
    /** Which rows the filter leaves, in plain words (the project config's rowFilterDescription). */
    readonly rowFilterDescription?: string;
  }[];
  /** What the approval names, whatever the state: shown for expired and not-yet-started projects. */
  readonly approvedDatasets: readonly string[];
  /** The approval's re-identification risk: as recorded in it, and as measured by sde risk (when given). */
  readonly disclosureRisk: MatrixRisk;
}

export interface MatrixRisk {
  readonly ceiling?: number;
  /** approval.disclosureRisk. */
  readonly recorded?: {
    readonly shareBelow5: number;
    readonly shareBelow10: number;
    readonly measuredOn: string;
    readonly measure: string;
    readonly people: number;
  };
  /** approval.riskAcceptance. */
  readonly accepted?: { readonly acceptedShareBelow5: number; readonly reference: string; readonly date: string; readonly reason: string };
  /** From a risk report (sde risk --format json). */
  readonly measured?: {
    readonly shareBelow5: number;
    readonly shareBelow10: number;
    readonly measuredOn: string;
    readonly measure: string;
    readonly people: number;
    readonly verdict: RiskVerdict;
  };
}

export interface AccessMatrix {
  readonly platform: string;
  readonly asOf: string;
  readonly datasets: readonly { readonly name: string; readonly title: string }[];
  readonly projects: readonly MatrixProject[];
  /** The codes and abbreviations the shown columns use, explained (plain-words.ts). */
  readonly jargon: readonly GlossaryEntry[];
}

export const CLASS_LABELS: Record<MatrixColumn['curatedClass'], { short: string; explain: string }> = {
  pseudonym: {
    short: 'pseudonym (from a direct identifier)',
    explain:
      'A code that replaces a direct identifier such as the NHS number. It links one person’s records across datasets without saying who they are; only the platform holds the key.',
  },
  quasi_identifier: {
    short: 'quasi-identifier',
    explain:
      'Not a name or number, but could help single someone out when combined with other details (for example age band, area or a month of admission). Already generalised before any project sees it.',
  },
  sensitive: {
    short: 'sensitive (health information)',
    explain: 'Health or care information, such as a diagnosis, a medicine or an ethnic group.',
  },
  other: { short: 'other', explain: 'Administrative details, such as a record key or a hospital code.' },
  partition: { short: 'load date', explain: 'The date a batch of data was loaded into the platform.' },
};

export const STATE_LABELS: Record<ProjectState, string> = {
  active: 'Active: has access now',
  expired: 'Expired: no access',
  not_started: 'Approved, not started: no access yet',
  suspended: 'Suspended: no access',
};

export function buildAccessMatrix(config: SdeConfig, risk?: RiskReport): AccessMatrix {
  const projects = matrixProjects(config, risk);
  const shown = projects.flatMap((p) =>
    p.datasets.flatMap((g) => {
      const dataset = config.datasets.find((d) => d.name === g.dataset)!;
      return sourceColumns(
        dataset,
        curatedColumns(dataset),
        g.columns.map((c) => c.name),
      );
    }),
  );
  const text = projects.flatMap((p) => p.datasets.flatMap((g) => g.columns.map((c) => c.meaning))).join('\n');
  return {
    platform: config.platform.displayName,
    asOf: config.today,
    datasets: config.datasets.map((d) => ({ name: d.name, title: d.title })),
    projects,
    jargon: jargonGlossary(shown, text),
  };
}

function matrixProjects(config: SdeConfig, risk: RiskReport | undefined): MatrixProject[] {
  return [...config.projects]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((p) => {
      const tier = config.platform.pricing.tiers[p.organisation.tier];
      return {
        id: p.id,
        title: p.title,
        organisation: p.organisation.name,
        organisationType: p.organisation.type,
        tier: p.organisation.tier,
        tierLabel: tier?.label ?? p.organisation.tier,
        purpose: p.purpose,
        summary: p.summary,
        period: p.period,
        state: projectState(p, config.today),
        approval: p.approval,
        approvedDatasets: Object.keys(p.datasets).sort(),
        disclosureRisk: matrixRisk(config, p, risk),
        datasets: projectAccess(config, p).map((grant) => {
          const curated = curatedColumns(grant.dataset);
          const byName = new Map(curated.map((c) => [c.name, c]));
          const meaning = (name: string) => grantedColumnMeaning(grant.dataset, curated, name);
          return {
            dataset: grant.dataset.name,
            title: grant.dataset.title,
            rowFilter: grant.rowFilter,
            rowFilterDescription: p.datasets[grant.dataset.name]?.rowFilterDescription,
            columns: grant.columnNames.map((name) => {
              const c = byName.get(name);
              return c
                ? { name, curatedClass: c.curatedClass, description: c.description, meaning: meaning(name) }
                : { name, curatedClass: 'partition' as const, description: CLASS_LABELS.partition.explain, meaning: meaning(name) };
            }),
          };
        }),
      };
    });
}

function matrixRisk(config: SdeConfig, p: SdeConfig['projects'][number], report: RiskReport | undefined): MatrixRisk {
  const r = p.approval.disclosureRisk;
  const a = p.approval.riskAcceptance;
  const m = report?.projects.find((x) => x.projectId === p.id);
  return {
    ...(config.platform.disclosureRisk ? { ceiling: config.platform.disclosureRisk.ceiling } : {}),
    ...(r ? { recorded: { shareBelow5: r.shareBelow5, shareBelow10: r.shareBelow10, measuredOn: r.measuredOn, measure: r.measure, people: r.people } } : {}),
    ...(a ? { accepted: { acceptedShareBelow5: a.acceptedShareBelow5, reference: a.reference, date: a.date, reason: a.reason } } : {}),
    ...(m?.worst
      ? {
          measured: {
            shareBelow5: m.worst.shareBelow5,
            shareBelow10: m.worst.shareBelow10,
            measuredOn: report!.measuredOn,
            measure: m.worst.label,
            people: m.worst.people,
            verdict: m.gate.verdict,
          },
        }
      : {}),
  };
}
