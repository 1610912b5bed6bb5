import { CfnOutput, DefaultStackSynthesizer, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SdeConfig } from '../config/model';
import { AccessLogBucket } from '../constructs/storage/access-log-bucket';
import { DatasetTable } from '../constructs/storage/dataset-table';
import { LakeFormationGovernance } from '../constructs/storage/lake-formation-governance';
import { DataCatalogEncryption } from '../constructs/storage/data-catalog-encryption';
import { PlatformKey } from '../constructs/storage/platform-key';
import { SecureBucket } from '../constructs/storage/secure-bucket';
import { curatedDatabaseName } from '../config/naming';
import { STAGING_PREFIX } from '../ingest/layout';

export interface DataLakeStackProps extends StackProps {
  readonly config: SdeConfig;
}

/** How long staged parts of uncommitted batches stay in the curated bucket. */
export const CURATED_STAGING_DAYS = 30;

/**
 * The secure data lake: the platform key, the zone buckets (landing, quarantine,
 * curated, query results) with their access-log sink, the Glue catalog generated from
 * the dataset configs, and Lake Formation governance over the curated zone.
 */
export class DataLakeStack extends Stack {
  readonly key: kms.Key;
  readonly accessLogs: s3.Bucket;
  readonly landing: s3.Bucket;
  readonly quarantine: s3.Bucket;
  readonly curated: s3.Bucket;
  readonly results: s3.Bucket;
  readonly databaseName: string;
  readonly governance: LakeFormationGovernance;
  readonly tables: ReadonlyMap<string, DatasetTable>;
  /** Set when platform.yaml `aws.encryptDataCatalog` is on. */
  readonly catalogEncryption?: DataCatalogEncryption;

  constructor(scope: Construct, id: string, props: DataLakeStackProps) {
    super(scope, id, props);
    const { platform } = props.config;
    const retention = platform.retention;

    this.key = new PlatformKey(this, 'PlatformKey', {
      alias: `alias/${platform.name}/data`,
      description: `${platform.displayName}: encrypts every data zone and query result`,
    }).key;

    this.accessLogs = new AccessLogBucket(this, 'AccessLogs', { retentionDays: retention.accessLogsDays }).bucket;
    const zone = (zoneId: string, extra: Partial<ConstructorParameters<typeof SecureBucket>[2]> = {}) =>
      new SecureBucket(this, zoneId, { encryptionKey: this.key, accessLogsBucket: this.accessLogs, ...extra }).bucket;

    // Landing holds supplier files with identifiers in clear: keep them only as long as
    // ingestion needs, and keep no old versions around for long either.
    this.landing = zone('Landing', { expireAfterDays: retention.landingDays, noncurrentVersionDays: 1 });
    this.quarantine = zone('Quarantine', { expireAfterDays: retention.quarantineDays, noncurrentVersionDays: 7 });
    // A batch stages its parts under _staging/ until its commit; a batch that failed and was
    // landed again rather than redriven leaves its parts there. Kept longer than the
    // ingestion dead-letter queue keeps a failure (14 days), so a redrive still finds them.
    // A batch rewritten for a later opt-out keeps its previous version (with the people who
    // opted out) only this long: retention.curatedNoncurrentDays.
    this.curated = zone('Curated', {
      infrequentAccessAfterDays: 90,
      noncurrentVersionDays: retention.curatedNoncurrentDays,
      expirePrefixes: [{ prefix: `${STAGING_PREFIX}/`, days: CURATED_STAGING_DAYS }],
    });
    this.results = zone('QueryResults', { expireAfterDays: retention.queryResultsDays, noncurrentVersionDays: 1 });

    this.governance = new LakeFormationGovernance(this, 'LakeFormation', {
      admins: [...platform.admins, deployRoleArn(this)],
      curatedBucket: this.curated,
      encryptionKey: this.key,
    });

    // Before any database or table, so that they are created encrypted.
    this.catalogEncryption = platform.aws.encryptDataCatalog ? new DataCatalogEncryption(this, 'CatalogEncryption', { encryptionKey: this.key }) : undefined;

    this.databaseName = curatedDatabaseName(props.config);
    const database = new glue.CfnDatabase(this, 'CuratedDatabase', {
      catalogId: this.account,
      databaseInput: {
        name: this.databaseName,
        description: `${platform.displayName}: de-identified curated datasets. Access through Lake Formation grants only.`,
        // No IAMAllowedPrincipals default: tables are readable only through explicit grants.
        createTableDefaultPermissions: [],
      },
    });
    database.addResourceDependency(this.governance.settings);
    if (this.catalogEncryption) database.addResourceDependency(this.catalogEncryption.settings);

    const tables = new Map<string, DatasetTable>();
    for (const dataset of props.config.datasets) {
      const table = new DatasetTable(this, `Table-${dataset.name}`, {
        databaseName: this.databaseName,
        dataset,
        curatedBucket: this.curated,
      });
      table.table.addResourceDependency(database);
      tables.set(dataset.name, table);
    }
    this.tables = tables;

    new CfnOutput(this, 'CuratedDatabaseName', { value: this.databaseName });
    new CfnOutput(this, 'LandingBucketName', { value: this.landing.bucketName });
    new CfnOutput(this, 'CuratedBucketName', { value: this.curated.bucketName });
    new CfnOutput(this, 'PlatformKeyArn', { value: this.key.keyArn });
  }
}

/**
 * The role CloudFormation deploys with: the CDK bootstrap's execution role, unless the
 * config names another one. It must be a Lake Formation administrator to create grants.
 */
function deployRoleArn(stack: Stack): string {
  const synthesizer = stack.synthesizer;
  // The synthesizer's ARN holds ${AWS::AccountId}-style placeholders, resolved by Fn::Sub.
  if (synthesizer instanceof DefaultStackSynthesizer) return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
  throw new Error('DataLakeStack needs the DefaultStackSynthesizer to know the deploying role (it must be a Lake Formation admin)');
}
