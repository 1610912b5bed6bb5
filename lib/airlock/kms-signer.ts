/**
 * The release-manifest signer on AWS: the airlock's asymmetric KMS key (ECC_NIST_P256,
 * SIGN_VERIFY; lib/constructs/airlock/airlock-signing-key.ts). The private key never leaves KMS;
 * every signature is a `kms:Sign` call, recorded by CloudTrail. Signatures are the same
 * DER ECDSA-SHA-256 the local key makes, so `sde output verify` checks both the same way.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { SIGNING_ALGORITHM, type ManifestSigner } from './signing';

/** The part of the KMS client the signer uses. */
export type KmsSend = Pick<KMSClient, 'send'>;

/**
 * A signer over one KMS key. Reads the public key once and refuses a key that cannot make
 * the signatures verifiers expect, naming what is wrong with it.
 */
export async function kmsSigner(kms: KmsSend, keyArn: string): Promise<ManifestSigner> {
  const key = await kms.send(new GetPublicKeyCommand({ KeyId: keyArn }));
  const problems = [
    key.KeySpec !== 'ECC_NIST_P256' ? `its key spec is ${key.KeySpec ?? 'unknown'}, not ECC_NIST_P256` : undefined,
    key.KeyUsage !== 'SIGN_VERIFY' ? `its usage is ${key.KeyUsage ?? 'unknown'}, not SIGN_VERIFY` : undefined,
    !(key.SigningAlgorithms ?? []).includes(SIGNING_ALGORITHM) ? `it does not offer ${SIGNING_ALGORITHM}` : undefined,
    key.PublicKey === undefined ? 'KMS returned no public key' : undefined,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw new Error(`KMS key ${keyArn} cannot sign release manifests: ${problems.join('; ')}. Use the AirlockStack's signing key.`);
  }
  const publicKeyPem = createPublicKey({ key: Buffer.from(key.PublicKey!), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return {
    keyId: key.KeyId ?? keyArn,
    publicKeyPem,
    async sign(message) {
      // KMS takes at most 4 KB of raw message; a manifest of many files is longer. Signing
      // the SHA-256 digest gives the same ECDSA-SHA-256 signature over the message.
      const digest = createHash('sha256').update(message).digest();
      const signed = await kms.send(new SignCommand({ KeyId: keyArn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: SIGNING_ALGORITHM }));
      if (signed.Signature === undefined) throw new Error(`KMS returned no signature from key ${keyArn}`);
      return signed.Signature;
    },
  };
}
