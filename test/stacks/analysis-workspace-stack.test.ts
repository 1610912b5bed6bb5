/**
 * The safe setting on the templates: the analysis network, the secure browser portal, and
 * the network condition on every project role's data-returning actions. One assertion per
 * property; the condition itself is also evaluated against generated request contexts, as
 * an attacker outside the workspace would make them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomInt } from 'node:crypto';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../lib/app';
import { loadConfig } from '../../lib/config';
import { ATHENA_DATA_ACTIONS, networkDenyStatements } from '../../lib/constructs/workspace/network-guard';
import { acknowledgementsIn, expectNoFindings, expectWellFormedAcknowledgement } from '../helpers/compliance-report';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function build(compliance: boolean) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-analysis-synth-'));
  outdirs.push(outdir);
  return { outdir, ...createApp(config, { outdir, compliance }) };
}

describe('compliance gates on the analysis workspace stack', () => {
  const built = build(true);
  let synthError: unknown;
  try {
    built.app.synth();
  } catch (e) {
    synthError = e;
  }
  test('synthesizes with zero unacknowledged findings', () => {
    expect(synthError).toBeUndefined();
    expectNoFindings(built.outdir, { minPlugins: 4 });
  });
  test('every acknowledgement in it is one rule on one resource, with a specific reason', () => {
    const acks = acknowledgementsIn(built.stacks.analysisWorkspace);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expectWellFormedAcknowledgement(ack);
  });
});

describe('the analysis workspace and the network condition on the templates', () => {
  const { stacks } = build(false);
  const ws = stacks.analysisWorkspace;
  const t = Template.fromStack(ws);
  const resources = t.toJSON().Resources as Record<string, any>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const shards = stacks.workspaces.filter((s) => s.workspaces.size > 0);
  /** Every project role's network guard statements, resolved in its own stack. */
  const guards = shards.flatMap((shard) =>
    [...shard.workspaces.values()].map((w) => {
      expect(w.networkGuard).toBeDefined();
      const doc = Stack.of(w).resolve(w.networkGuard!.document.toJSON()) as { Statement: any[] };
      return { project: w, statements: doc.Statement };
    }),
  );
  const bySid = (statements: any[], sid: string) => statements.find((s) => s.Sid === sid);
  const outsideCondition = (st: any) => ({
    vpce: st.Condition.StringNotEqualsIfExists['aws:SourceVpce'],
    ip: st.Condition.NotIpAddressIfExists['aws:SourceIp'],
    via: st.Condition.BoolIfExists['aws:ViaAWSService'],
  });

  test('every active project role has a network guard, attached to it', () => {
    expect(guards.length).toBe(shards.reduce((n, s) => n + s.workspaces.size, 0));
    expect(guards.length).toBeGreaterThan(0);
    for (const { project } of guards) {
      const policy = Template.fromStack(Stack.of(project)).toJSON().Resources[
        Stack.of(project).getLogicalId(project.networkGuard!.node.defaultChild as CfnResource)
      ];
      expect(policy.Properties.Roles).toEqual([{ Ref: Stack.of(project).getLogicalId(project.role.node.defaultChild as CfnResource) }]);
    }
  });

  test('query results and execution details are denied outside the workspace network', () => {
    for (const { statements } of guards) {
      const st = bySid(statements, 'DenyQueryResultsOutsideWorkspace');
      expect(st).toMatchObject({ Effect: 'Deny', Resource: '*' });
      expect([st.Action].flat().sort()).toEqual([...ATHENA_DATA_ACTIONS].sort());
      expect(outsideCondition(st).via).toBe('false');
    }
  });

  test('result objects are denied outside the workspace network (every object of the results bucket)', () => {
    for (const { statements } of guards) {
      const st = bySid(statements, 'DenyResultObjectsOutsideWorkspace');
      expect(st).toMatchObject({ Effect: 'Deny', Action: ['s3:GetObject', 's3:GetObjectVersion'] });
      expect(JSON.stringify(st.Resource)).toMatch(/ResultsBucket|Results/);
      expect(JSON.stringify(st.Resource)).toContain('/*');
    }
  });

  test('Lake Formation data access is denied outside the workspace network', () => {
    for (const { statements } of guards)
      expect(bySid(statements, 'DenyDataAccessOutsideWorkspace')).toMatchObject({ Effect: 'Deny', Action: 'lakeformation:GetDataAccess' });
  });

  test("the condition names every one of the network's endpoints and NAT addresses", () => {
    for (const { statements } of guards) {
      const c = outsideCondition(bySid(statements, 'DenyQueryResultsOutsideWorkspace'));
      expect(c.vpce).toHaveLength(ws.network.endpointIds.length);
      expect(c.ip).toHaveLength(ws.network.egressCidrs.length);
      // Cross-stack references to the analysis workspace stack, never literals someone could edit apart.
      expect(JSON.stringify([c.vpce, c.ip])).toMatch(/Fn::ImportValue|Fn::GetStackOutput/);
      expect(JSON.stringify([c.vpce, c.ip])).not.toMatch(/"vpce-|"\d+\.\d+\.\d+\.\d+/);
    }
  });

  test('released airlock files are not under the condition: the guard names no airlock object', () => {
    for (const { statements } of guards) expect(JSON.stringify(statements)).not.toMatch(/Airlock|released/);
  });

  test('the workspace shards deploy after the analysis workspace', () => {
    for (const shard of shards) expect(shard.dependencies).toContain(ws);
  });

  test('interface endpoints with private DNS for Athena, Glue, Lake Formation, STS, KMS and CloudWatch Logs', () => {
    const services = ofType('AWS::EC2::VPCEndpoint')
      .filter(([, r]) => r.Properties.VpcEndpointType === 'Interface')
      .map(([, r]) => {
        expect(r.Properties.PrivateDnsEnabled).toBe(true);
        return JSON.stringify(r.Properties.ServiceName).match(/\.(athena|glue|lakeformation|sts|kms|logs)"/)?.[1];
      });
    expect(services.sort()).toEqual(['athena', 'glue', 'kms', 'lakeformation', 'logs', 'sts']);
  });

  test('an S3 gateway endpoint on the workspace subnets route tables', () => {
    const gateways = ofType('AWS::EC2::VPCEndpoint').filter(([, r]) => r.Properties.VpcEndpointType === 'Gateway');
    expect(gateways).toHaveLength(1);
    expect(JSON.stringify(gateways[0][1].Properties.ServiceName)).toContain('.s3');
    expect(gateways[0][1].Properties.RouteTableIds).toHaveLength(2);
  });

  test('the workspace subnets have no route to the internet gateway (their default route is the NAT)', () => {
    const routes = ofType('AWS::EC2::Route').filter(([id]) => /WorkspaceSubnet/.test(id));
    expect(routes.length).toBe(2);
    for (const [, r] of routes) {
      expect(r.Properties.GatewayId).toBeUndefined();
      expect(r.Properties.NatGatewayId).toBeDefined();
    }
  });

  test('the AZs are resolved by CloudFormation at deployment, so synth needs no AWS credentials', () => {
    for (const [, subnet] of ofType('AWS::EC2::Subnet')) expect(JSON.stringify(subnet.Properties.AvailabilityZone)).toContain('Fn::GetAZs');
  });

  test('no subnet gives public addresses on launch', () => {
    for (const [, s] of ofType('AWS::EC2::Subnet')) expect(s.Properties.MapPublicIpOnLaunch).toBe(false);
  });

  test('flow logs of all traffic, to a KMS-encrypted log group', () => {
    const logs = ofType('AWS::EC2::FlowLog');
    expect(logs).toHaveLength(1);
    expect(logs[0][1].Properties).toMatchObject({ TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', ResourceType: 'VPC' });
    expect(logs[0][1].Properties.DeliverLogsPermissionArn).toBeDefined();
    const group = ofType('AWS::Logs::LogGroup').find(([, g]) => /flow-logs/.test(g.Properties.LogGroupName));
    expect(group?.[1].Properties.KmsKeyId).toBeDefined();
  });

  test('the endpoints take HTTPS from inside the VPC only', () => {
    const sg = ofType('AWS::EC2::SecurityGroup').find(([id]) => /EndpointSecurityGroup/.test(id))![1];
    expect(sg.Properties.SecurityGroupIngress).toEqual([expect.objectContaining({ CidrIp: '10.40.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })]);
  });

  test('the workspace forbids copy, paste, download, upload and printing, and deep links', () => {
    const [[, settings]] = ofType('AWS::WorkSpacesWeb::UserSettings');
    expect(settings.Properties).toMatchObject({
      CopyAllowed: 'Disabled',
      PasteAllowed: 'Disabled',
      DownloadAllowed: 'Disabled',
      UploadAllowed: 'Disabled',
      PrintAllowed: 'Disabled',
      DeepLinkAllowed: 'Disabled',
    });
  });

  test("the session's browser opens only the sign-in page and the console, downloads nothing, prints nothing", () => {
    const [[, browser]] = ofType('AWS::WorkSpacesWeb::BrowserSettings');
    const policy = JSON.parse(browser.Properties.BrowserPolicy).chromePolicies;
    expect(policy.URLBlocklist.value).toEqual(['*']);
    for (const url of policy.URLAllowlist.value) expect(url).toMatch(/^https:\/\/([a-z0-9-]+\.)?(signin|console)\.aws\.amazon\.com/);
    expect(policy.DownloadRestrictions.value).toBe(3);
    expect(policy.PrintingEnabled.value).toBe(false);
    expect(policy.DeveloperToolsAvailability.value).toBe(2);
  });

  test("the portal uses those settings and the analysis network's workspace subnets", () => {
    const [[, portal]] = ofType('AWS::WorkSpacesWeb::Portal');
    const [[userId]] = ofType('AWS::WorkSpacesWeb::UserSettings');
    const [[browserId]] = ofType('AWS::WorkSpacesWeb::BrowserSettings');
    const [[networkId, network]] = ofType('AWS::WorkSpacesWeb::NetworkSettings');
    expect(portal.Properties.UserSettingsArn).toEqual({ 'Fn::GetAtt': [userId, 'UserSettingsArn'] });
    expect(portal.Properties.BrowserSettingsArn).toEqual({ 'Fn::GetAtt': [browserId, 'BrowserSettingsArn'] });
    expect(portal.Properties.NetworkSettingsArn).toEqual({ 'Fn::GetAtt': [networkId, 'NetworkSettingsArn'] });
    expect(JSON.stringify(network.Properties.SubnetIds)).toMatch(/WorkspaceSubnet1.*WorkspaceSubnet2/);
  });
});

/**
 * IAM's evaluation of the guard's conditions (the operators it uses, with IfExists): true
 * when the Deny applies. A negated operator with IfExists matches when the key is absent.
 */
function denies(statement: any, ctx: { sourceIp?: string; sourceVpce?: string; viaAwsService?: boolean }): boolean {
  const c = statement.Condition;
  const inCidr = (ip: string, cidr: string) => {
    const [base, bits] = cidr.split('/');
    const n = (a: string) => a.split('.').reduce((x, o) => (x << 8) + Number(o), 0) >>> 0;
    const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
    return (n(ip) & mask) === (n(base) & mask);
  };
  const ipOk = ctx.sourceIp === undefined || !c.NotIpAddressIfExists['aws:SourceIp'].some((cidr: string) => inCidr(ctx.sourceIp!, cidr));
  const vpceOk = ctx.sourceVpce === undefined || !c.StringNotEqualsIfExists['aws:SourceVpce'].includes(ctx.sourceVpce);
  const viaOk = ctx.viaAwsService === undefined || String(ctx.viaAwsService) === c.BoolIfExists['aws:ViaAWSService'];
  return ipOk && vpceOk && viaOk;
}

describe('the network condition against generated requests', () => {
  const network = { sourceVpce: ['vpce-0a1b2c3d4e5f60718', 'vpce-0f1e2d3c4b5a69788'], sourceIp: ['203.0.113.10/32', '203.0.113.77/32'] };
  const statements = networkDenyStatements(network, 'arn:aws:s3:::results/*').map((s) => s.toStatementJson());
  const randomIp = () => [randomInt(1, 224), randomInt(0, 256), randomInt(0, 256), randomInt(1, 255)].join('.');
  const randomVpce = () => `vpce-${Array.from({ length: 17 }, () => '0123456789abcdef'[randomInt(16)]).join('')}`;

  test('from any other address, or any other VPC endpoint, every data-returning action is denied', () => {
    for (let i = 0; i < 500; i++) {
      const ip = randomIp();
      if (ip.startsWith('203.0.113.')) continue;
      for (const st of statements) {
        expect(denies(st, { sourceIp: ip })).toBe(true);
        expect(denies(st, { sourceIp: ip, viaAwsService: false })).toBe(true);
        expect(denies(st, { sourceVpce: randomVpce() })).toBe(true);
        // A neighbouring address of a NAT address is still outside.
        expect(denies(st, { sourceIp: '203.0.113.11' })).toBe(true);
      }
    }
  });

  test("from the workspace's endpoints or NAT addresses, or by a service on the role's behalf, it is allowed", () => {
    for (const st of statements) {
      for (const vpce of network.sourceVpce) expect(denies(st, { sourceVpce: vpce })).toBe(false);
      expect(denies(st, { sourceIp: '203.0.113.10' })).toBe(false);
      expect(denies(st, { sourceIp: '203.0.113.77' })).toBe(false);
      expect(denies(st, { sourceIp: randomIp(), viaAwsService: true })).toBe(false);
    }
  });

  test('a guard with no network at all is refused at synth rather than denying nothing', () => {
    expect(() => networkDenyStatements({ sourceVpce: [], sourceIp: [] }, 'arn:aws:s3:::results/*')).toThrow(/at least one/);
  });
});
