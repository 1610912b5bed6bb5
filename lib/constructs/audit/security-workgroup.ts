import * as athena from 'aws-cdk-lib/aws-athena';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { athenaDescription, AuditQueryContext, NAMED_QUERIES, renderQuery } from '../../audit/named-queries';
import { SecureBucket } from '../storage/secure-bucket';

export interface SecurityWorkgroupProps {
  /** Workgroup name, e.g. `<platform>-security`. */
  readonly workgroupName: string;
  /** Encrypts query results (the audit key: results hold audit data). */
  readonly encryptionKey: kms.IKey;
  /** Where the results bucket's access logs go. */
  readonly accessLogsBucket: s3.IBucket;
  /** Delete query results after this many days. */
  readonly resultsExpireAfterDays: number;
  /** The Glue database holding the audit table. */
  readonly databaseName: string;
  /** Deployment facts the named queries embed (project roles, periods, curated bucket). */
  readonly queryContext: AuditQueryContext;
  /** Largest scan one query may make. @default 1 TB */
  readonly bytesScannedCutoffPerQuery?: number;
}

/**
 * The security team's Athena workgroup: settings the user cannot override (engine v3,
 * results in a dedicated bucket encrypted with the audit key, a per-query scan cutoff,
 * CloudWatch metrics), and the named audit queries (lib/audit/named-queries.ts) saved in
 * it, with `?` execution parameters, so that the questions asked of the local trail and
 * of the real trail are literally the same SQL.
 */
export class SecurityWorkgroup extends Construct {
  readonly workgroup: athena.CfnWorkGroup;
  readonly resultsBucket: s3.Bucket;
  readonly namedQueries: ReadonlyMap<string, athena.CfnNamedQuery>;

  constructor(scope: Construct, id: string, props: SecurityWorkgroupProps) {
    super(scope, id);
    this.resultsBucket = new SecureBucket(this, 'Results', {
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      accessLogsPrefix: 'security-query-results/',
      expireAfterDays: props.resultsExpireAfterDays,
      noncurrentVersionDays: 1,
    }).bucket;

    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workgroupName,
      description: 'Security team: queries over the CloudTrail audit trail, and the named audit queries.',
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 1_000_000_000_000,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn },
          expectedBucketOwner: this.resultsBucket.stack.account,
        },
      },
    });

    const queries = new Map<string, athena.CfnNamedQuery>();
    for (const def of NAMED_QUERIES) {
      const description = athenaDescription(def);
      if (description.length > 1024) throw new Error(`audit query ${def.name}: its Athena description is ${description.length} characters; Athena allows 1024`);
      const q = new athena.CfnNamedQuery(this, `Query-${def.name}`, {
        name: def.title,
        description,
        database: props.databaseName,
        workGroup: this.workgroup.ref,
        queryString: renderQuery(def, props.queryContext, 'athena').sql,
      });
      q.addResourceDependency(this.workgroup);
      queries.set(def.name, q);
    }
    this.namedQueries = queries;
  }
}
