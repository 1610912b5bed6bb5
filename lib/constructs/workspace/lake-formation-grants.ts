import { createHash } from 'node:crypto';
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lakeformation from 'aws-cdk-lib/aws-lakeformation';
import { Construct } from 'constructs';
import type { DatasetTable } from '../storage/dataset-table';

/**
 * One strict order for every Lake Formation resource of a stack. CloudFormation creates
 * resources without a dependency between them in parallel, and Lake Formation's handlers
 * do not cope: parallel grants fail with ConcurrentModificationException or are created in
 * Lake Formation but lost by CloudFormation ("already exists" on create, grants that are
 * never revoked). Each resource added here depends on the one added before it, so
 * CloudFormation creates (and deletes, in reverse) them one at a time.
 *
 * Share one chain per stack; the order is the order of `add` calls, so callers add in a
 * deterministic order (projects by id, tables by name).
 */
export class LakeFormationChain {
  private readonly members: CfnResource[] = [];

  /** Makes `resource` wait for the last resource added, then makes it the last. */
  add<T extends CfnResource>(resource: T): T {
    const previous = this.members[this.members.length - 1];
    if (previous) resource.addResourceDependency(previous);
    this.members.push(resource);
    return resource;
  }

  /** The resources in creation order. */
  get resources(): readonly CfnResource[] {
    return this.members;
  }
}

export interface LakeFormationGrantsProps {
  /** The IAM role the grants are made to. */
  readonly grantee: iam.IRole;
  /** The Glue database the tables belong to. */
  readonly databaseName: string;
  /**
   * The data lake settings resource. Every grant waits for it, because only a Lake
   * Formation administrator can grant, and the settings are what make the deploying
   * role one. (In another stack, this becomes a dependency on that stack.)
   */
  readonly dataLakeSettings?: CfnResource;
  /** The Glue database resource, when it is defined in this app. @default - none */
  readonly database?: CfnResource;
  /** Where the grants join the stack's serial order. @default - a chain of their own */
  readonly chain?: LakeFormationChain;
  /**
   * Prefix of the data cells filter names (row filters), e.g. the project id. Filter names
   * must be unique per table across the account, so give each grantee its own.
   */
  readonly filterNamePrefix: string;
}

/** What one `grantSelectColumns` created, for the caller (and tests) to inspect. */
export interface ColumnGrant {
  /** The SELECT grant: on the table's columns, or on the filter when rows are filtered. */
  readonly permission: lakeformation.CfnPrincipalPermissions;
  /** The data cells filter, when the grant has a row filter. */
  readonly filter?: lakeformation.CfnDataCellsFilter;
}

/**
 * Lake Formation grants to one principal, made through methods so that what is granted is
 * computed from the config model and can be asserted, never hand-written JSON:
 * `grantDescribeDatabase()` and `grantSelectColumns(table, columns, rowFilter?)`.
 *
 * Each grant waits for the data lake settings and for the table (or filter) it names, and
 * joins the stack's serial chain.
 */
export class LakeFormationGrants extends Construct {
  private readonly chain: LakeFormationChain;
  private readonly catalogId: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: LakeFormationGrantsProps,
  ) {
    super(scope, id);
    this.chain = props.chain ?? new LakeFormationChain();
    this.catalogId = Stack.of(this).account;
  }

  private principal(): lakeformation.CfnPrincipalPermissions.DataLakePrincipalProperty {
    return { dataLakePrincipalIdentifier: this.props.grantee.roleArn };
  }

  private addToChain<T extends CfnResource>(resource: T, names?: CfnResource): T {
    if (this.props.dataLakeSettings) resource.addResourceDependency(this.props.dataLakeSettings);
    if (names) resource.addResourceDependency(names);
    return this.chain.add(resource);
  }

  /** DESCRIBE on the database: the principal can see it exists, nothing more. */
  grantDescribeDatabase(): lakeformation.CfnPrincipalPermissions {
    const permission = new lakeformation.CfnPrincipalPermissions(this, 'DescribeDatabase', {
      catalog: this.catalogId,
      principal: this.principal(),
      resource: { database: { catalogId: this.catalogId, name: this.props.databaseName } },
      permissions: ['DESCRIBE'],
      permissionsWithGrantOption: [],
    });
    return this.addToChain(permission, this.props.database);
  }

  /**
   * SELECT on exactly `columns` of `table`. With a row filter, a data cells filter holds
   * the columns and the row condition, and the grant is on the filter instead, so the
   * principal never holds a grant on the unfiltered table.
   */
  grantSelectColumns(table: DatasetTable, columns: readonly string[], rowFilter?: string): ColumnGrant {
    if (columns.length === 0) throw new Error(`no columns to grant on table ${table.tableName}: grant nothing instead`);
    const columnNames = [...columns].sort();
    const id = `Select-${table.tableName}`;
    if (rowFilter === undefined) {
      const permission = new lakeformation.CfnPrincipalPermissions(this, id, {
        catalog: this.catalogId,
        principal: this.principal(),
        resource: {
          tableWithColumns: { catalogId: this.catalogId, databaseName: this.props.databaseName, name: table.tableName, columnNames },
        },
        permissions: ['SELECT'],
        permissionsWithGrantOption: [],
      });
      return { permission: this.addToChain(permission, table.table) };
    }

    const filter = new lakeformation.CfnDataCellsFilter(this, `RowFilter-${table.tableName}`, {
      tableCatalogId: this.catalogId,
      databaseName: this.props.databaseName,
      tableName: table.tableName,
      name: dataCellsFilterName(this.props.filterNamePrefix, columnNames, rowFilter),
      columnNames,
      rowFilter: { filterExpression: rowFilter },
    });
    this.addToChain(filter, table.table);
    const permission = new lakeformation.CfnPrincipalPermissions(this, id, {
      catalog: this.catalogId,
      principal: this.principal(),
      resource: {
        dataCellsFilter: { tableCatalogId: this.catalogId, databaseName: this.props.databaseName, tableName: table.tableName, name: filter.name },
      },
      permissions: ['SELECT'],
      permissionsWithGrantOption: [],
    });
    return { permission: this.addToChain(permission, filter), filter };
  }
}

/**
 * A filter's columns and row condition cannot be updated in place (CloudFormation replaces
 * the filter), and the replacement is created before the old one is deleted, under a name
 * that must be unique per table. So the name carries a digest of what the filter holds:
 * a changed approval gets a new filter, its grant moves to it, and the old pair is removed.
 */
export function dataCellsFilterName(prefix: string, columns: readonly string[], rowFilter: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([[...columns].sort(), rowFilter]))
    .digest('hex')
    .slice(0, 10);
  return `${prefix}-${digest}`;
}
