import { Annotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SecureBucket } from '../storage/secure-bucket';

export interface RegisterSiteDomain {
  /** The public names of the register, e.g. `register.example.nhs.uk`. */
  readonly names: readonly string[];
  /** An ACM certificate for those names, in us-east-1 (CloudFront's requirement). */
  readonly certificate: acm.ICertificate;
}

export interface RegisterSiteProps {
  /** Encrypts the site and its CloudFront logs (CloudFront and log delivery are allowed to use it). */
  readonly encryptionKey: kms.Key;
  /** Where S3 server access logs of the two buckets go. */
  readonly accessLogsBucket: s3.IBucket;
  /** The Content-Security-Policy header value (see lib/register/csp.ts). */
  readonly contentSecurityPolicy: string;
  /**
   * A custom domain with its certificate: only then can CloudFront hold viewers to TLS 1.2
   * (the default *.cloudfront.net certificate allows older protocols).
   * @default - the distribution's cloudfront.net name
   */
  readonly domain?: RegisterSiteDomain;
  /**
   * Keep CloudFront access logs this many days. They hold readers' IP addresses, so
   * they are kept only as long as investigating abuse needs (data minimisation).
   * @default 90
   */
  readonly logRetentionDays?: number;
}

/**
 * The public transparency register as a website: a private bucket that only this
 * distribution can read (origin access control, SigV4), HTTPS only, strict security
 * headers, access logs, index.html as the root. The bucket stays fully private: the
 * public reads through CloudFront, never from S3.
 */
export class RegisterSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headers: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: RegisterSiteProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bucket = new SecureBucket(this, 'Site', {
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      accessLogsPrefix: 'register-site/',
    }).bucket;

    // CloudFront's standard logs are written by the log delivery account with an object
    // ACL, so this bucket (alone) must accept ACLs; the owner still owns every object.
    const logs = new SecureBucket(this, 'CdnLogs', {
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      accessLogsPrefix: 'register-cdn-logs/',
      expireAfterDays: props.logRetentionDays ?? 90,
      noncurrentVersionDays: 1,
    });
    this.logBucket = logs.bucket;
    (this.logBucket.node.defaultChild as s3.CfnBucket).ownershipControls = { rules: [{ objectOwnership: 'BucketOwnerPreferred' }] };
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudFrontLogDeliveryEncryptsRegisterLogs',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Transparency register: HTTPS only, no scripts, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: props.contentSecurityPolicy, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        // The page needs no device features: deny them all.
        customHeaders: [{ header: 'Permissions-Policy', value: 'camera=(), geolocation=(), microphone=(), interest-cohort=()', override: true }],
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Transparency register',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // Europe and North America edges: the register's readers are in the deployment region.
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      // With a custom domain: TLS 1.2+ with SNI. The default *.cloudfront.net certificate's
      // policy is fixed by AWS (TLSv1), so these only apply with a certificate.
      ...(props.domain
        ? {
            domainNames: [...props.domain.names],
            certificate: props.domain.certificate,
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            sslSupportMethod: cloudfront.SSLMethod.SNI,
          }
        : {}),
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      logIncludesCookies: false,
    });

    const cfn = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    Validations.of(cfn).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-CFR1',
        reason:
          'The register is published for anyone, anywhere, by design (SATRE asks for a public register): there is no country to keep out, and nothing behind it but the public files.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-CFR2',
        reason:
          'Static public files only, from a private bucket: no forms, no query parameters reach the origin, nothing dynamic for WAF rules to protect; caching and Shield Standard absorb floods.',
      },
    );
    // The key cannot name this distribution without a cycle (key -> distribution -> bucket
    // -> key); the bucket policy still admits only this distribution, so the key alone
    // lets no other distribution read the site.
    Annotations.of(props.encryptionKey.node.scope ?? props.encryptionKey).acknowledgeWarning(
      '@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
      'bucket policy scopes reads to this distribution; the key grants CloudFront decrypt only with a source ARN in this account',
    );
    Validations.of(cfn).acknowledge({
      id: 'cdk-validator-cfnguard::cloudfront_origin_failover_enabled_check',
      reason:
        "The only origin is this stack's bucket in the deployment region; a failover copy would sit in another region (data residency) or be the same bucket. The register is public information regenerated daily: a short outage harms no one.",
    });
    if (!props.domain) {
      const noCertificate =
        'No custom domain is configured, so the default cloudfront.net certificate (policy fixed by AWS) serves it; set register.domain in platform.yaml (the names and an ACM certificate in us-east-1) to enforce TLS 1.2 with SNI. The page is public, the same for everyone, with no cookies, forms or credentials; HTTPS-only and HSTS apply.';
      Validations.of(cfn).acknowledge(
        { id: 'AwsSolutions::AwsSolutions-CFR4', reason: noCertificate },
        { id: 'cdk-validator-cfnguard::cloudfront_custom_ssl_certificate_check', reason: noCertificate },
        { id: 'cdk-validator-cfnguard::cloudfront_sni_enabled_check', reason: noCertificate },
        { id: 'cdk-validator-cfnguard::cloudfront_security_policy_check', reason: noCertificate },
      );
    }
  }
}
