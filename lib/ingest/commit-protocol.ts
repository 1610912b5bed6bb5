/**
 * The commit protocol of a batch, in small functions that every writer of curated batches
 * uses (ingestion's commit here; anything that later rewrites a committed batch must keep
 * the same rules). The full statement, with what a reader sees in each state on AWS and
 * locally, is in docs/architecture.md ("Committing a batch").
 *
 *  1. The batch's data is ONE object whose key derives from the batch id (layout.ts), put
 *     in place whole (PutObject, CopyObject or a completed multipart upload).
 *  2. The manifest `_manifests/<dataset>/<batch>.json` is then written ONCE, with
 *     `If-None-Match: *` (`writeManifestOnce`): of any number of committers of one batch,
 *     exactly one writes it; the others find the winner's and report "already committed".
 *  3. A batch is committed exactly when its manifest exists; the manifest is never
 *     rewritten, and names every object of the batch (`committedKeys`).
 *  4. After the manifest, what the batch left outside it is removed (`tidyAfterCommit`):
 *     its staging folder, and rejected-row files the manifest does not name (a chunk of a
 *     losing, concurrent run may write one after the winner committed).
 *  5. Any failure of a committer is checked against the manifest (`orAlreadyCommitted`):
 *     when another committer won meanwhile (and, say, cleared the staging this one was
 *     reading), the outcome is "already committed", not an error.
 *
 * Readers that must see only committed data read the objects the manifests name
 * (`committedKeys`), not whatever lies under the table location.
 */
import type { BatchPlan, Manifest } from './manifest';
import { MANIFEST_PREFIX, manifestKey, quarantinePrefix } from './layout';
import { mapConcurrently } from './concurrently';
import { ObjectRef, ObjectStore, readSmallObject } from './object-store';

const CONCURRENCY = 32;

export function manifestRef(plan: Pick<BatchPlan, 'buckets' | 'dataset' | 'batchId'>): ObjectRef {
  return { bucket: plan.buckets.curated, key: manifestKey(plan.dataset, plan.batchId) };
}

/** The batch's manifest, or undefined while it is not committed. */
export async function readManifest(store: ObjectStore, plan: Pick<BatchPlan, 'buckets' | 'dataset' | 'batchId'>): Promise<Manifest | undefined> {
  const body = await readSmallObject(store, manifestRef(plan));
  return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as Manifest);
}

export interface ManifestWrite {
  /** The manifest that stands: ours when we wrote it, otherwise the earlier committer's. */
  readonly manifest: Manifest;
  /** False when another committer's manifest was there first: nothing was written. */
  readonly written: boolean;
}

/** The commit point: writes the manifest only if there is none (`If-None-Match: *`), so it is written once. */
export async function writeManifestOnce(store: ObjectStore, plan: BatchPlan, manifest: Manifest): Promise<ManifestWrite> {
  if (await store.putIfAbsent(manifestRef(plan), `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' })) {
    return { manifest, written: true };
  }
  const winner = await readManifest(store, plan);
  if (winner === undefined) throw new Error(`batch ${plan.batchId}: the manifest write was refused as existing, yet there is none: run the commit again`);
  return { manifest: winner, written: false };
}

/**
 * Runs one step of a batch; if it fails and the batch is committed by now (another run of
 * it won the race), returns `ifCommitted(manifest)` instead of the error.
 */
export async function orAlreadyCommitted<T>(
  store: ObjectStore,
  plan: BatchPlan,
  step: () => Promise<T>,
  ifCommitted: (manifest: Manifest) => T | Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (e) {
    const manifest = await readManifest(store, plan).catch(() => undefined);
    if (manifest !== undefined) return ifCommitted(manifest);
    throw e;
  }
}

/** Removes what the committed batch left outside its manifest: staging, and rejected-row files it does not name. */
export async function tidyAfterCommit(store: ObjectStore, plan: BatchPlan, manifest: Manifest, stagingPrefix: string): Promise<void> {
  const staged = await store.list(plan.buckets.curated, stagingPrefix);
  await mapConcurrently(staged, CONCURRENCY, (o) => store.delete({ bucket: plan.buckets.curated, key: o.key }));
  const named = new Set(manifest.rejectedFiles.map((r) => r.key));
  const rejected = await store.list(plan.buckets.quarantine, `${quarantinePrefix(plan.dataset, plan.batchId)}rejected/`);
  await mapConcurrently(
    rejected.filter((o) => !named.has(o.key)),
    CONCURRENCY,
    (o) => store.delete({ bucket: plan.buckets.quarantine, key: o.key }),
  );
}

/**
 * The curated keys committed batches name, for readers that must see committed data only
 * (a data object whose commit died before its manifest is not among them).
 */
export async function committedKeys(store: ObjectStore, curatedBucket: string, dataset?: string): Promise<Set<string>> {
  const prefix = dataset === undefined ? `${MANIFEST_PREFIX}/` : `${MANIFEST_PREFIX}/${dataset}/`;
  const manifests = (await store.list(curatedBucket, prefix)).filter((o) => o.key.endsWith('.json') && !o.key.includes('/_deliveries/'));
  const keys = new Set<string>();
  await mapConcurrently(manifests, CONCURRENCY, async (o) => {
    const body = await readSmallObject(store, { bucket: curatedBucket, key: o.key });
    if (body === undefined) return;
    const m = JSON.parse(body.toString('utf8')) as Manifest;
    if (m.status === 'committed') for (const out of m.outputs) keys.add(out.key);
  });
  return keys;
}
