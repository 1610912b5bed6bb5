import * as path from 'node:path';
import { ArnFormat, CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeOnceResolved } from '../shared/acknowledge-once-resolved';
import { REGISTER_FILES } from '../../register/render';
import { REGISTER_SNAPSHOT_FILE, type RegisterConfigSnapshot } from '../../register/snapshot';
import { copyIntoBundle, stageBundledJson } from '../shared/bundled-json';

/** The handler: pure register code plus an S3 adapter (lib/register/publish.ts). */
const HANDLER_ENTRY = path.join(__dirname, '..', '..', '..', 'lambdas', 'register', 'publish.ts');

export interface RegisterPublisherProps {
  /** Used for the function, log group and queue names. */
  readonly name: string;
  /** What the register is built from: the config, as validated at synth (lib/register/snapshot.ts). */
  readonly snapshot: RegisterConfigSnapshot;
  /** The CloudTrail bucket the function reads (the AuditStack's). */
  readonly auditBucket: s3.IBucket;
  /** The key the trail is encrypted with. */
  readonly auditKey: kms.IKey;
  /** Where CloudTrail writes in the audit bucket. @default 'AWSLogs/' */
  readonly auditPrefix?: string;
  /**
   * The project workgroups' name pattern (lib/config/naming.ts projectWorkgroupNamePattern): the
   * function reads the statistics (bytes scanned) of their queries with BatchGetQueryExecution.
   */
  readonly workgroupNamePattern: string;
  /** The airlock bucket, whose manifest retags the trail records are releases. @default none: no S3 event counts as a release */
  readonly airlockBucket?: s3.IBucket;
  /** The register site's bucket and key: the function writes the three register files only. */
  readonly registerBucket: s3.IBucket;
  readonly registerKey: kms.Key;
  /** When to regenerate. @default every day at 05:00 UTC */
  readonly schedule?: events.Schedule;
  /** @default one year */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A scheduled function that regenerates the public register from the audit trail and the
 * config, and publishes it. Built with the local esbuild (never Docker), on the newest
 * Node.js runtime. One run at a time (reserved concurrency 1), failed runs to an encrypted
 * dead-letter queue, logs to an encrypted group, and a role that can read the trail prefix
 * and write exactly the three register files, nothing else.
 */
export class RegisterPublisher extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
  readonly deadLetterQueue: sqs.Queue;
  readonly logGroup: logs.LogGroup;
  readonly rule: events.Rule;
  /** The schedule rule's name and ARN, known before the rule exists (key policies name it without a dependency cycle). */
  readonly ruleName: string;
  readonly ruleArn: string;

  constructor(scope: Construct, id: string, props: RegisterPublisherProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const auditPrefix = props.auditPrefix ?? 'AWSLogs/';
    const functionName = `${props.name}-register-publisher`;
    const logGroupName = `/aws/lambda/${functionName}`;
    this.ruleName = `${functionName}-daily`;
    this.ruleArn = stack.formatArn({ service: 'events', resource: 'rule', resourceName: this.ruleName });

    props.registerKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsUseKeyForRegisterPublisherLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: logGroupName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      encryptionKey: props.registerKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      queueName: `${functionName}-dlq`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.registerKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // It is itself the dead-letter queue: declared so, it needs none of its own.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Regenerates the public transparency register: verifies and reads the CloudTrail prefix, reads query statistics, writes the three register files.',
    });
    // A named managed policy (HIPAA and NIST want permissions reviewable as named policies,
    // not inline), holding every permission: the function gets its role without policy
    // updates, so nothing CDK adds implicitly can widen it.
    const workgroups = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workgroupNamePattern });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description:
        'Transparency register publisher: read the audit trail prefix (logs and digests), CloudTrail public keys and project query statistics, read the published register.json, write index.html, register.json and register.csv, log, dead-letter.',
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ListTrail',
          actions: ['s3:ListBucket'],
          resources: [props.auditBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${auditPrefix}*`] } },
        }),
        new iam.PolicyStatement({ sid: 'ReadTrail', actions: ['s3:GetObject'], resources: [props.auditBucket.arnForObjects(`${auditPrefix}*`)] }),
        new iam.PolicyStatement({
          sid: 'DecryptTrail',
          actions: ['kms:Decrypt'],
          resources: [props.auditKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
        // CloudTrail's public keys, to check the digest signatures of the trail before counting it.
        new iam.PolicyStatement({ sid: 'ReadCloudTrailPublicKeys', actions: ['cloudtrail:ListPublicKeys'], resources: ['*'] }),
        // Bytes scanned, which CloudTrail does not record: query metadata of the project workgroups only.
        new iam.PolicyStatement({ sid: 'ReadQueryStatistics', actions: ['athena:BatchGetQueryExecution'], resources: [workgroups] }),
        // The published register.json holds the data scanned of months Athena has forgotten
        // (45 days of history); listing makes a first run's missing file a 404, not a 403.
        new iam.PolicyStatement({ sid: 'ListRegister', actions: ['s3:ListBucket'], resources: [props.registerBucket.bucketArn] }),
        new iam.PolicyStatement({
          sid: 'ReadPublishedRegister',
          actions: ['s3:GetObject'],
          resources: [props.registerBucket.arnForObjects(REGISTER_FILES.json)],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptPublishedRegister',
          actions: ['kms:Decrypt'],
          resources: [props.registerKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          sid: 'WriteRegister',
          actions: ['s3:PutObject'],
          resources: Object.values(REGISTER_FILES).map((f) => props.registerBucket.arnForObjects(f)),
        }),
        new iam.PolicyStatement({
          sid: 'EncryptRegister',
          actions: ['kms:GenerateDataKey'],
          resources: [props.registerKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({ sid: 'Log', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
        new iam.PolicyStatement({ sid: 'DeadLetter', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
        new iam.PolicyStatement({
          sid: 'EncryptDeadLetters',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [props.registerKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${stack.region}.amazonaws.com` } },
        }),
      ],
    });

    // Bundled by the esbuild in node_modules (a dependency of this project). CDK would fall
    // back to Docker without it; refuse instead, with the fix.
    try {
      require.resolve('esbuild/package.json');
    } catch {
      throw new Error(
        'RegisterPublisher: esbuild is not installed, and the function is never bundled with Docker; run `npm install` (esbuild is in package.json)',
      );
    }
    const snapshotFile = stageBundledJson('sde-register-snapshot', props.snapshot);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName,
      description: 'Regenerates the public transparency register from the config and the audit trail',
      entry: HANDLER_ENTRY,
      handler: 'handler',
      // The newest Node.js runtime aws-cdk-lib offers (AwsSolutions-L1 checks it).
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: Duration.minutes(15),
      // One run at a time: two overlapping runs would race each other's uploads.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      logGroup: this.logGroup,
      role: this.role.withoutPolicyUpdates(),
      environment: {
        AUDIT_BUCKET: props.auditBucket.bucketName,
        AUDIT_PREFIX: auditPrefix,
        REGISTER_BUCKET: props.registerBucket.bucketName,
        ...(props.airlockBucket ? { AIRLOCK_BUCKET: props.airlockBucket.bucketName } : {}),
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: false,
        target: 'node24',
        // The config snapshot is built into the bundle as a file, so a governance change is
        // published through the same reviewed deployment as the grants.
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [copyIntoBundle(snapshotFile, outputDir, REGISTER_SNAPSHOT_FILE)],
        },
      },
    });
    this.function.node.addDependency(this.policy);

    // EventBridge puts events it could not deliver into the encrypted dead-letter queue.
    props.registerKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeDeadLettersForRegisterSchedule',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { ArnEquals: { 'aws:SourceArn': this.ruleArn } },
      }),
    );
    this.rule = new events.Rule(this, 'Schedule', {
      ruleName: this.ruleName,
      description: 'Regenerate the public transparency register',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '5' }),
      targets: [new targets.LambdaFunction(this.function, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.hours(6) })],
    });

    const noVpc =
      'It only calls the S3 API (list and read the CloudTrail prefix, read and write the public register files) and Athena query metadata under a role scoped to exactly that, and has no inbound path; a VPC would add network plumbing, not a control. Its code is built from the reviewed repository at synth.';
    Validations.of(this.function.node.defaultChild as lambda.CfnFunction).acknowledge(
      { id: 'HIPAA.Security::HIPAA.Security-LambdaInsideVPC', reason: noVpc },
      { id: 'NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC', reason: noVpc },
      { id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason: noVpc },
    );

    acknowledgeOnceResolved(this, this.policy.node.defaultChild as CfnResource, props.auditBucket.arnForObjects(`${auditPrefix}*`), (resource) => ({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
      reason: `Read-only (s3:GetObject) on the CloudTrail prefix of the audit bucket: CloudTrail names its log files by account, region, day and a random suffix, so they cannot be listed in advance.`,
    }));
    Validations.of(this.policy.node.defaultChild as CfnResource).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudtrail:ListPublicKeys only, which has no resource-level permissions (the Service Authorization Reference lists no resource type for it): it returns the public keys CloudTrail signs digest files with, which are public, so the function can check the trail before publishing from it.',
    });
    acknowledgeOnceResolved(this, this.policy.node.defaultChild as CfnResource, workgroups, (resource) => ({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
      reason: `Read-only query metadata (athena:BatchGetQueryExecution, for bytes scanned) of the project workgroups only: every one is named ${props.workgroupNamePattern} (lib/config/naming.ts), so the security team's workgroup does not match, and a list of every project's workgroup would outgrow a managed policy.`,
    }));
  }
}
