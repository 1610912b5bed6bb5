import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SdeConfig } from '../config/model';
import { AccessLogBucket } from '../constructs/storage/access-log-bucket';
import { PlatformKey } from '../constructs/storage/platform-key';
import { RegisterPublisher } from '../constructs/register/register-publisher';
import { RegisterSite, RegisterSiteDomain } from '../constructs/register/register-site';
import { projectWorkgroupNamePattern, stackName } from '../config/naming';
import { registerContentSecurityPolicy } from '../register/csp';
import { registerConfigSnapshot } from '../register/snapshot';

export interface RegisterStackProps extends StackProps {
  readonly config: SdeConfig;
  /** The CloudTrail bucket and its key (the AuditStack's): what the register counts. */
  readonly auditBucket: s3.IBucket;
  readonly auditKey: kms.IKey;
  /** The airlock's bucket (the AirlockStack's): the retags of its release manifests in the trail are the releases counted. @default none counted from S3 */
  readonly airlockBucket?: s3.IBucket;
  /** @default - platform.yaml `register.domain`; without it, the distribution's cloudfront.net name */
  readonly domain?: RegisterSiteDomain;
  /** @default every day at 05:00 UTC */
  readonly schedule?: events.Schedule;
}

/**
 * The public transparency register on AWS: a private bucket served only through
 * CloudFront, and a daily function that regenerates the register from the config and
 * the audit trail and publishes it there. It has its own key and access-log sink, so the
 * public site shares nothing with the health data.
 */
export class RegisterStack extends Stack {
  readonly key: kms.Key;
  readonly accessLogs: s3.Bucket;
  readonly site: RegisterSite;
  readonly publisher: RegisterPublisher;

  constructor(scope: Construct, id: string, props: RegisterStackProps) {
    super(scope, id, props);
    const { platform } = props.config;
    this.key = new PlatformKey(this, 'RegisterKey', {
      alias: `alias/${platform.name}/register`,
      description: `${platform.displayName}: encrypts the public register's bucket, logs and dead letters`,
    }).key;
    this.accessLogs = new AccessLogBucket(this, 'RegisterAccessLogs', { retentionDays: platform.retention.accessLogsDays }).bucket;
    const configured = platform.register?.domain;
    const domain =
      props.domain ??
      (configured === undefined
        ? undefined
        : { names: configured.names, certificate: acm.Certificate.fromCertificateArn(this, 'RegisterCertificate', configured.certificateArn) });
    this.site = new RegisterSite(this, 'Site', {
      encryptionKey: this.key,
      accessLogsBucket: this.accessLogs,
      contentSecurityPolicy: registerContentSecurityPolicy(),
      domain,
    });
    this.publisher = new RegisterPublisher(this, 'Publisher', {
      name: platform.name,
      snapshot: registerConfigSnapshot(props.config),
      auditBucket: props.auditBucket,
      auditKey: props.auditKey,
      workgroupNamePattern: projectWorkgroupNamePattern(props.config),
      airlockBucket: props.airlockBucket,
      registerBucket: this.site.bucket,
      registerKey: this.key,
      schedule: props.schedule,
    });

    new CfnOutput(this, 'RegisterUrl', { value: `https://${domain?.names[0] ?? this.site.distribution.distributionDomainName}/` });
    new CfnOutput(this, 'RegisterBucketName', { value: this.site.bucket.bucketName });
  }
}

/** The register stack as createStacks adds it: `<platform>-register`, reading the audit stack's trail. */
export function createRegisterStack(
  scope: Construct,
  config: SdeConfig,
  options: Omit<RegisterStackProps, 'config' | 'stackName' | 'description'>,
): RegisterStack {
  return new RegisterStack(scope, 'Register', {
    stackName: stackName(config, 'register'),
    description: `${config.platform.displayName}: public transparency register (CloudFront site, daily publisher)`,
    ...options,
    config,
  });
}
