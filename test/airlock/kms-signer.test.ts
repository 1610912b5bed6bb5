/**
 * The KMS signer against a stand-in for the KMS API that behaves as KMS documents it
 * (GetPublicKey returns DER SPKI; Sign with MessageType DIGEST signs the given 32-byte
 * digest with ECDSA and returns a DER signature). There is no AWS account here; what is
 * checked is that our adapter asks KMS the right thing and that the result verifies with
 * the same code `sde output verify` uses.
 */
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import { kmsSigner, type KmsSend } from '../../lib/airlock/kms-signer';
import { publicKeyFingerprint, signManifest, signedBytes, verifySignature } from '../../lib/airlock/signing';
import type { ReleaseManifest } from '../../lib/airlock/manifest';

const KEY_ARN = 'arn:aws:kms:eu-west-2:111122223333:key/0c7d6b2e-0000-4000-8000-000000000001';

function fakeKms(options: { keySpec?: string; keyUsage?: string } = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const calls: { name: string; input: any }[] = [];
  const send = async (command: unknown) => {
    if (command instanceof GetPublicKeyCommand) {
      calls.push({ name: 'GetPublicKey', input: command.input });
      return {
        KeyId: KEY_ARN,
        KeySpec: options.keySpec ?? 'ECC_NIST_P256',
        KeyUsage: options.keyUsage ?? 'SIGN_VERIFY',
        SigningAlgorithms: ['ECDSA_SHA_256'],
        PublicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
      };
    }
    if (command instanceof SignCommand) {
      const input = command.input;
      calls.push({ name: 'Sign', input });
      if (input.MessageType !== 'DIGEST' || input.Message!.length !== 32) throw new Error('ValidationException: a DIGEST message is 32 bytes');
      if (input.SigningAlgorithm !== 'ECDSA_SHA_256') throw new Error('InvalidKeyUsageException');
      return { Signature: new Uint8Array(signDigest(privateKey, Buffer.from(input.Message!))) };
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  return { kms: { send } as unknown as KmsSend, calls, publicKey };
}

/**
 * ECDSA over a precomputed SHA-256 digest, as KMS does for MessageType DIGEST. Node's
 * crypto always hashes what it signs; OpenSSL's pkeyutl signs the given digest as is.
 */
function signDigest(privateKey: KeyObject, digest: Buffer): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-kms-fake-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const run = spawnSync('openssl', ['pkeyutl', '-sign', '-inkey', keyFile], { input: digest });
    if (run.status !== 0) throw new Error(`openssl pkeyutl failed: ${run.stderr.toString()}`);
    return run.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const manifest = (files: number) =>
  ({
    schema: 'test',
    files: Array.from({ length: files }, (_, i) => ({ name: `table-${i}.csv`, sha256: 'ab'.repeat(32) })),
  }) as unknown as ReleaseManifest;

test('signs the digest of the canonical manifest; the signature verifies with the KMS public key', async () => {
  const { kms, calls, publicKey } = fakeKms();
  const signer = await kmsSigner(kms, KEY_ARN);
  expect(signer.keyId).toBe(KEY_ARN);
  expect(publicKeyFingerprint(signer.publicKeyPem)).toBe(publicKeyFingerprint(publicKey.export({ type: 'spki', format: 'pem' }).toString()));
  // Longer than KMS's 4 KB raw-message limit: the digest route is what makes it signable.
  const m = manifest(200);
  expect(signedBytes(m).length).toBeGreaterThan(4096);
  const signed = await signManifest(m, signer);
  expect(signed.signature.keyId).toBe(KEY_ARN);
  expect(verifySignature(signedBytes(m), Buffer.from(signed.signature.value, 'base64'), signer.publicKeyPem)).toBe(true);
  expect(calls.map((c) => c.name)).toEqual(['GetPublicKey', 'Sign']);
  expect(calls[1].input).toMatchObject({ KeyId: KEY_ARN, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
});

test('a changed manifest does not verify against the signature', async () => {
  const { kms } = fakeKms();
  const signer = await kmsSigner(kms, KEY_ARN);
  const signed = await signManifest(manifest(2), signer);
  expect(verifySignature(signedBytes(manifest(3)), Buffer.from(signed.signature.value, 'base64'), signer.publicKeyPem)).toBe(false);
});

test.each([
  [
    { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT' },
    /key spec is SYMMETRIC_DEFAULT, not ECC_NIST_P256; its usage is ENCRYPT_DECRYPT, not SIGN_VERIFY/,
  ],
  [{ keySpec: 'RSA_2048' }, /key spec is RSA_2048/],
])('refuses a key that cannot make the expected signatures (%p)', async (options, message) => {
  const { kms } = fakeKms(options);
  await expect(kmsSigner(kms, KEY_ARN)).rejects.toThrow(message);
});

test('the stand-in signs as ECDSA-SHA-256 does (a self-check of the test double)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.from('release');
  const viaDigest = signDigest(privateKey, createHash('sha256').update(message).digest());
  expect(verifySignature(message, viaDigest, publicKey.export({ type: 'spki', format: 'pem' }).toString())).toBe(true);
  expect(verifySignature(Buffer.from('other'), viaDigest, publicKey.export({ type: 'spki', format: 'pem' }).toString())).toBe(false);
});
