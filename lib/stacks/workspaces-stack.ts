import { App, CfnOutput, CfnResource, CfnWaitConditionHandle, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { grantedProjects, type SdeConfig } from '../config/model';
import type { ProjectConfig } from '../config/schema';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { AirlockBucket } from '../constructs/airlock/airlock-bucket';
import { LakeFormationChain } from '../constructs/workspace/lake-formation-grants';
import { ProjectWorkspace } from '../constructs/workspace/project-workspace';
import type { NetworkCondition } from '../constructs/workspace/network-guard';
import { stackName } from '../config/naming';
import type { DataLakeStack } from './data-lake-stack';
import { assignWorkspaceShards, parseShardCount, WORKSPACE_SHARDS_CONTEXT } from './workspace-sharding';

/** CloudFormation's limit on resources in one stack. */
export const MAX_RESOURCES_PER_STACK = 500;

export interface WorkspacesStackProps extends StackProps {
  readonly config: SdeConfig;
  /** This shard's number (0-based); see workspace-sharding.ts. */
  readonly shard: number;
  /** The active projects assigned to this shard. */
  readonly projects: readonly ProjectConfig[];
  /** Where the key, the results bucket, the catalog and the Lake Formation settings live. */
  readonly dataLake: DataLakeStack;
  /** The output airlock's bucket, where each project submits outputs and reads its releases. @default - none */
  readonly airlock?: AirlockBucket;
  /** The security team's alarm topic: a deployed project past its period is reported there. @default - alarms without an action */
  readonly alarmTopic?: sns.ITopic;
  /** The analysis workspace's network: each role's data-returning actions are denied from elsewhere. @default - none */
  readonly networkCondition?: NetworkCondition;
}

/**
 * One shard of the research workspaces: a ProjectWorkspace per active project assigned
 * to it. All Lake Formation resources of the stack form one chain, in project-id then
 * table-name order, so CloudFormation never runs two of them at once.
 */
export class WorkspacesStack extends Stack {
  readonly shard: number;
  readonly workspaces: ReadonlyMap<string, ProjectWorkspace>;
  readonly lakeFormationChain: LakeFormationChain;

  constructor(scope: Construct, id: string, props: WorkspacesStackProps) {
    super(scope, id, props);
    this.shard = props.shard;
    const { dataLake } = props;
    this.lakeFormationChain = new LakeFormationChain();
    // Grants need the settings (deployer is a Lake Formation admin) and the tables first.
    this.addStackDependency(dataLake);

    const workspaces = new Map<string, ProjectWorkspace>();
    for (const project of [...props.projects].sort((a, b) => a.id.localeCompare(b.id))) {
      workspaces.set(
        project.id,
        new ProjectWorkspace(this, `Project-${project.id}`, {
          config: props.config,
          project,
          encryptionKey: dataLake.key,
          resultsBucket: dataLake.results,
          databaseName: dataLake.databaseName,
          tables: dataLake.tables,
          dataLakeSettings: dataLake.governance.settings,
          lakeFormationChain: this.lakeFormationChain,
          airlock: props.airlock,
          alarmTopic: props.alarmTopic,
          networkCondition: props.networkCondition,
        }),
      );
    }
    this.workspaces = workspaces;
    for (const [id, workspace] of workspaces) addProjectOutputs(this, id, workspace);

    // A stack with no resources is not a valid template. A shard whose last project has
    // ended must still deploy (as nothing but this marker), so that the deployment deletes
    // its roles and revokes its grants rather than leaving the old stack in place.
    new CfnWaitConditionHandle(this, 'ShardMarker');

    this.node.addValidation({
      validate: () => {
        const count = this.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c) === this).length;
        return count > MAX_RESOURCES_PER_STACK
          ? [
              `${this.stackName} holds ${count} resources; CloudFormation allows ${MAX_RESOURCES_PER_STACK} per stack. ` +
                `Raise the context ${WORKSPACE_SHARDS_CONTEXT} (this moves some projects to new stacks: see lib/stacks/workspace-sharding.ts).`,
            ]
          : [];
      },
    });
  }
}

/** An output key from a project id: `ncl-winter-planning` -> `NclWinterPlanning` (keys are alphanumeric only). */
export function projectOutputKey(projectId: string): string {
  return projectId
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The text each project output's description starts with: `sde synth` lists the projects of a stack by it. */
export const PROJECT_OUTPUT_PREFIX = 'Project ';

/**
 * What a deployer hands a project's researchers, and what `sde query --athena` needs: the
 * role they assume and the workgroup they query in, as stack outputs.
 */
function addProjectOutputs(stack: Stack, projectId: string, workspace: ProjectWorkspace): void {
  const key = projectOutputKey(projectId);
  new CfnOutput(stack, `${key}RoleArn`, {
    value: workspace.role.roleArn,
    description: `${PROJECT_OUTPUT_PREFIX}${projectId}: the role its named researchers assume (with their researcher id as source identity)`,
  });
  new CfnOutput(stack, `${key}Workgroup`, {
    value: workspace.workgroup.ref,
    description: `${PROJECT_OUTPUT_PREFIX}${projectId}: the Athena workgroup its queries run in`,
  });
}

export interface WorkspaceStacksOptions extends StackProps {
  /** The output airlock's bucket. @default - none */
  readonly airlock?: AirlockBucket;
  /** The security team's alarm topic. @default - none */
  readonly alarmTopic?: sns.ITopic;
  /** The analysis workspace's network (AnalysisWorkspaceStack.networkCondition). @default - none */
  readonly networkCondition?: NetworkCondition;
  /** How many shard stacks. @default - the `sde:workspaceShards` context, else DEFAULT_WORKSPACE_SHARDS */
  readonly shardCount?: number;
}

/**
 * Every shard stack, each with the active projects that hash to it (possibly none: an
 * empty shard stays in the app so that a deployment removes what it held).
 */
export function createWorkspaceStacks(app: App, config: SdeConfig, dataLake: DataLakeStack, options: WorkspaceStacksOptions = {}): WorkspacesStack[] {
  const { shardCount: explicit, airlock, alarmTopic, networkCondition, ...stackProps } = options;
  const shardCount = explicit ?? parseShardCount(app.node.tryGetContext(WORKSPACE_SHARDS_CONTEXT));
  const active = grantedProjects(config);
  const byId = new Map(active.map((p) => [p.id, p]));
  return assignWorkspaceShards([...byId.keys()], shardCount).map(
    (ids, shard) =>
      new WorkspacesStack(app, `Workspaces-${shard}`, {
        ...stackProps,
        stackName: stackName(config, `workspaces-${shard}`),
        description: `${config.platform.displayName}: research workspaces (roles, Athena workgroups, Lake Formation grants, budgets), shard ${shard}`,
        config,
        shard,
        projects: ids.map((id) => byId.get(id)!),
        dataLake,
        airlock,
        alarmTopic,
        networkCondition,
      }),
  );
}
