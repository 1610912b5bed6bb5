/**
 * ProjectWorkspace on the example config: one assertion per security property, for each
 * example project, compared with the access model (projectAccess) rather than restated.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lakeformation from 'aws-cdk-lib/aws-lakeformation';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { createApp, newSdeApp } from '../../../lib/app';
import { approvalWindow, loadConfig, projectAccess, projectState, type SdeConfig } from '../../../lib/config';
import { DatasetTable } from '../../../lib/constructs/storage/dataset-table';
import { dataCellsFilterName, LakeFormationChain, LakeFormationGrants } from '../../../lib/constructs/workspace/lake-formation-grants';
import { ProjectWorkspace, starterQueries, tagValue } from '../../../lib/constructs/workspace/project-workspace';
import { projectRoleName, projectWorkgroupName } from '../../../lib/config/naming';
import type { WorkspacesStack } from '../../../lib/stacks/workspaces-stack';
import { ConfigFixture, EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';

type Resources = Record<string, { Type: string; Properties: any; DependsOn?: string[] }>;

function synthExample(configDir = EXAMPLE_CONFIG) {
  const config = loadConfig(configDir, { today: TEST_TODAY });
  const { stacks } = createApp(config, { compliance: false });
  const templates = new Map<WorkspacesStack, Resources>(stacks.workspaces.map((s) => [s, Template.fromStack(s).toJSON().Resources as Resources]));
  return { config, stacks, templates };
}

const { config, stacks, templates } = synthExample();
const dataLake = stacks.dataLake;
const active = config.projects.filter((p) => projectState(p, config.today) === 'active');
const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** The workspace stack holding a project, and the resources of that project only. */
function projectResources(projectId: string) {
  const stack = stacks.workspaces.find((s) => s.workspaces.has(projectId));
  if (!stack) throw new Error(`no workspace for ${projectId}`);
  const workspace = stack.workspaces.get(projectId)!;
  const all = templates.get(stack)!;
  const prefix = `${stack.node.path}/${workspace.node.id}/`;
  const mine: Resources = {};
  for (const construct of workspace.node.findAll()) {
    if (construct.node.path.startsWith(prefix) && (construct as any).cfnResourceType) {
      const id = stack.getLogicalId(construct as never);
      if (all[id]) mine[id] = all[id];
    }
  }
  return { stack, workspace, resources: mine };
}

/** A reference to an Arn output of the airlock stack. */
const fromAirlock = (construct: { node: { defaultChild?: unknown } }) =>
  expect.objectContaining({
    'Fn::GetStackOutput': expect.objectContaining({
      StackName: stacks.airlock.stackName,
      OutputName: expect.stringMatching(new RegExp(`^PublishOutputFnGetAtt${stacks.airlock.getLogicalId(construct.node.defaultChild as any)}Arn`)),
    }),
  });

/** The data lake stack's output that a GetStackOutput in a workspace names, for one of its resources. */
const fromDataLake = (construct: { node: { defaultChild?: unknown } }, attribute: 'Arn' | 'Ref') =>
  expect.objectContaining({
    'Fn::GetStackOutput': expect.objectContaining({
      StackName: dataLake.stackName,
      OutputName: expect.stringMatching(
        new RegExp(`^PublishOutput${attribute === 'Arn' ? 'FnGetAtt' : 'Ref'}${dataLake.getLogicalId(construct.node.defaultChild as never)}`),
      ),
    }),
  });

test('the example has active, expired and row-filtered projects to cover', () => {
  expect(active.map((p) => p.id).sort()).toEqual(['medisight-prescribing', 'ncl-winter-planning', 'ucl-multimorbidity']);
  expect(
    projectState(
      config.projects.find((p) => p.id === 'kcl-covid-recovery')!,
      TEST_TODAY,
    ),
  ).toBe('expired');
});

describe.each(active.map((p) => [p.id, p] as const))('workspace of %s', (id, project) => {
  const { resources } = projectResources(id);
  const access = projectAccess(config, project);
  // The daily period check (ApprovalPeriodAlarm) has a role and policy of its own; 'one'
  // means the project's researcher role, policy and the rest.
  const own = (type: string) => ofType(resources, type).filter(([logicalId]) => !logicalId.includes('ApprovalPeriod'));
  const one = (type: string) => {
    const found = own(type);
    expect(found).toHaveLength(1);
    return found[0][1].Properties;
  };

  const trust = () => one('AWS::IAM::Role').AssumeRolePolicyDocument.Statement as any[];
  /** The managed policy of what the role may do (the other holds the period's denials). */
  const researcherPolicy = () => {
    const found = own('AWS::IAM::ManagedPolicy').filter(([logicalId]) => logicalId.includes('ResearcherPolicy'));
    expect(found).toHaveLength(1);
    return found[0][1].Properties;
  };
  const window = approvalWindow(project);
  const byPrincipal = new Map<string, typeof project.researchers>();
  for (const r of project.researchers) byPrincipal.set(r.principal, [...(byPrincipal.get(r.principal) ?? []), r]);
  const oneOrList = (xs: string[]) => (xs.length === 1 ? xs[0] : xs);

  test("the role is the project's, and a session lasts at most an hour", () => {
    const role = one('AWS::IAM::Role');
    expect([role.RoleName, role.MaxSessionDuration]).toEqual([projectRoleName(config, id), 3600]);
  });

  test('trust: only the named people, each through the principal they sign in with (source identity and session name)', () => {
    expect(trust().map((s) => [s.Principal.AWS, s.Condition.StringEquals['sts:SourceIdentity'], s.Condition.StringEquals['sts:RoleSessionName']])).toEqual(
      [...byPrincipal].map(([principal, people]) => [principal, oneOrList(people.map((r) => r.id)), oneOrList(people.map((r) => r.id))]),
    );
  });

  test('trust: SetSourceIdentity only together with AssumeRole, under the same conditions; no session tags', () => {
    expect(trust().map((s) => [s.Effect, s.Action])).toEqual([...byPrincipal].map(() => ['Allow', ['sts:AssumeRole', 'sts:SetSourceIdentity']]));
  });

  test('trust: MFA done, less than an hour ago', () => {
    expect(trust().map((s) => [s.Condition.Bool, s.Condition.NumericLessThan])).toEqual(
      [...byPrincipal].map(() => [{ 'aws:MultiFactorAuthPresent': 'true' }, { 'aws:MultiFactorAuthAge': '3600' }]),
    );
  });

  test("trust: only within the approved period, by AWS's clock", () => {
    expect(trust().map((s) => [s.Condition.DateGreaterThanEquals, s.Condition.DateLessThan])).toEqual(
      [...byPrincipal].map(() => [{ 'aws:CurrentTime': `${project.period.start}T00:00:00Z` }, { 'aws:CurrentTime': window.until }]),
    );
  });

  test("trust: the agreed external id for a principal in another account, and no external id for one of the platform's own", () => {
    const home = config.platform.admins.map((a) => a.split(':')[4]);
    expect(trust().map((s) => s.Condition.StringEquals['sts:ExternalId'])).toEqual(
      [...byPrincipal].map(([principal, people]) => (home.includes(principal.split(':')[4]) ? undefined : people[0].externalId)),
    );
  });

  test('policy: every action is denied before the period starts and from the day after it ends', () => {
    // (The network guard's denials are asserted in test/stacks/analysis-workspace-stack.test.ts.)
    const denies = own('AWS::IAM::ManagedPolicy').flatMap(([, p]) =>
      p.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Deny' && !/OutsideWorkspace$/.test(s.Sid)),
    );
    expect(denies).toEqual([
      { Sid: 'DenyBeforeApprovedPeriod', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': window.from } } },
      { Sid: 'DenyAfterApprovedPeriod', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateGreaterThanEquals: { 'aws:CurrentTime': window.until } } },
    ]);
  });

  test('the role has no inline policy: its three managed policies (permissions, period guard, network guard) are attached', () => {
    expect(one('AWS::IAM::Role').Policies).toBeUndefined();
    expect(ofType(resources, 'AWS::IAM::Policy')).toEqual([]);
    const [roleId] = own('AWS::IAM::Role')[0];
    const policies = own('AWS::IAM::ManagedPolicy');
    expect(policies.map(([, p]) => p.Properties.Roles)).toEqual([[{ Ref: roleId }], [{ Ref: roleId }], [{ Ref: roleId }]]);
  });

  test('the policy allows no wildcard action and cannot change the workgroup', () => {
    const actions: string[] = researcherPolicy()
      .PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow')
      .flatMap((s: any) => [s.Action].flat());
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actions.filter((a) => /^athena:(Update|Delete|Create)WorkGroup$/.test(a))).toEqual([]);
    expect(actions.filter((a) => /^(s3:Delete|s3:PutBucket|kms:(Create|Put|Schedule|Disable))/.test(a))).toEqual([]);
  });

  test('S3 objects are reachable only under the project prefix of the results bucket, and its own airlock prefixes', () => {
    const statements = researcherPolicy().PolicyDocument.Statement.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    const objectStatements = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.endsWith('Object')));
    expect(objectStatements.map((s: any) => s.Resource)).toEqual([
      { 'Fn::Join': ['', [fromDataLake(dataLake.results, 'Arn'), `/${id}/*`]] },
      { 'Fn::Join': ['', [fromAirlock(stacks.airlock.bucket), `/submissions/${id}/*`]] },
      { 'Fn::Join': ['', [fromAirlock(stacks.airlock.bucket), `/released/${id}/*`]] },
    ]);
    // Releases: read only, and only once tagged released.
    expect(objectStatements[1].Action).toBe('s3:PutObject');
    expect(objectStatements[2]).toMatchObject({ Action: 's3:GetObject', Condition: { StringEquals: { 's3:ExistingObjectTag/sde-airlock': 'released' } } });
    const lists = statements.filter((s: any) => s.Action === 's3:ListBucket').map((s: any) => s.Condition);
    expect(lists).toEqual([{ StringLike: { 's3:prefix': [`${id}/`, `${id}/*`] } }, { StringLike: { 's3:prefix': [`released/${id}/*`] } }]);
  });

  test('the platform key decrypts objects of the results bucket only, through S3; the airlock key only through S3', () => {
    const kmsStatements = researcherPolicy().PolicyDocument.Statement.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: fromDataLake(dataLake.key, 'Arn'),
        Condition: {
          StringEquals: { 'kms:ViaService': 's3.eu-west-2.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': fromDataLake(dataLake.results, 'Arn') },
        },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: fromAirlock(stacks.airlock.key),
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-2.amazonaws.com' } },
      },
    ]);
  });

  test('Glue metadata access names the approved tables only', () => {
    const glue = researcherPolicy().PolicyDocument.Statement.find((s: any) => [s.Action].flat().includes('glue:GetTable'));
    const tables = JSON.stringify(glue.Resource)
      .match(/:table\/[a-z_]+\/[a-z_0-9]+/g)!
      .map((t) => t.split('/')[2]);
    expect(tables.sort()).toEqual(access.map((t) => t.dataset.name).sort());
  });

  test('the workgroup enforces engine v3, the scan cutoff, KMS-encrypted results in the project prefix, and metrics', () => {
    const workgroup = one('AWS::Athena::WorkGroup');
    expect(workgroup.Name).toBe(projectWorkgroupName(config, id));
    expect(workgroup.WorkGroupConfiguration).toEqual({
      EnforceWorkGroupConfiguration: true,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      BytesScannedCutoffPerQuery: project.limits.bytesScannedPerQuery,
      PublishCloudWatchMetricsEnabled: true,
      RequesterPaysEnabled: false,
      ResultConfiguration: {
        OutputLocation: { 'Fn::Join': ['', ['s3://', fromDataLake(dataLake.results, 'Ref'), `/${id}/`]] },
        EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: fromDataLake(dataLake.key, 'Arn') },
        ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
      },
    });
  });

  test('role, workgroup and budget carry the project, organisation and tier tags', () => {
    const expected = [
      { Key: 'sde:organisation', Value: tagValue(project.organisation.name) },
      { Key: 'sde:project', Value: id },
      { Key: 'sde:tier', Value: project.organisation.tier },
    ];
    const platformTag = { Key: 'sde:platform', Value: config.platform.name };
    for (const tags of [one('AWS::IAM::Role').Tags, one('AWS::Athena::WorkGroup').Tags, one('AWS::Budgets::Budget').ResourceTags]) {
      expect(tags.filter((t: any) => t.Key !== platformTag.Key)).toEqual(expected);
    }
  });

  test('Lake Formation: DESCRIBE on the curated database, nothing else on it', () => {
    const describes = ofType(resources, 'AWS::LakeFormation::PrincipalPermissions').filter(([, r]) => r.Properties.Resource.Database);
    expect(describes.map(([, r]) => [r.Properties.Permissions, r.Properties.Resource.Database.Name])).toEqual([[['DESCRIBE'], dataLake.databaseName]]);
  });

  test('Lake Formation: SELECT on exactly the approved columns of exactly the approved tables', () => {
    const [roleId] = own('AWS::IAM::Role')[0];
    const filters = new Map(ofType(resources, 'AWS::LakeFormation::DataCellsFilter').map(([, f]) => [f.Properties.Name, f.Properties]));
    const selects = ofType(resources, 'AWS::LakeFormation::PrincipalPermissions').filter(([, r]) => r.Properties.Permissions.includes('SELECT'));
    const granted = selects.map(([, r]) => {
      const p = r.Properties;
      expect(p.Principal).toEqual({ DataLakePrincipalIdentifier: { 'Fn::GetAtt': [roleId, 'Arn'] } });
      expect([p.Permissions, p.PermissionsWithGrantOption]).toEqual([['SELECT'], []]);
      if (p.Resource.TableWithColumns) {
        const t = p.Resource.TableWithColumns;
        return { table: t.Name, database: t.DatabaseName, columns: t.ColumnNames, rowFilter: undefined };
      }
      const f = filters.get(p.Resource.DataCellsFilter.Name)!;
      expect(f.TableName).toBe(p.Resource.DataCellsFilter.TableName);
      return { table: f.TableName, database: f.DatabaseName, columns: f.ColumnNames, rowFilter: f.RowFilter.FilterExpression };
    });
    expect(granted.sort((a, b) => a.table.localeCompare(b.table))).toEqual(
      access.map((t) => ({ table: t.dataset.name, database: dataLake.databaseName, columns: [...t.columnNames], rowFilter: t.rowFilter })),
    );
  });

  test('a row-filtered table is granted only through its data cells filter, never as a table', () => {
    const filtered = access.filter((t) => t.rowFilter !== undefined).map((t) => t.dataset.name);
    const tableGrants = ofType(resources, 'AWS::LakeFormation::PrincipalPermissions')
      .map(([, r]) => r.Properties.Resource.TableWithColumns?.Name ?? r.Properties.Resource.Table?.TableName)
      .filter(Boolean);
    expect(tableGrants.filter((t) => filtered.includes(t))).toEqual([]);
    expect(
      ofType(resources, 'AWS::LakeFormation::DataCellsFilter')
        .map(([, f]) => f.Properties.TableName)
        .sort(),
    ).toEqual(filtered.sort());
  });

  test('each SELECT on a filter waits for its filter; every grant waits for the role it names', () => {
    const lf = ofType(resources, 'AWS::LakeFormation::PrincipalPermissions');
    const filterIds = new Map(ofType(resources, 'AWS::LakeFormation::DataCellsFilter').map(([fid, f]) => [f.Properties.Name, fid]));
    for (const [, r] of lf) {
      const name = r.Properties.Resource.DataCellsFilter?.Name;
      if (name) expect(r.DependsOn).toContain(filterIds.get(name));
      expect(r.Properties.Principal.DataLakePrincipalIdentifier['Fn::GetAtt']).toBeDefined();
    }
  });

  test('a monthly cost budget on the project tag alerts the security e-mails at 80% and 100%', () => {
    const budget = one('AWS::Budgets::Budget');
    expect(budget.Budget).toEqual({
      BudgetName: projectWorkgroupName(config, id),
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: project.limits.monthlyBudgetUsd, Unit: 'USD' },
      CostFilters: { TagKeyValue: [`user:sde:project$${id}`] },
    });
    const subscribers = config.platform.alerts.securityEmails.map((Address) => ({ Address, SubscriptionType: 'EMAIL' }));
    expect(budget.NotificationsWithSubscribers).toEqual(
      [80, 100].map((Threshold) => ({
        Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold, ThresholdType: 'PERCENTAGE' },
        Subscribers: subscribers,
      })),
    );
  });

  test('starter queries run in the project workgroup and name approved columns only', () => {
    const queries = ofType(resources, 'AWS::Athena::NamedQuery').map(([, q]) => q.Properties);
    const [workgroupId] = ofType(resources, 'AWS::Athena::WorkGroup')[0];
    expect(queries).toHaveLength(1 + access.length);
    expect(queries.every((q) => q.WorkGroup.Ref === workgroupId && q.Database === dataLake.databaseName)).toBe(true);
    const approved = new Set(access.flatMap((t) => t.columnNames));
    const quoted = queries.flatMap((q) => [...q.QueryString.matchAll(/"([a-z_0-9]+)"/g)].map((m) => m[1]));
    const tables = new Set([dataLake.databaseName, ...access.map((t) => t.dataset.name)]);
    expect(quoted.filter((name) => !approved.has(name) && !tables.has(name))).toEqual([]);
  });
});

describe('projects that are not active get nothing', () => {
  const everything = (t: ReturnType<typeof synthExample>) => JSON.stringify([...t.templates.values()]);

  test('the expired project (kcl-covid-recovery) has no resource in any workspace stack', () => {
    expect(everything({ config, stacks, templates })).not.toContain('kcl-covid-recovery');
    expect(stacks.workspaces.some((s) => s.workspaces.has('kcl-covid-recovery'))).toBe(false);
  });

  test('the expired project has no trust condition anywhere: not its people, its period or its principals', () => {
    const kcl = config.projects.find((p) => p.id === 'kcl-covid-recovery')!;
    const window = approvalWindow(kcl);
    const text = everything({ config, stacks, templates });
    const traces = [...kcl.researchers.flatMap((r) => [r.id, r.principal]), window.from, window.until];
    expect(traces.filter((t) => text.includes(t))).toEqual([]);
  });

  test.each([
    ['suspended', (doc: any) => (doc.status = 'suspended')],
    ['not yet started', (doc: any) => (doc.period.start = '2027-01-01')],
  ])('a %s project has no resource in any workspace stack', (_state, change) => {
    const fixture = new ConfigFixture().edit('projects/ucl-multimorbidity.yaml', change);
    try {
      expect(everything(synthExample(fixture.dir))).not.toContain('ucl-multimorbidity');
    } finally {
      fixture.cleanup();
    }
  });

  test('constructing a workspace for an inactive project fails instead of granting', () => {
    const stack = new Stack(newSdeApp(), 'Standalone');
    const expired = config.projects.find((p) => p.id === 'kcl-covid-recovery')!;
    expect(() => new ProjectWorkspace(stack, 'W', workspaceProps(stack, config, expired))).toThrow(
      /kcl-covid-recovery" is expired.*only an active project gets a workspace/,
    );
  });
});

function workspaceProps(stack: Stack, cfg: SdeConfig, project: SdeConfig['projects'][number]) {
  const bucket = new s3.Bucket(stack, 'Results');
  const tables = new Map(cfg.datasets.map((d) => [d.name, new DatasetTable(stack, `T-${d.name}`, { databaseName: 'db', dataset: d, curatedBucket: bucket })]));
  return { config: cfg, project, encryptionKey: new kms.Key(stack, 'Key'), resultsBucket: bucket, databaseName: 'db', tables };
}

describe('ProjectWorkspace in one stack with the catalog', () => {
  const stack = new Stack(newSdeApp(), 'Standalone');
  const settings = new lakeformation.CfnDataLakeSettings(stack, 'Settings', { admins: [] });
  const ncl = config.projects.find((p) => p.id === 'ncl-winter-planning')!;
  const props = workspaceProps(stack, config, ncl);
  const workspace = new ProjectWorkspace(stack, 'W', { ...props, dataLakeSettings: settings });
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const id = (c: unknown) => stack.getLogicalId(c as never);

  test('every Lake Formation resource waits for the data lake settings and for the table it names', () => {
    for (const [dataset, grant] of workspace.columnGrants) {
      const tableId = id(props.tables.get(dataset)!.table);
      for (const r of [grant.permission, grant.filter].filter((x) => x !== undefined)) {
        expect(resources[id(r)].DependsOn).toEqual(
          expect.arrayContaining([id(settings), ...(r === grant.permission && grant.filter ? [id(grant.filter)] : [tableId])]),
        );
      }
    }
    expect(resources[id(workspace.describeDatabase)].DependsOn).toContain(id(settings));
  });

  test('grantSelectColumns returns the grant and, for a row filter, the filter it is made on', () => {
    const episodes = workspace.columnGrants.get('hospital_episodes')!;
    const demographics = workspace.columnGrants.get('demographics')!;
    expect(episodes.filter).toBeInstanceOf(lakeformation.CfnDataCellsFilter);
    expect((episodes.permission.resource as any).dataCellsFilter.name).toBe(episodes.filter!.name);
    expect(demographics.filter).toBeUndefined();
    expect((demographics.permission.resource as any).tableWithColumns.columnNames).toEqual(['age_band', 'gp_practice_code', 'lsoa_code', 'person_id', 'sex']);
  });

  test('the results bucket in the same stack needs no cross-stack acknowledgement on the workgroup', () => {
    expect(workspace.workgroup.node.metadata.filter((m) => JSON.stringify(m.data).includes('cfnguard'))).toEqual([]);
  });
});

describe('LakeFormationGrants on its own', () => {
  const stack = new Stack(newSdeApp(), 'Grants');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.AccountRootPrincipal() });
  const bucket = new s3.Bucket(stack, 'Curated');
  const gp = config.datasets.find((d) => d.name === 'gp_events')!;
  const table = new DatasetTable(stack, 'Gp', { databaseName: 'db', dataset: gp, curatedBucket: bucket });
  const chain = new LakeFormationChain();
  const a = new LakeFormationGrants(stack, 'A', { grantee: role, databaseName: 'db', chain, filterNamePrefix: 'a' });
  const b = new LakeFormationGrants(stack, 'B', { grantee: role, databaseName: 'db', chain, filterNamePrefix: 'b' });
  const first = a.grantSelectColumns(table, ['unit', 'event_month']);
  const second = b.grantSelectColumns(table, ['value'], "unit = 'mmol/L'");

  test('grants across helpers sharing a chain are created one after another, in call order', () => {
    expect(chain.resources).toEqual([first.permission, second.filter, second.permission]);
    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const id = (c: unknown) => stack.getLogicalId(c as never);
    expect(resources[id(second.filter)].DependsOn).toEqual(expect.arrayContaining([id(first.permission), id(table.table)]));
    expect(resources[id(second.permission)].DependsOn).toContain(id(second.filter));
  });

  test('columns are granted sorted, so the same approval always renders the same template', () => {
    expect((first.permission.resource as any).tableWithColumns.columnNames).toEqual(['event_month', 'unit']);
  });

  test('refuses an empty column list rather than granting the whole table', () => {
    expect(() => a.grantSelectColumns(table, [])).toThrow(/no columns to grant/);
  });

  test('a filter is renamed when its columns or rows change, so its replacement can be created first', () => {
    const base = dataCellsFilterName('p', ['a', 'b'], "x = '1'");
    expect(dataCellsFilterName('p', ['b', 'a'], "x = '1'")).toBe(base);
    expect(dataCellsFilterName('p', ['a'], "x = '1'")).not.toBe(base);
    expect(dataCellsFilterName('p', ['a', 'b'], "x = '2'")).not.toBe(base);
  });
});

describe('small rules', () => {
  test('tag values drop characters IAM, Athena and Budgets refuse', () => {
    expect(tagValue("King's College London")).toBe('Kings College London');
    expect(tagValue('NHS North Central London ICB (NCL)')).toBe('NHS North Central London ICB NCL');
  });

  test('a role name over 64 characters is refused with what to shorten', () => {
    const fixture = new ConfigFixture()
      .edit('projects/ucl-multimorbidity.yaml', (doc) => (doc.id = 'ucl-multimorbidity-and-prescribing-study'))
      .edit('platform.yaml', (doc) => (doc.name = 'onelondon-secure-data-envt'));
    try {
      const long = loadConfig(fixture.dir, { today: TEST_TODAY });
      expect(() => createApp(long, { compliance: false })).toThrow(/role name .* is \d+ characters; IAM allows 64/);
    } finally {
      fixture.cleanup();
    }
  });

  test('starter queries quote identifiers and count every approved table', () => {
    const ucl = config.projects.find((p) => p.id === 'ucl-multimorbidity')!;
    const [counts] = starterQueries('db', projectAccess(config, ucl));
    expect(counts.sql.match(/COUNT\(\*\)/g)).toHaveLength(3);
    expect(counts.sql).toContain('FROM "db"."gp_events"');
  });
});

describe('the daily check of approved periods', () => {
  const alarms = [...templates.values()].flatMap((t) => ofType(t, 'AWS::CloudWatch::Alarm'));
  const schedules = [...templates.values()].flatMap((t) => ofType(t, 'AWS::Scheduler::Schedule'));

  test('every active project, and only those, has a daily schedule from the day after its period ends', () => {
    expect(schedules.map(([, s]) => [s.Properties.ScheduleExpression, s.Properties.StartDate]).sort()).toEqual(
      active.map((p) => ['cron(0 7 * * ? *)', approvalWindow(p).until]).sort(),
    );
  });

  test("the schedule reports the project as a metric, in its own namespace, through a role only this account's scheduler may assume", () => {
    for (const [, s] of schedules) {
      expect(s.Properties.Target.Arn).toMatch(/^arn:aws[a-z-]*:scheduler:::aws-sdk:cloudwatch:putMetricData$/);
      expect(JSON.parse(s.Properties.Target.Input)).toMatchObject({
        Namespace: 'SDE/Governance',
        MetricData: [{ MetricName: 'ProjectPastApprovedPeriod', Value: 1 }],
      });
    }
    const roles = [...templates.values()]
      .flatMap((t) => ofType(t, 'AWS::IAM::Role'))
      .filter(([, r]) => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service);
    expect(roles.map(([, r]) => r.Properties.AssumeRolePolicyDocument.Statement[0].Condition)).toEqual(
      roles.map(() => ({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } })),
    );
  });

  test("each project's alarm fires on the metric and goes to the security team's topic", () => {
    expect(alarms.map(([, a]) => a.Properties.Dimensions[0].Value).sort()).toEqual(active.map((p) => p.id).sort());
    for (const [, a] of alarms) {
      expect([a.Properties.MetricName, a.Properties.Threshold, a.Properties.ComparisonOperator]).toEqual([
        'ProjectPastApprovedPeriod',
        1,
        'GreaterThanOrEqualToThreshold',
      ]);
      expect(JSON.stringify(a.Properties.AlarmActions)).toContain(stacks.audit.stackName);
    }
  });
});

describe('trust policy size', () => {
  test('a project whose people sign in through too many principals is refused with what to do', () => {
    const stack = new Stack(newSdeApp(), 'Standalone');
    const ncl = config.projects.find((p) => p.id === 'ncl-winter-planning')!;
    const many = {
      ...ncl,
      researchers: Array.from({ length: 12 }, (_, i) => ({ id: `NCL-R-${1000 + i}`, principal: `arn:aws:iam::111122223333:role/analyst-${i}` })),
    };
    expect(() => new ProjectWorkspace(stack, 'W', workspaceProps(stack, config, many))).toThrow(/trust policy is \d+ characters; IAM allows 2048 by default/);
  });
});
