import { Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SecureBucket } from './secure-bucket';

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

export interface AirlockProject {
  readonly projectId: string;
  /** The project's researcher role (lib/naming.ts projectRoleName); it must exist when this deploys. */
  readonly roleArn: string;
}

export interface AirlockBucketProps {
  /** This bucket's own customer-managed key (no other bucket may use it); its key policy gains the project roles' narrow rights. */
  readonly encryptionKey: kms.Key;
  readonly accessLogsBucket: s3.IBucket;
  /** The projects that may submit outputs and read their own releases. @default - none */
  readonly projects?: readonly AirlockProject[];
  /** Keep overwritten or deleted versions this many days. @default 30 */
  readonly noncurrentVersionDays?: number;
}

/**
 * The airlock's store on AWS: a SecureBucket (SSE-KMS, TLS only, no public access,
 * versioning, Object Lock, access logs, RETAIN) whose policy keeps each prefix to its
 * purpose:
 * - `submissions/<project>/`: the project's role may only put objects there;
 * - `requests/`: reviewers only (granted with grantReviewerAccess);
 * - `released/<project>/`: only the project's role may read, only objects tagged as
 *   released, and only the releasing reviewer roles (allowReleaseBy) may write. Explicit
 *   denies make this hold even against a broad identity policy elsewhere in the account.
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

    const projects = [...(props.projects ?? [])].sort((a, b) => a.projectId.localeCompare(b.projectId));
    for (const project of projects) {
      if (!/^[a-z][a-z0-9-]{2,39}$/.test(project.projectId)) throw new Error(`"${project.projectId}" is not a project id`);
      this.grantProject(project);
    }

    // Nobody but a project's role reads released objects, even with s3:GetObject on "*".
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyReadingReleasesExceptProjectRoles',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.bucket.arnForObjects(`${RELEASED_PREFIX}*`)],
        ...(projects.length > 0 ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': projects.map((p) => p.roleArn) } } } : {}),
      }),
    );
    // Nothing reaches the egress but a release by a reviewer role; with none, nothing at all.
    const nobody = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'no-airlock-releaser-configured' });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyWritingReleasesExceptReleasers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject', 's3:PutObjectTagging', 's3:DeleteObjectTagging'],
        resources: [this.bucket.arnForObjects(`${RELEASED_PREFIX}*`)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => (this.releasers.length > 0 ? this.releasers : [nobody]) }) } },
      }),
    );
  }

  private grantProject(project: AirlockProject): void {
    const { projectId, roleArn } = project;
    const role = iam.Role.fromRoleArn(this, `ProjectRole-${projectId}`, roleArn, { mutable: false });
    const released = this.bucket.arnForObjects(`${RELEASED_PREFIX}${projectId}/*`);
    // The project's researcher role belongs to another stack: its rights are granted here,
    // on the bucket and key, so they appear and disappear with the project's approval.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `ReadOwnReleases${pascal(projectId)}`,
        principals: [role],
        actions: ['s3:GetObject'],
        resources: [released],
        conditions: { StringEquals: { [`s3:ExistingObjectTag/${RELEASE_TAG}`]: RELEASE_TAG_VALUE } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `ListOwnReleases${pascal(projectId)}`,
        principals: [role],
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${RELEASED_PREFIX}${projectId}/*`] } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `SubmitOutputs${pascal(projectId)}`,
        principals: [role],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${SUBMISSIONS_PREFIX}${projectId}/*`)],
      }),
    );
    // One project never reads another's releases, whatever else it is given.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `DenyOthersReadingReleases${pascal(projectId)}`,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [released],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': roleArn } },
      }),
    );
    // Through S3 only. The key encrypts this bucket alone (its own key), so the bucket
    // policy above decides which objects; naming the bucket ARN in the key policy too would
    // make the key and the bucket depend on each other.
    const stack = Stack.of(this);
    const added = this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `ProjectUsesKeyThroughS3${pascal(projectId)}`,
        principals: [role],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:CallerAccount': stack.account } },
      }),
    );
    if (!added.statementAdded) throw new Error('AirlockBucket needs a key whose policy it can extend (a kms.Key of this app)');
  }

  /**
   * What a reviewer needs: read submissions and request state, write request state and
   * reports, write (and tag) released objects, use the key through S3. Reading released
   * objects is denied to everyone but the project: reviewers check the copy in requests/.
   */
  grantReviewerAccess(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['s3:GetObject'],
          resourceArns: [this.bucket.arnForObjects(`${SUBMISSIONS_PREFIX}*`), this.bucket.arnForObjects(`${REQUESTS_PREFIX}*`)],
        }),
      )
      .combine(iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects(`${REQUESTS_PREFIX}*`)] }))
      .combine(iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject', 's3:PutObjectTagging'], resourceArns: [this.bucket.arnForObjects(`${RELEASED_PREFIX}*`)] }))
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resourceArns: [this.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
      );
  }

  /** Lets this role write to the egress (the bucket policy denies everyone else). */
  allowReleaseBy(role: iam.IRole): void {
    this.releasers.push(role.roleArn);
  }

  /** `arn:...:<bucket>/released/<project>/*`. */
  releasedArn(projectId: string): string {
    return this.bucket.arnForObjects(`${RELEASED_PREFIX}${projectId}/*`);
  }
}

function pascal(id: string): string {
  return id
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
