import { CfnResource, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as lakeformation from 'aws-cdk-lib/aws-lakeformation';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AUDIT_PARTITION_KEYS, AUDIT_TABLE, glueColumns } from '../../audit/audit-table';

export interface CloudTrailTableProps {
  /** Glue database for the security team (lower snake case). */
  readonly databaseName: string;
  /** The audit store CloudTrail delivers to. */
  readonly bucket: s3.IBucket;
  /** Regions partition projection enumerates (a multi-region trail writes one folder per region). */
  readonly regions: readonly string[];
  /** How many years back partition projection reaches (the retention period). */
  readonly yearsBack: number;
  /** Principals that may query the table: Lake Formation DESCRIBE on the database, SELECT on the table. */
  readonly readers: readonly string[];
  /** Lake Formation settings that make the deploying role an administrator (grants need it). @default - none */
  readonly dataLakeSettings?: CfnResource;
}

/**
 * The audit table the security team queries in Athena: a Glue table over the trail's S3
 * layout (`AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/`) with partition
 * projection on account, region and day, so new days are queryable at once with no
 * crawler and queries that filter on a day read only that day. The columns are the same
 * as the local audit table (lib/audit/audit-table.ts), so the named queries run on both.
 *
 * The database is created with no IAMAllowedPrincipals default (the account's Lake
 * Formation settings), so only the readers granted here can see the table.
 */
export class CloudTrailTable extends Construct {
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly tableName = AUDIT_TABLE;

  constructor(scope: Construct, id: string, props: CloudTrailTableProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const root = `s3://${props.bucket.bucketName}/AWSLogs/`;
    const [account, region, day] = AUDIT_PARTITION_KEYS;

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: props.databaseName,
        description: 'CloudTrail audit trail of the Secure Data Environment, for the security team. Access through Lake Formation grants only.',
        createTableDefaultPermissions: [],
      },
    });
    if (props.dataLakeSettings) this.database.addResourceDependency(props.dataLakeSettings);

    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: stack.account,
      databaseName: props.databaseName,
      tableInput: {
        name: AUDIT_TABLE,
        description: 'Every CloudTrail record the trail delivered: management events in all regions and data events on the data zones.',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'cloudtrail',
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          [`projection.${account}.type`]: 'enum',
          [`projection.${account}.values`]: stack.account,
          [`projection.${region}.type`]: 'enum',
          [`projection.${region}.values`]: [...new Set(props.regions)].join(','),
          [`projection.${day}.type`]: 'date',
          [`projection.${day}.format`]: 'yyyy/MM/dd',
          [`projection.${day}.range`]: `NOW-${props.yearsBack}YEARS,NOW`,
          [`projection.${day}.interval`]: '1',
          [`projection.${day}.interval.unit`]: 'DAYS',
          'storage.location.template': `${root}\${${account}}/CloudTrail/\${${region}}/\${${day}}/`,
        },
        partitionKeys: AUDIT_PARTITION_KEYS.map((name) => ({ name, type: 'string' })),
        storageDescriptor: {
          location: root,
          columns: glueColumns(),
          // The input format AWS provides for CloudTrail's {"Records":[...]} files; the
          // hcatalog JSON SerDe keeps nested request/response objects as JSON text.
          inputFormat: 'com.amazon.emr.cloudtrail.CloudTrailInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
        },
      },
    });
    this.table.addResourceDependency(this.database);

    // Lake Formation rejects concurrent changes to one catalog, so grants go one after another.
    let previous: CfnResource = this.table;
    props.readers.forEach((arn, i) => {
      const describe = new lakeformation.CfnPrincipalPermissions(this, `ReaderDescribeDatabase${i}`, {
        principal: { dataLakePrincipalIdentifier: arn },
        resource: { database: { catalogId: stack.account, name: props.databaseName } },
        permissions: ['DESCRIBE'],
        permissionsWithGrantOption: [],
      });
      describe.addResourceDependency(previous);
      const select = new lakeformation.CfnPrincipalPermissions(this, `ReaderSelectTable${i}`, {
        principal: { dataLakePrincipalIdentifier: arn },
        resource: { table: { catalogId: stack.account, databaseName: props.databaseName, name: AUDIT_TABLE } },
        permissions: ['SELECT', 'DESCRIBE'],
        permissionsWithGrantOption: [],
      });
      select.addResourceDependency(describe);
      previous = select;
    });
  }
}
