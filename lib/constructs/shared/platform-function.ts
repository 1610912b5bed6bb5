import * as path from 'node:path';
import { CfnResource, Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
// The function cdk-nag itself uses to name a resource in a finding, so an acknowledgement
// names exactly that finding.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { shellQuote } from './bundled-json';
import { DUCKDB_EXTERNAL_MODULES, DuckDbPackaging } from './duckdb-packaging';
import { EncryptedLogGroup } from './encrypted-log-group';
import type { PlatformDeadLetterQueue } from './platform-dead-letter-queue';
import { ManagedPolicyRole } from './managed-policy-role';

/**
 * The newest Node.js runtime this aws-cdk-lib offers without a deprecation: AwsSolutions-L1
 * wants the latest, and an older one would reach end of support sooner.
 */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Object actions an ingestion function may be granted: never s3:*, never version deletes or Object Lock changes. */
export type ObjectAction = 's3:GetObject' | 's3:GetObjectVersion' | 's3:PutObject' | 's3:AbortMultipartUpload' | 's3:DeleteObject';

/** Name of the bundled config file in every ingestion function's asset (next to index.js). */
export const INGESTION_CONFIG_FILE = 'sde-ingest-config.json';

export interface PlatformFunctionProps {
  /** The handler's TypeScript file (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  /** The function's log group name, e.g. `/onelondon-sde/ingestion/plan`. */
  readonly logGroupName: string;
  /** Encrypts the log group: a customer-managed key in the same stack. */
  readonly logKey: kms.Key;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Powertools service name (logger and metrics dimension). */
  readonly serviceName: string;
  /** Powertools metrics namespace. */
  readonly metricsNamespace: string;
  /**
   * A JSON file copied into the asset as `sde-ingest-config.json`: the parsed dataset config,
   * so the function reads the same typed model as the CDK app, with no size limit and no
   * secret in it. @default - none
   */
  readonly configFile?: string;
  /** Extra environment variables (names and ARNs only: never a key or personal data). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 512 */
  readonly memorySizeMiB?: number;
  /** @default 512 */
  readonly ephemeralStorageMiB?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency: caps what one burst of landed files can take from the account,
   * and guarantees ingestion that much even when other functions are busy.
   */
  readonly reservedConcurrentExecutions: number;
  /** Node.js options besides `--enable-source-maps` (always set: stack traces name the TypeScript source). @default - none */
  readonly nodeOptions?: readonly string[];
  /**
   * How DuckDB's native binding reaches the function, for those that write Parquet.
   * @default - none: `@duckdb/node-api` is replaced by `duckDbStandIn`, which fails if used
   */
  readonly duckdb?: DuckDbPackaging;
  /** Bundled in place of `@duckdb/node-api` when `duckdb` is not set. @default - none (DuckDB is bundled as is, which fails for its native binding) */
  readonly duckDbStandIn?: string;
  /** Receives the event of an asynchronous invocation that failed all its retries. */
  readonly deadLetterQueue: PlatformDeadLetterQueue;
}

/**
 * A thin ingestion handler as a Lambda function: bundled on this machine with the
 * project's own esbuild (never Docker, so synth works offline and in CI without a daemon),
 * on the newest Node.js runtime, ARM64 unless its native DuckDB binding needs another
 * architecture, with reserved concurrency, X-Ray tracing, Powertools logging and metrics,
 * and its own KMS-encrypted log group. Its role starts with no permissions beyond writing
 * its own log group and traces; grant the rest through `grantPrincipal`.
 */
export class PlatformFunction extends Construct implements iam.IGrantable {
  readonly function: nodejs.NodejsFunction;
  readonly role: ManagedPolicyRole;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;
  /** What the state machine invokes: the version deployed last, so IAM can name it exactly. */
  readonly alias: lambda.Alias;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    if (!Number.isInteger(props.reservedConcurrentExecutions) || props.reservedConcurrentExecutions < 1) {
      throw new Error(`PlatformFunction ${id}: reservedConcurrentExecutions must be a whole number of at least 1 (got ${props.reservedConcurrentExecutions})`);
    }

    this.logGroup = new EncryptedLogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      encryptionKey: props.logKey,
      retention: props.logRetention,
    }).logGroup;

    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${Stack.of(this).stackName} ${id}: ${props.description}`.slice(0, 1000),
    });
    this.grantPrincipal = this.role;
    // Only this function's own log group (not the account-wide rights of AWSLambdaBasicExecutionRole).
    this.logGroup.grantWrite(this.role);

    const afterBundling: string[] = [];
    if (props.configFile !== undefined) afterBundling.push(`cp ${shellQuote(props.configFile)} {{out}}/${INGESTION_CONFIG_FILE}`);
    for (const [name, dir] of props.duckdb?.packageDirs() ?? []) {
      afterBundling.push(`mkdir -p {{out}}/node_modules/${path.posix.dirname(name)}`, `cp -RL ${shellQuote(dir)} {{out}}/node_modules/${name}`);
    }

    const layers =
      props.duckdb?.layerVersionArn === undefined ? [] : [lambda.LayerVersion.fromLayerVersionArn(this, 'DuckDbLayer', props.duckdb.layerVersionArn)];
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description.slice(0, 256),
      runtime: FUNCTION_RUNTIME,
      // Old versions are removed once the alias has moved on: nothing invokes them by number.
      currentVersionOptions: { removalPolicy: RemovalPolicy.DESTROY },
      architecture: props.duckdb?.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMiB ?? 512,
      ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMiB ?? 512),
      timeout: props.timeout ?? Duration.minutes(1),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      layers,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // The event can name objects and, on failure, carry messages: never log it whole.
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        NODE_OPTIONS: ['--enable-source-maps', ...(props.nodeOptions ?? [])].join(' '),
        ...props.environment,
      },
      bundling: {
        // The local esbuild (a dependency): no Docker, so synth is offline and reproducible.
        forceDockerBundling: false,
        // Bundle the SDK version the lock file pins rather than whatever the runtime ships.
        bundleAwsSDK: true,
        externalModules: props.duckdb === undefined ? [] : [...DUCKDB_EXTERNAL_MODULES],
        esbuildArgs: props.duckdb === undefined && props.duckDbStandIn !== undefined ? { '--alias:@duckdb/node-api': props.duckDbStandIn } : undefined,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        format: nodejs.OutputFormat.CJS,
        commandHooks:
          afterBundling.length === 0
            ? undefined
            : {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => afterBundling.map((c) => c.replaceAll('{{out}}', shellQuote(outputDir))),
              },
      },
    });
    this.alias = new lambda.Alias(this, 'Live', { aliasName: 'live', version: this.function.currentVersion });

    // The state machine invokes the function synchronously and catches its failures; an
    // asynchronous invocation (by hand, during an incident) lands its failures in the same
    // queue. Set on the L1 with an exact grant: the L2 option grants kms:ReEncrypt* and
    // kms:GenerateDataKey* as well, which sending does not need.
    const cfnFunction = this.function.node.defaultChild as lambda.CfnFunction;
    cfnFunction.deadLetterConfig = { targetArn: props.deadLetterQueue.queue.queueArn };
    props.deadLetterQueue.grantSend(this.role);

    Validations.of(this.role.policy.node.defaultChild as iam.CfnManagedPolicy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray does not scope to a resource; every S3, KMS, SQS and Secrets Manager permission names its resource.',
    });
    const noVpc =
      'The data lake has no VPC: the function reaches only S3, Secrets Manager and SQS through IAM-scoped, TLS-only AWS APIs, has no inbound path, and its role can write only its own prefixes.';
    Validations.of(cfnFunction).acknowledge(
      { id: 'HIPAA.Security::HIPAA.Security-LambdaInsideVPC', reason: noVpc },
      { id: 'NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC', reason: noVpc },
      { id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason: noVpc },
    );
  }

  /**
   * Grants object actions under key patterns of one bucket (exact actions, never `s3:*`).
   * Each pattern with a wildcard is acknowledged for AwsSolutions-IAM5 with `why`: object
   * keys carry batch ids known only at run time, so a prefix is the narrowest resource.
   */
  grantObjects(bucket: s3.IBucket, actions: readonly ObjectAction[], keyPatterns: readonly string[], why: string): iam.Grant {
    if (keyPatterns.length === 0 || keyPatterns.some((p) => p === '*' || p.startsWith('/'))) {
      throw new Error(`PlatformFunction.grantObjects: name key patterns under a prefix (not "*"): ${JSON.stringify(keyPatterns)}`);
    }
    const arns = keyPatterns.map((p) => bucket.arnForObjects(p));
    const grant = iam.Grant.addToPrincipal({ grantee: this.role, actions: [...actions], resourceArns: arns });
    const wildcards = arns.filter((_a, i) => keyPatterns[i].includes('*'));
    for (const statement of grant.principalStatements) this.acknowledgeWildcardResources(this.role.policyHolding(statement), wildcards, why);
    return grant;
  }

  /** s3:ListBucket on the whole bucket: without it, S3 answers 403 rather than 404 for a missing manifest. */
  grantList(bucket: s3.IBucket): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee: this.role, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
  }

  /** Lets the function use a bucket key for S3 objects only (kms:ViaService): read and write. */
  grantKeyThroughS3(key: kms.IKey): iam.Grant {
    const stack = Stack.of(this);
    return iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resourceArns: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    });
  }

  /**
   * cdk-nag names a wildcard resource by its value as it appears in this template; for a
   * bucket in another stack that value exists only once CDK has wired the cross-stack
   * reference (after construction, before validation), so the acknowledgement is made then.
   */
  private acknowledgeWildcardResources(managedPolicy: iam.ManagedPolicy, arns: readonly string[], why: string): void {
    const policy = managedPolicy.node.defaultChild as CfnResource;
    let done = false;
    this.node.addValidation({
      validate: () => {
        if (!done) {
          const stack = Stack.of(policy);
          Validations.of(policy).acknowledge(
            ...arns.map((arn) => ({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(arn))}]`, reason: why })),
          );
          done = true;
        }
        return [];
      },
    });
  }
}
