import { AuditEngine } from '../../lib/audit/audit-engine';
import { readTrail } from '../../lib/audit/cloudtrail-reader';
import { accessDeniedCodeVariants, CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { closeAllAuditWriters, localAuditEnv } from '../../lib/audit/local-audit-writer';
import {
  athenaDescription,
  AuditQueryContext,
  auditQueryContext,
  bindParameters,
  findNamedQuery,
  NAMED_QUERIES,
  NamedQueryDefinition,
  renderQuery,
} from '../../lib/audit/named-queries';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { REAL_TRAIL, TempDir } from './helpers/fixtures';
import { LOCAL_CURATED_BUCKET, writeDemoTrail } from './helpers/local-trail';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const count = (rows: readonly Record<string, unknown>[], column: string) =>
  rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [String(r[column])]: (acc[String(r[column])] ?? 0) + 1 }), {});

describe('the query definitions', () => {
  const ctx = auditQueryContext(config, { curatedBuckets: ['curated-bucket'] });

  test.each(NAMED_QUERIES.map((q) => [q.name, q] as const))('%s renders one text for Athena and DuckDB, each parameter once, in WHERE only', (_n, def) => {
    const athena = renderQuery(def, ctx, 'athena');
    const duck = renderQuery(def, ctx, 'duckdb');
    expect(athena).toEqual(duck);
    expect(athena.parameterOrder).toEqual(def.parameters.map((p) => p.name));
    // No '?' other than the parameters, not even in string literals.
    expect(athena.sql.split('?').length - 1).toBe(def.parameters.length);
    // Athena allows execution parameters in WHERE clauses only.
    const code = athena.sql.replace(/'(?:[^']|'')*'/g, "''");
    for (let at = code.indexOf('?'); at >= 0; at = code.indexOf('?', at + 1)) {
      const clauses = [...code.slice(0, at).matchAll(/\b(WHERE|SELECT|FROM|ON|ORDER BY|GROUP BY)\b/g)];
      expect(clauses.at(-1)?.[1]).toBe('WHERE');
    }
    // Written in Athena's dialect: no DuckDB-only function names.
    expect(athena.sql).not.toMatch(/json_extract_string|regexp_matches|array_to_string|list_/);
  });

  test.each(NAMED_QUERIES.map((q) => [q.name, q] as const))('%s fits Athena named query limits', (_n, def) => {
    expect(def.title.length).toBeLessThanOrEqual(128);
    expect(athenaDescription(def).length).toBeLessThanOrEqual(1024);
    expect(def.name).toMatch(/^[a-z][a-z-]+$/);
  });

  test('the Athena description says which values to give, in order', () => {
    expect(athenaDescription(findNamedQuery('outside-approved-period'))).toMatch(
      /Parameters, in order \(quoted as strings\): 1\. project: project id, or '' for every project \(''/,
    );
  });

  test('a query whose parameters do not match its SQL is refused', () => {
    const bad: NamedQueryDefinition = { ...findNamedQuery('access-denied'), parameters: [{ name: 'x', description: 'x', required: true, example: 'x' }] };
    expect(() => renderQuery(bad, ctx, 'athena')).toThrow(/uses parameters \[\] but declares \[x\]/);
  });

  test('required parameters must be given, unknown ones are refused', () => {
    const def = findNamedQuery('data-access-by-principal');
    expect(() => bindParameters(def, {})).toThrow(/needs --param principal=VALUE/);
    expect(() => bindParameters(def, { principal: '  ' })).toThrow(/needs --param principal/);
    expect(() => bindParameters(def, { principal: 'a', who: 'b' })).toThrow(/unknown parameter who/);
    expect(bindParameters(findNamedQuery('outside-approved-period'), {})).toEqual(['']);
    expect(() => findNamedQuery('nope')).toThrow(/there is no audit query "nope"/);
  });

  test('projects and their periods come from the config, by the role naming convention', () => {
    expect(ctx.projectRolePrefix).toBe('onelondon-sde-project-');
    expect(ctx.projects.find((p) => p.id === 'kcl-covid-recovery')).toEqual({
      id: 'kcl-covid-recovery',
      roleName: 'onelondon-sde-project-kcl-covid-recovery',
      workgroup: 'onelondon-sde-project-kcl-covid-recovery',
      periodStart: '2024-02-01',
      periodEnd: '2025-07-31',
    });
  });
});

describe('named queries over the real CloudTrail records (AWS docs, OTRF, Stratus Red Team)', () => {
  let records: CloudTrailRecord[];
  let engine: AuditEngine;
  const ctx: AuditQueryContext = auditQueryContext(config, { curatedBuckets: ['mordors3stack-s3bucket-llp2yingx64a'] });
  const run = (name: string, params: Record<string, string> = {}) => engine.run(name, params);

  beforeAll(async () => {
    records = (await readTrail(REAL_TRAIL)).records.map((r) => r.record);
    engine = await AuditEngine.open(records, ctx);
  });
  afterAll(() => engine.close());

  test('access-denied finds exactly the 51 denied events: 46 Client.UnauthorizedOperation (EC2) and 5 AccessDenied', async () => {
    const r = await run('access-denied');
    expect(r.rows).toHaveLength(51);
    expect(count(r.rows, 'error_code')).toEqual({ 'Client.UnauthorizedOperation': 46, AccessDenied: 5 });
    expect(count(r.rows, 'event_name')).toEqual({ GetPasswordData: 30, DescribeInstanceAttribute: 15, RunInstances: 1, AssumeRole: 4, LeaveOrganization: 1 });
    // ...and nothing else: every other error (bad request, not found, ...) is left out.
    const denied = new Set(accessDeniedCodeVariants());
    expect(
      records
        .filter((x) => x.errorCode !== undefined && !denied.has(x.errorCode))
        .map((x) => x.errorCode)
        .sort(),
    ).toEqual(['EntityTemporarilyUnmodifiableException', 'InvalidInputException', 'InvalidRequestException', 'TrailNotFoundException']);
  });

  test('lake-formation-permission-changes finds the one (failed) GrantPermissions', async () => {
    const r = await run('lake-formation-permission-changes');
    expect(r.rows).toEqual([
      expect.objectContaining({
        event_name: 'GrantPermissions',
        error_code: 'InvalidInputException',
        principal: 'arn:aws:iam::111122223333:user/datalake_admin',
        grantee: 'arn:aws:iam::111122223333:user/datalake_user1',
      }),
    ]);
  });

  test('protection-changes finds the trail tampering, the bucket ACL change and the bucket deletion', async () => {
    const r = await run('protection-changes');
    expect(r.rows.map((x) => `${x.category}:${x.event_name}:${x.error_code ?? 'ok'}`).sort()).toEqual([
      'bucket:DeleteBucket:ok',
      'bucket:PutBucketAcl:ok',
      'trail:DeleteTrail:ok',
      'trail:PutEventSelectors:ok',
      'trail:StopLogging:ok',
      'trail:UpdateTrail:TrailNotFoundException',
    ]);
  });

  test.each([
    ['MordorNginxStack-BankingWAFRole', { ListObjects: 7, GetObject: 2 }],
    ['mordornginxstack-bankingwafrole', { ListObjects: 7, GetObject: 2 }],
    ['johndoe', { StartQueryExecution: 2 }],
    ['role/Admin', { GetDataAccess: 1 }], // matched on the Lake Formation principal
    ['yourUserName', { PutObject: 1 }], // the S3 on Outposts data event
    ["x' OR '1'='1", {}], // a value, never SQL
  ])('data-access-by-principal %s', async (principal, expected) => {
    const r = await run('data-access-by-principal', { principal });
    expect(count(r.rows, 'event_name')).toEqual(expected);
  });

  test('dataset-access finds Lake Formation data access to a table by its name', async () => {
    const r = await run('dataset-access', { dataset: 'flights_local' });
    expect(r.rows).toHaveLength(4);
    expect(count(r.rows, 'access_path')).toEqual({ 'lake-formation': 4 });
  });

  test('dataset-access finds S3 object reads in the curated bucket by the first key segment', async () => {
    const r = await run('dataset-access', { dataset: 'ring.txt' });
    expect(r.rows.map((x) => [x.event_name, x.access_path, x.resource])).toEqual([
      ['GetObject', 's3-object', 'mordors3stack-s3bucket-llp2yingx64a/ring.txt'],
      ['GetObject', 's3-object', 'mordors3stack-s3bucket-llp2yingx64a/ring.txt'],
    ]);
  });

  test('assume-project-role finds nothing: no role in these records follows the project naming', async () => {
    expect((await run('assume-project-role')).rows).toEqual([]);
  });

  test('assume-project-role, with the Stratus roles as "project" roles, finds 8 allowed and 4 refused, reading refused roles from the message', async () => {
    const stratus = await AuditEngine.open(records, { ...ctx, projectRolePrefix: 'stratus-red-team-' });
    try {
      const all = await stratus.run('assume-project-role', { project: '' });
      expect(all.rows).toHaveLength(12);
      expect(count(all.rows, 'error_code')).toEqual({ null: 8, AccessDenied: 4 });
      const one = await stratus.run('assume-project-role', { project: 'ec2-get-password-data-role' });
      expect(one.rows.map((x) => [x.role_arn, x.error_code])).toEqual([
        ['arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role', 'AccessDenied'],
        ['arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role', 'AccessDenied'],
        ['arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role', null],
        ['arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role', null],
      ]);
    } finally {
      stratus.close();
    }
  });

  test('outside-approved-period finds nothing for the example projects', async () => {
    expect((await run('outside-approved-period')).rows).toEqual([]);
  });

  test('outside-approved-period, with a Stratus role as a project approved from 2024-08-01, finds its 4 earlier role assumptions', async () => {
    const project = {
      id: 'pwd',
      roleName: 'stratus-red-team-ec2-get-password-data-role',
      workgroup: 'pwd-wg',
      periodStart: '2024-08-01',
      periodEnd: '2025-01-31',
    };
    const late = await AuditEngine.open(records, { ...ctx, projects: [project] });
    const inPeriod = await AuditEngine.open(records, { ...ctx, projects: [{ ...project, periodStart: '2024-07-30' }] });
    try {
      const r = await late.run('outside-approved-period', { project: 'pwd' });
      expect(r.rows.map((x) => [x.project_id, x.event_name, String(x.event_time).slice(0, 10)])).toEqual(Array(4).fill(['pwd', 'AssumeRole', '2024-07-30']));
      expect((await inPeriod.run('outside-approved-period')).rows).toEqual([]);
    } finally {
      late.close();
      inPeriod.close();
    }
  });

  test('root-account-activity finds the root user creating a bucket (the AWS documentation example), and nothing else', async () => {
    const r = await run('root-account-activity');
    expect(r.rows).toEqual([
      expect.objectContaining({
        event_time: '2016-02-20T01:09:13Z',
        event_source: 's3.amazonaws.com',
        event_name: 'CreateBucket',
        principal: 'arn:aws:iam::123456789012:root',
        event_id: '24ba271e-d595-4e66-a7fd-9c16cbf8abae',
      }),
    ]);
    // Root sessions acting through a service (invokedBy) are not the root user's own calls.
    const viaService = records.map((x) =>
      x.userIdentity?.type === 'Root' ? { ...x, userIdentity: { ...x.userIdentity, invokedBy: 'support.amazonaws.com' } } : x,
    );
    const other = await AuditEngine.open(viaService, ctx);
    try {
      expect((await other.run('root-account-activity')).rows).toEqual([]);
    } finally {
      other.close();
    }
  });
});

describe('named queries over local records from a demo run', () => {
  const tmp = new TempDir();
  let engine: AuditEngine;
  const ctx = auditQueryContext(config, { curatedBuckets: [LOCAL_CURATED_BUCKET] });
  const env = localAuditEnv(config);

  beforeAll(async () => {
    writeDemoTrail(config, tmp.dir);
    const local = (await readTrail(`${tmp.dir}/audit`)).records.map((r) => r.record);
    const base = local[0];
    const extra: CloudTrailRecord[] = [
      // The local runtime does not assume roles; these stand in for the AWS side.
      {
        ...base,
        eventID: 'assume-ok',
        eventTime: '2026-11-21T09:59:00Z',
        eventSource: 'sts.amazonaws.com',
        eventName: 'AssumeRole',
        eventCategory: 'Management',
        requestParameters: {
          roleArn: `arn:aws:iam::${env.accountId}:role/onelondon-sde-project-ucl-multimorbidity`,
          roleSessionName: 'UCL-R-0210',
          sourceIdentity: 'UCL-R-0210',
        },
      },
      {
        ...base,
        eventID: 'assume-denied',
        eventTime: '2026-11-21T09:59:30Z',
        eventSource: 'sts.amazonaws.com',
        eventName: 'AssumeRole',
        eventCategory: 'Management',
        requestParameters: null,
        errorCode: 'AccessDenied',
        errorMessage: `User: arn:aws:iam::${env.accountId}:user/someone is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${env.accountId}:role/onelondon-sde-project-kcl-covid-recovery`,
      },
      {
        ...base,
        eventID: 'root',
        eventName: 'PutBucketPolicy',
        eventCategory: 'Management',
        requestParameters: { bucketName: 'other-bucket' },
        userIdentity: { type: 'Root', arn: `arn:aws:iam::${env.accountId}:root` },
      },
      {
        ...base,
        eventID: 'root-by-service',
        eventName: 'GetObject',
        requestParameters: { bucketName: 'other-bucket', key: 'x' },
        userIdentity: { type: 'Root', arn: `arn:aws:iam::${env.accountId}:root`, invokedBy: 'config.amazonaws.com' },
      },
    ];
    engine = await AuditEngine.open([...local, ...extra], ctx);
  });
  afterAll(() => {
    engine.close();
    tmp.cleanup();
    closeAllAuditWriters();
  });

  test('access-denied finds the refused queries and role assumption', async () => {
    const r = await engine.run('access-denied');
    expect(r.rows.map((x) => `${x.event_name}:${x.principal}`)).toEqual([
      'AssumeRole:arn:aws:sts::000000000000:assumed-role/onelondon-sde-ingest/local-ingest',
      'StartQueryExecution:arn:aws:sts::000000000000:assumed-role/onelondon-sde-project-ncl-winter-planning/ncl-icb-analyst',
      'StartQueryExecution:arn:aws:sts::000000000000:assumed-role/onelondon-sde-project-kcl-covid-recovery/kcl-covid-recovery-researcher',
    ]);
  });

  test('dataset-access finds the ingestion write, the Lake Formation access and every query naming the table', async () => {
    const r = await engine.run('dataset-access', { dataset: 'hospital_episodes' });
    expect(r.rows.map((x) => `${x.access_path}:${x.event_name}:${x.error_code ?? 'ok'}`)).toEqual([
      's3-object:PutObject:ok',
      'athena-query:StartQueryExecution:ok',
      'lake-formation:GetDataAccess:ok',
      'athena-query:StartQueryExecution:AccessDenied',
      'athena-query:StartQueryExecution:AccessDenied',
    ]);
    expect((await engine.run('dataset-access', { dataset: 'prescriptions' })).rows.map((x) => x.event_name)).toEqual(['PutObject']);
    expect((await engine.run('dataset-access', { dataset: 'gp_events' })).rows).toEqual([]);
  });

  test('data-access-by-principal finds everything one researcher did', async () => {
    const r = await engine.run('data-access-by-principal', { principal: 'ncl-icb-analyst' });
    expect(r.rows.map((x) => `${x.event_name}:${x.error_code ?? 'ok'}`)).toEqual([
      'StartQueryExecution:ok',
      'GetDataAccess:ok',
      'StartQueryExecution:AccessDenied',
    ]);
  });

  test('data-access-by-person finds what one person did, by the source identity, exactly', async () => {
    const r = await engine.run('data-access-by-person', { person: 'ncl-icb-analyst' });
    expect(r.rows.map((x) => `${x.event_name}:${x.source_identity}:${x.error_code ?? 'ok'}`)).toEqual([
      'StartQueryExecution:ncl-icb-analyst:ok',
      'GetDataAccess:ncl-icb-analyst:ok',
      'StartQueryExecution:ncl-icb-analyst:AccessDenied',
    ]);
    // AWS compares source identities exactly: another case, or part of one, is someone else.
    expect((await engine.run('data-access-by-person', { person: 'NCL-ICB-ANALYST' })).rows).toEqual([]);
    expect((await engine.run('data-access-by-person', { person: 'ncl-icb' })).rows).toEqual([]);
  });

  test('assume-project-role names the person each session was asked for', async () => {
    const r = await engine.run('assume-project-role', { project: 'ucl-multimorbidity' });
    expect(r.rows.map((x) => `${x.project_id}:${x.source_identity}`)).toEqual(['ucl-multimorbidity:UCL-R-0210']);
  });

  test('outside-approved-period finds the expired project, by the project field and by its role', async () => {
    const r = await engine.run('outside-approved-period');
    expect(r.rows.map((x) => `${x.project_id}:${x.event_name}:${x.period_end}`)).toEqual([
      'kcl-covid-recovery:AssumeRole:2025-07-31',
      'kcl-covid-recovery:StartQueryExecution:2025-07-31',
    ]);
    expect((await engine.run('outside-approved-period', { project: 'ncl-winter-planning' })).rows).toEqual([]);
  });

  test('assume-project-role finds assumptions of project roles, allowed and refused', async () => {
    const r = await engine.run('assume-project-role');
    expect(r.rows.map((x) => `${x.project_id}:${x.error_code ?? 'ok'}`)).toEqual(['ucl-multimorbidity:ok', 'kcl-covid-recovery:AccessDenied']);
    expect((await engine.run('assume-project-role', { project: 'ucl-multimorbidity' })).rows).toHaveLength(1);
  });

  test('root-account-activity finds the root call, not the service acting for root', async () => {
    expect((await engine.run('root-account-activity')).rows.map((x) => x.event_id)).toEqual(['root']);
  });

  test('lake-formation-permission-changes and protection-changes find nothing the local runtime does not do', async () => {
    expect((await engine.run('lake-formation-permission-changes')).rows).toEqual([]);
    expect((await engine.run('protection-changes')).rows.map((x) => x.event_id)).toEqual(['root']);
  });
});
