/**
 * The local audit trail's tamper evidence: each record's hash covers its canonical JSON
 * and the previous record's hash, so changing, removing or reordering any record breaks
 * every link after it. Pure functions, shared by the writer and `sde audit verify`.
 *
 * What it does not do alone: the chain file sits next to the records, so someone who can
 * rewrite both could recompute the whole chain. The heads the writer signs with the local
 * audit key (signed-heads.ts) anchor it; a head published in the register catches what
 * the files alone cannot (records cut from the end with their heads). On AWS, CloudTrail's
 * signed digest files and the Object Lock bucket do this.
 */
import { createHash } from 'node:crypto';

/** The `prev` of the first record. */
export const GENESIS = '0'.repeat(64);

export interface ChainEntry {
  /** 1, 2, 3, ... in the order records were written. */
  readonly seq: number;
  readonly eventID: string;
  /** SHA-256 (hex) of `prev`, a newline, and the record's canonical JSON. */
  readonly sha256: string;
  readonly prev: string;
  /** Record file, relative to the audit folder (where to look first). */
  readonly file: string;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so the same record
 * always hashes the same however it was written or pretty-printed. Values are JSON's
 * own (a number keeps JSON.stringify's shortest form, which survives a parse round trip).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function chainHash(prev: string, record: unknown): string {
  return createHash('sha256').update(prev).update('\n').update(canonicalJson(record)).digest('hex');
}

/** Parses one line of the chain file; undefined if it is not a well-formed entry. */
export function parseChainLine(line: string): ChainEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  const e = v as Partial<ChainEntry> | null;
  const hex = /^[0-9a-f]{64}$/;
  if (
    e === null ||
    typeof e !== 'object' ||
    !Number.isInteger(e.seq) ||
    typeof e.eventID !== 'string' ||
    typeof e.sha256 !== 'string' ||
    !hex.test(e.sha256) ||
    typeof e.prev !== 'string' ||
    !hex.test(e.prev) ||
    typeof e.file !== 'string'
  ) {
    return undefined;
  }
  return { seq: e.seq as number, eventID: e.eventID, sha256: e.sha256, prev: e.prev, file: e.file };
}
