/**
 * Every rule the checks apply, with where it comes from, so that each change and each
 * finding in the reviewer's report cites its rule, and the release manifest lists the
 * rules applied. ACRO references are to AI-SDC/ACRO: `acro/default.yaml` (commit 07a27282)
 * for the parameters, `acro/sdcchecks.py` (commit 012b3e0a) and `acro/acro_tables.py`
 * (commit 0127c271) for the comparisons.
 */
import type { AirlockSettings } from '../config/airlock-settings';

export const RULE_IDS = [
  'file_format',
  'row_level',
  'threshold',
  'rounding',
  'secondary',
  'linked',
  'zeros',
  'negative',
  'missing',
  'nk_dominance',
  'p_ratio',
  'magnitude_contributors',
  'magnitude_unchecked',
  'group_size',
  'percentage_numerator',
  'min_max',
  'no_group_size',
  'unknown_statistic',
  'regression_dof',
  'histogram',
  'survival',
  'numeric_category',
  'mixed_column',
  'free_text',
  'differencing',
  'normalised',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export interface RuleInfo {
  readonly title: string;
  /** What the rule does with the current settings. */
  readonly text: (s: Pick<AirlockSettings, 'suppressionThreshold' | 'roundingBase' | 'dominance' | 'pRatio' | 'regressionDof' | 'survivalThreshold'>) => string;
  /** Where it comes from (ACRO's parameter and comparison, or another source). */
  readonly source: string;
  /** Where the platform is stricter than ACRO, if it is. */
  readonly stricter?: string;
}

export const RULES: Record<RuleId, RuleInfo> = {
  file_format: {
    title: 'only formats the checker reads pass automatically',
    text: () => 'CSV tables are checked cell by cell; every other file (images, SVG, PDF, text, spreadsheets, ...) goes to a reviewer, who must record a note',
    source: 'ACRO checks only the outputs it produces itself; other files are "custom outputs" for manual review (ACRO custom_output)',
    stricter: "a file the checker does not understand can never be released without a reviewer's recorded note",
  },
  row_level: {
    title: 'no row-level output',
    text: () => 'pseudonyms, NHS numbers, full postcodes, dates of birth, identifier columns and one-row-per-person listings are refused',
    source: 'ESSnet guidelines (Brandt et al., 2010): microdata are never released',
  },
  threshold: {
    title: 'minimum frequency (threshold)',
    text: (s) =>
      `every numeric column is a count unless a reviewer says otherwise; counts from 1 to ${s.suppressionThreshold} are suppressed (negative ones by their size)`,
    source: 'ACRO safe_threshold 10 (MinimumThresholdCheck: count < safe_threshold fails)',
    stricter: 'the threshold itself is suppressed too (ACRO releases 10); every numeric column is checked as a count, whatever its name or the requester says',
  },
  rounding: {
    title: 'rounding',
    text: (s) => `counts left are rounded to the nearest ${s.roundingBase}; a count that rounding would carry into 1..threshold is suppressed`,
    source: 'ONS/GSS practice for health statistics (no ACRO equivalent)',
    stricter: 'ACRO does not round',
  },
  secondary: {
    title: 'secondary suppression',
    text: () => 'no row or column (including totals) keeps exactly one suppressed cell',
    source: 'Hundepool et al., Handbook on Statistical Disclosure Control (2012) §4.3; ACRO recalculates margins after suppression',
  },
  linked: {
    title: 'cells linked to suppressed counts',
    text: () => 'magnitudes and statistics in a row whose count is suppressed are suppressed too',
    source: 'ACRO PresenceOfLinkedTableCheck (linked tables go to review); a mean over a suppressed group discloses that group',
  },
  zeros: {
    title: 'zeros',
    text: () =>
      'zero counts, and percentages of 0 or 100, reveal that nobody (or everybody) in a group has an attribute: a reviewer must note why they are safe (structural zeros)',
    source: 'ACRO zeros_are_disclosive True (PresenceOfZeroCheck)',
  },
  negative: {
    title: 'negative values',
    text: () => 'negative counts and contributions are read by their size and sent to a reviewer',
    source: 'ACRO: dominance is not defined with negative values, which go to review (NKCheck, PPercentCheck)',
  },
  missing: {
    title: 'missing values',
    text: () => 'NA, NaN, null, infinity or a blank in a numeric column goes to a reviewer',
    source: 'ACRO check_missing_values (MissingCheck)',
    stricter: 'on by default (ACRO: False)',
  },
  nk_dominance: {
    title: 'dominance (n, k)',
    text: (s) => `a magnitude cell whose ${s.dominance.n} largest contributions make up ${s.dominance.k}% or more of it is suppressed`,
    source: 'ACRO safe_nk_n 2, safe_nk_k 0.90 (NKCheck: top-n share >= k fails)',
  },
  p_ratio: {
    title: 'p-ratio',
    text: (s) => `a magnitude cell whose contributions other than the two largest add up to less than ${s.pRatio}% of the largest is suppressed`,
    source: 'ACRO safe_pratio_p 0.10 (PPercentCheck: (total - top1 - top2) / top1 < p fails)',
  },
  magnitude_contributors: {
    title: 'contributors to a magnitude cell',
    text: (s) => `a sum over 1 to ${s.suppressionThreshold} contributors is suppressed`,
    source: 'ACRO safe_threshold applied to the contributors of a cell (MinimumThresholdCheck)',
  },
  magnitude_unchecked: {
    title: 'magnitudes without contributions',
    text: () => 'a sum (cost, amount, ...) cannot be checked for dominance without the contributions behind each cell: a reviewer must judge it',
    source: 'ACRO checks dominance on the microdata; the airlock needs them (--contributions)',
  },
  group_size: {
    title: 'statistics over small groups',
    text: (s) => `a mean, median, percentage, rate or spread over a group of 1 to ${s.suppressionThreshold} is suppressed`,
    source: 'ACRO safe_threshold on the count behind an aggregate (crosstab with aggfunc: MinimumThresholdCheck)',
  },
  percentage_numerator: {
    title: 'percentages and rates of small numbers',
    text: (s) => `a percentage, proportion or rate whose numerator (value x group size) is 1 to ${s.suppressionThreshold} is suppressed`,
    source: 'ACRO safe_threshold (a percentage of a group discloses its numerator)',
    stricter: 'ACRO checks the denominator only',
  },
  min_max: {
    title: 'minimum and maximum',
    text: () => "a minimum or maximum is one person's value: every such cell is suppressed unless a reviewer classifies the column otherwise",
    source: 'ESSnet guidelines (Brandt et al., 2010): maxima and minima are not released; ACRO histograms: "check extreme bin edges"',
    stricter: 'ACRO does not check min/max in tables',
  },
  no_group_size: {
    title: 'statistics without a group size',
    text: () => 'a statistic with no count in its row to say how many people it covers goes to a reviewer',
    source: 'ACRO computes the counts behind every statistic it checks; the airlock needs them in the table',
  },
  unknown_statistic: {
    title: 'numbers the checker cannot name',
    text: () =>
      'a column of fractions that is not named or shaped as a mean, median, percentage, rate or spread goes to a reviewer (a count plus noise is a fraction too)',
    source: 'platform rule: what the checker cannot judge goes to a reviewer, never to automatic release',
  },
  regression_dof: {
    title: 'residual degrees of freedom',
    text: (s) =>
      `a regression or model output with fewer than ${s.regressionDof} residual degrees of freedom is disclosive; without them it goes to a reviewer`,
    source: 'ACRO safe_dof_threshold 10 (MinimumDoFCheck: dof < threshold fails)',
  },
  histogram: {
    title: 'histograms',
    text: (s) => `bins are counts (1 to ${s.suppressionThreshold} suppressed); the extreme bin edges are a minimum and a maximum, so a reviewer checks them`,
    source: 'ACRO hist(): bins below safe_threshold fail; "check extreme bin edges are not disclosive" goes to review',
  },
  survival: {
    title: 'survival tables',
    text: (s) =>
      `survival figures in rows where 1 to ${s.survivalThreshold} people leave the risk set are suppressed; without an at-risk count the table goes to a reviewer`,
    source: 'ACRO survival_safe_threshold 10 (surv_func: rows where the drop in number at risk is below the threshold are suppressed)',
  },
  numeric_category: {
    title: 'numbers that may be categories',
    text: () =>
      'a numeric column named or shaped like a category (year, age, code, ...) is still checked as a count; a reviewer may classify it as a category, with a reason',
    source: "platform rule: roles are decided from the data, never by the requester's names",
    stricter: 'ACRO knows the roles from the analysis it ran',
  },
  mixed_column: {
    title: 'columns mixing numbers and text',
    text: () => 'the numbers are checked as counts; the text cells go to a reviewer',
    source: 'platform rule: a number is a number however it is written',
  },
  free_text: {
    title: 'free text',
    text: () => 'text with numbers in it, or sentences, in a cell or a header goes to a reviewer (a count can hide in words)',
    source: 'ACRO: free text is a custom output for manual review',
  },
  differencing: {
    title: 'differencing against earlier releases',
    text: (s) =>
      `cells, totals and group sizes that differ by 1 to ${s.suppressionThreshold} from the project's earlier releases (or from other files of the request) are disclosive unless a reviewer records why not`,
    source: 'ESSnet guidelines (Brandt et al., 2010) on differencing; Hundepool et al. (2012) §4.4 (linked tables)',
    stricter: 'ACRO checks each output on its own',
  },
  normalised: {
    title: 'normalised text',
    text: () => 'cells are released as read: numbers in plain digits, text in Unicode NFKC without invisible characters',
    source: 'platform rule: a released file carries nothing the checker did not read',
  },
};

/** The rule's line for the reviewer's report and the manifest: title, what it does, its source. */
export function ruleLine(id: RuleId, settings: Parameters<RuleInfo['text']>[0]): string {
  const r = RULES[id];
  return `${r.title}: ${r.text(settings)} [${r.source}${r.stricter ? `; stricter than ACRO: ${r.stricter}` : ''}]`;
}
