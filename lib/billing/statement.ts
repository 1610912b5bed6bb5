/**
 * A monthly statement for one project, addressed to its organisation: the access fee for
 * the days of the month inside the approved period, plus the data its workgroup scanned
 * priced by its tier, each charge with the usage that justifies it. Pure: the same
 * function runs in `sde bill` (usage from the local audit trail) and in the billing
 * Lambda (usage from Athena's query metadata).
 *
 * Decisions (README, "Charging"):
 * - access fee: `accessFeePerMonth × days active / days in month`, where days active are
 *   the days of the month inside the approved period (inclusive), so a project that
 *   starts on the 17th of a 30-day month pays 14/30 of the fee; a month wholly inside
 *   the period pays the whole fee. A project whose status is `suspended` is not charged
 *   the fee (it has no access), but is charged for any usage recorded;
 * - data scanned: `TB billed × pricePerTbScanned × tier multiplier`, with TB billed
 *   after Athena's rounding (see usage.ts);
 * - each charge is rounded half-up to the currency's minor unit once (money.ts);
 * - budget: the project's `limits.monthlyBudgetUsd` is the AWS Budgets limit on what
 *   the project costs the *platform* in AWS charges (USD), not on what it is charged.
 *   The statement compares like with like: the AWS spend from AWS Budgets when the
 *   caller has it, else an estimate (TB billed × `pricing.awsUsdPerTbScanned`). At 80%
 *   it notes it (Budgets' first notification), at 100% it warns.
 */
import { daysActive, type BillingMonth } from './month';
import { PRICE_SCALE, toScaled } from '../config/decimal';
import { divideHalfUp, formatMoney, minorDigits, scaledToText } from './money';
import type { BillingInputs, BillingProject } from './inputs';
import { billedBytes, BYTES_PER_TB, type QueryUsage } from './usage';

export type ChargeKind = 'access_fee' | 'data_scanned';

export interface ChargeLine {
  readonly kind: ChargeKind;
  readonly description: string;
  /** How the amount follows from the usage and the tier, in words and numbers. */
  readonly basis: string;
  readonly amountMinor: number;
}

/** One charged query: its id, when, and the bytes scanned and billed. */
export interface UsageLine {
  readonly queryId: string;
  readonly time: string;
  readonly workgroup: string;
  readonly bytesScanned: number;
  readonly bytesBilled: number;
}

export type BudgetLevel = 'under' | 'approaching' | 'reached';

export interface BudgetCheck {
  readonly limitUsd: number;
  /** AWS spend in USD cents, rounded half-up. */
  readonly spendUsdCents: number;
  readonly source: 'AWS Budgets' | 'estimate from data scanned';
  readonly level: BudgetLevel;
}

export interface Statement {
  /** `<month>-<project>`: unique per project and month, so a re-run replaces, never duplicates. */
  readonly number: string;
  readonly platform: string;
  readonly month: BillingMonth;
  readonly currency: string;
  readonly project: {
    readonly id: string;
    readonly title: string;
    readonly approvalReference: string;
    readonly period: { readonly start: string; readonly end: string };
  };
  readonly organisation: { readonly name: string; readonly type: string };
  readonly tier: {
    readonly id: string;
    readonly label: string;
    readonly accessFeePerMonth: number;
    readonly pricePerTbScanned: number;
    readonly multiplier: number;
  };
  readonly daysActive: number;
  readonly charges: readonly ChargeLine[];
  readonly usage: readonly UsageLine[];
  readonly totalMinor: number;
  readonly totalBytesScanned: number;
  readonly totalBytesBilled: number;
  readonly budget: BudgetCheck;
  /** Things the organisation and the platform must act on (budget reached, use outside the period). */
  readonly warnings: readonly string[];
  /** Explanations (proration, suspension, budget approaching). */
  readonly notes: readonly string[];
}

export interface StatementArgs {
  readonly inputs: BillingInputs;
  readonly project: BillingProject;
  readonly month: BillingMonth;
  /** Usage of any projects and months: this one's are picked out. */
  readonly usage: readonly QueryUsage[];
  /** The project's AWS spend this month from AWS Budgets, in USD, when known. */
  readonly actualSpendUsd?: number;
}

const TB = BigInt(BYTES_PER_TB);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Bytes as decimal TB with the 6 places that whole MB need: exact, never rounded. */
export function tbText(bytes: number): string {
  return scaledToText(BigInt(bytes) / 1_000_000n, 6);
}

function usdText(cents: number): string {
  return formatMoney(cents, 'USD');
}

export function buildStatement(args: StatementArgs): Statement {
  const { inputs, project, month } = args;
  const { currency } = inputs.pricing;
  const tier = inputs.pricing.tiers[project.organisation.tier];
  if (!tier)
    throw new Error(`project ${project.id}: tier "${project.organisation.tier}" is not in platform.yaml pricing.tiers (validation should have refused this)`);
  const digits = BigInt(minorDigits(currency));
  const minorScale = 10n ** digits;
  const money = (minor: number) => formatMoney(minor, currency);

  const usage: UsageLine[] = args.usage
    .filter((u) => u.projectId === project.id && u.time.slice(0, 7) === month.id)
    .sort((a, b) => a.time.localeCompare(b.time) || a.queryId.localeCompare(b.queryId))
    .map((u) => ({ queryId: u.queryId, time: u.time, workgroup: u.workgroup, bytesScanned: u.bytesScanned, bytesBilled: billedBytes(u.bytesScanned) }));
  const totalBytesScanned = usage.reduce((n, u) => n + u.bytesScanned, 0);
  const totalBytesBilled = usage.reduce((n, u) => n + u.bytesBilled, 0);

  const warnings: string[] = [];
  const notes: string[] = [];
  const days = daysActive(month, project.period.start, project.period.end);
  const charges: ChargeLine[] = [];

  // Access fee, prorated by the days of the month inside the approved period.
  const feeScaled = toScaled(tier.accessFeePerMonth);
  const suspended = project.status === 'suspended';
  const feeMinor = suspended ? 0n : divideHalfUp(feeScaled * BigInt(days) * minorScale, PRICE_SCALE * BigInt(month.days));
  const feeMonthly = Number(divideHalfUp(feeScaled * minorScale, PRICE_SCALE));
  charges.push({
    kind: 'access_fee',
    description: `Access fee (${tier.label})`,
    basis: suspended
      ? 'not charged: the project is suspended'
      : days === month.days
        ? `whole month inside the approved period: ${money(feeMonthly)} per month`
        : `${days} of ${month.days} days inside the approved period (${project.period.start} to ${project.period.end}) × ${money(feeMonthly)} per month`,
    amountMinor: Number(feeMinor),
  });
  if (suspended) notes.push('The project is suspended: no access fee is charged; any recorded usage is.');
  else if (days > 0 && days < month.days)
    notes.push(`The access fee is prorated: ${days} of the ${month.days} days of ${month.id} fall inside the approved period.`);

  // Data scanned, after Athena's per-query rounding, priced by the tier.
  const priceScaled = toScaled(tier.pricePerTbScanned);
  const multScaled = toScaled(tier.multiplier);
  const scanMinor = divideHalfUp(BigInt(totalBytesBilled) * priceScaled * multScaled * minorScale, TB * PRICE_SCALE * PRICE_SCALE);
  charges.push({
    kind: 'data_scanned',
    description: 'Data scanned by queries',
    basis:
      usage.length === 0
        ? 'no queries this month'
        : `${plural(usage.length, 'query', 'queries')}, ${tbText(totalBytesBilled)} TB billed (each query rounded up to whole MB, at least 10 MB) × ` +
          `${formatMoney(Number(divideHalfUp(priceScaled * minorScale, PRICE_SCALE)), currency)} per TB` +
          (multScaled === PRICE_SCALE ? '' : ` × ${scaledToText(multScaled)} (${tier.label} multiplier)`),
    amountMinor: Number(scanMinor),
  });

  const outside = usage.filter((u) => u.time.slice(0, 10) < project.period.start || u.time.slice(0, 10) > project.period.end);
  if (outside.length > 0) {
    warnings.push(
      `${plural(outside.length, 'query', 'queries')} ran outside the approved period (${project.period.start} to ${project.period.end}): they are charged, and must be reported to the data access committee.`,
    );
  }

  const budget = budgetCheck(project, totalBytesBilled, inputs.pricing.awsUsdPerTbScanned, args.actualSpendUsd);
  const spent = `${usdText(budget.spendUsdCents)} (${budget.source})`;
  if (budget.level === 'reached') {
    warnings.push(
      `Budget reached: the project's AWS spend this month, ${spent}, has reached its monthly budget of ${usdText(Math.round(budget.limitUsd * 100))} (limits.monthlyBudgetUsd). Queries continue within the per-query scan limit; the organisation and the platform team should agree whether to raise the budget.`,
    );
  } else if (budget.level === 'approaching') {
    notes.push(`The project's AWS spend this month, ${spent}, is at least 80% of its monthly budget of ${usdText(Math.round(budget.limitUsd * 100))}.`);
  }

  return {
    number: `${month.id}-${project.id}`,
    platform: inputs.displayName,
    month,
    currency,
    project: { id: project.id, title: project.title, approvalReference: project.approvalReference, period: project.period },
    organisation: { name: project.organisation.name, type: project.organisation.type },
    tier: { id: project.organisation.tier, ...tier },
    daysActive: days,
    charges,
    usage,
    totalMinor: charges.reduce((n, c) => n + c.amountMinor, 0),
    totalBytesScanned,
    totalBytesBilled,
    budget,
    warnings,
    notes,
  };
}

function budgetCheck(project: BillingProject, bytesBilled: number, awsUsdPerTb: number, actualSpendUsd: number | undefined): BudgetCheck {
  // Everything in USD × 10^18, exact, so "reached" is never decided by a rounding:
  // bytes × (USD per TB × 10^6) = USD × 10^12 (bytes per TB) × 10^6.
  const E12 = 10n ** 12n;
  const limit = toScaled(project.monthlyBudgetUsd) * E12;
  const spend =
    actualSpendUsd === undefined
      ? BigInt(bytesBilled) * toScaled(awsUsdPerTb)
      : toScaled(Math.round(Math.max(0, actualSpendUsd) * 1_000_000) / 1_000_000) * E12;
  const level: BudgetLevel = spend >= limit ? 'reached' : spend * 100n >= limit * 80n ? 'approaching' : 'under';
  return {
    limitUsd: project.monthlyBudgetUsd,
    spendUsdCents: Number(divideHalfUp(spend, 10n ** 16n)),
    source: actualSpendUsd === undefined ? 'estimate from data scanned' : 'AWS Budgets',
    level,
  };
}

/**
 * The statements for one month: every project whose approved period overlaps the month
 * or whose workgroup has usage in it (so use outside a period is never left unbilled),
 * or only `projectId`'s (always produced, even with nothing to charge).
 */
export function buildStatements(
  inputs: BillingInputs,
  month: BillingMonth,
  usage: readonly QueryUsage[],
  options: { readonly projectId?: string; readonly actualSpendUsd?: Readonly<Record<string, number>> } = {},
): Statement[] {
  const used = new Set(usage.filter((u) => u.time.slice(0, 7) === month.id).map((u) => u.projectId));
  return inputs.projects
    .filter((p) => (options.projectId === undefined ? used.has(p.id) || daysActive(month, p.period.start, p.period.end) > 0 : p.id === options.projectId))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((project) => buildStatement({ inputs, project, month, usage, actualSpendUsd: options.actualSpendUsd?.[project.id] }));
}
