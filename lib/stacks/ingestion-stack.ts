import * as path from 'node:path';
import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { SdeConfig } from '../config/model';
import { stageBundledJson } from '../constructs/shared/bundled-json';
import { DUCKDB_STAND_IN, DuckDbPackaging } from '../constructs/shared/duckdb-packaging';
import { IngestionAlarms } from '../constructs/ingestion/ingestion-alarms';
import { PlatformDeadLetterQueue } from '../constructs/shared/platform-dead-letter-queue';
import { PlatformFunction, type ObjectAction } from '../constructs/shared/platform-function';
import { IngestionStateMachine, MAX_MAP_CONCURRENCY } from '../constructs/ingestion/ingestion-state-machine';
import { IngestionTrigger } from '../constructs/ingestion/ingestion-trigger';
import { OptOutAlarms } from '../constructs/ingestion/optout-alarms';
import { OptOutStateMachine } from '../constructs/ingestion/optout-state-machine';
import { OptOutTrigger } from '../constructs/ingestion/optout-trigger';
import { PlatformKey } from '../constructs/storage/platform-key';
import { PseudonymKeySecret } from '../constructs/ingestion/pseudonym-key-secret';
import { stackName } from '../config/naming';
import type { DataLakeStack } from './data-lake-stack';
import { MANIFEST_PREFIX, STAGING_PREFIX } from '../ingest/layout';
import { ENV, OPT_OUT_LIST_KEY, referenceKey } from '../ingest/lambda-settings';
import { OPTOUT_PREFIX } from '../optout/layout';
import { OPTOUT_ENV } from '../optout/lambda-settings';

const HANDLERS = path.resolve(__dirname, '..', '..', 'lambdas', 'ingest');
const OPTOUT_HANDLERS = path.resolve(__dirname, '..', '..', 'lambdas', 'optout');

/** Context keys that tune ingestion without a config change (`--context key=value`). */
export const INGESTION_CONTEXT = {
  /** Chunks of one batch processed at once (Distributed Map concurrency and the chunk function's reserved concurrency). */
  maxConcurrency: 'sde:ingestMaxConcurrency',
  /** A Lambda layer version ARN with DuckDB for linux-arm64 (`nodejs/node_modules/@duckdb/...`); see the README. */
  duckdbLayerArn: 'sde:duckdbLayerArn',
} as const;

export interface IngestionSettings {
  /** Chunks processed at once; also the chunk function's reserved concurrency. @default 20 */
  readonly maxConcurrency?: number;
  /** Reserved concurrency of the plan and commit functions (each). @default 5 */
  readonly controlConcurrency?: number;
  /**
   * @default 2048: a little over one vCPU. The row loop is single-threaded JavaScript (most
   * of a chunk's CPU time, per bench/ingest.ts); more memory would mostly buy idle cores.
   */
  readonly chunkMemoryMiB?: number;
  /** How DuckDB reaches the chunk function. @default DuckDbPackaging.fromNodeModules(X86_64) */
  readonly duckdb?: DuckDbPackaging;
}

export interface IngestionStackProps extends StackProps {
  readonly config: SdeConfig;
  /** The buckets and the platform key. */
  readonly dataLake: DataLakeStack;
  /** Where alarms go (the audit stack's security alert topic). @default - a new encrypted topic for the security e-mails */
  readonly alarmTopic?: sns.ITopic;
  /** @default - the defaults of each setting */
  readonly settings?: IngestionSettings;
}

/**
 * Ingestion on AWS: a file landing under `<dataset>/` in the landing bucket starts a
 * Step Functions execution (via EventBridge) that plans byte-range chunks, processes them
 * in parallel with a Distributed Map, and commits one batch with one manifest. Failures
 * go to an encrypted dead-letter queue and raise alarms. The functions are thin handlers
 * over lib/ingest, each with only the S3 prefixes, key uses and secret it needs.
 */
export class IngestionStack extends Stack {
  /** Encrypts what this stack owns that holds no health data: logs, the dead-letter queue, a fallback alert topic. */
  readonly key: kms.Key;
  readonly pseudonymKey: PseudonymKeySecret;
  readonly deadLetterQueue: PlatformDeadLetterQueue;
  readonly plan: PlatformFunction;
  readonly chunk: PlatformFunction;
  readonly commit: PlatformFunction;
  readonly workflow: IngestionStateMachine;
  readonly trigger: IngestionTrigger;
  readonly alarms: IngestionAlarms;
  /** Later opt-outs: a new list applied to curated data (lib/optout). */
  readonly optOutPlan: PlatformFunction;
  readonly optOutRewrite: PlatformFunction;
  readonly optOutFinish: PlatformFunction;
  readonly optOutWorkflow: OptOutStateMachine;
  readonly optOutTrigger: OptOutTrigger;
  readonly optOutAlarms: OptOutAlarms;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config, dataLake } = props;
    const { platform } = config;
    const settings = props.settings ?? {};
    const maxConcurrency = settings.maxConcurrency ?? 20;
    const controlConcurrency = settings.controlConcurrency ?? 5;
    // One message naming the setting and how to fix it, before any construct is built.
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > MAX_MAP_CONCURRENCY) {
      throw new Error(
        `ingestion maxConcurrency must be a whole number from 1 to ${MAX_MAP_CONCURRENCY} (got ${String(settings.maxConcurrency)})\n` +
          `    fix: pass --context ${INGESTION_CONTEXT.maxConcurrency}=N, within your account's unreserved Lambda concurrency`,
      );
    }
    this.addStackDependency(dataLake, 'the functions read and write the data lake buckets with the platform key');

    this.key = new PlatformKey(this, 'IngestionKey', {
      alias: `alias/${platform.name}/ingestion`,
      description: `${platform.displayName}: encrypts ingestion logs, the dead-letter queue and alerts (no health data)`,
    }).key;

    this.pseudonymKey = new PseudonymKeySecret(this, 'PseudonymKey', {
      secretName: `${platform.name}/ingestion/pseudonym-key`,
      encryptionKey: dataLake.key,
    });
    this.deadLetterQueue = new PlatformDeadLetterQueue(this, 'DeadLetterQueue', { encryptionKey: this.key });

    const configFile = writeIngestionConfig(config);
    const environment = {
      [ENV.landingBucket]: dataLake.landing.bucketName,
      [ENV.curatedBucket]: dataLake.curated.bucketName,
      [ENV.quarantineBucket]: dataLake.quarantine.bucketName,
    };
    const common = {
      deadLetterQueue: this.deadLetterQueue,
      duckDbStandIn: DUCKDB_STAND_IN,
      logKey: this.key,
      metricsNamespace: `${platform.name}/ingestion`,
      configFile,
      noVpcReason:
        'The data lake has no VPC: the function reaches only S3, Secrets Manager and SQS through IAM-scoped, TLS-only AWS APIs, has no inbound path, and its role can write only its own prefixes.',
    };
    this.plan = new PlatformFunction(this, 'Plan', {
      ...common,
      entry: path.join(HANDLERS, 'plan.ts'),
      description: 'Ingestion plan: head the landed object, skip it if already committed, split it into byte-range chunks',
      logGroupName: `/${platform.name}/ingestion/plan`,
      serviceName: 'ingest-plan',
      environment,
      reservedConcurrentExecutions: controlConcurrency,
      // A multi-chunk file is read once, sequentially, to find record boundaries and its
      // SHA-256: network throughput grows with memory, and the pass bounds the file size.
      memorySizeMiB: 1769,
      timeout: Duration.minutes(15),
    });
    this.chunk = new PlatformFunction(this, 'Chunk', {
      ...common,
      entry: path.join(HANDLERS, 'chunk.ts'),
      description: 'Ingestion chunk: parse, validate, apply the national data opt-out, de-identify and write one Parquet part',
      logGroupName: `/${platform.name}/ingestion/chunk`,
      serviceName: 'ingest-chunk',
      environment: { ...environment, [ENV.pseudonymKeySecretArn]: this.pseudonymKey.secret.secretArn, [ENV.optOutKey]: OPT_OUT_LIST_KEY },
      reservedConcurrentExecutions: maxConcurrency,
      memorySizeMiB: settings.chunkMemoryMiB ?? 2048,
      // A chunk spools about 1.2x its bytes to /tmp (README, "How big a file"): room for 1 GiB chunks.
      ephemeralStorageMiB: 2048,
      timeout: Duration.minutes(15),
      duckdb: settings.duckdb ?? DuckDbPackaging.fromNodeModules(lambda.Architecture.X86_64),
      // The row loop makes many short-lived strings: a larger young generation spends less
      // time in garbage collection (bench/ingest.ts runs the pipeline with the same flag).
      nodeOptions: ['--max-semi-space-size=64'],
    });
    this.commit = new PlatformFunction(this, 'Commit', {
      ...common,
      entry: path.join(HANDLERS, 'commit.ts'),
      description: 'Ingestion commit: join the batch parts into one Parquet object and write its manifest',
      logGroupName: `/${platform.name}/ingestion/commit`,
      serviceName: 'ingest-commit',
      environment,
      reservedConcurrentExecutions: controlConcurrency,
      memorySizeMiB: 1024,
      timeout: Duration.minutes(10),
    });

    const optOutEnvironment = {
      ...environment,
      [ENV.pseudonymKeySecretArn]: this.pseudonymKey.secret.secretArn,
      [ENV.optOutKey]: OPT_OUT_LIST_KEY,
      [OPTOUT_ENV.maxRemovedShare]: String(platform.nationalDataOptOut.maxRemovedShare),
    };
    const duckdb = settings.duckdb ?? DuckDbPackaging.fromNodeModules(lambda.Architecture.X86_64);
    this.optOutPlan = new PlatformFunction(this, 'OptOutPlan', {
      ...common,
      entry: path.join(OPTOUT_HANDLERS, 'plan.ts'),
      description: 'Later opt-out plan: match the current list against every batch pseudonym index (built where missing)',
      logGroupName: `/${platform.name}/optout/plan`,
      serviceName: 'optout-plan',
      environment: { ...optOutEnvironment },
      reservedConcurrentExecutions: 1,
      memorySizeMiB: 3008,
      ephemeralStorageMiB: 10240,
      timeout: Duration.minutes(15),
      duckdb,
    });
    this.optOutRewrite = new PlatformFunction(this, 'OptOutRewrite', {
      ...common,
      entry: path.join(OPTOUT_HANDLERS, 'rewrite.ts'),
      description: 'Later opt-out rewrite: one batch object replaced without the listed rows, then its manifest',
      logGroupName: `/${platform.name}/optout/rewrite`,
      serviceName: 'optout-rewrite',
      environment: { ...optOutEnvironment },
      reservedConcurrentExecutions: controlConcurrency,
      memorySizeMiB: 3008,
      // The batch object and its rewrite sit in /tmp together: room for batches up to about 4.5 GiB.
      ephemeralStorageMiB: 10240,
      timeout: Duration.minutes(15),
      duckdb,
    });
    this.optOutFinish = new PlatformFunction(this, 'OptOutFinish', {
      ...common,
      entry: path.join(OPTOUT_HANDLERS, 'finish.ts'),
      description: "Later opt-out finish: check every batch recorded the list, write the run's record and public trace",
      logGroupName: `/${platform.name}/optout/finish`,
      serviceName: 'optout-finish',
      environment,
      reservedConcurrentExecutions: 1,
      memorySizeMiB: 512,
      timeout: Duration.minutes(5),
    });

    this.grantDataAccess(config, dataLake);

    this.workflow = new IngestionStateMachine(this, 'Workflow', {
      planFunction: this.plan.alias,
      chunkFunction: this.chunk.alias,
      commitFunction: this.commit.alias,
      deadLetterQueue: this.deadLetterQueue,
      maxConcurrency,
      logGroupName: `/aws/vendedlogs/states/${platform.name}-ingestion`,
      logKey: this.key,
    });
    this.trigger = new IngestionTrigger(this, 'Trigger', {
      ruleName: `${platform.name}-ingest-landed-object`,
      landingBucket: dataLake.landing,
      datasets: config.datasets.map((d) => d.name),
      stateMachine: this.workflow.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.alarms = new IngestionAlarms(this, 'Alarms', {
      deadLetterQueue: this.deadLetterQueue.queue,
      stateMachine: this.workflow.stateMachine,
      topic: props.alarmTopic,
      encryptionKey: this.key,
      emails: platform.alerts.securityEmails,
    });

    this.optOutWorkflow = new OptOutStateMachine(this, 'OptOutWorkflow', {
      planFunction: this.optOutPlan.alias,
      rewriteFunction: this.optOutRewrite.alias,
      finishFunction: this.optOutFinish.alias,
      curatedBucket: dataLake.curated,
      curatedKey: dataLake.key,
      deadLetterQueue: this.deadLetterQueue,
      maxConcurrency: controlConcurrency,
      logGroupName: `/aws/vendedlogs/states/${platform.name}-optout`,
      logKey: this.key,
    });
    this.optOutTrigger = new OptOutTrigger(this, 'OptOutTrigger', {
      ruleNamePrefix: `${platform.name}-optout`,
      landingBucket: dataLake.landing,
      listKey: OPT_OUT_LIST_KEY,
      stateMachine: this.optOutWorkflow.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.optOutAlarms = new OptOutAlarms(this, 'OptOutAlarms', {
      stateMachine: this.optOutWorkflow.stateMachine,
      topic: this.alarms.topic,
      metricsNamespace: common.metricsNamespace,
      planServiceName: 'optout-plan',
      maxListAgeDays: platform.nationalDataOptOut.maxListAgeDays,
    });

    new CfnOutput(this, 'OptOutStateMachineArn', { value: this.optOutWorkflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queue.queueUrl });
    new CfnOutput(this, 'PseudonymKeySecretArn', { value: this.pseudonymKey.secret.secretArn });
  }

  /**
   * Each function gets the prefixes its step touches (lib/ingest/layout.ts), exact
   * object actions, the platform key through S3 only, and nothing else:
   *
   *   plan    reads landed objects; reads manifests (idempotency); writes the plan to staging
   *   chunk   reads landed objects and the opt-out list; reads the plan and manifests; writes
   *           its part and result to staging and its rejected rows to quarantine; reads the
   *           pseudonymisation key
   *   commit  reads staging (pinned to a version) and manifests; joins the parts into one
   *           object in the dataset's table location (server-side part copies) and writes the
   *           manifest; clears staging; a bad file: copies it whole to quarantine with its
   *           error report (and removes that batch's rejected-row files)
   *
   * No function can delete an object version or change Object Lock settings, and none but
   * commit writes where Athena reads.
   */
  private grantDataAccess(config: SdeConfig, dataLake: DataLakeStack): void {
    const datasets = config.datasets.map((d) => `${d.name}/*`);
    const staging = [`${STAGING_PREFIX}/*`];
    const manifests = [`${MANIFEST_PREFIX}/*`];
    const read: ObjectAction[] = ['s3:GetObject', 's3:GetObjectVersion'];
    const write: ObjectAction[] = ['s3:PutObject', 's3:AbortMultipartUpload'];
    const why = {
      landing: 'Landed supplier files under the configured dataset prefixes only: suppliers name their files, so keys are known only when a file lands.',
      staging: "The curated bucket's _staging/ prefix only, outside every table location: plan, part and result keys carry batch ids made at run time.",
      manifests: "The curated bucket's _manifests/ prefix only, outside every table location: one manifest per batch, named by a batch id made at run time.",
      curated:
        'Table locations of the configured datasets in the curated bucket: committed part keys carry the load date and batch id, known only at run time.',
      quarantine: 'Quarantine under the configured dataset prefixes only: rejected-row files and bad files are keyed by batch ids made at run time.',
    };

    for (const fn of [this.plan, this.chunk, this.commit]) {
      fn.grantKeyThroughS3(dataLake.key);
      // A missing manifest must read as 404 (not yet committed), which needs ListBucket.
      fn.grantList(dataLake.curated);
      fn.grantObjects(dataLake.curated, ['s3:GetObject'], manifests, why.manifests);
    }
    this.plan.grantObjects(dataLake.landing, read, datasets, why.landing);
    this.plan.grantObjects(dataLake.curated, write, staging, why.staging);

    // The reference files the config names (postcode_lsoa lookups), by name: nothing else under _reference/.
    const lookups = [
      ...new Set(
        config.datasets.flatMap((d) => d.columns.flatMap((c) => (c.rule === 'postcode_lsoa' && c.lookup !== undefined ? [referenceKey(c.lookup)] : []))),
      ),
    ];
    this.chunk.grantObjects(dataLake.landing, read, [...datasets, OPT_OUT_LIST_KEY, ...lookups], why.landing);
    this.chunk.grantObjects(dataLake.curated, ['s3:GetObject', ...write], staging, why.staging);
    this.chunk.grantObjects(dataLake.quarantine, write, datasets, why.quarantine);
    this.pseudonymKey.grantRead(this.chunk);
    this.pseudonymKey.grantRead(this.optOutPlan);
    this.pseudonymKey.grantRead(this.optOutRewrite);
    this.pseudonymKey.restrictTo([this.chunk.role, this.optOutPlan.role, this.optOutRewrite.role], config.platform.breakGlassRole);

    this.commit.grantObjects(dataLake.landing, read, datasets, why.landing);
    // GetObjectVersion: the join reads and copies each staged part pinned to one version.
    this.commit.grantObjects(dataLake.curated, ['s3:GetObject', 's3:GetObjectVersion', ...write, 's3:DeleteObject'], staging, why.staging);
    this.commit.grantObjects(dataLake.curated, write, manifests, why.manifests);
    this.commit.grantObjects(dataLake.curated, write, datasets, why.curated);
    this.commit.grantObjects(dataLake.quarantine, [...write, 's3:DeleteObject'], datasets, why.quarantine);

    // Later opt-outs. plan: reads the list, manifests and batch objects (to build indexes),
    // writes its own _optout/ objects; rewrite: also replaces batch objects in the table
    // locations and updates manifests; finish: reads manifests, writes the run's record.
    const optout = [`${OPTOUT_PREFIX}/*`];
    const whyOptOut =
      "The curated bucket's _optout/ prefix only, outside every table location: indexes, plans and records keyed by batch ids and list checksums made at run time.";
    for (const fn of [this.optOutPlan, this.optOutRewrite, this.optOutFinish]) {
      fn.grantKeyThroughS3(dataLake.key);
      fn.grantList(dataLake.curated);
      fn.grantObjects(dataLake.curated, ['s3:GetObject'], manifests, why.manifests);
    }
    for (const fn of [this.optOutPlan, this.optOutRewrite]) {
      fn.grantObjects(dataLake.landing, read, [OPT_OUT_LIST_KEY], why.landing);
      fn.grantObjects(dataLake.curated, ['s3:GetObject', 's3:GetObjectVersion'], datasets, why.curated);
    }
    this.optOutPlan.grantObjects(dataLake.curated, ['s3:GetObject', 's3:PutObject'], optout, whyOptOut);
    this.optOutRewrite.grantObjects(dataLake.curated, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], optout, whyOptOut);
    this.optOutRewrite.grantObjects(dataLake.curated, ['s3:PutObject'], [...datasets, ...manifests], why.curated);
    this.optOutFinish.grantObjects(dataLake.curated, ['s3:GetObject', 's3:PutObject'], optout, whyOptOut);
  }
}

/**
 * The part of the typed config the functions need, as JSON bundled into each asset: the
 * datasets (schema, source format, de-identification rules) and the platform name. No
 * secret, and no local paths (so the asset hash is the same on every machine).
 */
export function ingestionConfig(config: SdeConfig): { platform: { name: string }; datasets: unknown[] } {
  const datasets = config.datasets.map(({ file: _file, ...dataset }) => dataset);
  return { platform: { name: config.platform.name }, datasets };
}

function writeIngestionConfig(config: SdeConfig): string {
  return stageBundledJson('sde-ingest-config', ingestionConfig(config));
}

export interface IngestionStackOptions extends StackProps {
  readonly alarmTopic?: sns.ITopic;
  readonly settings?: IngestionSettings;
}

/** The ingestion stack as createStacks adds it: `<platform>-ingestion`, tuned by context (INGESTION_CONTEXT). */
export function createIngestionStack(scope: Construct, config: SdeConfig, dataLake: DataLakeStack, options: IngestionStackOptions = {}): IngestionStack {
  const context = (key: string): string | undefined => {
    const v: unknown = scope.node.tryGetContext(key);
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  const concurrency = context(INGESTION_CONTEXT.maxConcurrency);
  const layerArn = context(INGESTION_CONTEXT.duckdbLayerArn);
  if (concurrency !== undefined && !/^\d+$/.test(concurrency)) {
    throw new Error(
      `--context ${INGESTION_CONTEXT.maxConcurrency}=${concurrency} is not a whole number\n    fix: pass a number of chunks to process at once, e.g. ${INGESTION_CONTEXT.maxConcurrency}=20`,
    );
  }
  const settings: IngestionSettings = {
    ...(concurrency === undefined ? {} : { maxConcurrency: Number(concurrency) }),
    ...(layerArn === undefined ? {} : { duckdb: DuckDbPackaging.fromLayer(layerArn, lambda.Architecture.ARM_64) }),
    ...options.settings,
  };
  return new IngestionStack(scope, 'Ingestion', {
    stackName: stackName(config, 'ingestion'),
    description: `${config.platform.displayName}: ingestion (EventBridge, Step Functions Distributed Map, de-identifying Lambdas, dead-letter queue, alarms)`,
    ...options,
    settings,
    config,
    dataLake,
  });
}
