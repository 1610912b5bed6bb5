/**
 * Who acts, on AWS: the caller's identity (STS GetCallerIdentity), not a name typed on the
 * command line. A reviewer works through their own reviewer role (AirlockReviewers:
 * `<platform>-airlock-reviewer-<hash of their ARN>`, assumable only by them), so the role
 * names the reviewer in a way the caller cannot choose; the session name, which the caller
 * does choose, is ignored.
 */
import { reviewerRolePrefix, reviewerRoleSuffix } from './bucket-layout';
import { principalKey } from '../config/airlock-settings';

export interface AwsActor {
  /** The caller as STS reports it. */
  readonly callerArn: string;
  /**
   * The role session name, for an assumed role. A project role's trust policy admits a
   * session only when its name is one of the project's researchers and its source
   * identity is too (lib/constructs/workspace/researcher-trust.ts), so for a researcher it
   * names the person, as IAM has checked it.
   */
  readonly sessionName?: string;
  /** The IAM principal: a role ARN for an assumed role (path dropped, as STS drops it), else the caller ARN. */
  readonly principal: string;
  /** The airlock.reviewers entry the caller's reviewer role belongs to, if it is one. */
  readonly reviewer?: string;
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;

export function awsActor(callerArn: string, options: { readonly platformName: string; readonly reviewers: readonly string[] }): AwsActor {
  const m = ASSUMED_ROLE.exec(callerArn);
  if (!m) return { callerArn, principal: callerArn };
  const [, partition, account, roleName, sessionName] = m;
  const principal = `arn:${partition}:iam::${account}:role/${roleName}`;
  const prefix = reviewerRolePrefix(options.platformName);
  if (!roleName.startsWith(prefix)) return { callerArn, principal, sessionName };
  const suffix = roleName.slice(prefix.length);
  const reviewer = options.reviewers.find((r) => reviewerRoleSuffix(r) === suffix);
  return reviewer === undefined ? { callerArn, principal, sessionName } : { callerArn, principal, sessionName, reviewer };
}

/**
 * The principal a review or release is recorded as: the reviewer the caller's role belongs
 * to, else the caller's own principal (the workflow refuses it if it is not a reviewer).
 * A different `--as` is refused rather than believed.
 */
export function actingAs(
  actor: AwsActor,
  claimed: string | undefined,
): { readonly ok: true; readonly who: string } | { readonly ok: false; readonly message: string } {
  const who = actor.reviewer ?? actor.principal;
  if (claimed !== undefined && principalKey(claimed) !== principalKey(who)) {
    return {
      ok: false,
      message: `on AWS you act as your AWS identity, ${who} (from ${actor.callerArn}); --as ${claimed} names someone else: assume your own reviewer role, or leave out --as`,
    };
  }
  return { ok: true, who };
}

/**
 * The person a researcher's request is recorded as: the session name, which the project
 * role's trust holds to one of its researchers' ids. A different `--as` is refused.
 */
export function requestingAs(
  actor: AwsActor,
  claimed: string | undefined,
): { readonly ok: true; readonly who: string } | { readonly ok: false; readonly message: string } {
  const who = actor.sessionName ?? actor.principal;
  if (claimed !== undefined && claimed !== who) {
    return {
      ok: false,
      message: `on AWS you request as the person you signed in as, ${who} (from ${actor.callerArn}); --as ${claimed} names someone else: leave out --as`,
    };
  }
  return { ok: true, who };
}
