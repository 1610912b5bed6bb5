import { CfnResource, Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeOnceResolved } from '../shared/acknowledge-once-resolved';
import { PARTITION_COLUMN } from '../../config/curated';
import { projectAccess, projectState, type ProjectTableAccess, type SdeConfig } from '../../config/model';
import type { ProjectConfig } from '../../config/schema';
import { projectRoleName, projectWorkgroupName } from '../../config/naming';
import type { AirlockBucket } from '../airlock/airlock-bucket';
import type { DatasetTable } from '../storage/dataset-table';
import { ColumnGrant, LakeFormationChain, LakeFormationGrants } from './lake-formation-grants';
import { MAX_TRUST_POLICY_CHARS, NamedResearchers, periodDenyStatements } from './researcher-trust';
import { ApprovalPeriodAlarm } from './approval-period-alarm';
import { networkDenyStatements, type NetworkCondition } from './network-guard';

export interface ProjectWorkspaceProps {
  /** The validated deployment config: names, alert e-mails and the access model come from it. */
  readonly config: SdeConfig;
  /** An active project of `config` (projectAccess non-empty). */
  readonly project: ProjectConfig;
  /** The platform key: query results are encrypted with it. */
  readonly encryptionKey: kms.IKey;
  /** The query results bucket: the project writes only under `<project id>/`. */
  readonly resultsBucket: s3.IBucket;
  /** The curated Glue database. */
  readonly databaseName: string;
  /** The curated tables by dataset name; the project's approved datasets must be among them. */
  readonly tables: ReadonlyMap<string, DatasetTable>;
  /** The data lake settings: every grant waits for them (see LakeFormationGrants). @default - no such dependency */
  readonly dataLakeSettings?: CfnResource;
  /** The stack's serial order of Lake Formation resources. @default - a chain of this workspace's own */
  readonly lakeFormationChain?: LakeFormationChain;
  /**
   * The output airlock's bucket: the role may submit outputs and read its own releases
   * there (AirlockBucket.grantProject). @default - no airlock rights
   */
  readonly airlock?: AirlockBucket;
  /** Longest a researcher session lasts. @default Duration.hours(1) */
  readonly maxSessionDuration?: Duration;
  /**
   * The analysis workspace's network: query results, execution details, result objects and
   * Lake Formation data access are denied from anywhere else (network-guard.ts).
   * @default - no network condition (the role can read results from any network)
   */
  readonly networkCondition?: NetworkCondition;
  /** The security team's topic: told daily once the project is deployed past its period. @default - the alarm has no action */
  readonly alarmTopic?: sns.ITopic;
}

/** Athena's smallest allowed per-query bytes-scanned cutoff (10 MB). */
const ATHENA_MIN_CUTOFF = 10_000_000;
/** AWS Budgets accepts at most 10 e-mail subscribers per notification. */
const MAX_BUDGET_EMAILS = 10;
/** IAM role names are at most 64 characters. */
const MAX_ROLE_NAME = 64;

/**
 * One approved, in-period project's safe setting on AWS:
 * - a researcher role that only the project's named people can assume (each by their
 *   source identity, through the principal they sign in with, with MFA in the last hour,
 *   with the agreed external id from another account), only within the approval's period,
 *   for one hour at a time; its policy denies everything outside the period, and its
 *   permissions reach its own workgroup, its own results prefix (decrypting results
 *   objects only) and the approved tables' metadata, and nothing else;
 * - an Athena workgroup whose settings the researcher cannot override: engine v3, results
 *   under the project's prefix encrypted with the platform key, a per-query scan cutoff;
 * - Lake Formation grants on exactly the approved columns (and rows) of the approved
 *   tables, computed from `projectAccess`, the model the local runtime enforces too;
 * - a monthly cost budget on the project tag, alerting the security team at 80% and 100%;
 * - starter named queries.
 *
 * A project that is not active gets no workspace: constructing one throws.
 */
export class ProjectWorkspace extends Construct {
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
  /** Denies every action outside the approved period (aws:CurrentTime). */
  readonly periodGuard: iam.ManagedPolicy;
  /** Denies data-returning actions from outside the analysis workspace's network (when one is given). */
  readonly networkGuard?: iam.ManagedPolicy;
  readonly workgroup: athena.CfnWorkGroup;
  readonly budget: budgets.CfnBudget;
  readonly namedQueries: athena.CfnNamedQuery[];
  /** The daily check that reports the project once deployed past its approved period. */
  readonly periodAlarm: ApprovalPeriodAlarm;
  readonly grants: LakeFormationGrants;
  readonly describeDatabase: CfnResource;
  /** The SELECT grants (and data cells filters) by dataset name. */
  readonly columnGrants: ReadonlyMap<string, ColumnGrant>;
  /** What the grants were computed from. */
  readonly access: readonly ProjectTableAccess[];
  /** `s3://<results bucket>/<project id>/`. */
  readonly resultsLocation: string;

  constructor(scope: Construct, id: string, props: ProjectWorkspaceProps) {
    super(scope, id);
    const { config, project } = props;
    const stack = Stack.of(this);

    this.access = projectAccess(config, project);
    if (this.access.length === 0) {
      throw new Error(
        `project "${project.id}" is ${projectState(project, config.today)} on ${config.today}: only an active project gets a workspace (nothing may be granted to it)`,
      );
    }
    const roleName = projectRoleName(config, project.id);
    if (roleName.length > MAX_ROLE_NAME) {
      throw new Error(
        `the researcher role name "${roleName}" is ${roleName.length} characters; IAM allows ${MAX_ROLE_NAME}: shorten the platform name or the project id "${project.id}"`,
      );
    }
    if (project.limits.bytesScannedPerQuery < ATHENA_MIN_CUTOFF) {
      throw new Error(`project "${project.id}": limits.bytesScannedPerQuery must be at least ${ATHENA_MIN_CUTOFF} (Athena's minimum)`);
    }
    const emails = config.platform.alerts.securityEmails;
    if (emails.length > MAX_BUDGET_EMAILS) {
      throw new Error(
        `platform.alerts.securityEmails lists ${emails.length} addresses; a budget notification takes at most ${MAX_BUDGET_EMAILS}: use a team distribution list`,
      );
    }
    for (const table of this.access) {
      if (!props.tables.has(table.dataset.name)) throw new Error(`project "${project.id}": no table for dataset "${table.dataset.name}" was given`);
    }
    const workgroupName = projectWorkgroupName(config, project.id);
    this.resultsLocation = `s3://${props.resultsBucket.bucketName}/${project.id}/`;

    // Only the named people, with recent MFA, within the period, and for an hour at a
    // time (researcher-trust.ts): a stolen key without the second factor, a colleague in
    // the same organisation's account, or the day after the approval ends, gets nothing.
    this.role = new iam.Role(this, 'ResearcherRole', {
      roleName,
      description: safeText(`Researcher access to approved project ${project.id}: ${project.title}`, 1000),
      assumedBy: new NamedResearchers(project),
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });
    const trustChars = JSON.stringify(stack.resolve(this.role.assumeRolePolicy?.toJSON())).length;
    if (trustChars > MAX_TRUST_POLICY_CHARS) {
      throw new Error(
        `project "${project.id}": its trust policy is ${trustChars} characters; IAM allows ${MAX_TRUST_POLICY_CHARS} by default: have its researchers sign in through fewer principals, or raise the account's quota (4096) and this limit together`,
      );
    }

    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: workgroupName,
      description: safeText(`Approved project ${project.id} (${project.organisation.name}): ${project.title}`, 1024),
      state: 'ENABLED',
      // When the project ends, the workgroup must go even if researchers saved queries
      // in it: otherwise the deployment that revokes the project's access fails.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Researchers cannot point results elsewhere, switch off encryption or lift the cutoff.
        enforceWorkGroupConfiguration: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        bytesScannedCutoffPerQuery: project.limits.bytesScannedPerQuery,
        publishCloudWatchMetricsEnabled: true,
        requesterPaysEnabled: false,
        resultConfiguration: {
          outputLocation: this.resultsLocation,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn },
          // Results go only to a bucket of this account, even if a bucket name were reused.
          expectedBucketOwner: stack.account,
        },
      },
    });

    this.policy = new iam.ManagedPolicy(this, 'ResearcherPolicy', {
      description: safeText(`What a researcher of project ${project.id} needs to query its approved data through Athena and Lake Formation`, 1000),
      roles: [this.role],
      statements: [
        ...researcherStatements({
          stack,
          projectId: project.id,
          workgroupName,
          databaseName: props.databaseName,
          tableNames: this.access.map((t) => t.dataset.name),
          resultsBucket: props.resultsBucket,
        }),
      ],
    });
    // Access ends on the end date by AWS's clock, even for a session already open. A policy
    // of its own, of denials only, so no grant added to the researcher policy can outrank it.
    this.periodGuard = new iam.ManagedPolicy(this, 'ApprovedPeriodGuard', {
      description: safeText(`Denies every action outside project ${project.id}'s approved period (${project.period.start} to ${project.period.end})`, 1000),
      roles: [this.role],
      statements: periodDenyStatements(project),
    });
    // Rows leave only through the airlock: from outside the workspace's network a session
    // can start queries but not read what they return. A policy of denials only, as above.
    if (props.networkCondition) {
      this.networkGuard = new iam.ManagedPolicy(this, 'WorkspaceNetworkGuard', {
        description: safeText(`Denies project ${project.id}'s query results, result objects and data access outside the analysis workspace's network`, 1000),
        roles: [this.role],
        // Every object of the results bucket, not only the project's prefix: no other prefix may be read from outside either.
        statements: networkDenyStatements(props.networkCondition, props.resultsBucket.arnForObjects('*')),
      });
    }
    // Results are written and read through S3 only, and the key decrypts objects of the
    // results bucket only: S3 puts the bucket in the encryption context (bucket keys), so
    // the same platform key's curated or landing objects stay out of reach.
    iam.Grant.addToPrincipal({
      grantee: this.policy,
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resourceArns: [props.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': props.resultsBucket.bucketArn },
      },
    });
    const cfnPolicy = this.policy.node.defaultChild as iam.CfnManagedPolicy;
    Validations.of(cfnPolicy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only lakeformation:GetDataAccess and athena:ListWorkGroups, which IAM cannot scope to a resource; Lake Formation grants (exact columns and rows) decide what the vended credentials can read.',
    });
    acknowledgeOnceResolved(this, cfnPolicy, resultsObjectsArn(props.resultsBucket, project.id), (resource) => ({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
      reason: `Objects under this project's own prefix (${project.id}/) of the query results bucket only: Athena names result objects by query id at run time, so they cannot be listed in advance.`,
    }));
    if (Stack.of(props.encryptionKey) !== stack) {
      // The rule recognises a key only as a literal or a reference within the same
      // template; here the platform key comes from the data lake stack's outputs.
      Validations.of(this.workgroup).acknowledge({
        id: 'cdk-validator-cfnguard::athena_workgroup_results_encrypted_at_rest_kms_check',
        reason:
          'Results are encrypted with SSE_KMS and the platform customer-managed key (KmsKey), read from the data lake stack output, which the guard rule cannot resolve across stacks.',
      });
    }

    if (props.airlock) {
      props.airlock.grantProject(this.policy, project.id);
      for (const [arn, what] of [
        [props.airlock.submissionsArn(project.id), 'submit outputs under'],
        [props.airlock.releasedArn(project.id), 'read released outputs under'],
      ] as const) {
        acknowledgeOnceResolved(this, cfnPolicy, arn, (resource) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
          reason: `The project may ${what} its own prefix (${project.id}/) of the airlock bucket only: object names carry request ids made at run time.`,
        }));
      }
    }

    this.grants = new LakeFormationGrants(this, 'LakeFormation', {
      grantee: this.role,
      databaseName: props.databaseName,
      dataLakeSettings: props.dataLakeSettings,
      chain: props.lakeFormationChain,
      filterNamePrefix: project.id,
    });
    this.describeDatabase = this.grants.grantDescribeDatabase();
    const columnGrants = new Map<string, ColumnGrant>();
    for (const table of this.access) {
      columnGrants.set(table.dataset.name, this.grants.grantSelectColumns(props.tables.get(table.dataset.name)!, table.columnNames, table.rowFilter));
    }
    this.columnGrants = columnGrants;

    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: workgroupName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: project.limits.monthlyBudgetUsd, unit: 'USD' },
        // Costs carry the project tag once `sde:project` is activated as a cost allocation tag.
        costFilters: { TagKeyValue: [`user:sde:project$${project.id}`] },
      },
      notificationsWithSubscribers: [80, 100].map((threshold) => ({
        notification: { notificationType: 'ACTUAL', comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
        subscribers: emails.map((address) => ({ subscriptionType: 'EMAIL', address })),
      })),
    });

    this.namedQueries = starterQueries(props.databaseName, this.access).map(
      (q, i) =>
        new athena.CfnNamedQuery(this, `NamedQuery${i}`, {
          name: q.name,
          description: safeText(q.description, 1024),
          database: props.databaseName,
          workGroup: this.workgroup.ref,
          queryString: q.sql,
        }),
    );

    this.periodAlarm = new ApprovalPeriodAlarm(this, 'ApprovalPeriod', { project, alarmTopic: props.alarmTopic });

    Tags.of(this).add('sde:project', project.id);
    Tags.of(this).add('sde:organisation', tagValue(project.organisation.name));
    Tags.of(this).add('sde:tier', project.organisation.tier);
  }
}

interface StatementInputs {
  readonly stack: Stack;
  readonly projectId: string;
  readonly workgroupName: string;
  readonly databaseName: string;
  readonly tableNames: readonly string[];
  readonly resultsBucket: s3.IBucket;
}

/**
 * Explicit actions rather than `athena:*` or `glue:Get*`: `athena:*` on the workgroup would
 * include UpdateWorkGroup and DeleteWorkGroup, letting a researcher lift the scan cutoff or
 * redirect results; and HIPAA / NIST / Control Tower refuse service-wide wildcards.
 */
function researcherStatements(p: StatementInputs): iam.PolicyStatement[] {
  const catalogArn = `arn:${p.stack.partition}:glue:${p.stack.region}:${p.stack.account}:catalog`;
  return [
    new iam.PolicyStatement({
      sid: 'QueryInOwnWorkgroup',
      actions: [
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
        'athena:GetQueryExecution',
        'athena:BatchGetQueryExecution',
        'athena:ListQueryExecutions',
        'athena:GetQueryResults',
        'athena:GetQueryResultsStream',
        'athena:GetQueryRuntimeStatistics',
        'athena:GetWorkGroup',
        'athena:GetNamedQuery',
        'athena:BatchGetNamedQuery',
        'athena:ListNamedQueries',
        'athena:CreateNamedQuery',
        'athena:UpdateNamedQuery',
        'athena:DeleteNamedQuery',
      ],
      resources: [`arn:${p.stack.partition}:athena:${p.stack.region}:${p.stack.account}:workgroup/${p.workgroupName}`],
    }),
    new iam.PolicyStatement({
      sid: 'BrowseDataCatalog',
      actions: ['athena:GetDataCatalog', 'athena:ListDatabases', 'athena:GetDatabase', 'athena:ListTableMetadata', 'athena:GetTableMetadata'],
      resources: [`arn:${p.stack.partition}:athena:${p.stack.region}:${p.stack.account}:datacatalog/AwsDataCatalog`],
    }),
    new iam.PolicyStatement({
      // Lake Formation decides which columns and rows these return; IAM only lets the call through.
      sid: 'ReadApprovedTableMetadata',
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'],
      resources: [
        catalogArn,
        `arn:${p.stack.partition}:glue:${p.stack.region}:${p.stack.account}:database/${p.databaseName}`,
        ...p.tableNames.map((t) => `arn:${p.stack.partition}:glue:${p.stack.region}:${p.stack.account}:table/${p.databaseName}/${t}`),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'LakeFormationCredentialsAndWorkgroupList',
      actions: ['lakeformation:GetDataAccess', 'athena:ListWorkGroups'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'FindResultsBucket',
      actions: ['s3:GetBucketLocation'],
      resources: [p.resultsBucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ListOwnResults',
      actions: ['s3:ListBucket'],
      resources: [p.resultsBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${p.projectId}/`, `${p.projectId}/*`] } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadWriteOwnResults',
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [resultsObjectsArn(p.resultsBucket, p.projectId)],
    }),
  ];
}

function resultsObjectsArn(bucket: s3.IBucket, projectId: string): string {
  return bucket.arnForObjects(`${projectId}/*`);
}

interface StarterQuery {
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Queries that help a researcher start and show what the project can read: row counts of
 * every approved table (only the approved rows, where a row filter applies), and a
 * preview of each table's approved columns.
 */
export function starterQueries(databaseName: string, access: readonly ProjectTableAccess[]): StarterQuery[] {
  const table = (name: string) => `${quoteIdent(databaseName)}.${quoteIdent(name)}`;
  const counts = access.map((t) => `SELECT '${t.dataset.name}' AS table_name, COUNT(*) AS row_count FROM ${table(t.dataset.name)}`).join('\nUNION ALL\n');
  return [
    {
      name: 'Start here: row counts of approved tables',
      description: 'How many rows of each approved table this project can read.',
      sql: `-- Rows of each table this project is approved to read.\n${counts}\nORDER BY table_name;`,
    },
    ...access.map((t) => {
      const recent = t.columnNames.includes(PARTITION_COLUMN) ? `\nWHERE ${PARTITION_COLUMN} >= date_add('day', -30, current_date)` : '';
      return {
        name: `Preview ${t.dataset.name}`,
        description: `Ten rows of the approved columns of ${t.dataset.title}.`,
        sql: `-- The columns this project may read from ${t.dataset.name}; others are not granted.\nSELECT ${t.columnNames.map(quoteIdent).join(', ')}\nFROM ${table(t.dataset.name)}${recent}\nLIMIT 10;`,
      };
    }),
  ];
}

/** Tag values allow letters, digits, spaces and _ . : / = + - @ only (IAM, Athena, Budgets). */
export function tagValue(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '')
    .trim()
    .slice(0, 256);
}

/** Descriptions: IAM and Athena accept printable ASCII safely; drop anything else. */
function safeText(text: string, max: number): string {
  return text
    .normalize('NFKD')
    .replace(/[^\x20-\x7E]/g, '')
    .slice(0, max);
}
