/**
 * Deliveries: the same content is committed once, whatever it is called and whatever the
 * config; a file quarantined under one config can be ingested again once the config is fixed.
 */
import { commitBatch, planBatch, processChunk } from '../../lib/ingest/batch';
import { curatedBatchKey, deliveryKey, manifestKey } from '../../lib/ingest/layout';
import { csvLine, EPISODES, episodeFields, KEY, LOAD_DATE } from './core/datasets';
import { MemoryStore } from './helpers/memory-store';
import { BUCKETS, runBatch } from './helpers/run-batch';

const HEADER = csvLine(EPISODES.columns.map((c) => c.name));
const body = (rows: number) =>
  [HEADER, ...Array.from({ length: rows }, (_, i) => csvLine(episodeFields({ episode_id: `E${String(i).padStart(6, '0')}` })))].join('\n') + '\n';
const dataObjects = (store: MemoryStore) => store.keys(BUCKETS.curated).filter((k) => k.startsWith('episodes/'));

test('the same content delivered under seven names is committed once; the others are quarantined as duplicate_delivery naming the first batch', async () => {
  const store = new MemoryStore();
  const content = body(5);
  const names = ['a.csv', 'b.csv', 'copy of a.csv', 'a (1).csv', 'A.CSV', 'x/y/a.csv', 'a.csv.bak'];
  const manifests = [];
  for (const name of names) {
    await store.put({ bucket: BUCKETS.landing, key: `episodes/${name}` }, content);
    manifests.push((await runBatch(store, { bucket: BUCKETS.landing, key: `episodes/${name}` }, EPISODES)).manifest);
  }
  expect(manifests.map((m) => m.status)).toEqual(['committed', ...Array(6).fill('quarantined')]);
  const first = manifests[0];
  for (const m of manifests.slice(1)) {
    expect(m.quarantine?.error).toMatchObject({ code: 'duplicate_delivery', duplicateOf: first.batchId });
    expect(m.quarantine?.error.message).toContain(first.batchId);
    expect(m.quarantine?.error.message).toContain('episodes/a.csv');
    expect(m.rowsWritten).toBe(0);
  }
  expect(dataObjects(store)).toEqual([curatedBatchKey('episodes', LOAD_DATE, first.batchId)]);
  expect(store.keys(BUCKETS.curated)).toContain(deliveryKey('episodes', first.source.sha256));
});

test('two batches of the same content committing at once: exactly one wins', async () => {
  const store = new MemoryStore();
  const content = body(3);
  const plans = [];
  for (const name of ['one.csv', 'two.csv']) {
    await store.put({ bucket: BUCKETS.landing, key: `episodes/${name}` }, content);
    const plan = await planBatch({
      store,
      source: { bucket: BUCKETS.landing, key: `episodes/${name}` },
      dataset: EPISODES,
      buckets: BUCKETS,
      loadDate: LOAD_DATE,
    });
    await processChunk({ store, plan, chunk: 0, dataset: EPISODES, key: KEY, optOut: new Set() });
    plans.push(plan);
  }
  const results = await Promise.all(plans.map((plan) => commitBatch({ store, plan })));
  expect(results.map((r) => r.manifest.status).sort()).toEqual(['committed', 'quarantined']);
  expect(dataObjects(store)).toHaveLength(1);
});

test('a file quarantined under one config is ingested once the config is fixed; a committed batch is never duplicated by a config change', async () => {
  const store = new MemoryStore();
  // A Windows-1252 export (curly quotes in the notes) under a dataset that says utf-8: quarantined.
  const text = Buffer.concat([
    Buffer.from(`${HEADER}\n${csvLine(episodeFields({ notes: 'X' }))}\n`.replace(',X\n', ',')),
    Buffer.from([0x93, 0x6f, 0x6b, 0x94, 0x0a]),
  ]);
  const source = { bucket: BUCKETS.landing, key: 'episodes/export.csv' };
  await store.put(source, text);
  const before = await runBatch(store, source, EPISODES);
  expect(before.manifest.quarantine?.error.code).toBe('wrong_encoding');

  // Fixed: the same object is a new batch under the new config, and is committed.
  const fixed = { ...EPISODES, source: { ...EPISODES.source, encoding: 'windows-1252' as const } };
  const after = await runBatch(store, source, fixed);
  expect(after.manifest.batchId).not.toBe(before.manifest.batchId);
  expect(after.manifest.status).toBe('committed');
  expect(after.manifest.rowsWritten).toBe(1);

  // Running again under the same config changes nothing; a change of description is no change.
  const again = await runBatch(store, source, { ...fixed, columns: fixed.columns.map((c) => ({ ...c, description: `${c.description} (reworded)` })) });
  expect(again.alreadyCommitted).toBe(true);
  expect(again.manifest.batchId).toBe(after.manifest.batchId);

  // A real change makes a new batch, whose content is already in curated: not committed twice.
  const changed = { ...fixed, columns: fixed.columns.map((c) => (c.name === 'length_of_stay' ? { ...c, max: 500 } : c)) };
  const twice = await runBatch(store, source, changed);
  expect(twice.manifest.quarantine?.error).toMatchObject({ code: 'duplicate_delivery', duplicateOf: after.manifest.batchId });
  expect(dataObjects(store)).toEqual([curatedBatchKey('episodes', LOAD_DATE, after.manifest.batchId)]);
  expect(store.keys(BUCKETS.curated)).toContain(manifestKey('episodes', before.manifest.batchId));
});
