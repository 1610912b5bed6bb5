import { Match, Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../lib/app';
import { curatedColumns, loadConfig } from '../../lib/config';
import { ConfigFixture, EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

function synthDataLake(configDir: string) {
  const config = loadConfig(configDir, { today: TEST_TODAY });
  const { stacks } = createApp(config, { compliance: false });
  return { config, stack: stacks.dataLake, template: Template.fromStack(stacks.dataLake) };
}

describe('DataLakeStack on the example config', () => {
  const { config, stack, template } = synthDataLake(EXAMPLE_CONFIG);
  const resources = template.toJSON().Resources as Record<string, any>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  test('one customer-managed key with rotation encrypts every zone', () => {
    const keys = ofType('AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    const [keyId] = keys[0];
    const kmsBuckets = ofType('AWS::S3::Bucket').filter(
      ([, b]) => b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID?.['Fn::GetAtt']?.[0] === keyId,
    );
    expect(kmsBuckets).toHaveLength(4); // landing, quarantine, curated, results; the log sink is SSE-S3
  });

  test("leaves the account's Data Catalog encryption setting alone unless platform.yaml asks (it is account-wide)", () => {
    expect(config.platform.aws.encryptDataCatalog).toBe(false);
    expect(Object.keys(template.findResources('AWS::Glue::DataCatalogEncryptionSettings'))).toEqual([]);
  });

  test('five buckets: four zones and the access-log sink, every one retained', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets).toHaveLength(5);
    expect(buckets.every(([, b]) => b.DeletionPolicy === 'Retain')).toBe(true);
  });

  test('landing keeps supplier files only for the configured days', () => {
    const landingId = stack.getLogicalId(stack.landing.node.defaultChild as never);
    expect(resources[landingId].Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(config.platform.retention.landingDays);
  });

  test('curated keeps its data, but staged parts of uncommitted batches expire after 30 days', () => {
    const curatedId = stack.getLogicalId(stack.curated.node.defaultChild as never);
    const rules = resources[curatedId].Properties.LifecycleConfiguration.Rules;
    expect(rules[0].ExpirationInDays).toBeUndefined();
    expect(rules.filter((r: any) => r.ExpirationInDays !== undefined)).toEqual([
      expect.objectContaining({ Prefix: '_staging/', ExpirationInDays: 30, Status: 'Enabled' }),
    ]);
  });

  test("old versions of curated objects (a batch before a later opt-out's rewrite) expire after retention.curatedNoncurrentDays", () => {
    const curatedId = stack.getLogicalId(stack.curated.node.defaultChild as never);
    expect(resources[curatedId].Properties.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration).toEqual({
      NoncurrentDays: config.platform.retention.curatedNoncurrentDays,
    });
    const shorter = new ConfigFixture().edit('platform.yaml', (doc) => (doc.retention.curatedNoncurrentDays = 3));
    const other = synthDataLake(shorter.dir);
    const otherId = other.stack.getLogicalId(other.stack.curated.node.defaultChild as never);
    expect(other.template.toJSON().Resources[otherId].Properties.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 3 });
  });

  test('Lake Formation admins are the configured admins plus the deploying role, and nothing else', () => {
    const settings = ofType('AWS::LakeFormation::DataLakeSettings');
    expect(settings).toHaveLength(1);
    expect(settings[0][1].Properties.Admins).toEqual([
      { DataLakePrincipalIdentifier: 'arn:aws:iam::111122223333:role/SdePlatformAdmin' },
      { DataLakePrincipalIdentifier: { 'Fn::Sub': expect.stringMatching(/:role\/cdk-[a-z0-9]+-cfn-exec-role-\$\{AWS::AccountId\}-eu-west-2$/) } },
    ]);
  });

  test('no IAMAllowedPrincipals defaults: new databases and tables are closed until granted', () => {
    const props = ofType('AWS::LakeFormation::DataLakeSettings')[0][1].Properties;
    expect([props.CreateDatabaseDefaultPermissions, props.CreateTableDefaultPermissions]).toEqual([[], []]);
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { CreateTableDefaultPermissions: [] } });
  });

  test('external engines cannot bypass cell-level filtering', () => {
    const props = ofType('AWS::LakeFormation::DataLakeSettings')[0][1].Properties;
    expect([props.AllowExternalDataFiltering, props.AllowFullTableExternalDataAccess]).toEqual([false, false]);
  });

  test('the curated location is registered with a dedicated role, not the service-linked role', () => {
    const curatedId = stack.getLogicalId(stack.curated.node.defaultChild as never);
    template.hasResourceProperties('AWS::LakeFormation::Resource', {
      ResourceArn: { 'Fn::GetAtt': [curatedId, 'Arn'] },
      UseServiceLinkedRole: false,
      HybridAccessEnabled: false,
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DataAccessRole'), 'Arn'] },
    });
  });

  test('only Lake Formation acting for this account may assume the data access role', () => {
    const roles = ofType('AWS::IAM::Role').filter(([id]) => id.includes('DataAccessRole'));
    expect(roles.map(([, r]) => r.Properties.AssumeRolePolicyDocument.Statement)).toEqual([
      [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'lakeformation.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    ]);
  });

  test('the data access role can only read the curated bucket (no write, no other bucket)', () => {
    const policies = ofType('AWS::IAM::ManagedPolicy');
    expect(policies).toHaveLength(1);
    const statements = policies[0][1].Properties.PolicyDocument.Statement;
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions.sort()).toEqual(['kms:Decrypt', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket']);
    template.resourceCountIs('AWS::IAM::Policy', 0); // no inline policies anywhere
  });

  test('registration and the database wait for the data lake settings (the deployer must be admin first)', () => {
    const [settingsId] = ofType('AWS::LakeFormation::DataLakeSettings')[0];
    expect(ofType('AWS::LakeFormation::Resource')[0][1].DependsOn).toContain(settingsId);
    expect(ofType('AWS::Glue::Database')[0][1].DependsOn).toContain(settingsId);
  });

  test('one Glue table per dataset, each created after the database', () => {
    const [databaseId] = ofType('AWS::Glue::Database')[0];
    const tables = ofType('AWS::Glue::Table');
    expect(tables.map(([, t]) => t.Properties.TableInput.Name).sort()).toEqual(config.datasets.map((d) => d.name).sort());
    expect(tables.every(([, t]) => t.DependsOn.includes(databaseId))).toBe(true);
  });

  test('tables describe the curated columns only: no identifier in clear reaches the catalog', () => {
    for (const dataset of config.datasets) {
      const table = ofType('AWS::Glue::Table').find(([, t]) => t.Properties.TableInput.Name === dataset.name)![1];
      const names = table.Properties.TableInput.StorageDescriptor.Columns.map((c: any) => c.Name);
      expect(names).toEqual(curatedColumns(dataset).map((c) => c.name));
      const direct = dataset.columns.filter((c) => c.classification === 'direct_identifier').map((c) => c.name);
      expect(names.filter((n: string) => direct.includes(n))).toEqual([]);
    }
  });

  test('tables read Parquet with partition projection on the load date', () => {
    const table = ofType('AWS::Glue::Table').find(([, t]) => t.Properties.TableInput.Name === 'gp_events')![1].Properties.TableInput;
    expect(table.PartitionKeys).toEqual([{ Name: 'load_date', Type: 'date', Comment: expect.any(String) }]);
    expect(table.Parameters).toEqual(
      expect.objectContaining({
        classification: 'parquet',
        'projection.enabled': 'true',
        'projection.load_date.type': 'date',
        'projection.load_date.format': 'yyyy-MM-dd',
        'storage.location.template': expect.objectContaining({ 'Fn::Join': expect.anything() }),
      }),
    );
    expect(JSON.stringify(table.Parameters['storage.location.template'])).toContain('/gp_events/load_date=${load_date}/');
    expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
  });

  test('generalised columns get the types their rules produce', () => {
    const table = ofType('AWS::Glue::Table').find(([, t]) => t.Properties.TableInput.Name === 'hospital_episodes')![1].Properties.TableInput;
    const types = Object.fromEntries(table.StorageDescriptor.Columns.map((c: any) => [c.Name, c.Type]));
    expect(types).toEqual(
      expect.objectContaining({ person_id: 'string', age_band_at_admission: 'string', admission_month: 'string', length_of_stay: 'bigint' }),
    );
  });
});

describe('DataLakeStack on a second region config', () => {
  const { stack, template } = synthDataLake(SECOND_CONFIG);

  test('deploys to the account and region its platform.yaml names', () => {
    expect([stack.account, stack.region]).toEqual(['444455556666', 'eu-west-1']);
  });

  test('builds tables from its own datasets, with its own column types', () => {
    const tables = Object.values(template.findResources('AWS::Glue::Table')).map((t: any) => t.Properties.TableInput);
    expect(tables.map((t) => t.Name).sort()).toEqual(['maternity_bookings', 'social_care_assessments']);
    const maternity = tables.find((t) => t.Name === 'maternity_bookings');
    expect(maternity.StorageDescriptor.Columns.map((c: any) => `${c.Name}:${c.Type}`)).toEqual([
      'booking_id:string',
      'mother_id:string',
      'mother_age_band:string',
      'booking_date_month:string',
      'gestation_weeks:bigint',
      'smoking_at_booking:boolean',
      'ethnicity:string',
      'lsoa_code:string',
    ]);
  });

  test("encrypts the account's Data Catalog with the platform key (aws.encryptDataCatalog), through a role only Glue may assume, before any database exists", () => {
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    const [settingsId, settings] = Object.entries(template.findResources('AWS::Glue::DataCatalogEncryptionSettings'))[0] as [string, any];
    const roleId = settings.Properties.DataCatalogEncryptionSettings.EncryptionAtRest.CatalogEncryptionServiceRole['Fn::GetAtt'][0];
    expect(settings.Properties).toEqual({
      CatalogId: '444455556666',
      DataCatalogEncryptionSettings: {
        EncryptionAtRest: {
          CatalogEncryptionMode: 'SSE-KMS-WITH-SERVICE-ROLE',
          CatalogEncryptionServiceRole: { 'Fn::GetAtt': [roleId, 'Arn'] },
          SseAwsKmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
        },
        ConnectionPasswordEncryption: { ReturnConnectionPasswordEncrypted: true, KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      },
    });
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'glue.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '444455556666' } },
      },
    ]);
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((p: any) =>
      JSON.stringify(p.Properties.Roles).includes(roleId),
    ) as any[];
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      {
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'glue.eu-west-1.amazonaws.com' } },
      },
    ]);
    const database = Object.values(template.findResources('AWS::Glue::Database'))[0] as any;
    expect(database.DependsOn).toContain(settingsId);
  });

  test('names resources after its own platform', () => {
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/northwest-sde/data' });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'northwest_sde_curated' } });
  });
});
