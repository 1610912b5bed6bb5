import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { curatedColumns, PARTITION_COLUMN } from '../../config/curated';
import type { DatasetConfig } from '../../config/schema';

export interface DatasetTableProps {
  readonly databaseName: string;
  /** The dataset whose curated (de-identified) shape the table describes. */
  readonly dataset: DatasetConfig;
  /** The curated bucket; the table reads `s3://BUCKET/<dataset>/load_date=YYYY-MM-DD/`. */
  readonly curatedBucket: s3.IBucket;
  /** First load date partition projection enumerates. @default '2020-01-01' */
  readonly firstLoadDate?: string;
}

/**
 * A Glue table over one dataset's curated Parquet, generated from its config.
 *
 * The columns are the post-de-identification columns only (config/curated.ts), so the
 * catalog can never describe, and Lake Formation can never grant, a column that holds an
 * identifier in clear. Partition projection on the load date means no crawler and no
 * MSCK REPAIR: a new day's partition is queryable as soon as ingestion commits it.
 */
export class DatasetTable extends Construct {
  readonly table: glue.CfnTable;
  readonly tableName: string;
  readonly location: string;

  constructor(scope: Construct, id: string, props: DatasetTableProps) {
    super(scope, id);
    const { dataset } = props;
    this.tableName = dataset.name;
    this.location = `s3://${props.curatedBucket.bucketName}/${dataset.name}/`;

    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: Stack.of(this).account,
      databaseName: props.databaseName,
      tableInput: {
        name: dataset.name,
        description: `${dataset.title}: de-identified (curated) data. ${dataset.description}`.slice(0, 2048),
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'ZSTD',
          'projection.enabled': 'true',
          [`projection.${PARTITION_COLUMN}.type`]: 'date',
          [`projection.${PARTITION_COLUMN}.format`]: 'yyyy-MM-dd',
          [`projection.${PARTITION_COLUMN}.range`]: `${props.firstLoadDate ?? '2020-01-01'},NOW`,
          [`projection.${PARTITION_COLUMN}.interval`]: '1',
          [`projection.${PARTITION_COLUMN}.interval.unit`]: 'DAYS',
          'storage.location.template': `${this.location}${PARTITION_COLUMN}=\${${PARTITION_COLUMN}}/`,
        },
        partitionKeys: [{ name: PARTITION_COLUMN, type: 'date', comment: 'Date the batch was loaded' }],
        storageDescriptor: {
          location: this.location,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          compressed: true,
          columns: curatedColumns(dataset).map((c) => ({
            name: c.name,
            type: c.glueType,
            comment: `${c.description} [${c.curatedClass}; rule ${c.rule}]`.slice(0, 255),
          })),
        },
      },
    });
  }
}
