import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Hex characters of the generated key: 32 random bytes, the same form as the local key file. */
export const PSEUDONYM_KEY_HEX_LENGTH = 64;

export interface PseudonymKeySecretProps {
  /** e.g. `onelondon-sde/ingestion/pseudonym-key`. */
  readonly secretName: string;
  /** The platform data key: the pseudonymisation key is as sensitive as the data it links. */
  readonly encryptionKey: kms.IKey;
}

/**
 * The platform's pseudonymisation key (HMAC-SHA256 over the normalised NHS number), in
 * Secrets Manager: generated there at deployment, so it never appears in a template, the
 * CDK output or anyone's terminal; encrypted with the platform key; retained when the
 * stack is deleted (without it, curated pseudonyms can no longer be linked to new data).
 *
 * The value is 64 lowercase hex characters (32 random bytes): Secrets Manager's generator
 * has no hex mode, so every character outside 0-9a-f is excluded.
 *
 * No automatic rotation, on purpose: a new key changes every person's pseudonym, which
 * breaks linkage between batches ingested before and after. Rotating it is a planned
 * re-pseudonymisation (re-ingest every dataset under the new key, then retire the old
 * curated data), done by putting a new secret version; see the README.
 */
export class PseudonymKeySecret extends Construct {
  readonly secret: secretsmanager.Secret;
  private readonly key: kms.IKey;
  private restricted = false;

  constructor(scope: Construct, id: string, props: PseudonymKeySecretProps) {
    super(scope, id);
    this.key = props.encryptionKey;
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.secretName,
      description:
        'Pseudonymisation key (HMAC-SHA256, 32 bytes as hex). Read only by the ingestion chunk function. Never rotate automatically: see the README.',
      encryptionKey: props.encryptionKey,
      generateSecretString: {
        passwordLength: PSEUDONYM_KEY_HEX_LENGTH,
        excludeUppercase: true,
        excludePunctuation: true,
        includeSpace: false,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
        requireEachIncludedType: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const reason =
      'Rotating the pseudonymisation key changes every pseudonym and breaks linkage across batches, so rotation is a planned re-pseudonymisation (new secret version, full re-ingest), not a schedule; access is limited to the chunk function and audited in CloudTrail.';
    Validations.of(this.secret.node.defaultChild as secretsmanager.CfnSecret).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-SMG4', reason },
      { id: 'HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled', reason },
      { id: 'NIST.800.53.R5::NIST.800.53.R5-SecretsManagerRotationEnabled', reason },
    );
  }

  /**
   * The secret's own policy: nobody but `readers` (the chunk function's role) and the
   * break-glass role may read the key, and nobody but the break-glass role may set or move
   * its value, whatever their IAM policies allow (an administrator with secretsmanager:*,
   * the deploying role). Setting a value is as bad as reading one: whoever chose the key
   * can recompute every pseudonym from the NHS numbers. Principals are compared by
   * aws:PrincipalArn, which for a role's session is the role, so a session name changes nothing.
   * Changing the secret's settings (description, key) is a break-glass operation too.
   */
  restrictTo(readers: readonly iam.IRole[], breakGlassRole?: string): void {
    if (this.restricted) throw new Error('PseudonymKeySecret.restrictTo: the secret is already restricted; name every reader in one call');
    this.restricted = true;
    const breakGlass = breakGlassRole === undefined ? [] : [breakGlassRole];
    this.secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyIngestionAndBreakGlassReadTheKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        conditions: { StringNotEquals: { 'aws:PrincipalArn': [...readers.map((r) => r.roleArn), ...breakGlass] } },
      }),
    );
    this.secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyBreakGlassSetsTheKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecret',
          'secretsmanager:UpdateSecretVersionStage',
          'secretsmanager:RotateSecret',
          'secretsmanager:CancelRotateSecret',
          'secretsmanager:RestoreSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:ReplicateSecretToRegions',
        ],
        resources: ['*'],
        // With no break-glass role named, nobody: a new key is then a new secret (a re-ingest anyway).
        ...(breakGlass.length === 0 ? {} : { conditions: { StringNotEquals: { 'aws:PrincipalArn': breakGlass } } }),
      }),
    );
  }

  /**
   * Lets a principal read the key's current value, and decrypt it only through Secrets
   * Manager. Both statements go in the principal's policy: `secret.grantRead` would also
   * write the principal into the platform key's policy when the key lives in another stack
   * (the data lake), which makes the two stacks depend on each other.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const read = iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resourceArns: [this.secret.secretArn],
    });
    const decrypt = iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
    });
    return read.combine(decrypt);
  }
}
