/** The security alarms counted from records, as CloudWatch would raise them: one per five-minute period that meets the condition. */
import { randomUUID } from 'node:crypto';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { countSecurityAlarms, type SecurityEventOptions } from '../../lib/audit/security-events';

const options: SecurityEventOptions = {
  deployRoleArn: 'arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-2',
  watchedBucket: (b) => b.startsWith('sde-'),
};

function rec(time: string, fields: Partial<CloudTrailRecord>): CloudTrailRecord {
  return { eventTime: time, eventSource: 'athena.amazonaws.com', eventName: 'StartQueryExecution', eventID: randomUUID(), ...fields };
}
const raised = (records: CloudTrailRecord[], o: SecurityEventOptions = options) =>
  Object.fromEntries(countSecurityAlarms(records, o).map((a) => [a.id, a.raised]));

test('repeated refusals: 5 within one five-minute period raise it once; 4, or 3 and 3 across a period boundary, do not', () => {
  const denied = (t: string, code = 'AccessDenied') => rec(t, { errorCode: code });
  expect(raised(['00:30', '01:00', '02:00', '03:00'].map((m) => denied(`2026-11-05T09:${m}Z`))).RepeatedAccessDenied).toBe(0);
  expect(raised(['00:30', '01:00', '02:00', '03:00', '04:59'].map((m) => denied(`2026-11-05T09:${m}Z`))).RepeatedAccessDenied).toBe(1);
  expect(raised(['02:00', '03:00', '04:00', '05:00', '06:00', '07:00'].map((m) => denied(`2026-11-05T09:${m}Z`))).RepeatedAccessDenied).toBe(0);
  // Every spelling of a refusal counts; other errors are not refusals.
  const spellings = ['AccessDenied', 'Client.AccessDeniedException', 'UnauthorizedOperation', 'Client.AuthorizationError', 'AccessDeniedException'];
  expect(raised(spellings.map((c, i) => denied(`2026-11-05T10:0${i}:00Z`, c))).RepeatedAccessDenied).toBe(1);
  expect(
    raised(
      ['ThrottlingException', 'ValidationException', 'NoSuchKey', 'InvalidRequestException', 'AccessDeniedish'].map((c, i) =>
        denied(`2026-11-05T10:0${i}:00Z`, c),
      ),
    ).RepeatedAccessDenied,
  ).toBe(0);
});

test('a Lake Formation grant counts unless the deployment role made it; with no role named, a CDK execution role is the deployment', () => {
  const grant = (issuer?: string) =>
    rec('2026-11-05T10:00:00Z', {
      eventSource: 'lakeformation.amazonaws.com',
      eventName: 'GrantPermissions',
      userIdentity: issuer === undefined ? { type: 'IAMUser' } : { type: 'AssumedRole', sessionContext: { sessionIssuer: { arn: issuer } } },
    });
  expect(raised([grant(options.deployRoleArn)]).LakeFormationGrantOutsideDeployment).toBe(0);
  expect(raised([grant('arn:aws:iam::111122223333:role/SdePlatformAdmin')]).LakeFormationGrantOutsideDeployment).toBe(1);
  expect(raised([grant()]).LakeFormationGrantOutsideDeployment).toBe(1);
  const noRole = { watchedBucket: options.watchedBucket };
  expect(raised([grant(options.deployRoleArn)], noRole).LakeFormationGrantOutsideDeployment).toBe(0);
  expect(raised([grant('arn:aws:iam::111122223333:role/cdk-lookalike')], noRole).LakeFormationGrantOutsideDeployment).toBe(1);
});

test('root, bucket policies, keys, the trail and IAMAllowedPrincipals', () => {
  const t = '2026-11-05T10:00:00Z';
  expect(raised([rec(t, { userIdentity: { type: 'Root' } })]).RootAccountUsed).toBe(1);
  expect(raised([rec(t, { userIdentity: { type: 'Root', invokedBy: 'support.amazonaws.com' } as never })]).RootAccountUsed).toBe(0);
  const policy = (bucket: string) => rec(t, { eventSource: 's3.amazonaws.com', eventName: 'PutBucketPolicy', requestParameters: { bucketName: bucket } });
  expect(raised([policy('sde-curated')]).DataBucketPolicyChanged).toBe(1);
  expect(raised([policy('someone-elses')]).DataBucketPolicyChanged).toBe(0);
  expect(raised([rec(t, { eventSource: 'kms.amazonaws.com', eventName: 'ScheduleKeyDeletion' })]).KmsKeyDisabledOrDeleted).toBe(1);
  expect(raised([rec(t, { eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' })]).TrailChanged).toBe(1);
  const iam = { principal: { dataLakePrincipalIdentifier: 'IAM_ALLOWED_PRINCIPALS' } };
  expect(
    raised([rec(t, { eventSource: 'lakeformation.amazonaws.com', eventName: 'BatchGrantPermissions', requestParameters: { entries: [iam] } })])
      .IamAllowedPrincipalsGranted,
  ).toBe(1);
  expect(
    raised([
      rec(t, {
        eventSource: 'glue.amazonaws.com',
        eventName: 'UpdateDatabase',
        requestParameters: { databaseInput: { createTableDefaultPermissions: [iam] } },
      }),
    ]).IamAllowedPrincipalsGranted,
  ).toBe(1);
  // Two events of one alarm in one period are one alarm; in two periods, two.
  expect(raised([policy('sde-a'), policy('sde-b')]).DataBucketPolicyChanged).toBe(1);
  expect(raised([policy('sde-a'), { ...policy('sde-b'), eventTime: '2026-11-05T10:05:00Z' }]).DataBucketPolicyChanged).toBe(2);
});
