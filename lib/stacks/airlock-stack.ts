import { Annotations, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { airlockSettings, type AirlockSettings } from '../config/airlock-settings';
import type { SdeConfig } from '../config/model';
import { iamPrincipalArn } from '../config/schema';
import { AccessLogBucket } from '../constructs/storage/access-log-bucket';
import { AirlockBucket } from '../constructs/airlock/airlock-bucket';
import { AirlockReleaseService } from '../constructs/airlock/airlock-release-service';
import { AirlockReviewers } from '../constructs/airlock/airlock-reviewers';
import { airlockConfigSnapshot } from '../airlock/release-service';
import { AirlockSigningKey } from '../constructs/airlock/airlock-signing-key';
import { PlatformKey } from '../constructs/storage/platform-key';
import { projectRoleNamePattern, stackName } from '../config/naming';

export interface AirlockStackProps extends StackProps {
  readonly config: SdeConfig;
  /** @default airlockSettings(config.platform): the `airlock:` block of platform.yaml */
  readonly settings?: AirlockSettings;
}

/**
 * Safe outputs on AWS: the airlock's own key, access-log sink and bucket (request state,
 * checked files, and the egress prefix each project alone reads, after release), the
 * asymmetric key that signs release manifests, and one role per reviewer.
 *
 * The workflow runs in the release service (a Lambda function behind an IAM-authorised
 * URL), the only principal the bucket and key policies let write request state and
 * releases and sign: reviewers call it with their own roles (`sde output ... --release-service`),
 * so the two-person rule is enforced by AWS, not by a reviewer's client. See
 * lib/airlock/README.md.
 */
export class AirlockStack extends Stack {
  readonly key: kms.Key;
  readonly accessLogs: s3.Bucket;
  readonly store: AirlockBucket;
  readonly bucket: s3.Bucket;
  readonly signingKey: AirlockSigningKey;
  readonly reviewers?: AirlockReviewers;
  readonly releaseService: AirlockReleaseService;

  constructor(scope: Construct, id: string, props: AirlockStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { platform } = config;
    const settings = props.settings ?? airlockSettings(platform);

    this.key = new PlatformKey(this, 'AirlockKey', {
      alias: `alias/${platform.name}/airlock`,
      description: `${platform.displayName}: encrypts output requests, checked files and released outputs`,
    }).key;
    this.accessLogs = new AccessLogBucket(this, 'AirlockAccessLogs', { retentionDays: platform.retention.accessLogsDays }).bucket;
    this.store = new AirlockBucket(this, 'Airlock', {
      encryptionKey: this.key,
      accessLogsBucket: this.accessLogs,
      // Project roles by name pattern: each active project's rights are granted on its own
      // role by its workspace (ProjectWorkspace), so an expired project has none.
      projectRoleArnPattern: this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: projectRoleNamePattern(config) }),
    });
    this.bucket = this.store.bucket;
    this.signingKey = new AirlockSigningKey(this, 'ManifestSigningKey', {
      alias: `alias/${platform.name}/airlock-signing`,
      description: `${platform.displayName}: signs airlock release manifests (ECDSA P-256, SHA-256)`,
    });

    this.releaseService = new AirlockReleaseService(this, 'ReleaseService', {
      name: platform.name,
      snapshot: airlockConfigSnapshot(config),
      store: this.store,
      signingKey: this.signingKey,
      key: this.key,
    });

    const reviewerArns = settings.reviewers.filter((r) => iamPrincipalArn.safeParse(r).success);
    if (reviewerArns.length > 0) {
      this.reviewers = new AirlockReviewers(this, 'Reviewers', {
        platformName: platform.name,
        reviewerArns,
        store: this.store,
        signingKey: this.signingKey,
        releaseService: this.releaseService,
      });
    } else {
      Annotations.of(this).addInfo('airlock.reviewers names no IAM principal ARN: no reviewer roles are created, so nothing can be released on AWS');
    }

    new CfnOutput(this, 'AirlockBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'ManifestSigningKeyArn', { value: this.signingKey.key.keyArn });
    new CfnOutput(this, 'ReleaseServiceUrl', {
      value: this.releaseService.url.url,
      description: 'sde output ... --release-service URL (reviewers call it with their reviewer role)',
    });
  }
}

export interface AirlockStackOptions extends StackProps {
  readonly settings?: AirlockSettings;
}

/** The airlock stack as createStacks adds it: `<platform>-airlock`, before the workspaces, whose roles it grants to. */
export function createAirlockStack(scope: Construct, config: SdeConfig, options: AirlockStackOptions = {}): AirlockStack {
  return new AirlockStack(scope, 'Airlock', {
    stackName: stackName(config, 'airlock'),
    description: `${config.platform.displayName}: safe-outputs airlock (request store, egress, manifest signing key, reviewer roles)`,
    ...options,
    config,
  });
}
