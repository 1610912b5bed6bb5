/**
 * Splitting a file into byte-range chunks must not change a single row: the same records,
 * the same line numbers, the same curated rows and rejected rows as one whole-file read,
 * whatever the chunk size, with quoted line breaks, CRLF, lone CRs and broken quoting.
 */
import fc from 'fast-check';
import { CsvFileError, CsvRecord, readCsvBatches } from '../../lib/ingest/core/csv-reader';
import { BoundaryScanner } from '../../lib/ingest/boundaries';
import { chunked, csvLine, EPISODES, episodeFields, KEY, LOAD_DATE, testNhsNumber } from './core/datasets';
import { commitBatch, planBatch, processChunk } from '../../lib/ingest/batch';
import { MemoryStore } from './helpers/memory-store';
import { readParquet } from './helpers/read-parquet';
import { BUCKETS, runBatch } from './helpers/run-batch';

type Rec = Pick<CsvRecord, 'line' | 'fields' | 'raw'> & { error?: string };

async function readAll(bytes: Buffer, options: Parameters<typeof readCsvBatches>[1]): Promise<Rec[]> {
  const out: Rec[] = [];
  try {
    for await (const batch of readCsvBatches(chunked(bytes, [7, 64, 3]), options))
      for (const r of batch) out.push({ line: r.line, fields: r.fields, raw: r.raw, error: r.error?.code });
  } catch (e) {
    // A file of blank lines has no records either way; the whole-file reader calls it empty.
    if (!(e instanceof CsvFileError && e.code === 'empty_file')) throw e;
  }
  return out;
}

function* pieces(bytes: Buffer, sizes: number[]): Generator<Buffer> {
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

/** Reads the file as the chunks of a plan would: boundaries from the scanner, each range read alone. */
async function readChunked(bytes: Buffer, chunkBytes: number): Promise<Rec[]> {
  const targets: number[] = [];
  for (let t = chunkBytes; t < bytes.length; t += chunkBytes) targets.push(t);
  const scanner = new BoundaryScanner(',', '"', targets);
  for (const piece of pieces(bytes, [5, 11])) scanner.feed(piece);
  scanner.finish();
  const starts = [{ offset: 0, line: 1 }];
  for (const b of scanner.found) if (b.offset > starts[starts.length - 1].offset && b.offset < bytes.length) starts.push(b);
  const out: Rec[] = [];
  for (const [i, s] of starts.entries()) {
    const end = i + 1 < starts.length ? starts[i + 1].offset : bytes.length;
    const slice = bytes.subarray(s.offset, end);
    out.push(...(await readAll(slice, i === 0 ? { header: false } : { header: false, continuation: true, startLine: s.line })));
  }
  return out;
}

/** Text built from the pieces that trouble a splitter. */
const piece = fc.constantFrom('a', 'b', ',', '"', '""', '\n', '\r\n', '\r', '"x\ny"', '"p,q"', 'zz', ' ', 'é', '"\r\n"');
const csvText = fc.array(piece, { minLength: 0, maxLength: 120 }).map((p) => p.join(''));

describe('record boundaries', () => {
  test('property: any file read in chunks of any size gives the same records and line numbers as one read', async () => {
    await fc.assert(
      fc.asyncProperty(csvText, fc.integer({ min: 1, max: 40 }), async (text, size) => {
        const bytes = Buffer.from(text, 'utf8');
        const whole = await readAll(bytes, { header: false });
        const split = await readChunked(bytes, size);
        expect(split).toEqual(whole);
      }),
      { numRuns: 400 },
    );
  });

  test('a quoted field holding line breaks is never split, even when a chunk boundary falls inside it', async () => {
    const text = 'a,b\n1,"line one\nline two\r\nline three"\n2,x\n';
    for (let size = 1; size < text.length; size++) {
      const recs = await readChunked(Buffer.from(text), size);
      expect(recs.map((r) => [r.line, r.fields])).toEqual([
        [1, ['a', 'b']],
        [2, ['1', 'line one\nline two\r\nline three']],
        [5, ['2', 'x']],
      ]);
    }
  });
});

describe('a batch in several chunks commits the same data as in one', () => {
  const rows: string[][] = [];
  for (let i = 0; i < 60; i++) {
    const bad = i % 9 === 4;
    rows.push(
      episodeFields({
        episode_id: `E${String(i).padStart(4, '0')}`,
        nhs_number: bad ? '9990000019' : testNhsNumber(i),
        // Line breaks and quotes inside quoted free text, so chunk boundaries meet them.
        notes: i % 3 === 0 ? `Seen on ward,\nplan "rest"\r\nreview ${i}` : 'Reviewed.',
      }),
    );
  }
  const body = Buffer.from([csvLine(EPISODES.columns.map((c) => c.name)), ...rows.map((r) => csvLine(r))].join('\r\n') + '\r\n');

  test.each([97, 500, 2048])('chunks of %i bytes: same curated rows, same rejected lines, same totals', async (chunkBytes) => {
    // Two stores: in one, the second delivery of the same content would be a duplicate_delivery (deliveries.test.ts).
    const store = new MemoryStore();
    const other = new MemoryStore();
    await store.put({ bucket: BUCKETS.landing, key: 'episodes/one.csv' }, body);
    await other.put({ bucket: BUCKETS.landing, key: 'episodes/many.csv' }, body);
    const one = await runBatch(store, { bucket: BUCKETS.landing, key: 'episodes/one.csv' }, EPISODES);
    const many = await runBatch(other, { bucket: BUCKETS.landing, key: 'episodes/many.csv' }, EPISODES, { chunkBytes });
    expect(one.manifest.chunkCount).toBe(1);
    expect(many.manifest.chunkCount).toBeGreaterThan(1);
    // One data object per batch, however many chunks: it appears to readers in one step.
    expect([one.manifest.outputs.length, many.manifest.outputs.length]).toEqual([1, 1]);
    const counts = (m: typeof one.manifest) => [m.rowsRead, m.rowsWritten, m.rowsRejected, m.rowsOptedOut, m.rejectedByReason];
    expect(counts(many.manifest)).toEqual(counts(one.manifest));
    expect(one.manifest.rowsRejected).toBe(7);
    // The same input checksum, whichever way it was computed (by the chunk, or by the plan's pass).
    expect(many.manifest.source.sha256).toBe(one.manifest.source.sha256);
    const curated = async (m: typeof one.manifest, s: MemoryStore) =>
      (await readParquet(m.outputs.map((o) => s.objects.get(`${BUCKETS.curated}\u0000${o.key}`)!))).rows;
    expect(await curated(many.manifest, other)).toEqual(await curated(one.manifest, store));
    const rejectedLines = (m: typeof one.manifest, s: MemoryStore) =>
      m.rejectedFiles.flatMap((f) =>
        s.objects
          .get(`${BUCKETS.quarantine}\u0000${f.key}`)!
          .toString('utf8')
          .split('\n')
          .slice(1)
          .filter(Boolean)
          .map((l) => l.split(',')[0]),
      );
    expect(rejectedLines(many.manifest, other)).toEqual(rejectedLines(one.manifest, store));
    // Row i starts on line 2 + i, plus the two line breaks inside each earlier multi-line note (every third row).
    expect(rejectedLines(one.manifest, store)).toEqual([4, 13, 22, 31, 40, 49, 58].map((i) => String(2 + i + 2 * Math.ceil(i / 3))));
  });

  test('a joined object of the wrong length is never committed: no manifest, and a retry on a sound store commits', async () => {
    /** A store whose compose loses the last byte (a truncated upload). */
    class TruncatingStore extends MemoryStore {
      truncate = true;
      override async compose(...args: Parameters<MemoryStore['compose']>) {
        const out = await super.compose(...args);
        const id = `${args[0].bucket}\u0000${args[0].key}`;
        if (this.truncate) this.objects.set(id, this.objects.get(id)!.subarray(0, -1));
        return out;
      }
    }
    const store = new TruncatingStore();
    await store.put({ bucket: BUCKETS.landing, key: 'episodes/many.csv' }, body);
    await expect(runBatch(store, { bucket: BUCKETS.landing, key: 'episodes/many.csv' }, EPISODES, { chunkBytes: 500 })).rejects.toThrow(
      /bytes, the join planned \d+: refusing to commit/,
    );
    // No manifest (the delivery record, claimed before the data is written, is the batch's own: a retry finds it).
    expect(store.keys(BUCKETS.curated).filter((k) => k.startsWith('_manifests/') && !k.startsWith('_manifests/_deliveries/'))).toEqual([]);
    store.truncate = false;
    const retried = await runBatch(store, { bucket: BUCKETS.landing, key: 'episodes/many.csv' }, EPISODES, { chunkBytes: 500 });
    expect(retried.manifest.outputs).toHaveLength(1);
    expect((await readParquet(store.objects.get(`${BUCKETS.curated}\u0000${retried.manifest.outputs[0].key}`)!)).rows).toHaveLength(
      retried.manifest.rowsWritten,
    );
  });

  test('a staged part that is not the size its chunk reported is not joined: the commit asks for the chunk again', async () => {
    const store = new MemoryStore();
    const source = { bucket: BUCKETS.landing, key: 'episodes/changed.csv' };
    await store.put(source, body);
    const plan = await planBatch({ store, source, dataset: EPISODES, buckets: BUCKETS, loadDate: LOAD_DATE, chunkBytes: 500 });
    for (const c of plan.chunks) await processChunk({ store, plan, chunk: c.index, dataset: EPISODES, key: KEY, optOut: new Set() });
    const part = store.keys(BUCKETS.curated).find((k) => k.endsWith('part-00001.parquet'))!;
    const id = `${BUCKETS.curated}\u0000${part}`;
    store.objects.set(id, Buffer.concat([store.objects.get(id)!, Buffer.from('x')]));
    await expect(commitBatch({ store, plan })).rejects.toThrow(/staged part .*part-00001\.parquet is \d+ bytes, its chunk wrote \d+: run the chunk again/);
    expect(store.keys(BUCKETS.curated).filter((k) => !k.startsWith('_staging/') && !k.startsWith('_manifests/_deliveries/'))).toEqual([]);
  });

  test("on a versioned bucket, the join reads each part's footer and copies its bytes from the one version it checked", async () => {
    /** Versions as S3 reports them on a versioned bucket: one id per object, seen in HEAD and asked for in reads. */
    class VersionedStore extends MemoryStore {
      readonly partReads: (string | undefined)[] = [];
      readonly composedFrom: (string | undefined)[] = [];
      override async head(ref: Parameters<MemoryStore['head']>[0]) {
        const h = await super.head(ref);
        return h === undefined ? undefined : { ...h, versionId: `v-${h.etag.slice(0, 8)}` };
      }
      override async get(ref: Parameters<MemoryStore['get']>[0], range?: Parameters<MemoryStore['get']>[1], versionId?: string) {
        if (ref.key.includes('/part-')) this.partReads.push(versionId);
        return super.get(ref, range);
      }
      override async compose(...args: Parameters<MemoryStore['compose']>) {
        for (const p of args[1]) if ('from' in p) this.composedFrom.push(p.from.versionId);
        return super.compose(...args);
      }
    }
    const store = new VersionedStore();
    await store.put({ bucket: BUCKETS.landing, key: 'episodes/versioned.csv' }, body);
    const run = await runBatch(store, { bucket: BUCKETS.landing, key: 'episodes/versioned.csv' }, EPISODES, { chunkBytes: 500 });
    expect(run.manifest.outputs).toHaveLength(1);
    expect(store.partReads.length).toBeGreaterThan(0);
    expect(store.composedFrom.length).toBe(run.manifest.chunkCount);
    for (const v of [...store.partReads, ...store.composedFrom]) expect(v).toMatch(/^v-[0-9a-f]{8}$/);
  });
});
