import { CfnOutput, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { SdeConfig } from '../config/model';
import { stackName } from '../config/naming';
import { PlatformKey } from '../constructs/storage/platform-key';
import { AnalysisNetwork } from '../constructs/workspace/analysis-network';
import { SecureBrowserPortal } from '../constructs/workspace/secure-browser-portal';

/** The context key naming the researchers' SAML identity provider metadata URL. */
export const WORKSPACE_SAML_CONTEXT = 'sde:workspaceSamlMetadataUrl';

/** Where a data-returning call may come from: what each project role's network guard names. */
export interface WorkspaceNetworkCondition {
  /** `aws:SourceVpce`: the analysis network's endpoints. */
  readonly sourceVpce: readonly string[];
  /** `aws:SourceIp`: the analysis network's NAT addresses (/32). */
  readonly sourceIp: readonly string[];
}

export interface AnalysisWorkspaceStackProps extends StackProps {
  readonly config: SdeConfig;
  /** @default the `sde:workspaceSamlMetadataUrl` context, else none (see SecureBrowserPortal) */
  readonly samlMetadataUrl?: string;
}

/**
 * The safe setting's place of work: the analysis network (VPC endpoints for every data
 * path, fixed NAT addresses for the console, flow logs) and the WorkSpaces Secure Browser
 * portal researchers work in (no download, upload, clipboard or printing). Every project
 * role's data-returning actions are denied unless they come from this network
 * (ProjectWorkspace, `networkCondition`), so it deploys before the workspace shards.
 */
export class AnalysisWorkspaceStack extends Stack {
  readonly key: kms.Key;
  readonly network: AnalysisNetwork;
  readonly portal: SecureBrowserPortal;
  readonly networkCondition: WorkspaceNetworkCondition;

  /**
   * The region's first two AZs as CloudFormation resolves them at deployment
   * (`Fn::GetAZs`), not looked up at synth: a config naming its account would otherwise need
   * AWS credentials to synthesize, and synth is offline.
   */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }

  constructor(scope: Construct, id: string, props: AnalysisWorkspaceStackProps) {
    super(scope, id, props);
    const { platform } = props.config;
    this.key = new PlatformKey(this, 'WorkspaceKey', {
      alias: `alias/${platform.name}/analysis-workspace`,
      description: `${platform.displayName}: encrypts the analysis network's flow logs`,
    }).key;
    this.network = new AnalysisNetwork(this, 'Network', { logKey: this.key, flowLogGroupName: `/${platform.name}/analysis-network/flow-logs` });
    const saml = props.samlMetadataUrl ?? (this.node.tryGetContext(WORKSPACE_SAML_CONTEXT) as string | undefined);
    this.portal = new SecureBrowserPortal(this, 'Portal', {
      displayName: `${platform.displayName} analysis workspace`,
      vpc: this.network.vpc,
      subnets: { subnetGroupName: 'Workspace' },
      securityGroup: this.network.browserSecurityGroup,
      region: this.region,
      ...(saml === undefined ? {} : { samlMetadataUrl: saml }),
    });
    this.networkCondition = { sourceVpce: this.network.endpointIds, sourceIp: this.network.egressCidrs };

    new CfnOutput(this, 'PortalEndpoint', { value: this.portal.portal.attrPortalEndpoint, description: 'Where researchers sign in to the analysis workspace' });
    new CfnOutput(this, 'EgressAddresses', { value: Fn.join(',', [...this.network.egressCidrs]), description: 'The workspace NAT addresses (aws:SourceIp)' });
  }
}

/** The stack as createStacks adds it: `<platform>-analysis-workspace`. */
export function createAnalysisWorkspaceStack(scope: Construct, config: SdeConfig, options: StackProps = {}): AnalysisWorkspaceStack {
  return new AnalysisWorkspaceStack(scope, 'AnalysisWorkspace', {
    stackName: stackName(config, 'analysis-workspace'),
    description: `${config.platform.displayName}: the analysis workspace (private network with VPC endpoints, secure browser portal)`,
    ...options,
    config,
  });
}
