/**
 * The airlock's settings: disclosure-control thresholds and the output reviewers, the
 * `airlock:` block of platform.yaml (validated with the rest of it by platformSchema; see
 * lib/airlock/README.md). Without the block the defaults below apply, which have no
 * reviewers, so nothing can be approved or released: the safe failure.
 */
import { z } from 'zod';
import { iamPrincipalArn } from './primitives';

/**
 * Counts from 1 to this value (inclusive) are suppressed; zero is kept. 7 is the issue's
 * default; ACRO, the SACRO project's output checker, uses 10. Raise it per deployment
 * with the data access committee; never lower it without them.
 */
export const DEFAULT_SUPPRESSION_THRESHOLD = 7;

/** Unsuppressed counts are rounded to the nearest multiple of this (halves up). */
export const DEFAULT_ROUNDING_BASE = 5;

/**
 * Dominance (n, k) rule for magnitude tables: a cell is sensitive when its n largest
 * contributions make up more than k% of the cell total. The defaults n = 2, k = 90 are
 * those of ACRO (AI-SDC/ACRO `acro/default.yaml`: safe_nk_n 2, safe_nk_k 0.90), the
 * output checker of the SACRO project (DARE UK) that implements the ESSnet "Guidelines
 * for the checking of output based on microdata research" (Brandt et al., 2010) and the
 * Handbook on Statistical Disclosure Control (Hundepool et al., 2012, §4.2: (n, k) rules,
 * with n typically 1-3 and k 75-90). A stricter (2, 85) is also common: set k per deployment.
 */
export const DEFAULT_DOMINANCE = { n: 2, k: 90 } as const;

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

export const airlockSchema = z
  .strictObject({
    /** Counts 1..suppressionThreshold are suppressed (zero is kept). */
    suppressionThreshold: z.int().min(1).max(1000).default(DEFAULT_SUPPRESSION_THRESHOLD),
    roundingBase: z.int().min(1).max(1000).default(DEFAULT_ROUNDING_BASE),
    dominance: z
      .strictObject({
        n: z.int().min(1).max(10).default(DEFAULT_DOMINANCE.n),
        /** Percent of the cell total, more than 0 and at most 100. */
        k: z.number().gt(0).max(100).default(DEFAULT_DOMINANCE.k),
      })
      .default({ ...DEFAULT_DOMINANCE }),
    maxFileBytes: z.int().min(1).max(1024 * 1024 * 1024).default(DEFAULT_MAX_FILE_BYTES),
    rowLevelMinRows: z.int().min(2).max(1_000_000).default(DEFAULT_ROW_LEVEL_MIN_ROWS),
    /**
     * Who may review output requests. Two different ones must approve each release, so a
     * list shorter than two could never release anything: it is refused.
     */
    reviewers: z.array(reviewerPrincipal).min(2, { error: 'name at least two reviewers: every release needs two different ones' }),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.reviewers.forEach((r, i) => {
      const key = principalKey(r);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['reviewers', i], message: `"${r}" is listed twice (names are compared ignoring case, as IAM does)` });
      seen.add(key);
    });
  });

export type AirlockConfig = z.infer<typeof airlockSchema>;

export interface AirlockSettings {
  readonly suppressionThreshold: number;
  readonly roundingBase: number;
  readonly dominance: { readonly n: number; readonly k: number };
  readonly maxFileBytes: number;
  readonly rowLevelMinRows: number;
  readonly reviewers: readonly string[];
}

/** The defaults, with no reviewers (nothing can be approved until platform.yaml names them). */
export const DEFAULT_AIRLOCK_SETTINGS: AirlockSettings = {
  suppressionThreshold: DEFAULT_SUPPRESSION_THRESHOLD,
  roundingBase: DEFAULT_ROUNDING_BASE,
  dominance: { ...DEFAULT_DOMINANCE },
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
  return platform.airlock ?? DEFAULT_AIRLOCK_SETTINGS;
}
