/**
 * Builds the whole CDK app from a validated config: the one place that decides which
 * stacks exist. bin/app.ts and the tests both call it.
 */
import { App, AppProps } from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { addComplianceGates } from './compliance/gates';
import type { SdeConfig } from './config/model';
import { stackName } from './config/naming';
import { AirlockStack, createAirlockStack } from './stacks/airlock-stack';
import { AnalysisWorkspaceStack, createAnalysisWorkspaceStack } from './stacks/analysis-workspace-stack';
import { AuditStack } from './stacks/audit-stack';
import { BillingStack, createBillingStack } from './stacks/billing-stack';
import { DataLakeStack } from './stacks/data-lake-stack';
import { createIngestionStack, IngestionStack } from './stacks/ingestion-stack';
import { createRegisterStack, RegisterStack } from './stacks/register-stack';
import { createWorkspaceStacks, WorkspacesStack } from './stacks/workspaces-stack';

export interface SdeAppProps extends AppProps {
  /** Run the compliance gates at synth. @default true */
  readonly compliance?: boolean;
}

export interface SdeStacks {
  readonly dataLake: DataLakeStack;
  /** One stack per workspace shard, in shard order (see lib/stacks/workspace-sharding.ts). */
  readonly workspaces: WorkspacesStack[];
  readonly audit: AuditStack;
  readonly airlock: AirlockStack;
  readonly analysisWorkspace: AnalysisWorkspaceStack;
  readonly billing: BillingStack;
  readonly ingestion: IngestionStack;
  readonly register: RegisterStack;
}

export function createStacks(app: App, config: SdeConfig): SdeStacks {
  const env = { account: config.platform.aws.account, region: config.platform.aws.region };
  const tags = { 'sde:platform': config.platform.name };
  const dataLake = new DataLakeStack(app, 'DataLake', {
    stackName: stackName(config, 'data-lake'),
    description: `${config.platform.displayName}: secure data lake (KMS, zone buckets, Glue catalog, Lake Formation)`,
    env,
    tags,
    config,
  });
  // The airlock's bucket policy names project roles by pattern; each workspace grants its
  // own role the project's airlock rights, so the airlock deploys first.
  const airlock = createAirlockStack(app, config, { env, tags });
  const audit = new AuditStack(app, 'Audit', {
    stackName: stackName(config, 'audit'),
    description: `${config.platform.displayName}: tamper-evident audit (CloudTrail, Object Lock store, security queries, alarms)`,
    env,
    tags,
    config,
    dataLake,
    // Every output request, review and release is an object event in the airlock bucket.
    airlockBucket: airlock.bucket,
  });
  // Where researchers work: each project role's data-returning actions are denied from
  // anywhere but this network, so it deploys before the workspace shards.
  const analysisWorkspace = createAnalysisWorkspaceStack(app, config, { env, tags });
  // A project deployed past its approved period is reported on the security alert topic.
  const workspaces = createWorkspaceStacks(app, config, dataLake, {
    env,
    tags,
    airlock: airlock.store,
    alarmTopic: audit.alarms.topic,
    networkCondition: analysisWorkspace.networkCondition,
  });
  // Ingestion alarms go to the audit stack's security alert topic.
  const ingestion = createIngestionStack(app, config, dataLake, { env, tags, alarmTopic: audit.alarms.topic });
  // The public register counts project use from the audit stack's trail.
  const register = createRegisterStack(app, config, { env, tags, auditBucket: audit.bucket, auditKey: audit.key, airlockBucket: airlock.bucket });
  // Monthly statements from the project workgroups' Athena query metadata (names only: no cross-stack references).
  const billing = createBillingStack(app, config, { env, tags });
  return { dataLake, workspaces, audit, airlock, analysisWorkspace, ingestion, register, billing };
}

/**
 * An App with the feature flags `cdk init` recommends today (e.g. server access logs
 * granted by bucket policy rather than ACL), so behaviour does not depend on cdk.json.
 */
export function newSdeApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...CURRENTLY_RECOMMENDED_FLAGS, ...props.context } });
}

export function createApp(config: SdeConfig, props: SdeAppProps = {}): { app: App; stacks: SdeStacks } {
  const { compliance, ...appProps } = props;
  const app = newSdeApp(appProps);
  const stacks = createStacks(app, config);
  if (compliance ?? true) addComplianceGates(app);
  return { app, stacks };
}
