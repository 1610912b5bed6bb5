/**
 * A batch's pseudonym index: which people a curated batch object holds and how many rows
 * each, kept beside it (`_optout/index/<dataset>/<batch>.idx`) so a new list is matched
 * against every batch without reading the batches themselves (chosen by measurement:
 * bench/optout.ts, docs/benchmarks.md). It is as sensitive as the curated person column it
 * summarises, lives in the curated bucket outside every table location, and is never logged.
 *
 * Format: one JSON header line (the data object's ETag it was built from, the column, the
 * counts), then one 20-byte entry per person, sorted: the 16 bytes of the pseudonym
 * (22 characters of base64url) and the person's rows as an unsigned 32-bit big-endian
 * number. An index whose ETag is not the object's current one is stale and rebuilt.
 */
import { PSEUDONYM_BYTES } from '../ingest/core/deidentify';

export const INDEX_VERSION = 1;
const ENTRY_BYTES = PSEUDONYM_BYTES + 4;

export interface IndexHeader {
  readonly v: number;
  /** ETag of the curated object the index was built from. */
  readonly etag: string;
  readonly column: string;
  readonly rows: number;
  readonly people: number;
}

export interface PseudonymIndex {
  readonly header: IndexHeader;
  readonly entries: Buffer;
}

export class IndexFormatError extends Error {}

function pseudonymBytes(p: string): Buffer {
  const bytes = /^[A-Za-z0-9_-]{22}$/.test(p) ? Buffer.from(p, 'base64url') : undefined;
  // Rules the column's content, not a value: the message never quotes it.
  if (bytes?.length !== PSEUDONYM_BYTES) throw new IndexFormatError('a value of the person column is not a pseudonym (22 characters of base64url)');
  return bytes;
}

/** The index of a batch from its rows per person (any order). */
export function encodeIndex(etag: string, column: string, rows: number, people: ReadonlyArray<readonly [string, number]>): Buffer {
  const entries = people.map(([p, n]) => [pseudonymBytes(p), n] as const).sort((a, b) => Buffer.compare(a[0], b[0]));
  const header: IndexHeader = { v: INDEX_VERSION, etag, column, rows, people: entries.length };
  const head = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
  const body = Buffer.alloc(entries.length * ENTRY_BYTES);
  entries.forEach(([bytes, n], i) => {
    bytes.copy(body, i * ENTRY_BYTES);
    body.writeUInt32BE(n, i * ENTRY_BYTES + PSEUDONYM_BYTES);
  });
  return Buffer.concat([head, body]);
}

export function decodeIndex(buf: Buffer): PseudonymIndex {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) throw new IndexFormatError('the pseudonym index has no header line');
  let header: IndexHeader;
  try {
    header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as IndexHeader;
  } catch {
    throw new IndexFormatError('the pseudonym index header is not JSON');
  }
  const entries = buf.subarray(nl + 1);
  if (header.v !== INDEX_VERSION || entries.length !== header.people * ENTRY_BYTES)
    throw new IndexFormatError('the pseudonym index is of another version or cut short');
  return { header, entries };
}

/** A list's pseudonyms as sorted 16-byte values in one buffer: made once per run, matched against every index without allocating. */
export interface SortedPseudonyms {
  readonly bytes: Buffer;
  readonly count: number;
}

export function sortedPseudonyms(pseudonyms: Iterable<string>): SortedPseudonyms {
  const all = [...pseudonyms].map(pseudonymBytes).sort(Buffer.compare);
  return { bytes: Buffer.concat(all), count: all.length };
}

/**
 * The people of `wanted` the batch holds and their rows, by one merge of two sorted runs
 * (the matched pseudonyms are returned for counting people across batches; they stay in memory).
 */
export function matchIndex(index: PseudonymIndex, wanted: SortedPseudonyms): { readonly rows: number; readonly people: string[] } {
  const people: string[] = [];
  let rows = 0;
  const { entries } = index;
  const w = wanted.bytes;
  let i = 0;
  let j = 0;
  while (i < entries.length && j < w.length) {
    const order = entries.compare(w, j, j + PSEUDONYM_BYTES, i, i + PSEUDONYM_BYTES);
    if (order === 0) {
      people.push(entries.toString('base64url', i, i + PSEUDONYM_BYTES));
      rows += entries.readUInt32BE(i + PSEUDONYM_BYTES);
      i += ENTRY_BYTES;
      j += PSEUDONYM_BYTES;
    } else if (order < 0) i += ENTRY_BYTES;
    else j += PSEUDONYM_BYTES;
  }
  return { rows, people };
}
