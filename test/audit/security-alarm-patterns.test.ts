/**
 * The alarm metric filters, run over real CloudTrail records with a small evaluator of
 * CloudWatch's JSON pattern syntax: each alarm fires on what it should, not on the rest,
 * and agrees with the matching named query.
 */
import { AuditEngine } from '../../lib/audit/audit-engine';
import { readTrail } from '../../lib/audit/cloudtrail-reader';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { auditQueryContext } from '../../lib/audit/named-queries';
import { loadConfig } from '../../lib/config';
import { securityAlarmSpecs } from '../../lib/constructs/audit/security-alarms';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { REAL_TRAIL } from './helpers/fixtures';
import { compileFilterPattern } from './helpers/metric-filter';

const deployRoleArn = 'arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-2';
const watched = ['landing-b', 'curated-b', 'quarantine-b', 'results-b', 'logs-b', 'audit-b', 'audit-logs-b'];
const specs = securityAlarmSpecs({ deployRoleArn, watchedBucketNames: watched });
const alarm = (id: string) => {
  const spec = specs.find((s) => s.id === id);
  if (!spec) throw new Error(`no alarm ${id}`);
  const filters = spec.patterns.map(compileFilterPattern);
  return (r: unknown) => filters.some((f) => f(r));
};

let real: CloudTrailRecord[];
beforeAll(async () => {
  real = (await readTrail(REAL_TRAIL)).records.map((r) => r.record);
});

const base = { eventVersion: '1.09', eventTime: '2026-11-21T10:00:00Z', eventType: 'AwsApiCall', awsRegion: 'eu-west-2' };
const asRole = (role: string) => ({
  type: 'AssumedRole',
  arn: `arn:aws:sts::111122223333:assumed-role/${role}/session`,
  sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::111122223333:role/${role}`, userName: role } },
});

test('every pattern stays under the 1024-character limit, even with the longest bucket names', () => {
  const long = securityAlarmSpecs({ deployRoleArn, watchedBucketNames: watched.map((b, i) => `${i}${b}`.padEnd(63, 'x')) });
  for (const p of long.flatMap((s) => s.patterns)) expect(p.length).toBeLessThanOrEqual(1024);
  expect(long.flatMap((s) => s.patterns.map(compileFilterPattern))).toHaveLength(specs.flatMap((s) => s.patterns).length);
});

describe('over the real CloudTrail records', () => {
  test.each([
    ['TrailChanged', ['DeleteTrail', 'PutEventSelectors', 'StopLogging', 'UpdateTrail']],
    ['LakeFormationGrantOutsideDeployment', ['GrantPermissions']],
    ['IamAllowedPrincipalsGranted', []],
    ['RootAccountUsed', ['CreateBucket']],
    ['KmsKeyDisabledOrDeleted', []],
    ['DataBucketPolicyChanged', []],
  ])('%s fires on exactly %j', (id, names) => {
    expect(
      real
        .filter(alarm(id))
        .map((r) => r.eventName)
        .sort(),
    ).toEqual(names);
  });

  test('RepeatedAccessDenied counts the same 51 events the access-denied query finds', async () => {
    const engine = await AuditEngine.open(real, auditQueryContext(loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY })));
    try {
      const fromQuery = (await engine.run('access-denied')).rows.map((r) => r.event_id).sort();
      expect(
        real
          .filter(alarm('RepeatedAccessDenied'))
          .map((r) => r.eventID)
          .sort(),
      ).toEqual(fromQuery);
      expect(fromQuery).toHaveLength(51);
    } finally {
      engine.close();
    }
  });
});

describe('on the events each alarm is for', () => {
  const lf = (eventName: string, identity: object, requestParameters: object = {}) => ({
    ...base,
    eventSource: 'lakeformation.amazonaws.com',
    eventName,
    userIdentity: identity,
    requestParameters,
  });

  test('a Lake Formation grant by the deployment role is a deployment; by anyone else it is an alarm', () => {
    const fires = alarm('LakeFormationGrantOutsideDeployment');
    expect(fires(lf('GrantPermissions', asRole('cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-2')))).toBe(false);
    expect(fires(lf('BatchRevokePermissions', asRole('SdePlatformAdmin')))).toBe(true);
    expect(fires(lf('GrantPermissions', { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/admin' }))).toBe(true);
    expect(fires(lf('ListPermissions', asRole('SdePlatformAdmin')))).toBe(false);
  });

  test('IAMAllowedPrincipals granted directly, as a data lake default or as a database default', () => {
    const fires = alarm('IamAllowedPrincipalsGranted');
    const iamAllowed = { dataLakePrincipalIdentifier: 'IAM_ALLOWED_PRINCIPALS' };
    expect(fires(lf('GrantPermissions', asRole('x'), { principal: iamAllowed, permissions: ['ALL'] }))).toBe(true);
    expect(fires(lf('BatchGrantPermissions', asRole('x'), { entries: [{ principal: iamAllowed }] }))).toBe(true);
    expect(
      fires(lf('PutDataLakeSettings', asRole('x'), { dataLakeSettings: { createTableDefaultPermissions: [{ principal: iamAllowed, permissions: ['ALL'] }] } })),
    ).toBe(true);
    expect(
      fires({
        ...base,
        eventSource: 'glue.amazonaws.com',
        eventName: 'CreateDatabase',
        requestParameters: { databaseInput: { name: 'x', createTableDefaultPermissions: [{ principal: iamAllowed }] } },
      }),
    ).toBe(true);
    expect(fires(lf('GrantPermissions', asRole('x'), { principal: { dataLakePrincipalIdentifier: 'arn:aws:iam::111122223333:role/r' } }))).toBe(false);
    expect(fires(lf('RevokePermissions', asRole('x'), { principal: iamAllowed }))).toBe(false);
  });

  test('root use, but not a service acting for root', () => {
    const fires = alarm('RootAccountUsed');
    expect(fires({ ...base, eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', userIdentity: { type: 'Root' } })).toBe(true);
    expect(fires({ ...base, eventSource: 's3.amazonaws.com', eventName: 'GetObject', userIdentity: { type: 'Root', invokedBy: 'config.amazonaws.com' } })).toBe(
      false,
    );
    expect(fires({ ...base, eventType: 'AwsServiceEvent', eventSource: 'kms.amazonaws.com', eventName: 'RotateKey', userIdentity: { type: 'Root' } })).toBe(
      false,
    );
  });

  test('a key disabled or scheduled for deletion, not re-enabled', () => {
    const fires = alarm('KmsKeyDisabledOrDeleted');
    const kms = (eventName: string) => ({ ...base, eventSource: 'kms.amazonaws.com', eventName, userIdentity: asRole('x') });
    expect([fires(kms('DisableKey')), fires(kms('ScheduleKeyDeletion')), fires(kms('EnableKey')), fires(kms('Decrypt'))]).toEqual([true, true, false, false]);
  });

  test('a policy change on a watched bucket, in any of the filters, but not on other buckets', () => {
    const fires = alarm('DataBucketPolicyChanged');
    const s3 = (eventName: string, bucketName: string) => ({ ...base, eventSource: 's3.amazonaws.com', eventName, requestParameters: { bucketName } });
    expect(watched.map((b) => fires(s3('PutBucketPolicy', b)))).toEqual(watched.map(() => true));
    expect(fires(s3('DeleteBucketPolicy', 'audit-logs-b'))).toBe(true);
    expect(fires(s3('PutBucketPolicy', 'someone-elses-bucket'))).toBe(false);
    expect(fires(s3('GetBucketPolicy', 'curated-b'))).toBe(false);
  });
});
