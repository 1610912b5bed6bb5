import { Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RELEASED_PREFIX, RELEASE_TAG, RELEASE_TAG_VALUE, REQUESTS_PREFIX, SUBMISSIONS_PREFIX } from '../../airlock/bucket-layout';
import { SecureBucket } from '../storage/secure-bucket';

export interface AirlockBucketProps {
  /** This bucket's own customer-managed key (no other bucket may use it). */
  readonly encryptionKey: kms.Key;
  readonly accessLogsBucket: s3.IBucket;
  /**
   * The ARN pattern every project researcher role matches (`arn:...:role/<platform>-project-*`,
   * lib/config/naming.ts). The bucket policy names roles by this pattern and by their project tag,
   * never one by one, so its size does not grow with the portfolio (a bucket policy holds
   * at most 20 KB; per-project statements overflowed it at a few dozen projects).
   */
  readonly projectRoleArnPattern: string;
  /** The role tag that names a role's project (ProjectWorkspace tags its role). @default 'sde:project' */
  readonly projectTagKey?: string;
  /** Keep overwritten or deleted versions this many days. @default 30 */
  readonly noncurrentVersionDays?: number;
}

/**
 * The airlock's store on AWS: a SecureBucket (SSE-KMS, TLS only, no public access,
 * versioning, Object Lock, access logs, RETAIN) whose policy keeps each prefix to its
 * purpose:
 * - `submissions/<project>/`: the project's role may only put objects there;
 * - `requests/`: reviewers read (grantReviewerAccess), the release service writes;
 * - `released/<project>/`: only the project's role may read, only objects tagged as
 *   released, and only the release service (allowReleaseBy) may write, as it alone
 *   writes `requests/` (the approvals).
 *
 * A project's rights are granted to its role (grantProject, called by ProjectWorkspace),
 * so they appear and disappear with the project's approval. The bucket policy's explicit
 * denies hold even against a broad identity policy elsewhere in the account, and name
 * project roles by ARN pattern and by their `sde:project` tag: a project role can touch
 * only `released/<its tag>/` and `submissions/<its tag>/`. (Researchers cannot set that
 * tag themselves: the roles' trust policies do not allow sts:TagSession.)
 */
export class AirlockBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly encryptionKey: kms.Key;
  private readonly releasers: string[] = [];

  constructor(scope: Construct, id: string, props: AirlockBucketProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.encryptionKey = props.encryptionKey;
    this.bucket = new SecureBucket(this, 'Store', {
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      accessLogsPrefix: 'airlock/',
      noncurrentVersionDays: props.noncurrentVersionDays ?? 30,
    }).bucket;

    const tagKey = props.projectTagKey ?? 'sde:project';
    const isProjectRole = { ArnLike: { 'aws:PrincipalArn': props.projectRoleArnPattern } };
    // Nobody but a project role reads released objects, even with s3:GetObject on "*".
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyReadingReleasesExceptProjectRoles',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.bucket.arnForObjects(`${RELEASED_PREFIX}*`)],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': props.projectRoleArnPattern } },
      }),
    );
    // A project role reads and writes only under its own project's prefixes: one project
    // never reads another's releases, whatever else it is given.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyProjectRolesOutsideTheirOwnPrefixes',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
        notResources: [
          this.bucket.arnForObjects(`${RELEASED_PREFIX}\${aws:PrincipalTag/${tagKey}}/*`),
          this.bucket.arnForObjects(`${SUBMISSIONS_PREFIX}\${aws:PrincipalTag/${tagKey}}/*`),
        ],
        conditions: isProjectRole,
      }),
    );
    // A half-written release (files still tagged staged) is never readable.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyReadingUnreleasedObjects',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.bucket.arnForObjects(`${RELEASED_PREFIX}*`)],
        conditions: { StringNotEquals: { [`s3:ExistingObjectTag/${RELEASE_TAG}`]: RELEASE_TAG_VALUE } },
      }),
    );
    // The two-person rule's state is only ever replaced by a write that names the version it
    // read (If-Match) or creates it (If-None-Match), so a raw PutObject cannot overwrite a
    // decision blindly; submissions and egress objects are written once and never replaced.
    // (Multipart uploads, whose parts carry no conditions, are thereby refused here too: the
    // airlock's files are far below PutObject's 5 GiB.)
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUnconditionalWritesOfRequestState',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        // One `?` per character of a request id (req-YYYYMMDD-xxxxxxxx): `*` would also match a
        // checked file of that name (requests/<id>/checked/request.json), written unconditionally.
        resources: [this.bucket.arnForObjects(`${REQUESTS_PREFIX}req-????????-????????/request.json`)],
        conditions: { Null: { 's3:if-match': 'true', 's3:if-none-match': 'true' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyReplacingSubmissionsAndReleases',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${SUBMISSIONS_PREFIX}*`), this.bucket.arnForObjects(`${RELEASED_PREFIX}*`)],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    // Nothing reaches the egress but a release by the release service; with none, nothing at
    // all. Its request state (the approvals) is written by the service alone too: a reviewer
    // with raw S3 calls can neither record an approval nor write a release.
    const nobody = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'no-airlock-releaser-configured' });
    const releasers = Lazy.list({ produce: () => (this.releasers.length > 0 ? this.releasers : [nobody]) });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyWritingReleasesExceptReleasers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject', 's3:PutObjectTagging', 's3:DeleteObjectTagging'],
        resources: [this.bucket.arnForObjects(`${RELEASED_PREFIX}*`)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': releasers } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyWritingRequestStateExceptReleasers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject', 's3:PutObjectTagging', 's3:DeleteObjectTagging'],
        resources: [this.bucket.arnForObjects(`${REQUESTS_PREFIX}*`)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': releasers } },
      }),
    );
  }

  /**
   * What one active project's researcher role needs, granted on the role (in the
   * project's own workspace stack): submit outputs under `submissions/<project>/`, list
   * and read its own released objects, and use the airlock key through S3 only.
   */
  grantProject(grantee: iam.IGrantable, projectId: string): iam.Grant {
    if (!/^[a-z][a-z0-9-]{2,39}$/.test(projectId)) throw new Error(`"${projectId}" is not a project id`);
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [this.submissionsArn(projectId)] })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:GetObject'],
          resourceArns: [this.releasedArn(projectId)],
          conditions: { StringEquals: { [`s3:ExistingObjectTag/${RELEASE_TAG}`]: RELEASE_TAG_VALUE } },
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:ListBucket'],
          resourceArns: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${RELEASED_PREFIX}${projectId}/*`] } },
        }),
      )
      .combine(this.grantKeyThroughS3(grantee));
  }

  /** The bucket key, for encrypting and decrypting through S3 only (not for direct KMS calls). */
  private grantKeyThroughS3(grantee: iam.IGrantable, actions: readonly string[] = ['kms:Decrypt', 'kms:GenerateDataKey']): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...actions],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
    });
  }

  /**
   * What a reviewer needs on the bucket: read submissions and request state (to list, show
   * and read reports), use the key through S3. Every write is the release service's
   * (allowReleaseBy); reading released objects is denied to everyone but the project.
   */
  grantReviewerAccess(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:GetObject'],
          resourceArns: [this.bucket.arnForObjects(`${SUBMISSIONS_PREFIX}*`), this.bucket.arnForObjects(`${REQUESTS_PREFIX}*`)],
        }),
      )
      .combine(this.grantKeyThroughS3(grantee, ['kms:Decrypt']));
  }

  /** Lets this role write request state and the egress (the bucket policy denies everyone else): the release service. */
  allowReleaseBy(role: iam.IRole): void {
    this.releasers.push(role.roleArn);
  }

  /** `arn:...:<bucket>/released/<project>/*`. */
  releasedArn(projectId: string): string {
    return this.bucket.arnForObjects(`${RELEASED_PREFIX}${projectId}/*`);
  }

  /** `arn:...:<bucket>/submissions/<project>/*`. */
  submissionsArn(projectId: string): string {
    return this.bucket.arnForObjects(`${SUBMISSIONS_PREFIX}${projectId}/*`);
  }
}
