/**
 * The public transparency register: for every project in the config, who uses which data,
 * why, on what legal basis and approval, for how long, and how much it has been used.
 *
 * Generated only from the typed config and the audit trail, never from a hand-kept list,
 * so the public reads what the platform enforces and records. Pure: no I/O.
 *
 * What can never be in it, by construction (test/register/privacy.test.ts):
 * - researchers: the config's researchers (ids and principals) and every record's userIdentity
 *   (source identity included) are never read, so it counts no people either;
 * - pseudonyms, query text and row values: only record counts, bytes and dates are taken;
 * - small counts: every activity count from 1 to the disclosure threshold is replaced by
 *   "fewer than N" (the airlock's `suppressionThreshold`, so the platform has one rule for
 *   what is small enough to single someone out), and a month's data scanned is withheld
 *   when its query count is (a linked figure would reveal the count it sits beside).
 */
import { optOutMonths, optOutRuns, type OptOutRun } from './opt-outs';
import type { CloudTrailRecord } from '../audit/cloudtrail-record';
import type { TrailAttestation } from '../audit/verified-trail';
import { airlockSettings } from '../config/airlock-settings';
import type { DatasetConfig } from '../config/schema';
import { curatedColumns, CuratedClass, CuratedColumn, optOutAppliedBy, PARTITION_COLUMN } from '../config/curated';
import { datasetByName, projectState, ProjectState, SdeConfig } from '../config/model';
import { ORGANISATION_TYPES, Purpose } from '../config/schema';
import { projectWorkgroupName } from '../config/naming';
import { CLASS_LABELS, STATE_LABELS } from '../reports/access-matrix';
import { columnMeaning, GlossaryEntry, jargonGlossary, pageGlossary, PARTITION_MEANING, REGISTER_TERMS, sourceColumns } from '../reports/plain-words';
import { ActivityInput, ProjectActivity, summariseActivity } from './activity';
import { RegisterBenefit, registerBenefit } from './benefit';
import { carryPublishedScans, PARTIAL_SCAN_NOTE, PublishedScans } from './carry';

export const REGISTER_SCHEMA_VERSION = 1;

/** A published count: exact when zero or above the threshold, otherwise only its bound. */
export type PublicCount = { readonly count: number } | { readonly fewerThan: number };

export type KindOfData = CuratedClass | 'partition';

export interface RegisterDataset {
  readonly name: string;
  readonly title: string;
  /** The approval limits the project to some rows (a row filter), e.g. emergency admissions only. */
  readonly someRowsOnly: boolean;
  /**
   * How the national data opt-out was applied to the dataset: by the platform from its list, by
   * the supplier before delivery (with the supplier's statement, so readers can check it), or not
   * at all (a dataset with no person-level rows).
   */
  readonly optOut: { readonly appliedBy: 'platform' } | { readonly appliedBy: 'supplier'; readonly statement: string } | { readonly appliedBy: 'not_applied' };
  /** Which rows, in plain words (the project's rowFilterDescription); null when every row. */
  readonly rows: string | null;
  /** The kinds of data approved, in lay terms, each with what its columns hold. */
  readonly kinds: readonly { readonly kind: KindOfData; readonly label: string; readonly explain: string; readonly holds: readonly string[] }[];
}

export interface RegisterMonth {
  readonly month: string;
  readonly queries: PublicCount;
  readonly refusedQueries: PublicCount;
  /** Bytes scanned; null when withheld (few queries) or not recorded for the month. */
  readonly dataScannedBytes: number | null;
  readonly dataScanned: string;
  readonly outputsReleased: PublicCount;
}

export interface RegisterProject {
  readonly id: string;
  readonly title: string;
  readonly organisation: { readonly name: string; readonly type: string; readonly typeLabel: string; readonly tier: string; readonly tierLabel: string };
  readonly purpose: Purpose;
  readonly purposeLabel: string;
  /** The purpose in plain English (the approval's summary). */
  readonly summary: string;
  readonly legalBasis: { readonly article6: string; readonly article9: string; readonly commonLawDuty: string };
  readonly approval: { readonly committee: string; readonly date: string; readonly reference: string; readonly citizenMembersPresent: number };
  readonly period: { readonly start: string; readonly end: string };
  readonly status: ProjectState;
  readonly statusLabel: string;
  /** What the approval names, whatever the status today. */
  readonly datasets: readonly RegisterDataset[];
  readonly activity: { readonly firstUse: string | null; readonly lastUse: string | null; readonly months: readonly RegisterMonth[] };
  /** The benefit promised, the sharing terms (commercial users), outcomes reported, and whether a report is overdue (benefit.ts). */
  readonly benefit: RegisterBenefit | null;
}

export interface Register {
  readonly schemaVersion: number;
  readonly platform: { readonly name: string; readonly description: string | null };
  /** The day (UTC) statuses are judged on. */
  readonly asOf: string;
  readonly disclosure: { readonly threshold: number; readonly rule: string };
  readonly projects: readonly RegisterProject[];
  /**
   * What the use figures were checked against and when: the records were verified (or,
   * if published anyway, were not), and, for the local trail, its latest signed head and
   * public key, so that anyone keeping this file can later check the trail was not
   * rewritten (`sde audit verify --published register.json`). Null when the caller did not
   * verify (a register built in a test from records in memory).
   */
  readonly auditTrail: TrailAttestation | null;
  /**
   * People who opted out after their data was ingested, and were removed from it: how many
   * per month (the same threshold as every count), and when the last list was applied.
   */
  readonly optOuts: {
    readonly lastApplied: { readonly appliedAt: string; readonly listDate: string } | null;
    readonly months: readonly { readonly month: string; readonly peopleRemoved: PublicCount }[];
  };
  /** How a person opts out, and whom to contact (platform.yaml register:). */
  readonly yourData: RegisterYourData;
  /** What the page's words mean: the kinds of data, the statuses, the use figures and the codes shown. */
  readonly glossary: readonly GlossaryEntry[];
}

export interface RegisterYourData {
  readonly optOut: { readonly text: string; readonly url: string | null };
  readonly contact: { readonly name: string; readonly email: string | null; readonly url: string | null };
}

export const ORGANISATION_TYPE_LABELS: Record<(typeof ORGANISATION_TYPES)[number], string> = {
  nhs: 'NHS organisation',
  local_authority: 'Local authority',
  university: 'University',
  charity: 'Charity',
  company: 'Company (commercial)',
};

export const PURPOSE_LABELS: Record<Purpose, string> = {
  research: 'Research',
  planning: 'Planning health and care services',
};

/** The order kinds of data are listed in: the most sensitive first. */
const KIND_ORDER: readonly KindOfData[] = ['pseudonym', 'sensitive', 'quasi_identifier', 'other', 'partition'];

/** Counts 1..threshold are withheld; zero is kept (no activity singles out nobody), as in the airlock. */
export function publicCount(n: number, threshold: number): PublicCount {
  return n === 0 || n > threshold ? { count: n } : { fewerThan: threshold + 1 };
}

export function countText(c: PublicCount): string {
  return 'count' in c ? String(c.count) : `fewer than ${c.fewerThan}`;
}

/** Decimal units, as Athena and AWS bills state data scanned. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * What a curated column holds, in words that say what de-identification did: the config
 * describes the source column ("NHS number of the patient"), which the public must not
 * read as what the project receives (lib/reports/plain-words.ts).
 */
export function layDescription(dataset: SdeConfig['datasets'][number], c: CuratedColumn): string {
  return columnMeaning(dataset, c);
}

/** The register's glossary: its badges and statuses, its use figures, and the codes of the columns it shows. */
function registerGlossary(config: SdeConfig): GlossaryEntry[] {
  const shown = config.projects.flatMap((p) =>
    Object.entries(p.datasets).flatMap(([name, grant]) => {
      const dataset = datasetByName(config, name);
      return sourceColumns(dataset, curatedColumns(dataset), grant.columns);
    }),
  );
  const text = shown.map((c) => c.description).join('\n');
  return pageGlossary({ kinds: CLASS_LABELS, states: STATE_LABELS }, REGISTER_TERMS, jargonGlossary(shown, text));
}

/** How to opt out and whom to contact, from platform.yaml's register block. */
function yourData(config: SdeConfig): RegisterYourData {
  const { optOut, contact } = config.platform.register;
  return {
    optOut: { text: optOut.text, url: optOut.url ?? null },
    contact: { name: contact.name, email: contact.email ?? null, url: contact.url ?? null },
  };
}

/** How the opt-out was applied to a dataset, with the supplier's statement when it was the supplier (readers can check it). */
function publicOptOut(dataset: DatasetConfig): RegisterDataset['optOut'] {
  const appliedBy = optOutAppliedBy(dataset);
  return appliedBy === 'supplier' ? { appliedBy, statement: dataset.optOut?.statement ?? '' } : { appliedBy };
}

function datasetsOf(
  config: SdeConfig,
  datasets: Record<string, { columns: readonly string[]; rowFilter?: string; rowFilterDescription?: string }>,
): RegisterDataset[] {
  return Object.entries(datasets)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, grant]) => {
      const dataset = datasetByName(config, name);
      const byName = new Map(curatedColumns(dataset).map((c) => [c.name, c]));
      const holds = new Map<KindOfData, string[]>();
      for (const column of grant.columns) {
        const c = byName.get(column);
        const kind: KindOfData = c?.curatedClass ?? 'partition';
        // The column description, never a value: what kind of thing the project may see.
        const text = c ? layDescription(dataset, c) : column === PARTITION_COLUMN ? PARTITION_MEANING : column;
        holds.set(kind, [...(holds.get(kind) ?? []), text]);
      }
      return {
        name,
        title: dataset.title,
        someRowsOnly: grant.rowFilter !== undefined,
        optOut: publicOptOut(dataset),
        rows: grant.rowFilter === undefined ? null : (grant.rowFilterDescription ?? null),
        kinds: KIND_ORDER.filter((k) => holds.has(k)).map((kind) => ({
          kind,
          label: CLASS_LABELS[kind].short,
          explain: CLASS_LABELS[kind].explain,
          holds: holds.get(kind)!,
        })),
      };
    });
}

function publicActivity(activity: ProjectActivity | undefined, threshold: number): RegisterProject['activity'] {
  if (!activity) return { firstUse: null, lastUse: null, months: [] };
  return {
    firstUse: activity.firstUse ?? null,
    lastUse: activity.lastUse ?? null,
    months: activity.months.map((m) => {
      const queries = publicCount(m.queries, threshold);
      // A figure carried from the previous register (carry.ts) stands for the fresh one.
      const bytes = m.carried?.bytes ?? m.bytesScanned;
      const measured = m.carried !== undefined || m.queriesWithBytes > 0;
      // Withheld beside a withheld count; unknown when no query of the month recorded it.
      const shown = 'count' in queries && m.queries > 0 && measured;
      const partial = shown && (m.carried !== undefined ? !m.carried.complete : m.queriesWithBytes < m.queries);
      return {
        month: m.month,
        queries,
        refusedQueries: publicCount(m.refused, threshold),
        dataScannedBytes: shown ? bytes : null,
        dataScanned:
          m.queries === 0
            ? 'none'
            : !('count' in queries)
              ? 'not shown (few queries)'
              : shown
                ? `${formatBytes(bytes)}${partial ? ` (${PARTIAL_SCAN_NOTE})` : ''}`
                : 'not recorded',
        outputsReleased: publicCount(m.outputsReleased, threshold),
      };
    }),
  };
}

export interface BuildRegisterOptions {
  /** @default the airlock's suppressionThreshold from platform.yaml */
  readonly threshold?: number;
  /** The airlock bucket whose manifest retags in the trail are releases (AWS). */
  readonly airlockBucket?: string;
  /** Bytes scanned by query execution id, from Athena (AWS): see activity.ts. */
  readonly bytesByQueryId?: ReadonlyMap<string, number>;
  /** Data scanned as the previous register published it (carry.ts), for months Athena forgot. */
  readonly published?: PublishedScans;
  /** How the records were verified (lib/audit/verified-trail.ts). @default null: not verified */
  readonly auditTrail?: TrailAttestation;
  /** The curated bucket, whose opt-out traces in the trail are the opt-out counts. @default any bucket */
  readonly curatedBucket?: string;
}

/** How the config's projects are recognised in the trail (workgroups, ids, the airlock bucket). */
export function activityInput(config: SdeConfig, options: Pick<BuildRegisterOptions, 'airlockBucket' | 'bytesByQueryId'> = {}): ActivityInput {
  return {
    projectByWorkgroup: new Map(config.projects.map((p) => [projectWorkgroupName(config, p.id), p.id])),
    projectIds: new Set(config.projects.map((p) => p.id)),
    airlockBucket: options.airlockBucket,
    bytesByQueryId: options.bytesByQueryId,
  };
}

export function buildRegister(config: SdeConfig, records: Iterable<CloudTrailRecord>, options: BuildRegisterOptions = {}): Register {
  const threshold = options.threshold ?? airlockSettings(config.platform).suppressionThreshold;
  // Read twice (project activity, opt-out runs): a one-pass iterable is held once.
  const all = Array.isArray(records) ? (records as readonly CloudTrailRecord[]) : [...records];
  const activity = summariseActivity(all, activityInput(config, options));
  if (options.published) carryPublishedScans(activity, options.published);
  const tiers = config.platform.pricing.tiers;
  return {
    schemaVersion: REGISTER_SCHEMA_VERSION,
    platform: { name: config.platform.displayName, description: config.platform.description ?? null },
    asOf: config.today,
    disclosure: {
      threshold,
      rule: `Counts from 1 to ${threshold} are shown as "fewer than ${threshold + 1}", so that no figure is small enough to single anyone out; data scanned is not shown for those months.`,
    },
    projects: [...config.projects]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((p) => {
        const status = projectState(p, config.today);
        return {
          id: p.id,
          title: p.title,
          organisation: {
            name: p.organisation.name,
            type: p.organisation.type,
            typeLabel: ORGANISATION_TYPE_LABELS[p.organisation.type],
            tier: p.organisation.tier,
            tierLabel: tiers[p.organisation.tier]?.label ?? p.organisation.tier,
          },
          purpose: p.purpose,
          purposeLabel: PURPOSE_LABELS[p.purpose],
          summary: p.summary,
          legalBasis: { article6: p.lawfulBasis.article6, article9: p.lawfulBasis.article9, commonLawDuty: p.lawfulBasis.commonLawDuty },
          approval: {
            committee: p.approval.committee,
            date: p.approval.date,
            reference: p.approval.reference,
            citizenMembersPresent: p.approval.citizenMembersPresent,
          },
          period: { start: p.period.start, end: p.period.end },
          status,
          statusLabel: STATE_LABELS[status],
          datasets: datasetsOf(config, p.datasets),
          activity: publicActivity(activity.get(p.id), threshold),
          benefit: registerBenefit(p, config.platform.governance.outcomeReports, config.today),
        };
      }),
    auditTrail: options.auditTrail ?? null,
    optOuts: publicOptOuts(optOutRuns(all, options.curatedBucket), threshold),
    yourData: yourData(config),
    glossary: registerGlossary(config),
  };
}

function publicOptOuts(runs: readonly OptOutRun[], threshold: number): Register['optOuts'] {
  const last = runs.at(-1);
  return {
    lastApplied: last === undefined ? null : { appliedAt: last.appliedAt, listDate: last.listDate },
    months: optOutMonths(runs).map((m) => ({ month: m.month, peopleRemoved: publicCount(m.people, threshold) })),
  };
}
