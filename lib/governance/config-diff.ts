/**
 * What changed in the governance config between two versions, in plain English, for the
 * citizens' advisory group: projects approved, extended, expired or ended, what data each
 * project may see, datasets and their de-identification, the national data opt-out,
 * prices and the governance rules themselves. Pure: two validated models in, sentences
 * out. Organisations and roster references only: no researcher (their ARNs are not
 * mentioned, only how many there are).
 */
import { DEFAULT_SUPPRESSION_THRESHOLD } from '../config/airlock-settings';
import { projectState, type ProjectState, type SdeConfig, type Sourced } from '../config/model';
import type { DatasetConfig, ProjectConfig, Tier } from '../config/schema';
import { approvalChangeProblems } from './approval-changes';
import type { OutcomeReportConcern } from './outcome-reports';

/** What changed in a project's promised benefit, sharing terms, outcomes and reports. */
function benefitChanges(p: ProjectConfig, prev: ProjectConfig, who: string, out: GovernanceChange[]): void {
  const now = p.benefit;
  const was = prev.benefit;
  if (now === undefined) return;
  if (was === undefined || now.whoBenefits !== was.whoBenefits || now.how !== was.how || now.byWhen !== was.byWhen) {
    out.push({
      section: 'benefit',
      text: `${who} ${was === undefined ? 'states' : 'has a new statement of'} its public benefit: for ${now.whoBenefits}, by ${now.byWhen}: "${now.how}"`,
    });
  }
  if (JSON.stringify(now.sharing ?? null) !== JSON.stringify(was?.sharing ?? null)) {
    out.push({
      section: 'benefit',
      text: now.sharing
        ? `${who} has benefit-sharing terms ${was?.sharing ? 'changed' : 'recorded'}: agreement ${now.sharing.agreement} (${now.sharing.terms.join(', ')}): "${now.sharing.summary}"`
        : `${who} no longer records benefit-sharing terms.`,
    });
  }
  const seen = new Set((was?.outcomes ?? []).map((o) => JSON.stringify(o)));
  for (const o of now.outcomes.filter((x) => !seen.has(JSON.stringify(x)))) {
    out.push({ section: 'benefit', text: `${who} reported an outcome (${o.kind.replace(/_/g, ' ')}, ${o.date}): "${o.title}" (${o.reference}).` });
  }
  const reported = new Set((was?.reports ?? []).map((r) => JSON.stringify(r)));
  for (const r of now.reports.filter((x) => !reported.has(JSON.stringify(x)))) {
    out.push({ section: 'benefit', text: `${who} made ${r.final ? 'its final' : 'an'} outcome report on ${r.date}: "${r.summary}"` });
  }
}

export const SECTIONS = [
  { id: 'approved', title: 'Projects approved' },
  { id: 'extended', title: 'Projects extended' },
  { id: 'ended', title: 'Projects expired, ended or removed' },
  { id: 'projects', title: 'Other changes to projects' },
  { id: 'benefit', title: 'Public benefit promised and delivered' },
  { id: 'access', title: 'Data each project may see' },
  { id: 'datasets', title: 'Datasets and how they are de-identified' },
  { id: 'optout', title: 'National data opt-out' },
  { id: 'prices', title: 'Prices' },
  { id: 'rules', title: 'Governance rules' },
  { id: 'concerns', title: 'For the advisory group to check' },
] as const;
export type SectionId = (typeof SECTIONS)[number]['id'];

export interface GovernanceChange {
  readonly section: SectionId;
  readonly text: string;
}

export interface GovernanceDiff {
  readonly before: { readonly label: string; readonly date: string };
  readonly after: { readonly label: string; readonly date: string };
  readonly platform: string;
  readonly changes: readonly GovernanceChange[];
  /** Outcome reports owed under today's config (outcome-reports.ts); absent when not judged. */
  readonly outcomeReports?: readonly OutcomeReportConcern[];
}

const list = (items: readonly string[]) => items.map((i) => `"${i}"`).join(', ');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const STATE_WORDS: Record<ProjectState, string> = {
  active: 'active',
  expired: 'expired',
  not_started: 'approved, not yet started',
  suspended: 'suspended',
};

function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.id, i]));
}

function name(p: ProjectConfig): string {
  return `${p.organisation.name}'s project "${p.title}" (${p.id})`;
}

function approvalWords(p: ProjectConfig): string {
  const a = p.approval;
  const members =
    a.citizenMembers === undefined ? `${plural(a.citizenMembersPresent, 'citizen member')} present` : `citizen members ${a.citizenMembers.join(', ')} present`;
  return `${a.committee}, ${a.reference} on ${a.date}, ${members}`;
}

function setDiff(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const b = new Set(before);
  const a = new Set(after);
  return { added: after.filter((x) => !b.has(x)).sort(), removed: before.filter((x) => !a.has(x)).sort() };
}

function projectChanges(before: SdeConfig, after: SdeConfig, out: GovernanceChange[]): void {
  const old = byId(before.projects);
  const now = byId(after.projects);
  for (const p of after.projects) {
    const prev = old.get(p.id);
    const state = projectState(p, after.today);
    if (!prev) {
      const grants = Object.entries(p.datasets).map(([d, g]) => `${d} (${plural(g.columns.length, 'column')}${g.rowFilter ? ', some rows only' : ''})`);
      out.push({
        section: 'approved',
        text: `${name(p)} was added: ${p.purpose}, ${p.organisation.tier} tier, from ${p.period.start} to ${p.period.end}, now ${STATE_WORDS[state]}. Approved by ${approvalWords(p)}. Data: ${grants.join('; ') || 'none'}.`,
      });
      continue;
    }
    const prevState = projectState(prev, before.today);
    if (p.period.end > prev.period.end) {
      out.push({ section: 'extended', text: `${name(p)} was extended from ${prev.period.end} to ${p.period.end}. Approval recorded: ${approvalWords(p)}.` });
    } else if (p.period.end < prev.period.end) {
      out.push({ section: 'projects', text: `${name(p)} now ends earlier: ${p.period.end} instead of ${prev.period.end}.` });
    }
    if (p.period.start !== prev.period.start) {
      out.push({ section: 'projects', text: `${name(p)} now starts on ${p.period.start} instead of ${prev.period.start}.` });
    }
    if (state !== prevState) {
      if (state === 'expired') {
        const why = p.status === 'expired' && prev.status !== 'expired' ? 'was marked expired' : `reached the end of its approved period on ${p.period.end}`;
        out.push({ section: 'ended', text: `${name(p)} ${why}: it no longer has access, and stays on the public register.` });
      } else {
        out.push({ section: 'projects', text: `${name(p)} changed from ${STATE_WORDS[prevState]} to ${STATE_WORDS[state]}.` });
      }
    }
    if (p.approval.reference !== prev.approval.reference) {
      out.push({
        section: 'projects',
        text: `${name(p)} has a new approval record: ${approvalWords(p)} (was ${prev.approval.reference} on ${prev.approval.date}).`,
      });
    }
    if (p.organisation.tier !== prev.organisation.tier) {
      out.push({ section: 'projects', text: `${name(p)} moved from the ${prev.organisation.tier} to the ${p.organisation.tier} pricing tier.` });
    }
    if (p.purpose !== prev.purpose) out.push({ section: 'projects', text: `${name(p)} changed purpose from ${prev.purpose} to ${p.purpose}.` });
    if (p.summary !== prev.summary) out.push({ section: 'projects', text: `${name(p)} has a new plain-English summary: "${p.summary}"` });
    benefitChanges(p, prev, name(p), out);
    // People, by their ids (never listed: the report counts them).
    const ids = new Set(p.researchers.map((r) => r.id));
    const prevIds = new Set(prev.researchers.map((r) => r.id));
    const added = [...ids].filter((id) => !prevIds.has(id)).length;
    const removed = [...prevIds].filter((id) => !ids.has(id)).length;
    if (added + removed > 0) {
      const changes = [added > 0 ? `${added} added` : '', removed > 0 ? `${removed} removed` : ''].filter(Boolean).join(', ');
      out.push({
        section: 'projects',
        text: `${name(p)} now has ${plural(ids.size, 'named researcher')} (was ${prevIds.size}: ${changes}).`,
      });
    }
    accessChanges(p, prev, out);
  }
  for (const prev of before.projects) {
    if (!now.has(prev.id))
      out.push({ section: 'ended', text: `${name(prev)} was removed from the configuration (it was ${STATE_WORDS[projectState(prev, before.today)]}).` });
  }
}

function accessChanges(p: ProjectConfig, prev: ProjectConfig, out: GovernanceChange[]): void {
  const datasets = setDiff(Object.keys(prev.datasets), Object.keys(p.datasets));
  for (const d of datasets.added) {
    out.push({
      section: 'access',
      text: `${name(p)} may now see dataset ${d}: columns ${list(p.datasets[d].columns)}${p.datasets[d].rowFilter ? `, only ${rowsWords(p.datasets[d])}` : ''}.`,
    });
  }
  for (const d of datasets.removed) out.push({ section: 'access', text: `${name(p)} may no longer see dataset ${d}.` });
  for (const [d, grant] of Object.entries(p.datasets)) {
    const prevGrant = prev.datasets[d];
    if (!prevGrant) continue;
    const cols = setDiff(prevGrant.columns, grant.columns);
    if (cols.added.length > 0) out.push({ section: 'access', text: `${name(p)} may now also see ${d} columns ${list(cols.added)}.` });
    if (cols.removed.length > 0) out.push({ section: 'access', text: `${name(p)} may no longer see ${d} columns ${list(cols.removed)}.` });
    if (grant.rowFilter !== prevGrant.rowFilter) {
      const text =
        grant.rowFilter === undefined
          ? `${name(p)} may now see all rows of ${d} (the row filter "${prevGrant.rowFilter}" was removed).`
          : prevGrant.rowFilter === undefined
            ? `${name(p)} may now see only some rows of ${d}: ${rowsWords(grant)}.`
            : `${name(p)} sees different rows of ${d}: ${rowsWords(grant)} (was: ${rowsWords(prevGrant)}).`;
      out.push({ section: 'access', text });
    }
  }
}

function datasetChanges(before: SdeConfig, after: SdeConfig, out: GovernanceChange[]): void {
  const old = new Map(before.datasets.map((d) => [d.name, d]));
  const now = new Map(after.datasets.map((d) => [d.name, d]));
  for (const d of after.datasets) {
    const prev = old.get(d.name);
    if (!prev) {
      out.push({ section: 'datasets', text: `Dataset ${d.name} ("${d.title}", from ${d.supplier}) was added with ${plural(d.columns.length, 'column')}.` });
      out.push({ section: 'optout', text: optOutWords(d, 'is') });
      continue;
    }
    columnChanges(d, prev, out);
    if (
      d.nationalDataOptOut !== prev.nationalDataOptOut ||
      d.personKey !== prev.personKey ||
      d.optOut?.appliedBy !== prev.optOut?.appliedBy ||
      d.optOut?.statement !== prev.optOut?.statement
    )
      out.push({ section: 'optout', text: optOutWords(d, 'now') });
  }
  for (const prev of before.datasets) {
    if (!now.has(prev.name)) out.push({ section: 'datasets', text: `Dataset ${prev.name} ("${prev.title}") was removed.` });
  }
}

function optOutWords(d: Sourced<DatasetConfig>, verb: 'is' | 'now'): string {
  const prefix = verb === 'is' ? `The national data opt-out is` : `The national data opt-out is now`;
  if (d.nationalDataOptOut && d.optOut?.appliedBy === 'supplier')
    return `${prefix} applied to ${d.name} by its supplier before delivery, as the supplier states: ${d.optOut.statement ?? '(no statement)'}.`;
  return d.nationalDataOptOut
    ? `${prefix} applied to ${d.name}: the records of people who opted out are removed (matched on ${d.personKey ?? 'no person key'}).`
    : `${prefix} NOT applied to ${d.name}${verb === 'now' ? ' (it was before)' : ''}: check that it holds no person-level records.`;
}

function columnChanges(d: DatasetConfig, prev: DatasetConfig, out: GovernanceChange[]): void {
  const old = new Map(prev.columns.map((c) => [c.name, c]));
  const names = setDiff(
    prev.columns.map((c) => c.name),
    d.columns.map((c) => c.name),
  );
  for (const c of names.added) {
    const col = d.columns.find((x) => x.name === c)!;
    out.push({
      section: 'datasets',
      text: `Dataset ${d.name} has a new column ${c} (${col.classification.replace('_', ' ')}), de-identified by rule ${col.rule}.`,
    });
  }
  for (const c of names.removed) out.push({ section: 'datasets', text: `Dataset ${d.name} no longer has column ${c}.` });
  for (const col of d.columns) {
    const was = old.get(col.name);
    if (!was) continue;
    if (col.rule !== was.rule || col.as !== was.as || col.bandYears !== was.bandYears || col.ageAt !== was.ageAt) {
      out.push({
        section: 'datasets',
        text: `Column ${col.name} of ${d.name} is now de-identified by rule ${col.rule}${col.bandYears ? ` (${col.bandYears}-year bands)` : ''} (was ${was.rule}${was.bandYears ? `, ${was.bandYears}-year bands` : ''}).`,
      });
    }
    if (col.classification !== was.classification) {
      out.push({
        section: 'datasets',
        text: `Column ${col.name} of ${d.name} is now classified ${col.classification.replace('_', ' ')} (was ${was.classification.replace('_', ' ')}).`,
      });
    }
  }
}

function tierWords(t: Tier, currency: string): string {
  return `${currency} ${t.accessFeePerMonth} a month plus ${currency} ${t.pricePerTbScanned} per TB scanned × ${t.multiplier}`;
}

function priceChanges(before: SdeConfig, after: SdeConfig, out: GovernanceChange[]): void {
  const b = before.platform.pricing;
  const a = after.platform.pricing;
  if (a.currency !== b.currency) out.push({ section: 'prices', text: `Prices are now in ${a.currency} (were in ${b.currency}).` });
  for (const [id, t] of Object.entries(a.tiers)) {
    const prev = b.tiers[id];
    if (!prev) out.push({ section: 'prices', text: `New pricing tier ${id} ("${t.label}"): ${tierWords(t, a.currency)}.` });
    else if (prev.accessFeePerMonth !== t.accessFeePerMonth || prev.pricePerTbScanned !== t.pricePerTbScanned || prev.multiplier !== t.multiplier) {
      out.push({ section: 'prices', text: `The ${id} tier ("${t.label}") now costs ${tierWords(t, a.currency)} (was ${tierWords(prev, b.currency)}).` });
    }
  }
  for (const id of Object.keys(b.tiers)) if (!(id in a.tiers)) out.push({ section: 'prices', text: `Pricing tier ${id} was removed.` });
}

function ruleChanges(before: SdeConfig, after: SdeConfig, out: GovernanceChange[]): void {
  const b = before.platform.governance;
  const a = after.platform.governance;
  if (a.requireCitizenMembers !== b.requireCitizenMembers) {
    out.push({
      section: 'rules',
      text: a.requireCitizenMembers ? 'Approvals now require citizen members to be present.' : 'Approvals NO LONGER require citizen members to be present.',
    });
  }
  if (a.minimumCitizenMembers !== b.minimumCitizenMembers) {
    out.push({ section: 'rules', text: `The citizen quorum for an approval is now ${a.minimumCitizenMembers} (was ${b.minimumCitizenMembers}).` });
  }
  if (a.requireNamedCitizenMembers !== b.requireNamedCitizenMembers) {
    out.push({
      section: 'rules',
      text: a.requireNamedCitizenMembers
        ? 'Every active approval must now name the citizen members present.'
        : 'Active approvals no longer have to name the citizen members present.',
    });
  }
  // Effective values (defaults filled in): writing the default out explicitly is not a change.
  const threshold = (c: SdeConfig) => c.platform.airlock?.suppressionThreshold ?? DEFAULT_SUPPRESSION_THRESHOLD;
  if (threshold(before) !== threshold(after)) {
    out.push({ section: 'rules', text: `Released outputs now suppress counts from 1 up to ${threshold(after)} (was up to ${threshold(before)}).` });
  }
}

/** Every change between two configs, in section order. */
export function diffConfigs(before: SdeConfig, after: SdeConfig, labels: { before: string; after: string }): GovernanceDiff {
  const changes: GovernanceChange[] = [];
  projectChanges(before, after, changes);
  datasetChanges(before, after, changes);
  priceChanges(before, after, changes);
  ruleChanges(before, after, changes);
  for (const p of approvalChangeProblems(before, after)) changes.push({ section: 'concerns', text: `${p.file}: ${p.field}: ${p.message}.` });
  const order = new Map(SECTIONS.map((s, i) => [s.id, i]));
  return {
    before: { label: labels.before, date: before.today },
    after: { label: labels.after, date: after.today },
    platform: after.platform.displayName,
    changes: changes
      .map((c, i) => ({ c, i }))
      .sort((x, y) => order.get(x.c.section)! - order.get(y.c.section)! || x.i - y.i)
      .map(({ c }) => c),
  };
}

/** A row filter for lay readers: its plain-English description, then the expression for reviewers of the config. */
function rowsWords(grant: { readonly rowFilter?: string; readonly rowFilterDescription?: string }): string {
  return grant.rowFilterDescription === undefined ? `rows where ${grant.rowFilter}` : `${grant.rowFilterDescription} (rows where ${grant.rowFilter})`;
}
