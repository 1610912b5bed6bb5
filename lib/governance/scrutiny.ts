/**
 * The quarterly report for an elected scrutiny body (say, the London Assembly's health
 * committee): what was approved, extended and ended, with the citizen quorum; how much data
 * each tier of user used and what it was charged; the national data opt-out; outputs
 * released; the public benefit reported and the reports overdue; and the security alarms
 * raised, as counts. Pure: built only from the validated config, the verified audit
 * records and the month's bills, like the register.
 *
 * The use figures are the register's own (the same `buildRegister` over the same records),
 * summed over the quarter's months, so the two can never disagree. A month the register
 * withholds (a count from 1 to the disclosure threshold) is never added into a total: the
 * quarter then reads "at least" the months shown, because a total with the withheld month
 * inside it would give that month away by subtraction.
 */
import type { CloudTrailRecord } from '../audit/cloudtrail-record';
import { countSecurityAlarms, type SecurityAlarmCount } from '../audit/security-events';
import type { TrailAttestation } from '../audit/verified-trail';
import type { BillingMonth } from '../billing/month';
import { parseMonth } from '../billing/month';
import type { Statement } from '../billing/statement';
import { airlockSettings } from '../config/airlock-settings';
import { outcomeReportStatus } from '../config/benefit';
import { optOutAppliedBy } from '../config/curated';
import type { SdeConfig } from '../config/model';
import { OUTCOME_KIND_LABELS } from '../register/benefit';
import { buildRegister, PublicCount, RegisterMonth } from '../register/model';

export interface Quarter {
  /** `YYYY-Qn` */
  readonly id: string;
  readonly first: string;
  readonly last: string;
  readonly months: readonly BillingMonth[];
}

const QUARTER = /^(\d{4})-Q([1-4])$/;

/** Parses `YYYY-Qn` (Q1 is January to March), or returns undefined. */
export function parseQuarter(text: string): Quarter | undefined {
  const m = QUARTER.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const q = Number(m[2]);
  const months = [0, 1, 2].map((i) => parseMonth(`${year}-${String((q - 1) * 3 + i + 1).padStart(2, '0')}`)!);
  return { id: text, first: months[0].first, last: months[2].last, months };
}

/** The quarter a day (YYYY-MM-DD) falls in. */
export function quarterOf(day: string): Quarter {
  return parseQuarter(`${day.slice(0, 4)}-Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`)!;
}

/** A figure over several months: exact when every month was published exactly, otherwise at least the months shown. */
export type QuarterFigure =
  | { readonly count: number }
  /** One or more months were withheld (from 1 to the threshold): `atLeast` is the sum of the months shown. */
  | { readonly atLeast: number; readonly withheldMonths: number; readonly fewerThan: number };

export interface UseFigures {
  readonly queries: QuarterFigure;
  readonly refusedQueries: QuarterFigure;
  readonly outputsReleased: QuarterFigure;
  /** Bytes scanned in the months the register shows it; `complete` false when a month with queries had none shown. */
  readonly dataScanned: { readonly bytes: number; readonly complete: boolean };
}

export interface ProjectUse extends UseFigures {
  readonly id: string;
  readonly title: string;
  readonly tier: string;
}

export interface TierCharges {
  /** Per month of the quarter billed (months not yet begun are not billed), in minor units. */
  readonly months: readonly { readonly month: string; readonly accessFeesMinor: number; readonly dataScannedMinor: number; readonly totalMinor: number }[];
  readonly totalMinor: number;
}

export interface TierUse extends UseFigures {
  readonly tier: string;
  readonly label: string;
  /** Projects of the tier with any recorded use in the quarter. */
  readonly projectsWithUse: number;
  readonly charges: TierCharges;
}

export interface DecisionLine {
  readonly id: string;
  readonly title: string;
  readonly organisation: string;
  readonly tierLabel: string;
  readonly date: string;
  readonly reference: string;
  readonly citizenMembersPresent: number;
  readonly quorumMet: boolean;
}

export interface ScrutinyReport {
  readonly platform: string;
  readonly quarter: Quarter;
  /** The day the report was built on: a quarter not yet over is reported up to this day. */
  readonly asOf: string;
  readonly currency: string;
  readonly disclosure: { readonly threshold: number };
  readonly minimumCitizenMembers: number;
  /** First approvals dated in the quarter. */
  readonly approved: readonly DecisionLine[];
  /** Approvals in the quarter that replaced an earlier one (dated after the project's period began): extensions and changes. */
  readonly extended: readonly DecisionLine[];
  /** Projects whose approved period ended in the quarter (up to the report's day). */
  readonly ended: readonly DecisionLine[];
  readonly byTier: readonly TierUse[];
  readonly byProject: readonly ProjectUse[];
  readonly optOut: {
    readonly datasets: readonly {
      readonly name: string;
      readonly title: string;
      /** Who applies the national data opt-out to it (optOutAppliedBy). */
      readonly appliedBy: ReturnType<typeof optOutAppliedBy>;
      readonly loads: number;
    }[];
  };
  readonly benefit: {
    readonly outcomes: readonly {
      readonly projectId: string;
      readonly project: string;
      readonly date: string;
      readonly kind: string;
      readonly title: string;
      readonly reference: string;
    }[];
    readonly reportsMade: readonly { readonly projectId: string; readonly project: string; readonly date: string; readonly final: boolean }[];
    readonly overdue: readonly { readonly projectId: string; readonly project: string; readonly what: string }[];
  };
  readonly security: readonly SecurityAlarmCount[];
  readonly auditTrail: TrailAttestation | null;
}

export interface ScrutinyInputs {
  readonly config: SdeConfig;
  readonly quarter: Quarter;
  /** Verified audit records (any period: the quarter's are picked out). */
  readonly records: readonly CloudTrailRecord[];
  readonly auditTrail?: TrailAttestation;
  /** The bills of the quarter's months (as `sde bill` builds them). */
  readonly statements: readonly Statement[];
  /** @default the airlock's suppressionThreshold, as the register */
  readonly threshold?: number;
  /** The day the report is built on (a quarter not yet over is reported up to it). @default the config's today */
  readonly today?: string;
}

/** Months of the quarter that have begun by `today`: later ones have neither use nor bills. */
export function monthsBegun(quarter: Quarter, today: string): BillingMonth[] {
  return quarter.months.filter((m) => m.first <= today);
}

function figure(counts: readonly PublicCount[], threshold: number): QuarterFigure {
  let sum = 0;
  let withheld = 0;
  for (const c of counts) {
    if ('count' in c) sum += c.count;
    else withheld++;
  }
  return withheld === 0 ? { count: sum } : { atLeast: sum, withheldMonths: withheld, fewerThan: threshold + 1 };
}

function useOf(months: readonly RegisterMonth[], threshold: number): UseFigures {
  return {
    queries: figure(
      months.map((m) => m.queries),
      threshold,
    ),
    refusedQueries: figure(
      months.map((m) => m.refusedQueries),
      threshold,
    ),
    outputsReleased: figure(
      months.map((m) => m.outputsReleased),
      threshold,
    ),
    dataScanned: {
      bytes: months.reduce((n, m) => n + (m.dataScannedBytes ?? 0), 0),
      complete: months.every((m) => m.dataScanned === 'none' || m.dataScannedBytes !== null),
    },
  };
}

/** `dataset/load_date=YYYY-MM-DD/<batch>.parquet`: a committed load (lib/ingest/layout.ts). */
const CURATED_BATCH_KEY = /^([a-z][a-z0-9_]{0,62})\/load_date=\d{4}-\d{2}-\d{2}\/([0-9a-f]{24})\.parquet$/;
const OBJECT_CREATING_CALLS = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload']);

/** Loads committed into each dataset in the quarter, from the S3 data events of the trail (one per batch). */
function loadsByDataset(records: readonly CloudTrailRecord[], inQuarter: (time: string) => boolean): Map<string, number> {
  const batches = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.eventSource !== 's3.amazonaws.com' || !OBJECT_CREATING_CALLS.has(r.eventName) || r.errorCode !== undefined || !inQuarter(r.eventTime)) continue;
    const key = r.requestParameters?.key;
    const m = typeof key === 'string' ? CURATED_BATCH_KEY.exec(key) : null;
    if (!m) continue;
    batches.set(m[1], (batches.get(m[1]) ?? new Set()).add(m[2]));
  }
  return new Map([...batches].map(([d, s]) => [d, s.size]));
}

export function buildScrutinyReport(inputs: ScrutinyInputs): ScrutinyReport {
  const { config, quarter } = inputs;
  const threshold = inputs.threshold ?? airlockSettings(config.platform).suppressionThreshold;
  const today = inputs.today ?? config.today;
  const asOf = today < quarter.last ? today : quarter.last;
  const inQuarter = (time: string) => time.slice(0, 10) >= quarter.first && time.slice(0, 10) <= asOf;
  const tiers = config.platform.pricing.tiers;
  const tierLabel = (id: string) => tiers[id]?.label ?? id;
  const minimum = config.platform.governance.minimumCitizenMembers;

  const decision = (p: SdeConfig['projects'][number], date: string): DecisionLine => ({
    id: p.id,
    title: p.title,
    organisation: p.organisation.name,
    tierLabel: tierLabel(p.organisation.tier),
    date,
    reference: p.approval.reference,
    citizenMembersPresent: p.approval.citizenMembersPresent,
    quorumMet: p.approval.citizenMembersPresent >= minimum,
  });
  const projects = [...config.projects].sort((a, b) => a.id.localeCompare(b.id));
  const decided = projects.filter((p) => inQuarter(p.approval.date));
  const approved = decided.filter((p) => p.approval.date <= p.period.start).map((p) => decision(p, p.approval.date));
  const extended = decided.filter((p) => p.approval.date > p.period.start).map((p) => decision(p, p.approval.date));
  // Ended: its last approved day fell in the quarter and has passed.
  const ended = projects
    .filter((p) => p.period.end >= quarter.first && p.period.end <= quarter.last && p.period.end < today)
    .map((p) => decision(p, p.period.end));

  // The register's figures for the same records, month by month.
  const register = buildRegister(config, inputs.records, { threshold, auditTrail: inputs.auditTrail });
  const monthIds = new Set(monthsBegun(quarter, today).map((m) => m.id));
  const monthsOf = (id: string) => register.projects.find((p) => p.id === id)?.activity.months.filter((m) => monthIds.has(m.month)) ?? [];
  const byProject: ProjectUse[] = projects
    .filter((p) => monthsOf(p.id).length > 0)
    .map((p) => ({ id: p.id, title: p.title, tier: p.organisation.tier, ...useOf(monthsOf(p.id), threshold) }));

  const byTier: TierUse[] = Object.keys(tiers).map((tier) => {
    const members = projects.filter((p) => p.organisation.tier === tier);
    const months = members.flatMap((p) => monthsOf(p.id));
    const billed = monthsBegun(quarter, today).map((month) => {
      const s = inputs.statements.filter((x) => x.tier.id === tier && x.month.id === month.id);
      const sum = (kind: string) => s.reduce((n, x) => n + x.charges.filter((c) => c.kind === kind).reduce((k, c) => k + c.amountMinor, 0), 0);
      return {
        month: month.id,
        accessFeesMinor: sum('access_fee'),
        dataScannedMinor: sum('data_scanned'),
        totalMinor: s.reduce((n, x) => n + x.totalMinor, 0),
      };
    });
    return {
      tier,
      label: tierLabel(tier),
      projectsWithUse: members.filter((p) => monthsOf(p.id).length > 0).length,
      ...useOf(months, threshold),
      charges: { months: billed, totalMinor: billed.reduce((n, m) => n + m.totalMinor, 0) },
    };
  });

  const loads = loadsByDataset(inputs.records, inQuarter);
  const settings = config.platform.governance.outcomeReports;
  const outcomes = projects.flatMap((p) =>
    (p.benefit?.outcomes ?? [])
      .filter((o) => inQuarter(o.date))
      .map((o) => ({ projectId: p.id, project: p.title, date: o.date, kind: OUTCOME_KIND_LABELS[o.kind], title: o.title, reference: o.reference })),
  );
  const reportsMade = projects.flatMap((p) =>
    (p.benefit?.reports ?? []).filter((r) => inQuarter(r.date)).map((r) => ({ projectId: p.id, project: p.title, date: r.date, final: r.final })),
  );
  const overdue = projects.flatMap((p) => {
    const s = outcomeReportStatus(p, settings, asOf);
    const out: { projectId: string; project: string; what: string }[] = [];
    if (s.overdueSince !== null) out.push({ projectId: p.id, project: p.title, what: `outcome report due on ${s.overdueSince} not made` });
    if (s.finalReport?.overdue) out.push({ projectId: p.id, project: p.title, what: `final report due by ${s.finalReport.due} not made` });
    return out;
  });

  return {
    platform: config.platform.displayName,
    quarter,
    asOf,
    currency: config.platform.pricing.currency,
    disclosure: { threshold },
    minimumCitizenMembers: minimum,
    approved,
    extended,
    ended,
    byTier,
    byProject,
    optOut: {
      datasets: [...config.datasets]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((d) => ({
          name: d.name,
          title: d.title,
          appliedBy: optOutAppliedBy(d),
          loads: loads.get(d.name) ?? 0,
        })),
    },
    benefit: { outcomes: outcomes.sort((a, b) => a.date.localeCompare(b.date)), reportsMade, overdue },
    security: countSecurityAlarms(
      inputs.records.filter((r) => inQuarter(r.eventTime)),
      { watchedBucket: (name) => name.startsWith(`${config.platform.name}-`) },
    ),
    auditTrail: inputs.auditTrail ?? null,
  };
}
