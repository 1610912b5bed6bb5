/**
 * The airlock bucket's layout: its prefixes, the tag that marks a released object, and how
 * a reviewer's role is named. The construct that builds the bucket and its policies
 * (lib/constructs/airlock/) and the store and identity code that use it at run time
 * (s3-store.ts, aws-identity.ts) both import this module, so the two cannot drift, and
 * the run-time code never loads aws-cdk-lib.
 */
import { createHash } from 'node:crypto';

/** Where researchers drop outputs for checking: `submissions/<project>/...` (write only). */
export const SUBMISSIONS_PREFIX = 'submissions/';
/** Request state, checked files and reports: reviewers only. */
export const REQUESTS_PREFIX = 'requests/';
/** The egress: `released/<project>/<request>/...`, readable by the project's role alone. */
export const RELEASED_PREFIX = 'released/';
/**
 * The object tag that marks a released object. The release writes each file tagged
 * `staged`, then the signed manifest, then retags them `released`: the project's read is
 * conditioned on the tag, so a half-written release is never readable.
 */
export const RELEASE_TAG = 'sde-airlock';
export const RELEASE_TAG_VALUE = 'released';

/** A stable 8-character name part for a reviewer: the role survives reordering the list. */
export function reviewerRoleSuffix(reviewerArn: string): string {
  return createHash('sha256').update(reviewerArn.toLowerCase()).digest('hex').slice(0, 8);
}

/** Every reviewer role's name starts with this: `<platform>-airlock-reviewer-<suffix>`. */
export function reviewerRolePrefix(platformName: string): string {
  return `${platformName}-airlock-reviewer-`;
}
