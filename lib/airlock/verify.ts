/**
 * `sde output verify MANIFEST`: anyone holding the platform's public signing key can
 * check that a release is exactly what the airlock released: the manifest's signature,
 * that the manifest file is byte for byte the form it was signed in, and every released
 * file's size and SHA-256.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_TYPE, type ReleaseManifest } from './manifest';
import { publicKeyFingerprint, renderSignedManifest, signedBytes, SIGNING_ALGORITHM, verifySignature, type SignedManifest } from './signing';

/** A manifest is a few kilobytes; anything much larger is not one. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface VerifyItem {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly manifestPath: string;
  readonly items: readonly VerifyItem[];
  /** The verified manifest, when it could be read. */
  readonly manifest?: ReleaseManifest;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function shapeProblem(value: unknown): string | undefined {
  if (!isObject(value) || !isObject(value.manifest) || !isObject(value.signature))
    return 'it is not a signed release manifest ({"manifest": ..., "signature": ...})';
  const m = value.manifest;
  const s = value.signature;
  if (m.type !== MANIFEST_TYPE) return `its manifest type is not "${MANIFEST_TYPE}"`;
  if (!Array.isArray(m.files)) return 'its manifest has no file list';
  for (const f of m.files) {
    if (!isObject(f) || typeof f.path !== 'string' || typeof f.sha256 !== 'string' || typeof f.bytes !== 'number' || typeof f.name !== 'string')
      return 'a file entry lacks name, path, bytes or sha256';
  }
  if (typeof s.value !== 'string' || typeof s.publicKeySha256 !== 'string' || typeof s.algorithm !== 'string')
    return 'its signature lacks algorithm, publicKeySha256 or value';
  return undefined;
}

/** A released file's path must stay inside the release folder. */
function safeRelativePath(p: string): boolean {
  return !path.isAbsolute(p) && !p.includes('\\') && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

export function verifyRelease(manifestPath: string, options: { readonly publicKeyPem: string }): VerifyReport {
  const abs = path.resolve(manifestPath);
  const items: VerifyItem[] = [];
  const done = (manifest?: ReleaseManifest): VerifyReport => ({
    ok: items.length > 0 && items.every((i) => i.ok),
    manifestPath: abs,
    items,
    ...(manifest ? { manifest } : {}),
  });

  let text: string;
  try {
    const stat = fs.statSync(abs);
    if (!stat.isFile()) throw new Error('not a file');
    if (stat.size > MAX_MANIFEST_BYTES) {
      items.push({ what: 'manifest', ok: false, detail: `${abs} is ${stat.size} bytes: too large to be a release manifest` });
      return done();
    }
    text = fs.readFileSync(abs, 'utf8');
  } catch {
    items.push({ what: 'manifest', ok: false, detail: `${abs} cannot be read as a file` });
    return done();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    items.push({ what: 'manifest', ok: false, detail: 'the manifest is not valid JSON (it has been damaged or edited)' });
    return done();
  }
  const problem = shapeProblem(parsed);
  if (problem) {
    items.push({ what: 'manifest', ok: false, detail: `the manifest cannot be verified: ${problem}` });
    return done();
  }
  const signed = parsed as SignedManifest;

  let canonical: boolean;
  try {
    canonical = renderSignedManifest(signed) === text;
  } catch {
    canonical = false;
  }
  items.push({
    what: 'manifest bytes',
    ok: canonical,
    detail: canonical ? 'the file is exactly in the form it was signed in' : 'the file is not byte for byte in the form it was signed in: it has been edited',
  });

  let trustedFingerprint: string | undefined;
  try {
    trustedFingerprint = publicKeyFingerprint(options.publicKeyPem);
  } catch {
    items.push({ what: 'signature', ok: false, detail: 'the public key given is not a PEM public key' });
    return done(signed.manifest);
  }
  if (signed.signature.algorithm !== SIGNING_ALGORITHM) {
    items.push({ what: 'signature', ok: false, detail: `the signature algorithm is ${signed.signature.algorithm}; expected ${SIGNING_ALGORITHM}` });
  } else if (signed.signature.publicKeySha256 !== trustedFingerprint) {
    items.push({
      what: 'signature',
      ok: false,
      detail: `the manifest was signed by another key (${signed.signature.publicKeySha256.slice(0, 16)}...) than the one trusted (${trustedFingerprint.slice(0, 16)}...)`,
    });
  } else {
    let valid: boolean;
    try {
      valid = verifySignature(signedBytes(signed.manifest), Buffer.from(signed.signature.value, 'base64'), options.publicKeyPem);
    } catch {
      valid = false;
    }
    items.push({
      what: 'signature',
      ok: valid,
      detail: valid
        ? `valid ${SIGNING_ALGORITHM} signature by key ${signed.signature.keyId}`
        : 'the signature does not match the manifest: the manifest has been altered',
    });
  }

  const dir = path.dirname(abs);
  for (const f of signed.manifest.files) {
    const what = `file ${f.name}`;
    if (!safeRelativePath(f.path)) {
      items.push({ what, ok: false, detail: `its path "${f.path}" leaves the release folder` });
      continue;
    }
    const filePath = path.join(dir, ...f.path.split('/'));
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(filePath);
    } catch {
      items.push({ what, ok: false, detail: `${f.path} is missing` });
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const ok = bytes.length === f.bytes && sha256 === f.sha256;
    items.push({
      what,
      ok,
      detail: ok
        ? `${f.bytes} bytes, sha256 ${f.sha256}`
        : `${f.path} has changed: ${bytes.length} bytes with sha256 ${sha256}; the manifest records ${f.bytes} bytes with sha256 ${f.sha256}`,
    });
  }
  return done(signed.manifest);
}

export function describeVerifyReport(report: VerifyReport): string[] {
  const lines = report.items.map((i) => `  ${i.ok ? 'ok  ' : 'FAIL'} ${i.what}: ${i.detail}`);
  const head = report.ok
    ? `${report.manifestPath}: verified release ${report.manifest?.request.id ?? ''} of project ${report.manifest?.project.id ?? ''}`
    : `${report.manifestPath}: NOT verified`;
  return [head, ...lines];
}
