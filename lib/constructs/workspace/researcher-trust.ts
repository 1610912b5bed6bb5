/**
 * Who may act as a project, and when, as conditions AWS itself evaluates on every call:
 * - the trust policy admits only the approval's named people, each through the principal
 *   they sign in with: the session's source identity (which CloudTrail records on every
 *   later call, and which no one can change within the session) must be one of them, and so
 *   must its session name (which the airlock reads back as the requester); with MFA done in
 *   the last hour; with the agreed external id for a principal in another account; and
 *   only within the approval's period;
 * - the role's own policy denies every action outside the period, so a session opened on
 *   the last day stops at midnight, and no deployment is needed for access to end.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { approvalWindow } from '../../config/model';
import type { ProjectConfig } from '../../config/schema';

/** A session's MFA may be at most this old when it assumes the role (seconds). */
export const MAX_MFA_AGE_SECONDS = 3600;

/** IAM's default limit on a trust policy (characters, whitespace not counted); 4096 with a quota increase. */
export const MAX_TRUST_POLICY_CHARS = 2048;

/** `aws:CurrentTime` bounds of the approval (see approvalWindow). */
function periodConditions(project: Pick<ProjectConfig, 'period'>): Record<string, Record<string, string>> {
  const window = approvalWindow(project);
  return { DateGreaterThanEquals: { 'aws:CurrentTime': window.from }, DateLessThan: { 'aws:CurrentTime': window.until } };
}

/** One trust statement per principal (and external id): the people who sign in through it. */
export function researcherTrustStatements(project: Pick<ProjectConfig, 'researchers' | 'period'>): iam.PolicyStatement[] {
  const groups = new Map<string, { principal: string; externalId?: string; ids: string[] }>();
  for (const r of project.researchers) {
    const key = `${r.principal}\n${r.externalId ?? ''}`;
    const group = groups.get(key) ?? { principal: r.principal, externalId: r.externalId, ids: [] };
    group.ids.push(r.id);
    groups.set(key, group);
  }
  return [...groups.values()].map(
    (g) =>
      new iam.PolicyStatement({
        principals: [new iam.ArnPrincipal(g.principal)],
        // SetSourceIdentity only together with AssumeRole, under the same conditions.
        actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        conditions: {
          StringEquals: {
            'sts:SourceIdentity': g.ids.length === 1 ? g.ids[0] : g.ids,
            'sts:RoleSessionName': g.ids.length === 1 ? g.ids[0] : g.ids,
            ...(g.externalId === undefined ? {} : { 'sts:ExternalId': g.externalId }),
          },
          Bool: { 'aws:MultiFactorAuthPresent': 'true' },
          NumericLessThan: { 'aws:MultiFactorAuthAge': String(MAX_MFA_AGE_SECONDS) },
          ...periodConditions(project),
        },
      }),
  );
}

/** Denies everything before the period starts and from the day after it ends. */
export function periodDenyStatements(project: Pick<ProjectConfig, 'period'>): iam.PolicyStatement[] {
  const window = approvalWindow(project);
  return [
    new iam.PolicyStatement({
      sid: 'DenyBeforeApprovedPeriod',
      effect: iam.Effect.DENY,
      actions: ['*'],
      resources: ['*'],
      conditions: { DateLessThan: { 'aws:CurrentTime': window.from } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyAfterApprovedPeriod',
      effect: iam.Effect.DENY,
      actions: ['*'],
      resources: ['*'],
      conditions: { DateGreaterThanEquals: { 'aws:CurrentTime': window.until } },
    }),
  ];
}

/**
 * The researcher role's `assumedBy`: a principal that writes the statements above into
 * the trust policy (instead of CDK's one statement for every principal with one condition set).
 */
export class NamedResearchers extends iam.PrincipalBase {
  private readonly statements: iam.PolicyStatement[];

  constructor(project: Pick<ProjectConfig, 'researchers' | 'period'>) {
    super();
    this.statements = researcherTrustStatements(project);
    const principals = [...new Set(project.researchers.map((r) => r.principal))];
    this.policyFragment = new iam.PrincipalPolicyFragment({ AWS: principals });
  }

  readonly policyFragment: iam.PrincipalPolicyFragment;

  addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(...this.statements);
  }

  dedupeString(): string | undefined {
    return undefined;
  }
}
