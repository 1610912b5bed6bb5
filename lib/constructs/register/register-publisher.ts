import * as path from 'node:path';
import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REGISTER_FILES } from '../../register/render';
import { REGISTER_SNAPSHOT_FILE, type RegisterConfigSnapshot } from '../../register/snapshot';
import { acknowledgeOnceResolved } from '../shared/acknowledge-once-resolved';
import { stageBundledJson } from '../shared/bundled-json';
import { PlatformDeadLetterQueue } from '../shared/platform-dead-letter-queue';
import { PlatformFunction } from '../shared/platform-function';

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
 * config, and publishes it: a PlatformFunction (lambdas/register/publish.ts; the local
 * esbuild, the newest Node.js runtime, an encrypted log group, X-Ray, customer-managed
 * policies only), one run at a time (reserved concurrency 1), failed runs and undeliverable
 * schedule events to an encrypted dead-letter queue, and a role that can read the trail
 * prefix (logs and digests), CloudTrail's public keys and query statistics, and write
 * exactly the three register files, nothing else.
 */
export class RegisterPublisher extends Construct {
  readonly function: PlatformFunction;
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  readonly rule: events.Rule;
  /** The schedule rule's name and ARN, known before the rule exists (key policies name it without a dependency cycle). */
  readonly ruleName: string;
  readonly ruleArn: string;

  constructor(scope: Construct, id: string, props: RegisterPublisherProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const auditPrefix = props.auditPrefix ?? 'AWSLogs/';
    const functionName = `${props.name}-register-publisher`;
    this.ruleName = `${functionName}-daily`;
    this.ruleArn = stack.formatArn({ service: 'events', resource: 'rule', resourceName: this.ruleName });

    this.deadLetterQueue = new PlatformDeadLetterQueue(this, 'DeadLetters', { encryptionKey: props.registerKey });
    // 'Default': the function and its role keep the logical ids they had before this
    // construct used the shared function construct.
    this.function = new PlatformFunction(this, 'Default', {
      entry: HANDLER_ENTRY,
      functionName,
      description: 'Regenerates the public transparency register from the config and the audit trail',
      logGroupName: `/aws/lambda/${functionName}`,
      logKey: props.registerKey,
      logRetention: props.logRetention,
      serviceName: 'register',
      metricsNamespace: `${props.name}/register`,
      // The config snapshot is built into the bundle as a file, so a governance change is
      // published through the same reviewed deployment as the grants.
      configFile: stageBundledJson('sde-register-snapshot', props.snapshot),
      configFileName: REGISTER_SNAPSHOT_FILE,
      environment: {
        AUDIT_BUCKET: props.auditBucket.bucketName,
        AUDIT_PREFIX: auditPrefix,
        REGISTER_BUCKET: props.registerBucket.bucketName,
        ...(props.airlockBucket ? { AIRLOCK_BUCKET: props.airlockBucket.bucketName } : {}),
      },
      memorySizeMiB: 1024,
      timeout: Duration.minutes(15),
      // One run at a time: two overlapping runs would race each other's uploads.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: this.deadLetterQueue,
      // CloudTrail's public keys, to check the trail's digest signatures before counting anything.
      unscopedActions: {
        actions: ['cloudtrail:ListPublicKeys'],
        why: 'the public keys CloudTrail signs digest files with, to check the trail before publishing from it',
      },
      noVpcReason:
        "It only calls the S3 API (list and read the CloudTrail prefix, read and write the public register files), CloudTrail's public keys and Athena query metadata under a role scoped to exactly that, and has no inbound path; a VPC would add network plumbing, not a control. Its code is built from the reviewed repository at synth.",
    });

    const workgroups = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workgroupNamePattern });
    const s3ViaService = { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } };
    const readTrail = new iam.PolicyStatement({ sid: 'ReadTrail', actions: ['s3:GetObject'], resources: [props.auditBucket.arnForObjects(`${auditPrefix}*`)] });
    // Bytes scanned, which CloudTrail does not record: query metadata of the project workgroups only.
    const readQueryStatistics = new iam.PolicyStatement({ sid: 'ReadQueryStatistics', actions: ['athena:BatchGetQueryExecution'], resources: [workgroups] });
    const statements = [
      new iam.PolicyStatement({
        sid: 'ListTrail',
        actions: ['s3:ListBucket'],
        resources: [props.auditBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${auditPrefix}*`] } },
      }),
      readTrail,
      new iam.PolicyStatement({ sid: 'DecryptTrail', actions: ['kms:Decrypt'], resources: [props.auditKey.keyArn], conditions: s3ViaService }),
      readQueryStatistics,
      // The published register.json holds the data scanned of months Athena has forgotten
      // (45 days of history); listing makes a first run's missing file a 404, not a 403.
      new iam.PolicyStatement({ sid: 'ListRegister', actions: ['s3:ListBucket'], resources: [props.registerBucket.bucketArn] }),
      new iam.PolicyStatement({
        sid: 'ReadPublishedRegister',
        actions: ['s3:GetObject'],
        resources: [props.registerBucket.arnForObjects(REGISTER_FILES.json)],
      }),
      new iam.PolicyStatement({ sid: 'DecryptPublishedRegister', actions: ['kms:Decrypt'], resources: [props.registerKey.keyArn], conditions: s3ViaService }),
      new iam.PolicyStatement({
        sid: 'WriteRegister',
        actions: ['s3:PutObject'],
        resources: Object.values(REGISTER_FILES).map((f) => props.registerBucket.arnForObjects(f)),
      }),
      new iam.PolicyStatement({ sid: 'EncryptRegister', actions: ['kms:GenerateDataKey'], resources: [props.registerKey.keyArn], conditions: s3ViaService }),
    ];
    for (const statement of statements) this.function.role.addToPrincipalPolicy(statement);
    const policyOf = (statement: iam.PolicyStatement) => this.function.role.policyHolding(statement).node.defaultChild as CfnResource;

    this.rule = new events.Rule(this, 'Schedule', {
      ruleName: this.ruleName,
      description: 'Regenerate the public transparency register',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '5' }),
      targets: [
        new targets.LambdaFunction(this.function.alias, { deadLetterQueue: this.deadLetterQueue.queue, retryAttempts: 2, maxEventAge: Duration.hours(6) }),
      ],
    });
    // EventBridge puts events it could not deliver into the encrypted dead-letter queue.
    this.deadLetterQueue.allowEventBridgeRule(this.ruleArn);

    acknowledgeOnceResolved(this, policyOf(readTrail), props.auditBucket.arnForObjects(`${auditPrefix}*`), (resource) => ({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
      reason: `Read-only (s3:GetObject) on the CloudTrail prefix of the audit bucket: CloudTrail names its log files by account, region, day and a random suffix, so they cannot be listed in advance.`,
    }));
    acknowledgeOnceResolved(this, policyOf(readQueryStatistics), workgroups, (resource) => ({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
      reason: `Read-only query metadata (athena:BatchGetQueryExecution, for bytes scanned) of the project workgroups only: every one is named ${props.workgroupNamePattern} (lib/config/naming.ts), so the security team's workgroup does not match, and a list of every project's workgroup would outgrow a managed policy.`,
    }));
  }
}
