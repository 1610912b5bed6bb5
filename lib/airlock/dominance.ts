/**
 * The rules for one cell of a magnitude table (a sum, such as total cost or bed-days,
 * over the people or organisations that contribute to it).
 *
 * - Dominance (n, k): the cell is sensitive when its n largest contributions make up more
 *   than k% of its total, because then a large contributor (or the next largest, knowing
 *   their own value) can estimate the others closely. Defaults and sources: settings.ts.
 * - Too few contributors: a sum over 1..threshold contributors is as disclosive as a
 *   count that small (the same threshold as the frequency rule).
 *
 * Negative contributions (refunds, adjustments) are taken by their size, as the Handbook
 * on Statistical Disclosure Control suggests: otherwise a negative contribution could
 * hide a dominant positive one.
 */

export type MagnitudeSensitivity = 'dominance' | 'too_few_contributors';

export interface DominanceResult {
  readonly sensitive: boolean;
  readonly reason?: MagnitudeSensitivity;
  readonly contributors: number;
  /** Share of the n largest contributions in the cell total, 0..1 (0 for an all-zero cell). */
  readonly topShare: number;
}

export interface DominanceRule {
  readonly n: number;
  /** Percent, 0 < k <= 100. */
  readonly k: number;
  /** Sums over 1..threshold contributors are sensitive. */
  readonly threshold: number;
}

export function checkMagnitudeCell(contributions: readonly number[], rule: DominanceRule): DominanceResult {
  const sizes = contributions.map((c) => Math.abs(c)).sort((a, b) => b - a);
  const total = sizes.reduce((a, b) => a + b, 0);
  const top = sizes.slice(0, rule.n).reduce((a, b) => a + b, 0);
  const topShare = total === 0 ? 0 : top / total;
  const contributors = contributions.length;
  if (contributors >= 1 && contributors <= rule.threshold) return { sensitive: true, reason: 'too_few_contributors', contributors, topShare };
  // Compared multiplied out, so that k = 90 and a share of exactly 0.9 is not sensitive.
  if (total > 0 && top * 100 > rule.k * total) return { sensitive: true, reason: 'dominance', contributors, topShare };
  return { sensitive: false, contributors, topShare };
}
