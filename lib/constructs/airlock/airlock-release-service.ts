import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AIRLOCK_SNAPSHOT_FILE, type AirlockConfigSnapshot } from '../../airlock/release-service';
import { RELEASED_PREFIX, REQUESTS_PREFIX, SUBMISSIONS_PREFIX } from '../../airlock/bucket-layout';
import { stageBundledJson } from '../shared/bundled-json';
import { PlatformDeadLetterQueue } from '../shared/platform-dead-letter-queue';
import { PlatformFunction } from '../shared/platform-function';
import type { AirlockBucket } from './airlock-bucket';
import type { AirlockSigningKey } from './airlock-signing-key';

/** The handler: the local airlock's service and workflow over the S3 store and KMS (lib/airlock/release-service.ts). */
const HANDLER_ENTRY = path.join(__dirname, '..', '..', '..', 'lambdas', 'airlock', 'release.ts');

export interface AirlockReleaseServiceProps {
  /** Names the function and its log group: `<name>-airlock-release`. */
  readonly name: string;
  /** The part of the validated config the workflow reads (projects, researchers, airlock settings), built into the bundle. */
  readonly snapshot: AirlockConfigSnapshot;
  readonly store: AirlockBucket;
  readonly signingKey: AirlockSigningKey;
  /** Encrypts the function's log group and dead-letter queue (the airlock's own key). */
  readonly key: kms.Key;
  /** @default one year */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The server side of the airlock's two-person rule: a PlatformFunction behind an
 * IAM-authorised function URL, the only principal that may write request state
 * (`requests/`) and the egress (`released/`) of the airlock bucket and use the signing key's
 * `kms:Sign` (the bucket and key policies deny everyone else, whatever their IAM policies
 * say). Reviewers call it with their own roles (grantInvoke); it runs the same workflow as
 * the local airlock, with the caller's ARN as Lambda authenticated it, so a reviewer using
 * raw S3 or KMS calls can neither record an approval nor release nor sign.
 */
export class AirlockReleaseService extends Construct {
  readonly function: PlatformFunction;
  readonly url: lambda.FunctionUrl;
  readonly deadLetterQueue: PlatformDeadLetterQueue;

  constructor(scope: Construct, id: string, props: AirlockReleaseServiceProps) {
    super(scope, id);
    const functionName = `${props.name}-airlock-release`;
    this.deadLetterQueue = new PlatformDeadLetterQueue(this, 'DeadLetters', { encryptionKey: props.key });
    this.function = new PlatformFunction(this, 'Default', {
      entry: HANDLER_ENTRY,
      functionName,
      description: 'The airlock release service: checks, reviews and releases output requests; the only writer of request state and releases, the only signer',
      logGroupName: `/aws/lambda/${functionName}`,
      logKey: props.key,
      logRetention: props.logRetention,
      serviceName: 'airlock',
      metricsNamespace: `${props.name}/airlock`,
      // Built into the bundle, so a change of reviewers or projects reaches the service only
      // through the same reviewed deployment as the grants.
      configFile: stageBundledJson('sde-airlock-snapshot', props.snapshot),
      configFileName: AIRLOCK_SNAPSHOT_FILE,
      environment: { AIRLOCK_BUCKET: props.store.bucket.bucketName, SIGNING_KEY_ARN: props.signingKey.key.keyArn },
      memorySizeMiB: 1024,
      // The disclosure checks of a request's files (each at most maxFileBytes) against the project's memory.
      timeout: Duration.minutes(5),
      // A handful of reviewers; two acting at once are ordered by S3's conditional writes.
      reservedConcurrentExecutions: 2,
      deadLetterQueue: this.deadLetterQueue,
      noVpcReason:
        'It calls only S3 (the airlock bucket) and KMS (its signing key), under a role scoped to exactly those, and is reached only through its IAM-authorised function URL; the bucket and key policies name it as the only writer and signer, so a VPC would add network plumbing, not a control.',
    });

    const fn = this.function;
    const why = 'The release service reads and writes the airlock bucket by prefix: object keys carry project and request ids known only at run time.';
    fn.grantList(props.store.bucket);
    fn.grantObjects(props.store.bucket, ['s3:GetObject'], [`${SUBMISSIONS_PREFIX}*`, `${REQUESTS_PREFIX}*`], why);
    fn.grantObjects(props.store.bucket, ['s3:PutObject'], [`${REQUESTS_PREFIX}*`, `${RELEASED_PREFIX}*`], why);
    // Retagging staged egress objects released, and reading their tags to finish an interrupted release.
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObjectTagging', 's3:GetObjectTagging'],
        resources: [props.store.bucket.arnForObjects(`${RELEASED_PREFIX}*`)],
      }),
    );
    fn.grantKeyThroughS3(props.store.encryptionKey);
    props.signingKey.grantSign(fn.role);
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey'], resources: [props.signingKey.key.keyArn] }));
    props.store.allowReleaseBy(fn.role);
    props.signingKey.restrictSigningTo(fn.role);

    // Only IAM-signed calls reach the handler: Lambda checks the SigV4 signature and puts
    // the caller's ARN in the event. On the live alias, the version deployed last.
    this.url = fn.alias.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  }

  /** Lets a reviewer's role (or policy) call the service through its URL. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.url.grantInvokeUrl(grantee);
  }
}
