import { Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from '../shared/key-policy';

export interface AirlockSigningKeyProps {
  /** Alias, e.g. `alias/onelondon-sde/airlock-signing`. */
  readonly alias: string;
  readonly description: string;
}

/** The only signing algorithm the key is used with: the local verifier checks the same one. */
export const AIRLOCK_SIGNING_ALGORITHM = 'ECDSA_SHA_256';

/**
 * The key that signs release manifests: a KMS asymmetric ECC_NIST_P256 key for
 * SIGN_VERIFY, so the private half never leaves KMS and anyone can verify a manifest
 * with the public key (`aws kms get-public-key`) and `sde output verify`, which checks
 * the same ECDSA P-256 / SHA-256 DER signatures as the local key pair.
 *
 * Asymmetric keys cannot rotate automatically (KMS supports rotation for symmetric keys
 * only); a new key is a new verifier, so rotation is a decision, not a schedule. It is
 * RETAIN: deleting it would leave every past manifest unverifiable against KMS.
 */
export class AirlockSigningKey extends Construct {
  readonly key: kms.Key;
  private readonly signers: string[] = [];

  constructor(scope: Construct, id: string, props: AirlockSigningKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias,
      description: props.description,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // As PlatformKey: nobody hands signing rights around through grants instead of the key policy.
    denyGrantsExceptForAwsServices(this.key);
    // Only the release service signs: a manifest signature is the platform's word that two
    // reviewers approved, so nobody else (an administrator, a reviewer with raw KMS calls)
    // may make one, whatever their IAM policies allow. With no signer named, nobody signs.
    const nobody = Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'no-airlock-signer-configured' });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenySigningExceptReleaseService',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => (this.signers.length > 0 ? this.signers : [nobody]) }) } },
      }),
    );
  }

  /** Names the only role the key policy lets sign (the release service's). */
  restrictSigningTo(role: iam.IRole): void {
    this.signers.push(role.roleArn);
  }

  /** kms:Sign with ECDSA_SHA_256 only. */
  grantSign(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['kms:Sign'],
      resourceArns: [this.key.keyArn],
      resource: this.key,
      conditions: { StringEquals: { 'kms:SigningAlgorithm': AIRLOCK_SIGNING_ALGORITHM } },
    });
  }

  /** Verify through KMS and read the public key (to verify offline). */
  grantVerify(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['kms:Verify', 'kms:GetPublicKey', 'kms:DescribeKey'],
      resourceArns: [this.key.keyArn],
      resource: this.key,
    });
  }
}
