import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lakeformation from 'aws-cdk-lib/aws-lakeformation';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface LakeFormationGovernanceProps {
  /**
   * Every Lake Formation administrator, including the role CloudFormation deploys with.
   * The settings resource replaces the account's whole administrator list, so a list
   * that leaves out the deploying role locks the deployment out of its own grants.
   */
  readonly admins: readonly string[];
  /** The bucket Lake Formation governs: its location is registered with a dedicated role. */
  readonly curatedBucket: s3.IBucket;
  /** The key the curated objects are encrypted with. */
  readonly encryptionKey: kms.IKey;
}

/**
 * Puts the data lake under Lake Formation, with no IAM-only back door:
 * - explicit administrators, and no IAMAllowedPrincipals defaults for new databases
 *   and tables (otherwise any IAM principal with glue:* and s3:* could read every column);
 * - no external engine may bypass cell-level filtering;
 * - the curated location registered with a dedicated data-access role (not the service-
 *   linked role), so the credentials Lake Formation vends reach the curated bucket and key only.
 */
export class LakeFormationGovernance extends Construct {
  readonly settings: lakeformation.CfnDataLakeSettings;
  readonly dataAccessRole: iam.Role;
  readonly curatedLocation: lakeformation.CfnResource;

  constructor(scope: Construct, id: string, props: LakeFormationGovernanceProps) {
    super(scope, id);

    this.settings = new lakeformation.CfnDataLakeSettings(this, 'Settings', {
      admins: [...new Set(props.admins)].map((arn) => ({ dataLakePrincipalIdentifier: arn })),
      createDatabaseDefaultPermissions: [],
      createTableDefaultPermissions: [],
      allowExternalDataFiltering: false,
      allowFullTableExternalDataAccess: false,
      mutationType: 'REPLACE',
    });

    this.dataAccessRole = new iam.Role(this, 'DataAccessRole', {
      // Lake Formation acting for this account only: not a registration made elsewhere that
      // names this role (the confused deputy).
      assumedBy: new iam.ServicePrincipal('lakeformation.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': Stack.of(this).account } }),
      description: 'Lake Formation vends credentials with this role to read the curated zone for granted principals only.',
    });
    // A managed policy rather than an inline one: HIPAA and NIST controls want
    // permissions reviewable and attachable as named policies.
    const readCurated = new iam.ManagedPolicy(this, 'ReadCuratedPolicy', {
      description: 'Read the curated zone and decrypt it: what Lake Formation needs to serve granted queries.',
      roles: [this.dataAccessRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'ListCuratedBucket',
          actions: ['s3:ListBucket', 's3:GetBucketLocation'],
          resources: [props.curatedBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadCuratedObjects',
          actions: ['s3:GetObject'],
          resources: [props.curatedBucket.arnForObjects('*')],
        }),
      ],
    });
    props.encryptionKey.grantDecrypt(readCurated);
    Validations.of(readCurated.node.defaultChild as iam.CfnManagedPolicy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalIdHint(props.curatedBucket)}.Arn>/*]`,
      reason:
        'Objects of the curated bucket only (its ARN/*): Lake Formation scopes what it vends with this role to the granted table locations and columns, so per-object ARNs would add nothing.',
    });

    this.curatedLocation = new lakeformation.CfnResource(this, 'CuratedLocation', {
      resourceArn: props.curatedBucket.bucketArn,
      roleArn: this.dataAccessRole.roleArn,
      useServiceLinkedRole: false,
      hybridAccessEnabled: false,
    });
    // Registering needs the deploying role to be an administrator first.
    this.curatedLocation.addResourceDependency(this.settings);
  }
}

/** cdk-nag names a bucket ARN in a finding by the bucket's CloudFormation logical id. */
function logicalIdHint(bucket: s3.IBucket): string {
  const cfn = bucket.node.defaultChild as s3.CfnBucket | undefined;
  if (!cfn) throw new Error('LakeFormationGovernance needs a bucket defined in this app (not imported)');
  return cfn.stack.getLogicalId(cfn);
}
