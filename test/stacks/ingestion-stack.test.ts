import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { createApp, newSdeApp } from '../../lib/app';
import { addComplianceGates } from '../../lib/compliance/gates';
import { loadConfig } from '../../lib/config';
import type { SdeConfig } from '../../lib/config/model';
import { INGESTION_CONFIG_FILE, FUNCTION_RUNTIME } from '../../lib/constructs/shared/platform-function';
import { MANAGED_POLICY_MAX_CHARS, type ManagedPolicyRole } from '../../lib/constructs/shared/managed-policy-role';
import { DataLakeStack } from '../../lib/stacks/data-lake-stack';
import { createIngestionStack } from '../../lib/stacks/ingestion-stack';
import { OPT_OUT_LIST_KEY } from '../../lib/ingest/lambda-settings';
import { ConfigFixture, EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { acknowledgementsIn, expectNoFindings, expectWellFormedAcknowledgement } from '../helpers/compliance-report';

// Any attempt to bundle with Docker fails the build: the functions must bundle with the local esbuild.
process.env.CDK_DOCKER = path.join(os.tmpdir(), 'docker-is-not-allowed-in-these-tests');

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** The data lake and the ingestion stack alone (the stack under test, and what it needs), gates on. */
function build(config: SdeConfig, options: { compliance?: boolean; alarmTopic?: boolean } = {}) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-ingestion-synth-'));
  outdirs.push(outdir);
  const app = newSdeApp({ outdir });
  const env = { account: config.platform.aws.account, region: config.platform.aws.region };
  const dataLake = new DataLakeStack(app, 'DataLake', { config, env });
  const alarmTopic = options.alarmTopic ? new sns.Topic(dataLake, 'OpsTopic', { enforceSSL: true, masterKey: dataLake.key }) : undefined;
  const ingestion = createIngestionStack(app, config, dataLake, { env, alarmTopic });
  if (options.compliance ?? true) addComplianceGates(app);
  return { app, dataLake, ingestion, outdir };
}

const exampleConfig = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const example = build(exampleConfig);
let exampleSynthError: unknown;
try {
  example.app.synth();
} catch (e) {
  exampleSynthError = e;
}

describe.each([
  ['the example config', () => ({ built: example, error: exampleSynthError })],
  [
    'a second region config',
    () => {
      const built = build(loadConfig(SECOND_CONFIG, { today: TEST_TODAY }));
      try {
        built.app.synth();
        return { built, error: undefined };
      } catch (e) {
        return { built, error: e };
      }
    },
  ],
])('compliance gates on the ingestion stack, %s', (_name, get) => {
  const { built, error } = get();

  test('synthesizes with zero unacknowledged findings in every pack', () => {
    expect(error).toBeUndefined();
    expectNoFindings(built.outdir, { minPlugins: 4 });
  });

  test('every acknowledgement is one rule on one resource, with a specific reason', () => {
    const acks = acknowledgementsIn(built.ingestion);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expectWellFormedAcknowledgement(ack);
  });
});

describe('IngestionStack template', () => {
  const { ingestion, dataLake, outdir } = example;
  const json = JSON.parse(fs.readFileSync(path.join(outdir, `${ingestion.artifactId}.template.json`), 'utf8'));
  const template = Template.fromJSON(json);
  const resources = json.Resources as Record<string, any>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const idOf = (c: { node: { defaultChild?: unknown } }) => ingestion.getLogicalId(c.node.defaultChild as CfnResource);
  const datasets = exampleConfig.datasets.map((d) => d.name);

  /** A cross-stack value, named by the data lake bucket it comes from: `landing`, `curated/_staging/*`, ... */
  const zones: [string, s3.Bucket][] = [
    ['landing', dataLake.landing],
    ['curated', dataLake.curated],
    ['quarantine', dataLake.quarantine],
  ];
  const describeValue = (value: any): string => {
    if (typeof value === 'string') return value;
    const output = value?.['Fn::GetStackOutput']?.OutputName as string | undefined;
    if (output !== undefined) {
      const zone = zones.find(([, b]) => output.includes(dataLake.getLogicalId(b.node.defaultChild as CfnResource)));
      if (zone !== undefined) return zone[0];
      if (output.includes(dataLake.getLogicalId(dataLake.key.node.defaultChild as CfnResource))) return 'platform-key';
      return `output:${output}`;
    }
    if (value?.['Fn::Join']) return (value['Fn::Join'][1] as unknown[]).map(describeValue).join('');
    if (value?.['Fn::GetAtt']) return `local:${value['Fn::GetAtt'][0]}`;
    if (value?.Ref) return `ref:${value.Ref}`;
    return JSON.stringify(value);
  };
  const statementsOf = (fn: { role: ManagedPolicyRole }) => {
    const statements = fn.role.policies.flatMap(
      (p) => resources[ingestion.getLogicalId(p.node.defaultChild as CfnResource)].Properties.PolicyDocument.Statement as any[],
    );
    return statements.map((s) => ({
      actions: [s.Action].flat() as string[],
      resources: [s.Resource].flat().map(describeValue),
      condition: s.Condition,
    }));
  };
  /** The bundled asset directory of a function, found through the stack's asset manifest. */
  const assetDir = (fn: { function: lambda.Function }) => {
    const s3Key = resources[ingestion.getLogicalId(fn.function.node.defaultChild as CfnResource)].Properties.Code.S3Key as string;
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, `${ingestion.artifactId}.assets.json`), 'utf8'));
    const hash = s3Key.replace(/\.zip$/, '');
    return path.join(outdir, manifest.files[hash].source.path as string);
  };
  /** Every (action, resource) pair a function's role allows on S3. */
  const s3Access = (fn: Parameters<typeof statementsOf>[0]) =>
    statementsOf(fn)
      .flatMap((s) => s.actions.filter((a) => a.startsWith('s3:')).flatMap((a) => s.resources.map((r) => `${a} ${r}`)))
      .sort();

  describe('functions', () => {
    const functions = ofType('AWS::Lambda::Function');
    const byId = (fn: { function: lambda.Function }) => resources[ingestion.getLogicalId(fn.function.node.defaultChild as CfnResource)].Properties;

    test('six functions: plan, chunk, commit, and the opt-out plan, rewrite and finish', () => expect(functions).toHaveLength(6));

    test('the runtime is the newest Node.js one aws-cdk-lib offers, and it is not deprecated', () => {
      const nodeVersions = Object.keys(lambda.Runtime)
        .map((k) => /^NODEJS_(\d+)_X$/.exec(k)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number);
      expect(FUNCTION_RUNTIME.name).toBe(`nodejs${Math.max(...nodeVersions)}.x`);
      // aws-cdk-lib marks a retired runtime with @deprecated in its declarations.
      const declarations = fs.readFileSync(path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'aws-lambda', 'lib', 'runtime.d.ts'), 'utf8');
      const name = `NODEJS_${Math.max(...nodeVersions)}_X`;
      const doc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*static readonly (\w+): Runtime;/g;
      const docs = new Map([...declarations.matchAll(doc)].map((m) => [m[2], m[1]]));
      expect(docs.get(name)).toBeDefined();
      expect(docs.get(name)).not.toMatch(/@deprecated/);
      for (const [, f] of functions) expect(f.Properties.Runtime).toBe(FUNCTION_RUNTIME.name);
    });

    test('bundled by the local esbuild (Docker is disabled in this test): index.js, the config, DuckDB only for the chunk function', () => {
      for (const [fn, duckdb] of [
        [ingestion.plan, false],
        [ingestion.chunk, true],
        [ingestion.commit, false],
      ] as const) {
        const dir = assetDir(fn);
        const bundle = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
        expect(bundle.length).toBeGreaterThan(10_000); // bundled, not the TypeScript source
        expect(fs.existsSync(path.join(dir, INGESTION_CONFIG_FILE))).toBe(true);
        expect(fs.existsSync(path.join(dir, 'node_modules', '@duckdb', 'node-bindings-linux-x64', 'libduckdb.so'))).toBe(duckdb);
        // The chunk function loads DuckDB from its asset; the others never load it at all.
        expect(bundle.includes('require("@duckdb/node-api")')).toBe(duckdb);
      }
    });

    test('the bundled config holds the datasets and no secret or local path', () => {
      const text = fs.readFileSync(path.join(assetDir(ingestion.chunk), INGESTION_CONFIG_FILE), 'utf8');
      const bundled = JSON.parse(text);
      expect(bundled.datasets.map((d: { name: string }) => d.name)).toEqual(datasets);
      expect(text).not.toContain(exampleConfig.dir);
      expect(text).not.toMatch(/secret|pseudonym-key/i);
    });

    test('ARM64, except the chunk function, whose DuckDB binding is the installed linux-x64 one', () => {
      expect(byId(ingestion.plan).Architectures).toEqual(['arm64']);
      expect(byId(ingestion.commit).Architectures).toEqual(['arm64']);
      expect(byId(ingestion.chunk).Architectures).toEqual(['x86_64']);
    });

    test('reserved concurrency, X-Ray tracing, a dead-letter queue, and an encrypted log group kept a year', () => {
      const dlq = idOf(ingestion.deadLetterQueue.queue);
      for (const [, f] of functions) {
        expect(f.Properties.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(1);
        expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
        expect(f.Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } });
        const groupId = f.Properties.LoggingConfig.LogGroup.Ref as string;
        expect(resources[groupId].Properties).toMatchObject({ KmsKeyId: { 'Fn::GetAtt': [idOf(ingestion.key), 'Arn'] }, RetentionInDays: 365 });
        expect(resources[groupId].DeletionPolicy).toBe('Retain');
      }
      expect(byId(ingestion.chunk).ReservedConcurrentExecutions).toBe(20);
    });

    test("Powertools is configured and never logs the event; source maps on, and the chunk function's young generation enlarged", () => {
      for (const [, f] of functions) {
        expect(f.Properties.Environment.Variables).toMatchObject({
          POWERTOOLS_LOGGER_LOG_EVENT: 'false',
          POWERTOOLS_METRICS_NAMESPACE: 'onelondon-sde/ingestion',
        });
        expect(f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toMatch(/^(ingest-(plan|chunk|commit)|optout-(plan|rewrite|finish))$/);
        expect(f.Properties.Environment.Variables.NODE_OPTIONS).toMatch(/^--enable-source-maps\b/);
      }
      expect(byId(ingestion.chunk).Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=64');
    });

    test('the environment names buckets and the secret, never a key value', () => {
      const chunkEnv = byId(ingestion.chunk).Environment.Variables;
      expect(chunkEnv.SDE_PSEUDONYM_KEY_SECRET_ARN).toEqual({ Ref: idOf(ingestion.pseudonymKey.secret) });
      expect(chunkEnv.SDE_OPT_OUT_KEY).toBe(OPT_OUT_LIST_KEY);
      expect(byId(ingestion.plan).Environment.Variables.SDE_PSEUDONYM_KEY_SECRET_ARN).toBeUndefined();
    });

    test('no role has an AWS-managed policy or an inline policy of its own', () => {
      for (const [, r] of ofType('AWS::IAM::Role')) expect(r.Properties.ManagedPolicyArns ?? []).toEqual([]);
      // The only inline policies are the Step Functions L2's Distributed Map policies (acknowledged).
      expect(ofType('AWS::IAM::Policy').map(([id]) => id)).toEqual([
        expect.stringMatching(/^WorkflowStateMachineDistributedMapPolicy/),
        expect.stringMatching(/^OptOutWorkflowStateMachineDistributedMapPolicy/),
      ]);
    });
  });

  describe('least privilege on the data lake', () => {
    const landing = datasets.map((d) => `landing/${d}/*`);
    const quarantine = datasets.map((d) => `quarantine/${d}/*`);
    const read = (rs: string[]) => rs.flatMap((r) => [`s3:GetObject ${r}`, `s3:GetObjectVersion ${r}`]);
    const put = (rs: string[]) => rs.flatMap((r) => [`s3:AbortMultipartUpload ${r}`, `s3:PutObject ${r}`]);
    const sorted = (xs: string[]) => [...xs].sort();

    test('the chunk function reads landing (its datasets and the opt-out list) and writes only staging and quarantine', () => {
      expect(s3Access(ingestion.chunk)).toEqual(
        sorted([
          ...read([...landing, `landing/${OPT_OUT_LIST_KEY}`]),
          's3:ListBucket curated',
          's3:GetObject curated/_manifests/*',
          's3:GetObject curated/_staging/*',
          ...put(['curated/_staging/*', ...quarantine]),
        ]),
      );
    });

    test('the plan function reads landing and manifests and writes only staging', () => {
      expect(s3Access(ingestion.plan)).toEqual(
        sorted([...read(landing), 's3:ListBucket curated', 's3:GetObject curated/_manifests/*', ...put(['curated/_staging/*'])]),
      );
    });

    test('only the commit function writes table locations and manifests, and deletes only staging and quarantined rejects', () => {
      const access = s3Access(ingestion.commit);
      expect(access.filter((a) => a.startsWith('s3:PutObject ')).sort()).toEqual(
        sorted([
          's3:PutObject curated/_staging/*',
          's3:PutObject curated/_manifests/*',
          ...datasets.map((d) => `s3:PutObject curated/${d}/*`),
          ...quarantine.map((q) => `s3:PutObject ${q}`),
        ]),
      );
      expect(access.filter((a) => a.startsWith('s3:DeleteObject')).sort()).toEqual(
        sorted(['s3:DeleteObject curated/_staging/*', ...quarantine.map((q) => `s3:DeleteObject ${q}`)]),
      );
      // The join reads and copies staged parts pinned to a version.
      expect(access).toEqual(expect.arrayContaining(read(['curated/_staging/*'])));
      for (const fn of [ingestion.plan, ingestion.chunk])
        expect(s3Access(fn).filter((a) => /^s3:(PutObject|DeleteObject) curated\/(?!_staging)/.test(a))).toEqual([]);
    });

    test('no S3 wildcard action, no S3 access on "*", no version deletes or Object Lock changes', () => {
      for (const fn of [ingestion.plan, ingestion.chunk, ingestion.commit]) {
        for (const s of statementsOf(fn)) {
          const s3Actions = s.actions.filter((a) => a.startsWith('s3:'));
          if (s3Actions.length === 0) continue;
          expect(s3Actions.filter((a) => a.includes('*'))).toEqual([]);
          expect(s.resources).not.toContain('*');
          expect(s3Actions).not.toEqual(expect.arrayContaining(['s3:DeleteObjectVersion']));
          expect(s3Actions.filter((a) => /Retention|LegalHold|Acl|Policy/.test(a))).toEqual([]);
        }
      }
    });

    test('the platform key is usable only through S3 (and, for the chunk function, Secrets Manager)', () => {
      for (const fn of [ingestion.plan, ingestion.chunk, ingestion.commit]) {
        const onPlatformKey = statementsOf(fn).filter((s) => s.resources.includes('platform-key'));
        for (const s of onPlatformKey)
          expect(Object.values(s.condition.StringEquals)).toEqual([expect.stringMatching(/^(s3|secretsmanager)\.eu-west-2\.amazonaws\.com$/)]);
        expect(onPlatformKey.map((s) => s.condition.StringEquals['kms:ViaService'].split('.')[0]).sort()).toEqual(
          fn === ingestion.chunk ? ['s3', 'secretsmanager'] : ['s3'],
        );
      }
    });

    test('only the chunk function can read the pseudonymisation key', () => {
      const secretRef = `ref:${idOf(ingestion.pseudonymKey.secret)}`;
      const readers = [ingestion.plan, ingestion.chunk, ingestion.commit].filter((fn) => statementsOf(fn).some((s) => s.resources.includes(secretRef)));
      expect(readers).toEqual([ingestion.chunk]);
      expect(
        statementsOf(ingestion.chunk)
          .find((s) => s.resources.includes(secretRef))!
          .actions.sort(),
      ).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    });
  });

  describe('pseudonymisation key', () => {
    test('generated in Secrets Manager as 64 hex characters, encrypted with the platform key, retained, not rotated automatically', () => {
      const [[id, secret]] = ofType('AWS::SecretsManager::Secret');
      expect(describeValue(secret.Properties.KmsKeyId)).toBe('platform-key');
      expect(secret.Properties.GenerateSecretString).toEqual({
        PasswordLength: 64,
        ExcludeUppercase: true,
        ExcludePunctuation: true,
        IncludeSpace: false,
        ExcludeCharacters: 'ghijklmnopqrstuvwxyz',
        RequireEachIncludedType: true,
      });
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(ofType('AWS::SecretsManager::RotationSchedule')).toEqual([]);
      expect(id).toBe(idOf(ingestion.pseudonymKey.secret));
    });

    const policy = () => {
      const [[, p]] = ofType('AWS::SecretsManager::ResourcePolicy');
      expect(p.Properties.SecretId).toEqual({ Ref: idOf(ingestion.pseudonymKey.secret) });
      return p.Properties.ResourcePolicy.Statement as any[];
    };
    const chunkRole = { 'Fn::GetAtt': [idOf(ingestion.chunk.role), 'Arn'] };
    // The later opt-out's plan and rewrite make the list's pseudonyms with the same key.
    const optOutRoles = [ingestion.optOutPlan, ingestion.optOutRewrite].map((fn) => ({ 'Fn::GetAtt': [idOf(fn.role), 'Arn'] }));

    test("its own policy denies reading it to every principal but the chunk and opt-out functions' roles and the break-glass role", () => {
      expect(policy().find((st) => st.Sid === 'OnlyIngestionAndBreakGlassReadTheKey')).toEqual({
        Sid: 'OnlyIngestionAndBreakGlassReadTheKey',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': [chunkRole, ...optOutRoles, exampleConfig.platform.breakGlassRole] } },
      });
    });

    test('its own policy denies setting or moving its value to every principal but the break-glass role', () => {
      const set = policy().find((st) => st.Sid === 'OnlyBreakGlassSetsTheKey');
      expect([set.Effect, set.Principal, set.Condition]).toEqual([
        'Deny',
        { AWS: '*' },
        { StringNotEquals: { 'aws:PrincipalArn': [exampleConfig.platform.breakGlassRole] } },
      ]);
      expect(set.Action).toEqual(expect.arrayContaining(['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret', 'secretsmanager:RotateSecret']));
    });

    test('without a break-glass role, nobody but the chunk and opt-out functions reads it and nobody sets it', () => {
      const { breakGlassRole: _none, ...platform } = exampleConfig.platform;
      const built = build({ ...exampleConfig, platform });
      const [[, p]] = Object.entries(Template.fromStack(built.ingestion).toJSON().Resources as Record<string, any>).filter(
        ([, r]) => r.Type === 'AWS::SecretsManager::ResourcePolicy',
      );
      const [read, set] = p.Properties.ResourcePolicy.Statement;
      expect(read.Condition.StringNotEquals['aws:PrincipalArn']).toEqual(
        ['ChunkRole', 'OptOutPlanRole', 'OptOutRewriteRole'].map((r) => ({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${r}`)), 'Arn'] })),
      );
      expect(set.Condition).toBeUndefined();
    });
  });

  describe('event wiring', () => {
    const [[, rule]] = ofType('AWS::Events::Rule');
    test('the rule matches objects created in the landing bucket under a dataset prefix', () => {
      expect(rule.Properties.EventPattern).toMatchObject({ source: ['aws.s3'], 'detail-type': ['Object Created'] });
      expect(rule.Properties.EventPattern.detail.bucket.name.map(describeValue)).toEqual(['landing']);
      expect(rule.Properties.EventPattern.detail.object.key).toEqual(datasets.map((d) => ({ prefix: `${d}/` })));
    });
    test('it starts the state machine, with retries for a day and the dead-letter queue', () => {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: { Ref: idOf(ingestion.workflow.stateMachine) },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(ingestion.deadLetterQueue.queue), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 8 },
        }),
      ]);
    });
    test('EventBridge may use the queue key only for this rule', () => {
      const key = resources[idOf(ingestion.key)];
      const statement = key.Properties.KeyPolicy.Statement.find((s: any) => s.Principal?.Service === 'events.amazonaws.com');
      expect(statement.Condition.ArnEquals['aws:SourceArn']).toEqual({
        'Fn::Join': ['', ['arn:aws:events:eu-west-2:', { Ref: 'AWS::AccountId' }, ':rule/onelondon-sde-ingest-landed-object']],
      });
    });
  });

  describe('state machine', () => {
    const [[, machine]] = ofType('AWS::StepFunctions::StateMachine');
    // The definition with every reference replaced by a placeholder, so it parses as JSON.
    const definition = JSON.parse(
      (machine.Properties.DefinitionString['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'REF')).join(''),
    );
    const states = definition.States as Record<string, any>;

    test('STANDARD, traced, logging every event without execution data to an encrypted group', () => {
      expect(machine.Properties.StateMachineType).toBe('STANDARD');
      expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
      const groupId = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      expect(resources[groupId].Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [idOf(ingestion.key), 'Arn'] });
    });

    test('plan, then a Distributed Map over the chunk numbers, then commit', () => {
      expect(definition.StartAt).toBe('Plan');
      const map = states.Chunks;
      expect(map.Type).toBe('Map');
      expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      expect(map.ItemsPath).toBe('$.plan.chunks');
      expect(map.MaxConcurrency).toBe(20);
      // Zero tolerated failures (Step Functions' default when unset): one failed chunk fails the batch.
      expect([map.ToleratedFailurePercentage ?? 0, map.ToleratedFailureCount ?? 0]).toEqual([0, 0]);
      expect(map.ItemProcessor.States.ProcessChunk.Type).toBe('Task');
      expect(map.Next).toBe('Commit');
      expect(states['AlreadyCommitted?'].Choices[0]).toMatchObject({ Variable: '$.plan.skip', BooleanEquals: true, Next: 'AlreadyIngested' });
    });

    test('each step catches every error into the dead-letter queue, then fails the execution', () => {
      for (const name of ['Plan', 'Chunks', 'Commit'])
        expect(states[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'SendFailureToDeadLetterQueue' }]);
      expect(states.SendFailureToDeadLetterQueue).toMatchObject({
        Type: 'Task',
        Resource: expect.stringMatching(/:states:::sqs:sendMessage$/),
        Next: 'IngestionFailed',
      });
      expect(states.IngestionFailed.Type).toBe('Fail');
    });

    test("it invokes exactly the functions' live aliases", () => {
      const statements = resources[ingestion.getLogicalId(ingestion.workflow.role.policy.node.defaultChild as CfnResource)].Properties.PolicyDocument
        .Statement as any[];
      const invoke = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction')).flatMap((s) => [s.Resource].flat());
      expect(invoke.sort()).toEqual([ingestion.chunk, ingestion.commit, ingestion.plan].map((fn) => ({ Ref: idOf(fn.alias) })).sort());
    });

    test('context sets the map concurrency (checked) and a DuckDB layer (the chunk function then runs on ARM64 with it)', () => {
      const layer = 'arn:aws:lambda:eu-west-2:111122223333:layer:duckdb-node-linux-arm64:3';
      const app = newSdeApp({ context: { 'sde:ingestMaxConcurrency': '7', 'sde:duckdbLayerArn': layer } });
      const lake = new DataLakeStack(app, 'DataLake', { config: exampleConfig, env: { region: 'eu-west-2' } });
      const stack = createIngestionStack(app, exampleConfig, lake, { env: { region: 'eu-west-2' } });
      expect(stack.workflow.map.toStateJson()).toMatchObject({ MaxConcurrency: 7 });
      const chunkFn = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(stack.chunk.function.node.defaultChild as CfnResource)].Properties;
      expect([chunkFn.Architectures, chunkFn.Layers, chunkFn.ReservedConcurrentExecutions]).toEqual([['arm64'], [layer], 7]);
      const bad = newSdeApp({ context: { 'sde:ingestMaxConcurrency': '0' } });
      const badLake = new DataLakeStack(bad, 'DataLake', { config: exampleConfig, env: { region: 'eu-west-2' } });
      expect(() => createIngestionStack(bad, exampleConfig, badLake, { env: { region: 'eu-west-2' } })).toThrow(
        /ingestion maxConcurrency must be a whole number from 1 to 10000 \(got 0\)\n {4}fix: pass --context sde:ingestMaxConcurrency=N/,
      );
    });
  });

  describe('dead-letter queue and alarms', () => {
    const dlqId = idOf(ingestion.deadLetterQueue.queue);
    test('the queue is KMS-encrypted with a customer-managed key, TLS-only, keeps failures 14 days, and is retained', () => {
      const q = resources[dlqId];
      expect(q.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [idOf(ingestion.key), 'Arn'] });
      expect(q.Properties.MessageRetentionPeriod).toBe(1209600);
      expect(q.DeletionPolicy).toBe('Retain');
      const [[, policy]] = ofType('AWS::SQS::QueuePolicy');
      expect(policy.Properties.Queues).toEqual([{ Ref: dlqId }]);
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    test('an alarm fires on the first message in the queue, and on any failed or timed-out execution', () => {
      const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
      const dlqAlarm = alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
      expect(dlqAlarm).toMatchObject({
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      });
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
        expect(alarms.find((a) => a.MetricName === metric)).toMatchObject({
          Namespace: 'AWS/States',
          Threshold: 1,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: idOf(ingestion.workflow.stateMachine) } }],
        });
      }
      for (const a of alarms) expect(a.AlarmActions).toHaveLength(1);
    });

    test('without an alert topic, alarms go to a new KMS-encrypted, TLS-only topic for the security e-mails', () => {
      const [[topicId, topic]] = ofType('AWS::SNS::Topic');
      expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [idOf(ingestion.key), 'Arn'] });
      for (const [, a] of ofType('AWS::CloudWatch::Alarm')) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: exampleConfig.platform.alerts.securityEmails[0] });
    });

    test("with an alert topic (the audit stack's, in the app), alarms use it and no topic is created", () => {
      const withTopic = build(exampleConfig, { compliance: false, alarmTopic: true });
      const t = Template.fromStack(withTopic.ingestion);
      t.resourceCountIs('AWS::SNS::Topic', 0);
      for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm')))
        expect(describeValue(a.Properties.AlarmActions[0])).toMatch(/^output:.*OpsTopic/);
    });
  });

  describe('later opt-outs', () => {
    const machineOf = (sm: { node: { defaultChild?: unknown } }) => resources[idOf(sm)];
    const machine = machineOf(ingestion.optOutWorkflow.stateMachine);
    const definition = JSON.parse(
      (machine.Properties.DefinitionString['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'REF')).join(''),
    );
    const states = definition.States as Record<string, any>;
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const sm = { Ref: idOf(ingestion.optOutWorkflow.stateMachine) };

    test('plan, then a Distributed Map of batch rewrites reading its items from S3, then finish', () => {
      expect([definition.StartAt, states.Batches.Type, states.Batches.ItemProcessor.ProcessorConfig.Mode, states.Batches.Next]).toEqual([
        'Plan',
        'Map',
        'DISTRIBUTED',
        'Finish',
      ]);
      expect(states.Batches.ItemReader).toEqual({
        Resource: expect.stringMatching(/:states:::s3:getObject$/),
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.plan.bucket', 'Key.$': '$.plan.itemsKey' },
      });
    });

    test('a list applied already stops at once; indexes still being built plan again; a list that finds nobody goes straight to finish', () => {
      expect(states['AppliedAlready?'].Choices).toEqual([
        { Variable: '$.plan.status', StringEquals: 'already-applied', Next: 'AlreadyApplied' },
        { Variable: '$.plan.status', StringEquals: 'indexing', Next: 'Plan' },
        { Variable: '$.plan.batches', NumericEquals: 0, Next: 'Finish' },
      ]);
    });

    test('one failed batch fails the run (no tolerated failures)', () => {
      expect([states.Batches.ToleratedFailurePercentage ?? 0, states.Batches.ToleratedFailureCount ?? 0]).toEqual([0, 0]);
    });

    test('each step catches every error into the dead-letter queue, then fails the execution', () => {
      for (const name of ['Plan', 'Batches', 'Finish'])
        expect(states[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'SendFailureToDeadLetterQueue' }]);
      expect([states.SendFailureToDeadLetterQueue.Next, states.OptOutFailed.Type]).toEqual(['OptOutFailed', 'Fail']);
    });

    test('STANDARD, traced, logging without execution data to an encrypted group', () => {
      expect([
        machine.Properties.StateMachineType,
        machine.Properties.TracingConfiguration,
        machine.Properties.LoggingConfiguration.IncludeExecutionData,
      ]).toEqual(['STANDARD', { Enabled: true }, false]);
    });

    test("the state machine reads only the runs' items.json, and the platform key only through S3", () => {
      const statements = resources[ingestion.getLogicalId(ingestion.optOutWorkflow.role.policy.node.defaultChild as CfnResource)].Properties.PolicyDocument
        .Statement as any[];
      const s3Reads = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
      expect(s3Reads.map((s) => [[s.Action].flat(), [s.Resource].flat().map(describeValue)])).toEqual([
        [['s3:GetObject'], ['curated/_optout/runs/*/items.json']],
      ]);
      const kms = statements.filter((s) => [s.Resource].flat().map(describeValue).includes('platform-key'));
      expect(kms.map((s) => [s.Action, s.Condition])).toEqual([['kms:Decrypt', { StringEquals: { 'kms:ViaService': 's3.eu-west-2.amazonaws.com' } }]]);
    });

    test('a new list landing starts it, and so does a daily schedule, each with retries and the dead-letter queue', () => {
      const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
      const landed = rules.find((r) => r.Name === 'onelondon-sde-optout-list-landed');
      expect(landed.EventPattern.detail.object).toEqual({ key: [OPT_OUT_LIST_KEY] });
      expect(rules.find((r) => r.Name === 'onelondon-sde-optout-daily').ScheduleExpression).toBe('cron(0 5 * * ? *)');
      for (const r of [landed, rules.find((x) => x.Name === 'onelondon-sde-optout-daily')]) {
        expect(r.Targets[0]).toMatchObject({ Arn: sm, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 } });
        expect(r.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [idOf(ingestion.deadLetterQueue.queue), 'Arn'] } });
      }
    });

    test('alarms on a failed or timed-out run', () => {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut'])
        expect(alarms.filter((a) => a.MetricName === metric && a.Dimensions[0].Value.Ref === sm.Ref)).toHaveLength(1);
    });

    test('the freshness alarm: the list older than the configured days, or no plan run reporting for a day', () => {
      expect(alarms.find((a) => a.MetricName === 'OptOutListAgeHours')).toMatchObject({
        Namespace: 'onelondon-sde/ingestion',
        Dimensions: [{ Name: 'service', Value: 'optout-plan' }],
        Statistic: 'Maximum',
        Period: 86400,
        Threshold: exampleConfig.platform.nationalDataOptOut.maxListAgeDays * 24,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    test('the rewrite function alone replaces batch objects and manifests; none deletes outside _optout/ or any version', () => {
      const writes = (fn: Parameters<typeof s3Access>[0]) => s3Access(fn).filter((a) => /^s3:PutObject curated\/(?!_optout\/)/.test(a));
      expect(writes(ingestion.optOutRewrite)).toEqual([...datasets.map((d) => `s3:PutObject curated/${d}/*`), 's3:PutObject curated/_manifests/*'].sort());
      expect([...writes(ingestion.optOutPlan), ...writes(ingestion.optOutFinish)]).toEqual([]);
      for (const fn of [ingestion.optOutPlan, ingestion.optOutRewrite, ingestion.optOutFinish])
        expect(s3Access(fn).filter((a) => /^s3:Delete/.test(a) && a !== 's3:DeleteObject curated/_optout/*')).toEqual([]);
    });

    test('plan and rewrite read the list (by its key only) and the pseudonymisation key; finish reads neither', () => {
      const secretRef = `ref:${idOf(ingestion.pseudonymKey.secret)}`;
      const reads = (fn: Parameters<typeof s3Access>[0]) => [
        s3Access(fn).filter((a) => a.includes(' landing/')),
        statementsOf(fn).some((s) => s.resources.includes(secretRef)),
      ];
      const list = [`s3:GetObject landing/${OPT_OUT_LIST_KEY}`, `s3:GetObjectVersion landing/${OPT_OUT_LIST_KEY}`];
      expect([reads(ingestion.optOutPlan), reads(ingestion.optOutRewrite), reads(ingestion.optOutFinish)]).toEqual([
        [list, true],
        [list, true],
        [[], false],
      ]);
    });

    test('the configured share reaches the functions', () => {
      const env = resources[ingestion.getLogicalId(ingestion.optOutPlan.function.node.defaultChild as CfnResource)].Properties.Environment.Variables;
      expect(env.SDE_OPTOUT_MAX_REMOVED_SHARE).toBe(String(exampleConfig.platform.nationalDataOptOut.maxRemovedShare));
    });
  });
});

test('the app wires the ingestion stack after the data lake, with its alarms on the audit alert topic', () => {
  const { stacks } = createApp(exampleConfig, { compliance: false });
  expect(stacks.ingestion.stackName).toBe('onelondon-sde-ingestion');
  expect(stacks.ingestion.dependencies).toContain(stacks.dataLake);
  expect(stacks.ingestion.alarms.topic).toBe(stacks.audit.alarms.topic);
});

test("with many datasets, grants spread over several managed policies within IAM's size limit; the gates see the stack and flag only an insecure bucket added to it", () => {
  const fixture = new ConfigFixture();
  try {
    const episodes = fs.readFileSync(fixture.path('datasets/hospital_episodes.yaml'), 'utf8');
    for (let i = 1; i <= 30; i++)
      fixture.write(`datasets/extra_${String(i).padStart(2, '0')}.yaml`, episodes.replace(/^name: hospital_episodes$/m, `name: extra_dataset_number_${i}`));
    const config = loadConfig(fixture.dir, { today: TEST_TODAY });
    const built = build(config);
    new s3.Bucket(built.ingestion, 'InsecureIngestionBucket');
    expect(() => built.app.synth()).toThrow(/InsecureIngestionBucket/);
    type Report = { pluginReports: { pluginName: string; violations: { violatingConstructs: { constructPath: string }[] }[] }[] };
    const report = JSON.parse(fs.readFileSync(path.join(built.outdir, 'validation-report.json'), 'utf8')) as Report;
    const flagged = new Set(
      report.pluginReports.flatMap((r) => r.violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath.split('/').slice(0, 2).join('/')))),
    );
    expect([...flagged]).toEqual(['Ingestion/InsecureIngestionBucket']);
    expect(report.pluginReports.filter((r) => r.violations.length > 0).length).toBeGreaterThanOrEqual(3);
    expect(built.ingestion.commit.role.policies.length).toBeGreaterThan(1);
    const resources = JSON.parse(fs.readFileSync(path.join(built.outdir, `${built.ingestion.artifactId}.template.json`), 'utf8')).Resources as Record<
      string,
      any
    >;
    // The document as deployed, with each reference a long bucket ARN (a bucket name is at most 63 characters).
    const longArn = `arn:aws:s3:::${'x'.repeat(63)}`;
    const deployed = (v: any): any => {
      if (Array.isArray(v)) return v.map(deployed);
      if (v === null || typeof v !== 'object') return v;
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === 'Fn::Join')
        return (v['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : deployed(p))).join(v['Fn::Join'][0]);
      if (keys.length === 1 && /^(Ref|Fn::)/.test(keys[0])) return longArn;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deployed(x)]));
    };
    const deployedSize = (doc: unknown) => JSON.stringify(deployed(doc)).length;
    for (const fn of [built.ingestion.plan, built.ingestion.chunk, built.ingestion.commit]) {
      for (const p of fn.role.policies)
        expect(deployedSize(resources[built.ingestion.getLogicalId(p.node.defaultChild as CfnResource)].Properties.PolicyDocument)).toBeLessThan(
          MANAGED_POLICY_MAX_CHARS,
        );
    }
  } finally {
    fixture.cleanup();
  }
});
