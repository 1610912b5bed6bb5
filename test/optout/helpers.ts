/**
 * What the opt-out tests share: a small person-level dataset (one row per episode, the NHS
 * number pseudonymised, some rows without one), deliveries ingested through the real batch
 * functions, a conditional replace over the in-memory store (the S3 rule: write only while
 * the ETag is the one given), and the curated rows read back with DuckDB.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { DatasetConfig } from '../../lib/config/schema';
import type { Manifest } from '../../lib/ingest/manifest';
import { MANIFEST_PREFIX } from '../../lib/ingest/layout';
import type { ObjectStore } from '../../lib/ingest/object-store';
import type { RewriteStore } from '../../lib/optout/conditional-put';
import { csvLine, dataset, KEY } from '../ingest/core/datasets';
import { MemoryStore } from '../ingest/helpers/memory-store';
import { readParquet } from '../ingest/helpers/read-parquet';
import { BUCKETS, runBatch } from '../ingest/helpers/run-batch';

export const EPISODES = dataset(
  'episodes',
  [
    { name: 'episode_id', type: 'string', required: true, format: 'record_id', classification: 'other', rule: 'keep' },
    { name: 'nhs_number', type: 'string', format: 'nhs_number', classification: 'direct_identifier', rule: 'pseudonymise', as: 'person_id' },
    { name: 'length_of_stay', type: 'integer', min: 0, max: 1000, classification: 'other', rule: 'keep' },
    { name: 'ward', type: 'string', format: { codes: ['A', 'B', 'C'] }, classification: 'other', rule: 'keep' },
  ],
  { personKey: 'nhs_number', nationalDataOptOut: true, optOut: { withoutNhsNumber: 'keep' } },
);

/** A dataset the platform does not apply the opt-out to: the job must leave it alone and say so. */
export const COUNTS = dataset(
  'counts',
  [
    { name: 'ward', type: 'string', required: true, format: { codes: ['A', 'B', 'C'] }, classification: 'other', rule: 'keep' },
    { name: 'beds', type: 'integer', min: 0, max: 1000, classification: 'other', rule: 'keep' },
  ],
  { nationalDataOptOut: false },
);

export interface EpisodeRow {
  readonly id: string;
  /** Empty: a row without an NHS number (kept by the dataset's choice). */
  readonly nhs: string;
  readonly los: number;
  readonly ward: string;
}

export const HEADER = csvLine(['episode_id', 'nhs_number', 'length_of_stay', 'ward']);

/** Ingests each delivery as its own batch (its own landing key), with the opt-out list of ingestion time. */
export async function ingestDeliveries(store: ObjectStore, deliveries: readonly (readonly EpisodeRow[])[], optOut: ReadonlySet<string>): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const [i, rows] of deliveries.entries()) {
    const source = { bucket: BUCKETS.landing, key: `${EPISODES.name}/delivery-${i}.csv` };
    const lines = rows.map((r) => csvLine([r.id, r.nhs, String(r.los), r.ward]));
    await store.put(source, [HEADER, ...lines].join('\r\n') + '\r\n');
    const { manifest } = await runBatch(store, source, EPISODES, { key: KEY, optOut });
    out.push(manifest);
  }
  return out;
}

/** The S3 conditional write over the in-memory store. */
export function memoryRewriteStore(store: MemoryStore): RewriteStore {
  return {
    objects: store,
    replaceIfMatch: async (ref, body, etag) => {
      const head = await store.head(ref);
      if (head === undefined || head.etag !== etag) return undefined;
      const bytes = Buffer.isBuffer(body) ? body : Buffer.concat(await Readable.from(body).toArray());
      await store.put(ref, bytes);
      return { etag: createHash('md5').update(bytes).digest('hex') };
    },
  };
}

export async function manifestsIn(store: ObjectStore, dataset: DatasetConfig): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const o of await store.list(BUCKETS.curated, `${MANIFEST_PREFIX}/${dataset.name}/`)) {
    const parts: Buffer[] = [];
    for await (const p of await store.get({ bucket: BUCKETS.curated, key: o.key })) parts.push(Buffer.from(p));
    out.push(JSON.parse(Buffer.concat(parts).toString('utf8')) as Manifest);
  }
  return out;
}

/** Every curated row of the dataset, batch by batch in manifest order, each as [episode_id, person_id, length_of_stay, ward]. */
export async function curatedRows(store: MemoryStore, ds: DatasetConfig = EPISODES): Promise<Map<string, unknown[][]>> {
  const out = new Map<string, unknown[][]>();
  for (const m of await manifestsIn(store, ds)) {
    if (m.status !== 'committed' || m.outputs.length === 0) continue;
    const bytes = store.objects.get(`${BUCKETS.curated}\u0000${m.outputs[0].key}`);
    if (bytes === undefined) throw new Error(`no object for batch ${m.batchId}`);
    const content = await readParquet(bytes);
    const names = content.columns.map((c) => c.name);
    out.set(
      m.batchId,
      content.rows.map((r) => ['episode_id', 'person_id', 'length_of_stay', 'ward'].map((c) => r[names.indexOf(c)])),
    );
  }
  return out;
}

export { BUCKETS, KEY };
