/**
 * Where the opt-out job keeps its own objects in the curated bucket, all under `_optout/`,
 * outside every table location (`<dataset>/`) like `_staging/` and `_manifests/`:
 *
 *   _optout/index/<dataset>/<batch>.idx                   which pseudonyms a batch holds, and how many rows each (pseudonym-index.ts)
 *   _optout/runs/<list sha256>/plan.json                  a run's plan: the batches to rewrite and the counts (no pseudonym)
 *   _optout/runs/<list sha256>/items.json                 the Distributed Map's items: dataset and batch id per batch to rewrite
 *   _optout/runs/<list sha256>/intent/<dataset>/<batch>.json   a rewrite about to replace a batch object (resumes a cut run)
 *   _optout/runs/<list sha256>/done.json                  the finished run's record (counts only)
 *   _optout/applied/list-<sha16>/listed-<date>/people-<n>/rows-<m>.json
 *                                                         the public trace: its KEY carries the run's counts, so the audit
 *                                                         trail (CloudTrail's PutObject data event records every key) holds
 *                                                         them and the register reads them from there, never from a body
 */
export const OPTOUT_PREFIX = '_optout';

/** The SHA-256 of a list, in hex: 64 characters (checked wherever a key is made from one). */
function listId(listSha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(listSha256)) throw new Error('an opt-out list is named by its SHA-256 (64 hex characters)');
  return listSha256;
}

export const pseudonymIndexKey = (dataset: string, batchId: string) => `${OPTOUT_PREFIX}/index/${dataset}/${batchId}.idx`;
export const runPrefix = (listSha256: string) => `${OPTOUT_PREFIX}/runs/${listId(listSha256)}/`;
export const runPlanKey = (listSha256: string) => `${runPrefix(listSha256)}plan.json`;
export const runItemsKey = (listSha256: string) => `${runPrefix(listSha256)}items.json`;
export const runDoneKey = (listSha256: string) => `${runPrefix(listSha256)}done.json`;
export const intentKey = (listSha256: string, dataset: string, batchId: string) => `${runPrefix(listSha256)}intent/${dataset}/${batchId}.json`;

export const APPLIED_PREFIX = `${OPTOUT_PREFIX}/applied/`;
/** The public trace of a finished run: counts and dates in the key, nothing else (see above). */
export function appliedTraceKey(listSha256: string, listDate: string, people: number, rows: number): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(listDate)) throw new Error('the list date must be written YYYY-MM-DD');
  return `${APPLIED_PREFIX}list-${listId(listSha256).slice(0, 16)}/listed-${listDate}/people-${people}/rows-${rows}.json`;
}

const TRACE = /^_optout\/applied\/list-([0-9a-f]{16})\/listed-(\d{4}-\d{2}-\d{2})\/people-(\d{1,12})\/rows-(\d{1,15})\.json$/;

export interface AppliedTrace {
  readonly list: string;
  readonly listDate: string;
  readonly people: number;
  readonly rows: number;
}

/** Reads a trace key back (the register's only source for opt-out counts); undefined for any other key. */
export function parseAppliedTraceKey(key: string): AppliedTrace | undefined {
  const m = TRACE.exec(key);
  return m === null ? undefined : { list: m[1], listDate: m[2], people: Number(m[3]), rows: Number(m[4]) };
}
