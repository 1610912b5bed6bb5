import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
// The function cdk-nag itself uses to name a resource in a finding, so an acknowledgement
// names exactly that finding (as in ProjectWorkspace).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { AirlockBucket } from './airlock-bucket';
import { REQUESTS_PREFIX, reviewerRolePrefix, reviewerRoleSuffix, SUBMISSIONS_PREFIX } from '../../airlock/bucket-layout';
import type { AirlockReleaseService } from './airlock-release-service';
import type { AirlockSigningKey } from './airlock-signing-key';

export interface AirlockReviewersProps {
  /** Prefixes the role names: `<platform>-airlock-reviewer-<hash>`. */
  readonly platformName: string;
  /** The reviewers' own IAM principals (airlock.reviewers ARNs). At least one. */
  readonly reviewerArns: readonly string[];
  readonly store: AirlockBucket;
  readonly signingKey: AirlockSigningKey;
  /** The service every check, review and release goes through (the only writer and signer). */
  readonly releaseService: AirlockReleaseService;
  /** Longest a review session lasts. @default Duration.hours(1) */
  readonly maxSessionDuration?: Duration;
}

/** IAM role names are at most 64 characters. */
const MAX_ROLE_NAME = 64;

/**
 * One role per reviewer, each assumable only by that reviewer's own principal, with MFA,
 * for an hour. One role per person (rather than one shared role) because the session
 * name of a shared role is chosen by whoever assumes it: with a role each, CloudTrail and
 * the release manifest name the reviewer in a way they cannot choose, and "two different
 * reviewers" means two different roles.
 *
 * The roles share one managed policy: read the airlock bucket's submissions and request
 * state, call the release service (which records each decision as the calling role, and
 * alone writes state and releases and signs), and read the signing key's public key. A
 * reviewer holds no write on the bucket and no kms:Sign: the two-person rule is the
 * service's, not the reviewer's client's.
 */
export class AirlockReviewers extends Construct {
  readonly roles: ReadonlyMap<string, iam.Role>;
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: AirlockReviewersProps) {
    super(scope, id);
    if (props.reviewerArns.length === 0) throw new Error('AirlockReviewers needs at least one reviewer ARN');
    this.policy = new iam.ManagedPolicy(this, 'ReviewerPolicy', {
      description: 'What an output reviewer needs: read submissions and requests, call the airlock release service, read the signing public key',
    });
    const roles = new Map<string, iam.Role>();
    for (const arn of props.reviewerArns) {
      const suffix = reviewerRoleSuffix(arn);
      const roleName = `${reviewerRolePrefix(props.platformName)}${suffix}`;
      if (roleName.length > MAX_ROLE_NAME)
        throw new Error(`the reviewer role name "${roleName}" is ${roleName.length} characters; IAM allows ${MAX_ROLE_NAME}: shorten the platform name`);
      const role = new iam.Role(this, `Reviewer-${suffix}`, {
        roleName,
        description: `Airlock output reviewer (one role per reviewer principal; the trust policy names it)`,
        assumedBy: new iam.ArnPrincipal(arn).withConditions({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
        maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
        managedPolicies: [this.policy],
      });
      roles.set(arn, role);
    }
    this.roles = roles;

    props.store.grantReviewerAccess(this.policy);
    props.releaseService.grantInvoke(this.policy);
    props.signingKey.grantVerify(this.policy);

    // Findings on the prefixes: each is one prefix of the airlock's own bucket, whose
    // objects are named by request id at run time, so cannot be listed in advance.
    const cfnPolicy = this.policy.node.defaultChild as iam.CfnManagedPolicy;
    const bucket = props.store.bucket;
    const reasons: [string, string][] = [
      [
        SUBMISSIONS_PREFIX,
        'Reviewers read outputs researchers submitted under submissions/ of the airlock bucket only; object names are chosen per request at run time.',
      ],
      [
        REQUESTS_PREFIX,
        'Reviewers read request state, checked files and reports under requests/ of the airlock bucket only; keys carry the request id, known only at run time.',
      ],
    ];
    let done = false;
    this.node.addValidation({
      validate: () => {
        if (!done) {
          const stack = Stack.of(this);
          Validations.of(cfnPolicy).acknowledge(
            ...reasons.map(([prefix, reason]) => ({
              id: `AwsSolutions::AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(bucket.arnForObjects(`${prefix}*`)))}]`,
              reason,
            })),
          );
          done = true;
        }
        return [];
      },
    });
  }
}
