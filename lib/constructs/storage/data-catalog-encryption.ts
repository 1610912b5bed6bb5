import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface DataCatalogEncryptionProps {
  /** The customer-managed key that encrypts the catalog's metadata (the platform key). */
  readonly encryptionKey: kms.IKey;
}

/**
 * Encrypts the account's Glue Data Catalog at rest (databases, tables, partitions, column
 * statistics, connection passwords) with the platform key.
 *
 * The catalog's encryption setting is one per account and region: turning it on here turns
 * it on for every catalog user in the account, which is why platform.yaml makes it a choice
 * (`aws.encryptDataCatalog`) for accounts dedicated to the SDE. It applies to objects
 * created after it, so the stack that owns it deploys before any table is made (the data
 * lake's tables depend on it, and the audit stack depends on the data lake).
 *
 * Mode SSE-KMS-WITH-SERVICE-ROLE: Glue assumes this construct's role to use the key on the
 * caller's behalf, so researchers' roles, Athena and Lake Formation need no rights on the
 * key (with plain SSE-KMS every catalog reader would need kms:Decrypt, and every new
 * project role a grant). The role may use this one key for Glue only.
 */
export class DataCatalogEncryption extends Construct {
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
  readonly settings: glue.CfnDataCatalogEncryptionSettings;

  constructor(scope: Construct, id: string, props: DataCatalogEncryptionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com', {
        // Only Glue acting for this account may use it (confused deputy).
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: "Assumed by AWS Glue to encrypt and decrypt the Data Catalog with the platform key on the caller's behalf",
    });
    // A managed policy rather than an inline one (HIPAA and NIST controls want permissions
    // reviewable as named policies), as lake-formation-governance.ts does.
    this.policy = new iam.ManagedPolicy(this, 'KeyPolicy', {
      description: 'Use the platform key for Glue only: what AWS Glue needs to encrypt and decrypt the Data Catalog.',
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [props.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `glue.${stack.region}.amazonaws.com` } },
        }),
      ],
    });
    this.settings = new glue.CfnDataCatalogEncryptionSettings(this, 'Settings', {
      catalogId: stack.account,
      dataCatalogEncryptionSettings: {
        encryptionAtRest: {
          catalogEncryptionMode: 'SSE-KMS-WITH-SERVICE-ROLE',
          catalogEncryptionServiceRole: this.role.roleArn,
          sseAwsKmsKeyId: props.encryptionKey.keyArn,
        },
        // No Glue connections are made by the platform; any made later keep their passwords encrypted.
        connectionPasswordEncryption: { returnConnectionPasswordEncrypted: true, kmsKeyId: props.encryptionKey.keyArn },
      },
    });
    // The role's policy must be attached before Glue is told to assume it.
    this.settings.node.addDependency(this.policy);
  }
}
