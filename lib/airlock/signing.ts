/**
 * Signing and verifying release manifests with ECDSA P-256 and SHA-256.
 *
 * On AWS the manifest is signed by a KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY,
 * algorithm ECDSA_SHA_256), which returns a DER-encoded signature and publishes its key as
 * DER SubjectPublicKeyInfo (GetPublicKey). Locally a key pair generated once into the
 * workdir does the same, with the same encodings, so one verifier serves both: give it
 * the public key (PEM) you trust.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalJson, prettyCanonicalJson } from './canonical-json';
import type { ReleaseManifest } from './manifest';

export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export interface ManifestSignature {
  readonly algorithm: typeof SIGNING_ALGORITHM;
  /** `local:<fingerprint>` locally; the KMS key ARN on AWS. */
  readonly keyId: string;
  /** SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo. */
  readonly publicKeySha256: string;
  /** Base64 of the DER-encoded ECDSA signature over the canonical JSON (RFC 8785) of `manifest`. */
  readonly value: string;
}

export interface SignedManifest {
  readonly manifest: ReleaseManifest;
  readonly signature: ManifestSignature;
}

/** Anything that can sign: the local key pair, or a KMS key (an adapter calling kms:Sign with MessageType RAW). */
export interface ManifestSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

export const PRIVATE_KEY_FILE = 'signing-key.pem';
export const PUBLIC_KEY_FILE = 'signing-public-key.pem';

/** A local ECDSA P-256 key pair, as `ensureLocalKeyPair` returns it. */
export interface LocalKeyPair {
  /** Never printed or logged. */
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  /** SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo. */
  readonly fingerprint: string;
  /** True when this call generated the pair (there was none before). */
  readonly created: boolean;
}

/**
 * A local signing key pair: generated once into `keysDir` (private key 0600, never printed
 * or logged), then reused. Shared by the airlock (release manifests) and the audit trail
 * (signed chain heads), each with its own folder and so its own key.
 */
export function ensureLocalKeyPair(keysDir: string): LocalKeyPair {
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const privateFile = path.join(keysDir, PRIVATE_KEY_FILE);
  const publicFile = path.join(keysDir, PUBLIC_KEY_FILE);
  let created = false;
  if (!fs.existsSync(privateFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    // Written whole under a temporary name, then linked into place: a process that finds the
    // key finds all of it, and if another process made one meanwhile, theirs is kept.
    const tmp = path.join(keysDir, `.${PRIVATE_KEY_FILE}.${process.pid}.${Date.now()}.tmp`);
    fs.writeFileSync(tmp, privateKey, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(tmp, privateFile);
      fs.writeFileSync(publicFile, publicKey, { mode: 0o644 });
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const mode = fs.statSync(privateFile).mode & 0o777;
  if (mode !== 0o600) throw new Error(`${privateFile} must be readable by its owner only (mode 600, found ${mode.toString(8)}): run chmod 600 on it`);
  const privateKey = createPrivateKey(fs.readFileSync(privateFile, 'utf8'));
  // The public key is always derived from the private one, so a replaced public file cannot mislead.
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  if (!fs.existsSync(publicFile) || fs.readFileSync(publicFile, 'utf8') !== publicKeyPem) fs.writeFileSync(publicFile, publicKeyPem, { mode: 0o644 });
  return { privateKey, publicKeyPem, fingerprint: publicKeyFingerprint(publicKeyPem), created };
}

/** The local signing key of the airlock (see ensureLocalKeyPair), as a manifest signer. */
export function localSigner(keysDir: string): ManifestSigner {
  const { privateKey, publicKeyPem, fingerprint } = ensureLocalKeyPair(keysDir);
  return {
    keyId: `local:${fingerprint}`,
    publicKeyPem,
    sign: async (message) => cryptoSign('sha256', message, { key: privateKey, dsaEncoding: 'der' }),
  };
}

/** The bytes a signature covers. */
export function signedBytes(manifest: ReleaseManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

export async function signManifest(manifest: ReleaseManifest, signer: ManifestSigner): Promise<SignedManifest> {
  const signature = await signer.sign(signedBytes(manifest));
  return {
    manifest,
    signature: {
      algorithm: SIGNING_ALGORITHM,
      keyId: signer.keyId,
      publicKeySha256: publicKeyFingerprint(signer.publicKeyPem),
      value: Buffer.from(signature).toString('base64'),
    },
  };
}

/** The manifest file's exact text: canonical key order, two-space indent, final newline. */
export function renderSignedManifest(signed: SignedManifest): string {
  return prettyCanonicalJson(signed);
}

export function verifySignature(message: Uint8Array, signatureDer: Uint8Array, publicKeyPem: string): boolean {
  try {
    return cryptoVerify('sha256', message, { key: publicKeyPem, dsaEncoding: 'der' }, signatureDer);
  } catch {
    return false;
  }
}
