import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as workspacesweb from 'aws-cdk-lib/aws-workspacesweb';
import { Construct } from 'constructs';

export interface SecureBrowserPortalProps {
  /** Shown on the portal's sign-in page. */
  readonly displayName: string;
  /** The analysis network: the sessions' network interfaces go in its private subnets. */
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The region: the console URLs the browser may open are this region's. */
  readonly region: string;
  /**
   * The researchers' SAML identity provider's metadata URL. @default - none: the portal is
   * deployed without one and nobody can sign in until it is given (context
   * `sde:workspaceSamlMetadataUrl`)
   */
  readonly samlMetadataUrl?: string;
  /** Minutes of inactivity before a session is disconnected. @default 15 */
  readonly idleDisconnectMinutes?: number;
}

/** The settings the portal's user settings fix: nothing crosses between the session and the researcher's own device. */
export const NOTHING_CROSSES = {
  copyAllowed: 'Disabled',
  pasteAllowed: 'Disabled',
  downloadAllowed: 'Disabled',
  uploadAllowed: 'Disabled',
  printAllowed: 'Disabled',
} as const;

/**
 * The analysis workspace: an Amazon WorkSpaces Secure Browser portal. A researcher's
 * session is a browser running in AWS, with its network interfaces in the analysis
 * network: the researcher's device receives pixels only. Its user settings forbid copying
 * out of and pasting into the session, downloading and uploading files, and printing; deep
 * links are off. Its browser policy (Chrome enterprise policies) opens only the AWS sign-in
 * page and this region's console (Athena's query editor, CloudShell in the network's VPC),
 * blocks downloads inside the session and turns off printing and developer tools.
 */
export class SecureBrowserPortal extends Construct {
  readonly portal: workspacesweb.CfnPortal;
  readonly userSettings: workspacesweb.CfnUserSettings;
  readonly browserSettings: workspacesweb.CfnBrowserSettings;
  readonly networkSettings: workspacesweb.CfnNetworkSettings;
  readonly identityProvider?: workspacesweb.CfnIdentityProvider;

  constructor(scope: Construct, id: string, props: SecureBrowserPortalProps) {
    super(scope, id);
    const idle = props.idleDisconnectMinutes ?? 15;
    this.userSettings = new workspacesweb.CfnUserSettings(this, 'UserSettings', {
      ...NOTHING_CROSSES,
      // A link from outside cannot open a page in the session.
      deepLinkAllowed: 'Disabled',
      idleDisconnectTimeoutInMinutes: idle,
      disconnectTimeoutInMinutes: idle,
    });
    this.browserSettings = new workspacesweb.CfnBrowserSettings(this, 'BrowserSettings', {
      browserPolicy: JSON.stringify(browserPolicy(props.region)),
    });
    this.networkSettings = new workspacesweb.CfnNetworkSettings(this, 'NetworkSettings', {
      vpcId: props.vpc.vpcId,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
      securityGroupIds: [props.securityGroup.securityGroupId],
    });
    this.portal = new workspacesweb.CfnPortal(this, 'Portal', {
      displayName: props.displayName.slice(0, 64),
      authenticationType: 'Standard',
      userSettingsArn: this.userSettings.attrUserSettingsArn,
      browserSettingsArn: this.browserSettings.attrBrowserSettingsArn,
      networkSettingsArn: this.networkSettings.attrNetworkSettingsArn,
    });
    if (props.samlMetadataUrl !== undefined) {
      this.identityProvider = new workspacesweb.CfnIdentityProvider(this, 'IdentityProvider', {
        portalArn: this.portal.attrPortalArn,
        identityProviderName: 'researchers',
        identityProviderType: 'SAML',
        identityProviderDetails: { MetadataURL: props.samlMetadataUrl },
      });
    }
  }
}

/**
 * Chrome enterprise policies for the session's browser: an allow-list of URLs (everything
 * else blocked), no downloads even into the session, no printing, no developer tools, no
 * other browser extensions or sign-in to another profile.
 */
export function browserPolicy(region: string): { chromePolicies: Record<string, { value: unknown }> } {
  return {
    chromePolicies: {
      URLBlocklist: { value: ['*'] },
      URLAllowlist: {
        value: [
          'https://signin.aws.amazon.com',
          `https://${region}.signin.aws.amazon.com`,
          `https://${region}.console.aws.amazon.com/athena`,
          `https://${region}.console.aws.amazon.com/cloudshell`,
          'https://console.aws.amazon.com/console/home',
        ],
      },
      DownloadRestrictions: { value: 3 },
      PrintingEnabled: { value: false },
      DeveloperToolsAvailability: { value: 2 },
      ExtensionInstallBlocklist: { value: ['*'] },
      BrowserSignin: { value: 0 },
      PasswordManagerEnabled: { value: false },
    },
  };
}
