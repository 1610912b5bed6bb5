/**
 * An opt-out list as the job uses it: its SHA-256 (the run's identity: every marker, intent
 * and record is keyed by it), its date, and the pseudonyms of the people on it, made with
 * the platform key exactly as ingestion makes them (lib/ingest/core/deidentify.ts), so
 * they match the curated person column. The pseudonyms exist only in memory: they are
 * never written, logged or put in a Step Functions state.
 */
import { createHash } from 'node:crypto';
import { readOptOutList } from '../ingest/core/opt-out';
import { pseudonymise } from '../ingest/core/deidentify';

export interface OptOutList {
  readonly sha256: string;
  /** `YYYY-MM-DD`: when the list was issued (locally the file's date or --date; on AWS the object's upload date). */
  readonly date: string;
  /** Normalised NHS numbers (how many: `numbers.size`). */
  readonly numbers: ReadonlySet<string>;
  /** The S3 object version read (AWS): the batch rewrites read the very same list. */
  readonly versionId?: string;
}

/** Reads a list strictly (a bad line stops the run, naming line numbers only) and hashes the bytes as read. */
export async function readList(source: AsyncIterable<Uint8Array>, date: string, versionId?: string): Promise<OptOutList> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error('the opt-out list date must be written YYYY-MM-DD');
  const hash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const piece of source) {
      hash.update(piece);
      yield piece;
    }
  }
  const numbers = await readOptOutList(hashed());
  return { sha256: hash.digest('hex'), date, numbers, ...(versionId === undefined ? {} : { versionId }) };
}

/** The pseudonyms of everyone on the list under this key (one HMAC each). */
export function listPseudonyms(list: OptOutList, key: Buffer): Set<string> {
  const out = new Set<string>();
  for (const n of list.numbers) out.add(pseudonymise(key, n));
  return out;
}
