/**
 * The airlock's settings: disclosure-control thresholds and the output reviewers, the
 * `airlock:` block of platform.yaml (validated with the rest of it by platformSchema; see
 * lib/airlock/README.md). Without the block the defaults below apply, which have no
 * reviewers, so nothing can be approved or released: the safe failure.
 */
import { z } from 'zod';
import { iamPrincipalArn } from './primitives';

/*
 * The defaults are ACRO's (the output checker of the SACRO project, DARE UK), from
 * AI-SDC/ACRO `acro/default.yaml` (commit 07a27282): safe_threshold 10, safe_dof_threshold
 * 10, safe_nk_n 2, safe_nk_k 0.90, safe_pratio_p 0.10, check_missing_values False,
 * survival_safe_threshold 10, zeros_are_disclosive True; and the comparisons of
 * `acro/sdcchecks.py` (commit 012b3e0a): a cell fails the threshold when its count is below
 * safe_threshold, the NK rule when the n largest make up k or more of the total, the
 * p-ratio rule when (total - largest - second) / largest is below p, a model when its
 * residual degrees of freedom are below safe_dof_threshold; negative values send
 * dominance to review. Where the platform is stricter, the constant says so (and
 * lib/airlock/README.md "Where the platform is stricter than ACRO").
 */

/**
 * Counts from 1 to this value (inclusive) are suppressed. ACRO's safe_threshold is 10 and
 * fails counts below it (1-9); here 10 itself is suppressed too (stricter by one: with
 * rounding to 5, a released 10 would otherwise be a true 8 to 12). Raise it per deployment
 * with the data access committee; never lower it without them.
 */
export const DEFAULT_SUPPRESSION_THRESHOLD = 10;

/** Unsuppressed counts are rounded to the nearest multiple of this (halves up). ACRO does not round. */
export const DEFAULT_ROUNDING_BASE = 5;

/**
 * Dominance (n, k) rule for magnitude tables: a cell is sensitive when its n largest
 * contributions make up k% or more of the cell total (ACRO safe_nk_n 2, safe_nk_k 0.90,
 * failing at >= k). The rule comes from the ESSnet "Guidelines for the checking of output
 * based on microdata research" (Brandt et al., 2010) and the Handbook on Statistical
 * Disclosure Control (Hundepool et al., 2012, §4.2: n typically 1-3, k 75-90). k is a
 * percentage here (ACRO writes 0.90).
 */
export const DEFAULT_DOMINANCE = { n: 2, k: 90 } as const;

/**
 * p-ratio (prior-posterior) rule: a magnitude cell is sensitive when the contributions
 * other than the two largest add up to less than p% of the largest, so the second largest
 * contributor could estimate the largest within p% (ACRO safe_pratio_p 0.10). Percent here.
 */
export const DEFAULT_P_RATIO = 10;

/** A regression (or other model) with fewer residual degrees of freedom than this is disclosive (ACRO safe_dof_threshold 10). */
export const DEFAULT_REGRESSION_DOF = 10;

/**
 * A survival table's rows where fewer than this many people leave the risk set (events and
 * censoring) have their survival figures suppressed (ACRO survival_safe_threshold 10; here,
 * as for counts, the threshold itself is suppressed too).
 */
export const DEFAULT_SURVIVAL_THRESHOLD = 10;

/**
 * What happens to a cell the rule flags: `review` sends the file to a reviewer, who must
 * record a note to approve it; `release` lets it through. Zeros: ACRO zeros_are_disclosive
 * True (a zero says nobody in a group has an attribute: group disclosure). Negative values:
 * ACRO sends dominance with negatives to review. Missing values (NA, NaN, blank in a
 * numeric column): ACRO check_missing_values is False; the platform reviews them (stricter).
 */
export const FLAG_ACTIONS = ['review', 'release'] as const;
export type FlagAction = (typeof FLAG_ACTIONS)[number];

/**
 * A file above this size is refused before it is read: a results table that large is
 * almost certainly row-level data, and reading it whole would exhaust memory.
 */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * "One row per person": a table without counts whose rows number at least this many and
 * in which some column has a different value in every row is refused as a listing.
 */
export const DEFAULT_ROW_LEVEL_MIN_ROWS = 20;

/** A local reviewer name (the local runtime has no IAM), or an IAM role/user ARN. */
const LOCAL_NAME = /^[A-Za-z][A-Za-z0-9._@-]{1,63}$/;
const reviewerPrincipal = z.string().refine((v) => iamPrincipalArn.safeParse(v).success || (!v.startsWith('arn:') && LOCAL_NAME.test(v)), {
  error: 'must be an IAM role or user ARN (arn:aws:iam::123456789012:role/NAME), or a local name of 2-64 characters (letters, digits, . _ @ -) starting with a letter',
});

/**
 * A reviewer, by an id people type (`sde output review --as REVIEWER-1`) and the principal
 * it stands for; or the principal alone. The id is a roster reference, never a name.
 */
const reviewerId = z.string().regex(/^[A-Za-z0-9_+=,.@-]{2,64}$/, { error: 'must be 2-64 letters, digits or _+=,.@- (a roster reference such as REVIEWER-1, not a name)' });
const reviewerEntry = z.union([reviewerPrincipal, z.strictObject({ id: reviewerId, principal: reviewerPrincipal })]);

/** A reviewer entry's principal. */
export function reviewerEntryPrincipal(entry: string | { readonly principal: string }): string {
  return typeof entry === 'string' ? entry : entry.principal;
}

export const airlockSchema = z
  .strictObject({
    /** Counts 1..suppressionThreshold are suppressed (zero is kept). */
    suppressionThreshold: z.int().min(1).max(1000).default(DEFAULT_SUPPRESSION_THRESHOLD),
    roundingBase: z.int().min(1).max(1000).default(DEFAULT_ROUNDING_BASE),
    dominance: z
      .strictObject({
        n: z.int().min(1).max(10).default(DEFAULT_DOMINANCE.n),
        /** Percent of the cell total, more than 0 and at most 100: the n largest making up k% or more is sensitive. */
        k: z.number().gt(0).max(100).default(DEFAULT_DOMINANCE.k),
      })
      .default({ ...DEFAULT_DOMINANCE }),
    /** p-ratio rule, percent (ACRO safe_pratio_p 0.10 = 10). */
    pRatio: z.number().min(0).max(100).default(DEFAULT_P_RATIO),
    /** Residual degrees of freedom below this make a model output disclosive (ACRO safe_dof_threshold). */
    regressionDof: z.int().min(1).max(1000).default(DEFAULT_REGRESSION_DOF),
    /** Survival table rows where 1..this many people leave the risk set are suppressed (ACRO survival_safe_threshold). */
    survivalThreshold: z.int().min(1).max(1000).default(DEFAULT_SURVIVAL_THRESHOLD),
    /** Zero counts (and 0% / 100%): review (ACRO zeros_are_disclosive) or release. */
    zeros: z.enum(FLAG_ACTIONS).default('review'),
    /** Negative values where counts or contributions are expected: review (as ACRO) or release. */
    negativeValues: z.enum(FLAG_ACTIONS).default('review'),
    /** Missing values (NA, NaN, blank) in numeric columns: review (stricter than ACRO's default) or release. */
    missingValues: z.enum(FLAG_ACTIONS).default('review'),
    maxFileBytes: z.int().min(1).max(1024 * 1024 * 1024).default(DEFAULT_MAX_FILE_BYTES),
    rowLevelMinRows: z.int().min(2).max(1_000_000).default(DEFAULT_ROW_LEVEL_MIN_ROWS),
    /**
     * Who may review output requests. Two different ones must approve each release, so a
     * list shorter than two could never release anything: it is refused.
     */
    reviewers: z.array(reviewerEntry).min(2, { error: 'name at least two reviewers: every release needs two different ones' }),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    const ids = new Set<string>();
    value.reviewers.forEach((entry, i) => {
      const r = reviewerEntryPrincipal(entry);
      const key = principalKey(r);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['reviewers', i], message: `"${r}" is listed twice (names are compared ignoring case, as IAM does)` });
      seen.add(key);
      if (typeof entry === 'string') return;
      const id = entry.id.toLowerCase();
      if (ids.has(id) || seen.has(id)) ctx.addIssue({ code: 'custom', path: ['reviewers', i, 'id'], message: `"${entry.id}" is used twice (ids are compared ignoring case)` });
      ids.add(id);
    });
  });

export type AirlockConfig = z.infer<typeof airlockSchema>;

export interface AirlockSettings {
  readonly suppressionThreshold: number;
  readonly roundingBase: number;
  readonly dominance: { readonly n: number; readonly k: number };
  readonly pRatio: number;
  readonly regressionDof: number;
  readonly survivalThreshold: number;
  readonly zeros: FlagAction;
  readonly negativeValues: FlagAction;
  readonly missingValues: FlagAction;
  readonly maxFileBytes: number;
  readonly rowLevelMinRows: number;
  /** The reviewers' principals. */
  readonly reviewers: readonly string[];
  /** The reviewers platform.yaml gives an id, by id (`--as REVIEWER-1`). */
  readonly reviewerIds?: readonly { readonly id: string; readonly principal: string }[];
}

/** The defaults, with no reviewers (nothing can be approved until platform.yaml names them). */
export const DEFAULT_AIRLOCK_SETTINGS: AirlockSettings = {
  suppressionThreshold: DEFAULT_SUPPRESSION_THRESHOLD,
  roundingBase: DEFAULT_ROUNDING_BASE,
  dominance: { ...DEFAULT_DOMINANCE },
  pRatio: DEFAULT_P_RATIO,
  regressionDof: DEFAULT_REGRESSION_DOF,
  survivalThreshold: DEFAULT_SURVIVAL_THRESHOLD,
  zeros: 'review',
  negativeValues: 'review',
  missingValues: 'review',
  maxFileBytes: DEFAULT_MAX_FILE_BYTES,
  rowLevelMinRows: DEFAULT_ROW_LEVEL_MIN_ROWS,
  reviewers: [],
};

/**
 * IAM compares role and user names ignoring case (two roles cannot differ only in case),
 * so the airlock does too: "Reviewer-A" and "reviewer-a" are one person.
 */
export function principalKey(principal: string): string {
  return principal.trim().toLowerCase();
}

/**
 * The airlock settings of a loaded platform config: its `airlock:` block, which the loader
 * has already validated (every problem reported with the file, the field and the fix) and
 * completed with the defaults, or the defaults with no reviewers when the block is absent.
 */
export function airlockSettings(platform: { readonly airlock?: AirlockConfig }): AirlockSettings {
  if (platform.airlock === undefined) return DEFAULT_AIRLOCK_SETTINGS;
  const entries = platform.airlock.reviewers;
  const reviewerIds = entries.flatMap((e) => (typeof e === 'string' ? [] : [{ id: e.id, principal: e.principal }]));
  return { ...platform.airlock, reviewers: entries.map(reviewerEntryPrincipal), ...(reviewerIds.length > 0 ? { reviewerIds } : {}) };
}

/**
 * The principal a reviewer typed names: a reviewer's id (any case), or a reviewer's principal
 * itself. Undefined when it is neither: the caller lists who may review (reviewerList).
 */
export function resolveReviewer(settings: AirlockSettings, typed: string): string | undefined {
  const byId = settings.reviewerIds?.find((r) => r.id.toLowerCase() === typed.trim().toLowerCase());
  if (byId !== undefined) return byId.principal;
  return settings.reviewers.find((r) => principalKey(r) === principalKey(typed));
}

/** Who may review, for an error message: each id with its principal, or the principal alone. */
export function reviewerList(settings: AirlockSettings): string {
  if (settings.reviewers.length === 0) return 'nobody: platform.yaml names no airlock.reviewers';
  return settings.reviewers
    .map((principal) => {
      const id = settings.reviewerIds?.find((r) => principalKey(r.principal) === principalKey(principal))?.id;
      return id === undefined ? principal : `${id} (${principal})`;
    })
    .join(', ');
}
