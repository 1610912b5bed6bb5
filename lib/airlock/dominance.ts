/**
 * The rules for one cell of a magnitude table (a sum, such as total cost or bed-days,
 * over the people or organisations that contribute to it). Defaults and sources:
 * lib/config/airlock-settings.ts.
 *
 * - Too few contributors: a sum over 1..threshold contributors is as disclosive as a count
 *   that small (the frequency rule's threshold).
 * - Dominance (n, k): the cell is sensitive when its n largest contributions make up k% or
 *   more of its total (ACRO NKCheck: share >= k fails), because then a large contributor
 *   (or the next largest, knowing their own value) can estimate the others closely.
 * - p-ratio: the cell is sensitive when the contributions other than the two largest add
 *   up to less than p% of the largest (ACRO PPercentCheck), because the second largest
 *   contributor could then estimate the largest within p%.
 * - Negative contributions (refunds, adjustments): ACRO says dominance is not defined and
 *   sends the cell to review; here the rules are also applied to the contributions' sizes
 *   (Handbook on Statistical Disclosure Control), so a negative cannot hide a dominant one.
 */

export type MagnitudeSensitivity = 'nk_dominance' | 'p_ratio' | 'magnitude_contributors';

export interface DominanceResult {
  readonly sensitive: boolean;
  readonly reason?: MagnitudeSensitivity;
  readonly contributors: number;
  /** Share of the n largest contributions in the cell total, 0..1 (0 for an all-zero cell). */
  readonly topShare: number;
  /** (total - largest - second) / largest, or undefined when the largest is 0. */
  readonly pRatio?: number;
  /** Some contribution is negative: a reviewer must look (ACRO). */
  readonly negative: boolean;
}

export interface DominanceRule {
  readonly n: number;
  /** Percent, 0 < k <= 100. */
  readonly k: number;
  /** Percent. */
  readonly p: number;
  /** Sums over 1..threshold contributors are sensitive. */
  readonly threshold: number;
}

export function checkMagnitudeCell(contributions: readonly number[], rule: DominanceRule): DominanceResult {
  const sizes = contributions.map((c) => Math.abs(c)).sort((a, b) => b - a);
  const total = sizes.reduce((a, b) => a + b, 0);
  const top = sizes.slice(0, rule.n).reduce((a, b) => a + b, 0);
  const topShare = total === 0 ? 0 : top / total;
  const contributors = contributions.length;
  const negative = contributions.some((c) => c < 0);
  const largest = sizes[0] ?? 0;
  const rest = total - largest - (sizes[1] ?? 0);
  const pRatio = largest > 0 ? rest / largest : undefined;
  const base = { contributors, topShare, negative, ...(pRatio === undefined ? {} : { pRatio }) };
  if (contributors >= 1 && contributors <= rule.threshold) return { sensitive: true, reason: 'magnitude_contributors', ...base };
  // Compared multiplied out (no float division): the n largest at k% or more is sensitive.
  if (total > 0 && top * 100 >= rule.k * total) return { sensitive: true, reason: 'nk_dominance', ...base };
  if (largest > 0 && rest * 100 < rule.p * largest) return { sensitive: true, reason: 'p_ratio', ...base };
  return { sensitive: false, ...base };
}
