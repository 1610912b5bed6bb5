/**
 * AWS-shaped records and a stand-in Athena for the register's AWS path: CloudTrail
 * StartQueryExecution records (execution id, no bytes), S3 data events on the airlock
 * bucket, and BatchGetQueryExecution answers.
 */
import type { BatchGetQueryExecutionCommand, BatchGetQueryExecutionCommandOutput, QueryExecution } from '@aws-sdk/client-athena';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { localAuditEnv, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import type { SdeConfig } from '../../lib/config/model';
import { projectWorkgroupName } from '../../lib/config/naming';

export const AIRLOCK = 'onelondon-sde-airlock-store1a2b3c';
export const NCL = 'ncl-winter-planning';

export function awsRecords(config: SdeConfig) {
  const env = localAuditEnv(config);
  const wg = (id: string) => projectWorkgroupName(config, id);
  /** A StartQueryExecution as AWS CloudTrail records it: the execution id, no bytes, no local project field. */
  function awsQuery(id: string, time: string, projectId = NCL): CloudTrailRecord {
    const r = projectQueryEvent(env, { projectId, sessionName: 'someone', queryString: 'SELECT 1', time: new Date(time), queryExecutionId: id });
    const { sdeProjectId: _p, sdeBytesScanned: _b, ...rest } = r.additionalEventData ?? {};
    return { ...r, additionalEventData: rest };
  }

  /** An S3 data event on the airlock bucket, shaped as CloudTrail writes it (test/fixtures/cloudtrail/real/aws-docs-examples/s3.Records.json). */
  function s3Event(
    eventName: string,
    key: string,
    time: string,
    over: { bucket?: string; errorCode?: string; tag?: string | null; eventID?: string } = {},
  ): CloudTrailRecord {
    const bucket = over.bucket ?? AIRLOCK;
    const tagging =
      eventName === 'PutObjectTagging' && over.tag !== null
        ? { tagging: '', Tagging: { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/', TagSet: { Tag: { Key: 'sde-airlock', Value: over.tag ?? 'released' } } } }
        : {};
    return {
      eventVersion: '1.10',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLE:reviewer-session',
        arn: 'arn:aws:sts::111122223333:assumed-role/SdeOutputChecker1/reviewer-session',
        accountId: '111122223333',
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: 'AROAEXAMPLE',
            arn: 'arn:aws:iam::111122223333:role/SdeOutputChecker1',
            accountId: '111122223333',
            userName: 'SdeOutputChecker1',
          },
        },
      },
      eventTime: time,
      eventSource: 's3.amazonaws.com',
      eventName,
      awsRegion: 'eu-west-2',
      sourceIPAddress: '10.0.0.12',
      userAgent: '[aws-sdk-js/3.600.0]',
      requestParameters: { bucketName: bucket, Host: `${bucket}.s3.eu-west-2.amazonaws.com`, key, ...tagging },
      responseElements: over.errorCode ? null : { 'x-amz-version-id': 'v1' },
      ...(over.errorCode ? { errorCode: over.errorCode, errorMessage: 'Access Denied' } : {}),
      additionalEventData: {
        SignatureVersion: 'SigV4',
        CipherSuite: 'TLS_AES_128_GCM_SHA256',
        bytesTransferredIn: 120,
        AuthenticationMethod: 'AuthHeader',
        'x-amz-id-2': 'abc=',
        bytesTransferredOut: 0,
      },
      requestID: 'ABCDEF0123456789',
      eventID: over.eventID ?? `${eventName}-${key}-${time}`,
      readOnly: false,
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
        { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
      ],
      eventType: 'AwsApiCall',
      managementEvent: false,
      recipientAccountId: '111122223333',
      eventCategory: 'Data',
    } as unknown as CloudTrailRecord;
  }

  /** A QueryExecution as BatchGetQueryExecution returns it. */
  function execution(id: string, bytes: number, over: { workGroup?: string; state?: string } = {}): QueryExecution {
    return {
      QueryExecutionId: id,
      Query: "SELECT count(*) FROM hospital_episodes WHERE lsoa_code = 'E01000001'",
      StatementType: 'DML',
      ResultConfiguration: { OutputLocation: `s3://onelondon-sde-results/${wg(NCL)}/${id}.csv` },
      QueryExecutionContext: { Database: 'onelondon_sde_curated', Catalog: 'awsdatacatalog' },
      Status: {
        State: (over.state ?? 'SUCCEEDED') as 'SUCCEEDED',
        SubmissionDateTime: new Date('2026-11-10T10:00:00Z'),
        CompletionDateTime: new Date('2026-11-10T10:00:03Z'),
      },
      Statistics: {
        EngineExecutionTimeInMillis: 2100,
        DataScannedInBytes: bytes,
        TotalExecutionTimeInMillis: 2600,
        QueryQueueTimeInMillis: 120,
        ServicePreProcessingTimeInMillis: 80,
        QueryPlanningTimeInMillis: 300,
        ServiceProcessingTimeInMillis: 20,
      },
      WorkGroup: over.workGroup ?? wg(NCL),
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    };
  }

  return { awsQuery, s3Event, execution };
}

/** A stand-in Athena: knows some executions (the last 45 days), answers like BatchGetQueryExecution. */
export function standInAthena(known: ReadonlyMap<string, QueryExecution>) {
  const calls: string[][] = [];
  return {
    calls,
    send: async (command: BatchGetQueryExecutionCommand): Promise<BatchGetQueryExecutionCommandOutput> => {
      const ids = command.input.QueryExecutionIds ?? [];
      if (ids.length > 50)
        throw new Error(
          '1 validation error detected: Value at queryExecutionIds failed to satisfy constraint: Member must have length less than or equal to 50',
        );
      calls.push(ids);
      return {
        $metadata: { httpStatusCode: 200 },
        QueryExecutions: ids.filter((id) => known.has(id)).map((id) => known.get(id)!),
        UnprocessedQueryExecutionIds: ids
          .filter((id) => !known.has(id))
          .map((id) => ({ QueryExecutionId: id, ErrorCode: 'INVALID_INPUT', ErrorMessage: `QueryExecution ${id} was not found` })),
      };
    },
  };
}
