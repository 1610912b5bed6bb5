/**
 * How a query result was made, recorded by the platform when the query runs, so an output
 * can be reproduced later (`sde output reproduce`): the query text's SHA-256, the curated
 * objects it read (each batch with the SHA-256 of its commit manifest), the engine and its
 * version, the row limit and the result's SHA-256.
 *
 * The objects are those of the tables the query read: every committed batch of each (a
 * batch's Parquet object is in the table location only once its manifest is written, see
 * lib/ingest/layout.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_PREFIX } from '../ingest/layout';

export interface CuratedObject {
  readonly dataset: string;
  /** The object's key in the curated zone. */
  readonly key: string;
  readonly batchId: string;
  /** SHA-256 of `_manifests/<dataset>/<batch>.json`, when the cache holds it. */
  readonly manifestSha256?: string;
  readonly bytes: number;
}

/** How an output of `sde query` was made: what the release manifest records. */
export interface QueryProvenance {
  readonly queryExecutionId: string;
  /** SHA-256 of the query text as run (UTF-8). */
  readonly querySha256: string;
  readonly engine: { readonly name: string; readonly version: string };
  readonly curatedObjects: readonly CuratedObject[];
  /** The rows the kept result was cut to (sde query --max-rows). */
  readonly maxRows: number;
  readonly ranAt: string;
  /** SHA-256 of the result as kept. */
  readonly resultSha256: string;
}

/** What the platform keeps beside a query's result: its provenance, the project and the query text. */
export interface QueryRecord extends QueryProvenance {
  readonly projectId: string;
  readonly sql: string;
}

export function sha256Text(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Every committed batch of the given tables in a local copy of the curated zone, sorted by key. */
export function curatedObjectsOf(curatedRoot: string, tables: readonly string[]): CuratedObject[] {
  const out: CuratedObject[] = [];
  for (const dataset of [...tables].sort()) {
    const dir = path.join(curatedRoot, dataset);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
      const full = path.join(entry.parentPath, entry.name);
      const key = path.relative(curatedRoot, full).split(path.sep).join('/');
      const batchId = entry.name.slice(0, -'.parquet'.length);
      const manifest = path.join(curatedRoot, MANIFEST_PREFIX, dataset, `${batchId}.json`);
      out.push({
        dataset,
        key,
        batchId,
        ...(fs.existsSync(manifest) ? { manifestSha256: sha256Text(fs.readFileSync(manifest)) } : {}),
        bytes: fs.statSync(full).size,
      });
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** How two lists of curated objects differ, for people: empty when they are the same. */
export function curatedDifferences(recorded: readonly CuratedObject[], now: readonly CuratedObject[]): string[] {
  const before = new Map(recorded.map((o) => [o.key, o]));
  const after = new Map(now.map((o) => [o.key, o]));
  const out: string[] = [];
  for (const [key, o] of before) {
    const n = after.get(key);
    if (!n) out.push(`${key} (batch ${o.batchId}) is gone`);
    else if (n.manifestSha256 !== o.manifestSha256 || n.bytes !== o.bytes) out.push(`${key} (batch ${o.batchId}) has changed`);
  }
  for (const [key, n] of after) if (!before.has(key)) out.push(`${key} (batch ${n.batchId}) is new`);
  return out;
}
