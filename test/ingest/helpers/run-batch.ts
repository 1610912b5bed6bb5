/** Runs a landed object through plan -> every chunk -> commit, as the state machine does. */
import { platformAppliesOptOut } from '../../../lib/config/curated';
import type { DatasetConfig } from '../../../lib/config/schema';
import { commitBatch, planBatch, processChunk } from '../../../lib/ingest/batch';
import type { IngestBuckets } from '../../../lib/ingest/layout';
import type { BatchPlan, ChunkResult, Manifest } from '../../../lib/ingest/manifest';
import type { ObjectRef, ObjectStore } from '../../../lib/ingest/object-store';
import { KEY, LOAD_DATE } from '../core/datasets';

export const BUCKETS: IngestBuckets = { landing: 'landing', curated: 'curated', quarantine: 'quarantine' };

export interface BatchRun {
  readonly plan: BatchPlan;
  readonly chunks: ChunkResult[];
  readonly manifest: Manifest;
  readonly alreadyCommitted: boolean;
}

export async function runBatch(
  store: ObjectStore,
  source: ObjectRef,
  dataset: DatasetConfig,
  options: {
    chunkBytes?: number;
    optOut?: ReadonlySet<string>;
    key?: Buffer;
    buckets?: IngestBuckets;
    loadDate?: string;
    lookups?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  } = {},
): Promise<BatchRun> {
  const buckets = options.buckets ?? BUCKETS;
  const plan = await planBatch({ store, source, dataset, buckets, loadDate: options.loadDate ?? LOAD_DATE, chunkBytes: options.chunkBytes });
  const chunks: ChunkResult[] = [];
  // An empty list where the platform applies the opt-out; none where it cannot (a list there is refused).
  const optOut = options.optOut ?? (platformAppliesOptOut(dataset) ? new Set<string>() : undefined);
  for (const c of plan.chunks)
    chunks.push(await processChunk({ store, plan, chunk: c.index, dataset, key: options.key ?? KEY, optOut, lookups: options.lookups }));
  const { manifest, alreadyCommitted } = await commitBatch({ store, plan });
  return { plan, chunks, manifest, alreadyCommitted };
}
