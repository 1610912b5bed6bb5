/**
 * Canonical JSON, so that a signature covers the manifest's meaning and any verifier
 * (this one, or `openssl` with a short script) rebuilds exactly the signed bytes.
 *
 * `canonicalJson` is the JSON Canonicalization Scheme (RFC 8785) for the values a
 * manifest holds: object keys sorted by UTF-16 code units, no whitespace, strings and
 * numbers as ECMAScript's JSON.stringify writes them. `prettyCanonicalJson` is the same
 * order indented, for the file people read: the verifier also insists the file is in
 * exactly that form, so that no byte of it can change unnoticed.
 */

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

function sorted(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path === '' ? 'value' : path} is not a finite number: it has no canonical JSON form`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => sorted(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sorted(v, path ? `${path}.${key}` : key);
    }
    return out;
  }
  throw new Error(`${path === '' ? 'value' : path} is a ${typeof value}: it has no JSON form`);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sorted(value, ''));
}

export function prettyCanonicalJson(value: unknown): string {
  return `${JSON.stringify(sorted(value, ''), null, 2)}\n`;
}
