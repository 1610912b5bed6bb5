/**
 * Signed chain heads: what anchors the local hash chain to something an attacker who can
 * rewrite the audit folder cannot forge.
 *
 * The hash chain alone (hash-chain.ts) is unkeyed: whoever can write the folder can
 * change a record and recompute every hash after it, append a record with a valid entry,
 * or cut records from the end. So at every write the writer signs the chain's head (the
 * last entry's sequence number and hash, and the time) with the local audit key, an ECDSA
 * P-256 key pair kept in `<workdir>/keys/audit/` (private key 0600, never logged), and
 * appends the signed head to `heads.jsonl` beside the chain. `verify` then refuses:
 * - a head whose signature does not verify with the trusted key;
 * - a chain that no longer holds the entry a head signed (rewritten), or is shorter than
 *   the last signed head (cut);
 * - chain entries after the last signed head (appended outside the writer);
 * - a trail with no signed head at all, or no record at all.
 *
 * What a signed head cannot show by itself: someone who deletes the last records, their
 * chain entries AND the heads that signed them leaves an older, consistent trail. Only a
 * copy of a later head held elsewhere catches that: the register publishes the latest
 * signed head (and the public key), so anyone holding an earlier register can check the
 * trail still contains what it signed (`sde audit verify --published register.json`).
 * Likewise someone who can read the private key can re-sign a rewritten trail; a published
 * key fingerprint shows the key was replaced, nothing shows a stolen key was used.
 */
import { createPublicKey, KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureLocalKeyPair, PRIVATE_KEY_FILE, publicKeyFingerprint } from '../airlock/signing';
import { canonicalJson, ChainEntry } from './hash-chain';

/** Beside chain.jsonl in the audit folder: one signed head per line, oldest first. */
export const HEADS_FILE = 'heads.jsonl';
/** The local audit key pair, relative to the workdir (beside the other keys, not in the audit folder). */
export const AUDIT_KEY_DIR = path.join('keys', 'audit');
export const HEAD_SIGNING_ALGORITHM = 'ECDSA_SHA_256';
/** What the signed bytes say they are, so a head signature can never be replayed as another kind of signature. */
const HEAD_TYPE = 'sde-audit-chain-head';

export interface SignedHead {
  readonly v: 1;
  /** The chain entry the head covers: every entry up to and including it. */
  readonly seq: number;
  /** That entry's sha256 (which commits to every entry before it). */
  readonly sha256: string;
  /** When the head was signed (ISO 8601 UTC, milliseconds). */
  readonly signedAt: string;
  /** SHA-256 (hex) of the signing key's DER SubjectPublicKeyInfo. */
  readonly key: string;
  readonly alg: typeof HEAD_SIGNING_ALGORITHM;
  /** Base64 DER ECDSA signature over headSigningBytes. */
  readonly sig: string;
}

/** A public key the verifier trusts, and where it came from (said in the report). */
export interface TrustedAuditKey {
  readonly publicKey: KeyObject;
  readonly fingerprint: string;
  readonly source: string;
}

/** The private side, for the writer only. */
export interface AuditHeadSigner {
  readonly privateKey: KeyObject;
  readonly fingerprint: string;
  /** The public half, as a trusted key: the writer checks the last head before signing a new one. */
  readonly trusted: TrustedAuditKey;
  /** The key pair was made just now: the workdir never signed a head before. */
  readonly created: boolean;
}

/** The bytes a head signature covers: canonical JSON, so a re-serialised heads file still verifies. */
export function headSigningBytes(h: Pick<SignedHead, 'v' | 'seq' | 'sha256' | 'signedAt' | 'key'>): Buffer {
  return Buffer.from(canonicalJson({ type: HEAD_TYPE, v: h.v, seq: h.seq, sha256: h.sha256, signedAt: h.signedAt, key: h.key }), 'utf8');
}

export function signHead(entry: Pick<ChainEntry, 'seq' | 'sha256'>, signer: AuditHeadSigner, now: Date): SignedHead {
  const body = { v: 1 as const, seq: entry.seq, sha256: entry.sha256, signedAt: now.toISOString(), key: signer.fingerprint };
  const sig = cryptoSign('sha256', headSigningBytes(body), { key: signer.privateKey, dsaEncoding: 'der' }).toString('base64');
  return { ...body, alg: HEAD_SIGNING_ALGORITHM, sig };
}

export function verifyHeadSignature(h: SignedHead, key: TrustedAuditKey): boolean {
  if (h.key !== key.fingerprint || h.alg !== HEAD_SIGNING_ALGORITHM) return false;
  try {
    return cryptoVerify('sha256', headSigningBytes(h), { key: key.publicKey, dsaEncoding: 'der' }, Buffer.from(h.sig, 'base64'));
  } catch {
    return false;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A signed head from parsed JSON, or undefined if it is not one (any field missing or malformed). */
export function asSignedHead(v: unknown): SignedHead | undefined {
  const h = v as Partial<SignedHead> | null;
  if (
    h === null ||
    typeof h !== 'object' ||
    h.v !== 1 ||
    !Number.isInteger(h.seq) ||
    (h.seq as number) < 1 ||
    typeof h.sha256 !== 'string' ||
    !HEX64.test(h.sha256) ||
    typeof h.signedAt !== 'string' ||
    !ISO_MS.test(h.signedAt) ||
    typeof h.key !== 'string' ||
    !HEX64.test(h.key) ||
    h.alg !== HEAD_SIGNING_ALGORITHM ||
    typeof h.sig !== 'string' ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(h.sig)
  ) {
    return undefined;
  }
  return { v: 1, seq: h.seq as number, sha256: h.sha256, signedAt: h.signedAt, key: h.key, alg: h.alg, sig: h.sig };
}

export function parseHeadLine(line: string): SignedHead | undefined {
  try {
    return asSignedHead(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/** The writer's signer: the workdir's audit key pair, created on first use. */
export function localAuditSigner(workdir: string): AuditHeadSigner {
  const keyDir = path.resolve(workdir, AUDIT_KEY_DIR);
  const pair = ensureLocalKeyPair(keyDir);
  return {
    privateKey: pair.privateKey,
    fingerprint: pair.fingerprint,
    trusted: trustedKeyFromPem(pair.publicKeyPem, `the workdir's audit key (${keyDir})`),
    created: pair.created,
  };
}

export function trustedKeyFromPem(pem: string, source: string): TrustedAuditKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch {
    throw new Error(`${source}: not a PEM public key (give the audit key's public half, signing-public-key.pem, or the register's auditTrail.publicKey)`);
  }
  const spkiPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { publicKey, fingerprint: publicKeyFingerprint(spkiPem), source };
}

/**
 * The key a local trail's heads are checked with when none is given: the workdir's own
 * audit key, found from the audit folder (`<workdir>/audit` -> `<workdir>/keys/audit`),
 * and derived from the private key so that a replaced public key file cannot mislead.
 * Undefined when there is none (a trail copied elsewhere: give the key with --audit-key).
 */
export function workdirAuditKey(auditDir: string): TrustedAuditKey | undefined {
  const keyDir = path.resolve(auditDir, '..', AUDIT_KEY_DIR);
  const privateFile = path.join(keyDir, PRIVATE_KEY_FILE);
  if (!fs.existsSync(privateFile)) return undefined;
  const pem = createPublicKey(fs.readFileSync(privateFile, 'utf8')).export({ type: 'spki', format: 'pem' }).toString();
  return trustedKeyFromPem(pem, `the workdir's audit key (${keyDir})`);
}

/**
 * What a register published about the trail it was built from: for a local trail, the
 * signed head and the public key that checks it; for CloudTrail, the newest digest whose
 * signature verified.
 */
export interface PublishedAnchor {
  readonly head?: SignedHead;
  readonly publicKeyPem?: string;
  readonly newestDigest?: { readonly location: string; readonly endTime: string };
}

/**
 * Reads what a register published earlier: a register.json (its `auditTrail`), or a file
 * holding `{ "signedHead": ..., "publicKey": ... }`.
 */
export function readPublishedHead(file: string): PublishedAnchor {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot be read as JSON (${(e as NodeJS.ErrnoException).code ?? 'not JSON'})`, { cause: e });
  }
  const d = doc as { auditTrail?: Record<string, unknown> | null } | null;
  const holder = (d !== null && typeof d === 'object' && 'auditTrail' in d ? d.auditTrail : d) as Record<string, unknown> | null;
  const head = asSignedHead(holder?.signedHead);
  const digest = holder?.newestDigest as { location?: unknown; endTime?: unknown } | undefined;
  if (head && typeof holder?.publicKey === 'string') return { head, publicKeyPem: holder.publicKey };
  if (digest && typeof digest.location === 'string' && typeof digest.endTime === 'string') {
    return { newestDigest: { location: digest.location, endTime: digest.endTime } };
  }
  throw new Error(
    `${file}: holds no published audit anchor (expected a register.json whose auditTrail has a signedHead and publicKey, or a newestDigest: a register built from a verified trail)`,
  );
}
