import { CfnResource, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EncryptedLogGroup } from '../shared/encrypted-log-group';
import { ManagedPolicyRole } from '../shared/managed-policy-role';

/** The AWS APIs the analysis workspace reaches privately: every data path goes through one of these. */
export const INTERFACE_ENDPOINT_SERVICES = {
  Athena: ec2.InterfaceVpcEndpointAwsService.ATHENA,
  Glue: ec2.InterfaceVpcEndpointAwsService.GLUE,
  LakeFormation: ec2.InterfaceVpcEndpointAwsService.LAKE_FORMATION,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
} as const;

export interface AnalysisNetworkProps {
  /** Encrypts the flow-log group. */
  readonly logKey: kms.IKey;
  /** The flow-log group's name, e.g. `/onelondon-sde/analysis-network/flow-logs`. */
  readonly flowLogGroupName: string;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly flowLogRetention?: logs.RetentionDays;
  /** The VPC's address range. @default '10.40.0.0/16' */
  readonly cidr?: string;
  /** NAT gateways (each with a fixed Elastic IP). @default 1 */
  readonly natGateways?: number;
}

/**
 * The workspace's private network, and what AWS conditions can name: the VPC endpoints
 * requests from it arrive through (`aws:SourceVpce`) and the fixed addresses its web
 * traffic leaves from (`aws:SourceIp`).
 *
 * - Two AZs of private subnets (the secure browser's network interfaces, the endpoints),
 *   with interface endpoints (private DNS) for Athena, Glue, Lake Formation, STS, KMS and
 *   CloudWatch Logs and a gateway endpoint for S3: every data call made from the network
 *   resolves to an endpoint, so it never crosses the internet gateway.
 * - Public subnets hold only the NAT gateways (no public IPs on launch): the browser
 *   reaches the AWS console and the sign-in page through them, from Elastic IPs that do not
 *   change, which is what `aws:SourceIp` conditions name.
 * - Flow logs of all traffic, to a KMS-encrypted log group.
 */
export class AnalysisNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** The interface and gateway endpoints, by service name. */
  readonly endpoints: ReadonlyMap<string, ec2.IVpcEndpoint>;
  /** `aws:SourceVpce` values: every endpoint's id. */
  readonly endpointIds: readonly string[];
  /** `aws:SourceIp` values: each NAT gateway's Elastic IP, as a /32. */
  readonly egressCidrs: readonly string[];
  readonly flowLogs: logs.LogGroup;
  /** For the secure browser's network interfaces: HTTPS out, nothing in. */
  readonly browserSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: AnalysisNetworkProps) {
    super(scope, id);
    const natCount = props.natGateways ?? 1;
    const cidr = props.cidr ?? '10.40.0.0/16';
    const eips = Array.from({ length: natCount }, (_v, i) => new ec2.CfnEIP(this, `NatAddress${i + 1}`, { domain: 'vpc' }));
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: 2,
      natGateways: natCount,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: eips.map((e) => e.attrAllocationId) }),
      subnetConfiguration: [
        { name: 'Egress', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26, mapPublicIpOnLaunch: false },
        { name: 'Workspace', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      // The default security group allows nothing (a custom resource removes its rules).
      restrictDefaultSecurityGroup: true,
      createInternetGateway: true,
    });
    this.egressCidrs = eips.map((e) => Fn.join('', [e.ref, '/32']));

    this.flowLogs = new EncryptedLogGroup(this, 'FlowLogs', {
      logGroupName: props.flowLogGroupName,
      encryptionKey: props.logKey,
      retention: props.flowLogRetention,
    }).logGroup;
    // The delivery role holds customer-managed policies only, as every platform role does.
    const flowLogRole = new ManagedPolicyRole(this, 'FlowLogRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
      description: 'Delivers the analysis network flow logs to their encrypted log group',
    });
    this.flowLogs.grantWrite(flowLogRole);
    flowLogRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [this.flowLogs.logGroupArn] }));
    // The L1, not vpc.addFlowLog: the L2 writes destination options CloudFormation's linter
    // flags and then acknowledges on a non-resource node; this has none.
    const flowLog = new ec2.CfnFlowLog(this, 'FlowLog', {
      resourceId: this.vpc.vpcId,
      resourceType: 'VPC',
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logGroupName: this.flowLogs.logGroupName,
      deliverLogsPermissionArn: flowLogRole.roleArn,
    });
    flowLog.node.addDependency(flowLogRole);

    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'AWS API endpoints of the analysis network: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    // The literal range (not the VPC's attribute), so the rule is checkable at synth.
    endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from the analysis network');

    const endpoints = new Map<string, ec2.IVpcEndpoint>();
    const subnets = { subnetGroupName: 'Workspace' };
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINT_SERVICES)) {
      endpoints.set(
        name,
        this.vpc.addInterfaceEndpoint(name, { service, privateDnsEnabled: true, subnets, securityGroups: [endpointSecurityGroup], open: false }),
      );
    }
    endpoints.set('S3', this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [subnets] }));
    this.endpoints = endpoints;
    this.endpointIds = [...endpoints.values()].map((e) => e.vpcEndpointId);

    this.browserSecurityGroup = new ec2.SecurityGroup(this, 'BrowserSecurityGroup', {
      vpc: this.vpc,
      description: 'Secure browser sessions: HTTPS out (the console through the NAT, AWS APIs through the endpoints), nothing in',
      allowAllOutbound: false,
    });
    this.browserSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the AWS console, sign-in and the VPC endpoints');

    const igwReason =
      "Only the NAT gateways' subnets route to the internet gateway: the secure browser reaches the AWS console and sign-in pages through NAT, from fixed addresses the roles' aws:SourceIp conditions name. The workspace subnets have no public route, and data calls resolve to the VPC endpoints.";
    for (const subnet of this.vpc.publicSubnets) {
      const route = subnet.node.findChild('DefaultRoute') as CfnResource;
      Validations.of(route).acknowledge(
        { id: 'HIPAA.Security::HIPAA.Security-VPCNoUnrestrictedRouteToIGW', reason: igwReason },
        { id: 'NIST.800.53.R5::NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW', reason: igwReason },
      );
    }
    // CDK's custom resource that removes the default security group's rules at deploy time.
    const restrictDefault = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider')?.node.tryFindChild('Handler');
    if (restrictDefault instanceof CfnResource) {
      Validations.of(restrictDefault).acknowledge({
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason:
          "CDK's provider that revokes the default security group's rules once, at deployment: it calls only the EC2 API for this VPC's default group, and running it inside the VPC it configures would add no control.",
      });
    }
  }
}
