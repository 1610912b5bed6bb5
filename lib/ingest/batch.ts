/**
 * Ingestion of one landed object as a batch, in three steps that the AWS Step Functions
 * state machine runs as three Lambdas (plan, a Distributed Map of chunks, commit) and the
 * local runtime runs in one process, through the same functions:
 *
 *   planBatch    head the object, derive the batch id, stop if its manifest exists; for a
 *                large object, one sequential pass finds record boundaries (quote-aware,
 *                see boundaries.ts) and the SHA-256; the chunks are byte ranges that each
 *                start on a record.
 *   processChunk stream one range, parse, validate, apply the opt-out, de-identify, write
 *                one Parquet part to staging and the rejected rows to quarantine.
 *   commitBatch  put the batch's rows into the partition as ONE Parquet object, then write
 *                the manifest: the commit.
 *
 * The commit rule (what makes a batch atomic and idempotent):
 *  - a batch's data is one object, and an object appears whole or not at all: every batch,
 *    however many chunks it had, appears to every reader, Athena included, in a single step.
 *    A one-chunk batch's part is copied into place; a multi-chunk batch's parts are joined
 *    (parquet-concat.ts: their data byte for byte, one new footer) by a multipart upload
 *    whose large parts are server-side copies, which S3 makes visible only on completion;
 *  - a batch is committed exactly when `_manifests/<dataset>/<batch>.json` exists; it is
 *    written last, after the data object is in place, with `If-None-Match: *`, so of several
 *    committers of one batch exactly one writes it and the others report "already committed"
 *    (commit-protocol.ts, docs/architecture.md);
 *  - every read of the landed object is pinned to the version (AWS) or ETag (locally) the
 *    plan headed, and checked to be exactly the planned bytes: a changed or short read fails
 *    the batch, it never commits part of a file;
 *  - every key a batch writes is derived from its id, so a retried step overwrites its own
 *    earlier output with the same bytes and never adds a second copy; a data object
 *    without a manifest is an unfinished commit that the next run of the same batch completes;
 *  - a second run of a committed object finds the manifest and writes nothing (it only
 *    removes staging left by a crash after the commit).
 *
 * No row values ever reach a log, an error or a manifest: only codes, columns, counts and keys.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { DatasetConfig } from '../config/schema';
import { CsvFileError, csvOptionsFor, readCsvBatches } from './core/csv-reader';
import type { OptOutSet } from './core/opt-out';
import { addCounts, createPipeline, emptyCounts, processRecords } from './core/pipeline';
import { BoundaryScanner } from './boundaries';
import { mapConcurrently } from './concurrently';
import {
  batchIdOf,
  chunkItemsKey,
  chunkResultKey,
  curatedBatchKey,
  deliveryKey,
  errorReportKey,
  IngestBuckets,
  manifestKey,
  planKey,
  quarantinedSourceKey,
  rejectedKey,
  schemaVersionOf,
  stagedPartKey,
  stagingPrefix,
} from './layout';
import { BatchPlan, ChunkResult, ChunkSpec, ErrorReport, FileError, Manifest, MANIFEST_VERSION, ManifestOutput, RowCounts } from './manifest';
import { orAlreadyCommitted, readManifest, tidyAfterCommit, writeManifestOnce } from './commit-protocol';
import { crashPoint } from '../config/crash-points';
import { ObjectRef, ObjectStore, pinOf, readSmallObject } from './object-store';
import { planParquetConcat, readParquetFooter } from './parquet-concat';
import { ParquetPartWriter } from './parquet-writer';
import { RejectedWriter } from './rejected-writer';

/**
 * Default chunk size. About 850,000 hospital-episode rows: seconds of work for one Lambda
 * vCPU, under 200 MB of /tmp, and enough chunks for parallelism on big files.
 */
export const DEFAULT_CHUNK_BYTES = 128 * 1024 * 1024;

/** S3 requests the commit makes at once (within the SDK's default of 50 sockets per client). */
const COMMIT_CONCURRENCY = 32;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

async function readJson<T>(store: ObjectStore, ref: ObjectRef): Promise<T | undefined> {
  const body = await readSmallObject(store, ref);
  return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
}

// ---------------------------------------------------------------------------------------
// plan
// ---------------------------------------------------------------------------------------

export interface PlanBatchInput {
  readonly store: ObjectStore;
  /** The landed object (landing bucket); on AWS with the version the S3 event named, which the batch is pinned to. */
  readonly source: ObjectRef & { readonly versionId?: string };
  readonly dataset: DatasetConfig;
  readonly buckets: IngestBuckets;
  /** `YYYY-MM-DD`: the partition, and the date values are judged plausible against. */
  readonly loadDate: string;
  /** @default DEFAULT_CHUNK_BYTES */
  readonly chunkBytes?: number;
}

/** Whether byte boundaries can be found without decoding (see boundaries.ts). */
function splittable(dataset: DatasetConfig): boolean {
  const { encoding, delimiter, quote } = dataset.source;
  return encoding !== 'utf-16le' && delimiter.charCodeAt(0) < 0x80 && quote.charCodeAt(0) < 0x80;
}

/**
 * Plans a batch. Writes the plan and the chunk list (the Distributed Map's items) to
 * staging, unless the batch is already committed.
 */
export async function planBatch(input: PlanBatchInput): Promise<BatchPlan> {
  const { store, dataset } = input;
  const chunkBytes = input.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new Error(`the chunk size must be a whole number of bytes, at least 1 (not ${chunkBytes})`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.loadDate)) throw new Error('the load date must be written YYYY-MM-DD');
  const head = await store.head({ bucket: input.source.bucket, key: input.source.key }, input.source.versionId);
  if (head === undefined) throw new Error(`s3://${input.source.bucket}/${input.source.key} does not exist (was it deleted or expired before ingestion?)`);
  const source = {
    bucket: head.bucket,
    key: head.key,
    size: head.size,
    etag: head.etag,
    ...(head.versionId === undefined ? {} : { versionId: head.versionId }),
  };
  const schemaVersion = schemaVersionOf(dataset);
  const batchId = batchIdOf(source, schemaVersion);
  const base = { batchId, dataset: dataset.name, schemaVersion, source, buckets: input.buckets, loadDate: input.loadDate };
  if ((await store.head({ bucket: input.buckets.curated, key: manifestKey(dataset.name, batchId) })) !== undefined) {
    return { ...base, alreadyCommitted: true, chunks: [] };
  }

  let chunks: ChunkSpec[];
  let inputSha256: string | undefined;
  if (head.size <= chunkBytes || !splittable(dataset)) {
    chunks = [{ index: 0, start: 0, end: head.size, startLine: 1 }];
  } else {
    const targets: number[] = [];
    for (let t = chunkBytes; t < head.size; t += chunkBytes) targets.push(t);
    const scanner = new BoundaryScanner(dataset.source.delimiter, dataset.source.quote, targets);
    const hash = createHash('sha256');
    let read = 0;
    for await (const piece of await readLanded(store, source)) {
      read += piece.byteLength;
      hash.update(piece);
      if (!scanner.done) scanner.feed(piece);
    }
    checkReadLength(source, 0, head.size, read);
    scanner.finish();
    inputSha256 = hash.digest('hex');
    const starts = [{ offset: 0, line: 1 }];
    for (const b of scanner.found) if (b.offset > starts[starts.length - 1].offset && b.offset < head.size) starts.push(b);
    chunks = starts.map((s, i) => ({ index: i, start: s.offset, end: i + 1 < starts.length ? starts[i + 1].offset : head.size, startLine: s.line }));
  }
  const plan: BatchPlan = { ...base, alreadyCommitted: false, chunks, ...(inputSha256 === undefined ? {} : { inputSha256 }) };
  crashPoint('plan:before-write');
  await store.put({ bucket: input.buckets.curated, key: planKey(dataset.name, batchId) }, json(plan), { contentType: 'application/json' });
  await store.put(
    { bucket: input.buckets.curated, key: chunkItemsKey(dataset.name, batchId) },
    json(chunks.map((c) => ({ dataset: dataset.name, batchId, chunk: c.index }))),
    { contentType: 'application/json' },
  );
  crashPoint('plan:written');
  return plan;
}

/** The landed object changed, or a read of it was cut short, during the batch: nothing was committed, and a rerun is safe. */
export class LandedObjectReadError extends Error {}

/** A read of the landed object pinned to the plan's version or ETag; a changed object is a LandedObjectReadError. */
async function readLanded(store: ObjectStore, source: BatchPlan['source'], range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>> {
  try {
    return await store.get(source, range, pinOf(source));
  } catch (e) {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (err.name === 'PreconditionFailed' || err.$metadata?.httpStatusCode === 412) {
      throw new LandedObjectReadError(
        `s3://${source.bucket}/${source.key} is no longer the object this batch was planned on (ETag ${source.etag}${source.versionId === undefined ? '' : `, version ${source.versionId}`}): it was replaced during ingestion; nothing of the batch was committed: run it again`,
        { cause: e },
      );
    }
    throw e;
  }
}

/**
 * A read of the landed object must return exactly the planned bytes: a shorter or longer
 * read (the object replaced or cut meanwhile, a connection closed early) fails the batch.
 */
function checkReadLength(source: ObjectRef, start: number, end: number, read: number): void {
  if (read !== end - start) {
    throw new LandedObjectReadError(
      `s3://${source.bucket}/${source.key}: read ${read} bytes of the planned range [${start}, ${end}) (${end - start} bytes): the landed object changed or the read was cut short; nothing of the batch was committed: run it again`,
    );
  }
}

/** Reads back a stored plan (a Distributed Map item names only dataset, batch and chunk). */
export async function loadPlan(store: ObjectStore, curatedBucket: string, dataset: string, batchId: string): Promise<BatchPlan> {
  const plan = await readJson<BatchPlan>(store, { bucket: curatedBucket, key: planKey(dataset, batchId) });
  if (plan === undefined)
    throw new Error(`no plan for batch ${batchId} of ${dataset} in s3://${curatedBucket}/${planKey(dataset, batchId)}: run planBatch first`);
  return plan;
}

// ---------------------------------------------------------------------------------------
// chunks
// ---------------------------------------------------------------------------------------

export interface ProcessChunkInput {
  readonly store: ObjectStore;
  readonly plan: BatchPlan;
  /** Which chunk of the plan. */
  readonly chunk: number;
  /** The dataset's config: must be the version the plan was made under. */
  readonly dataset: DatasetConfig;
  /** The pseudonymisation key (Secrets Manager on AWS; the workdir's 0600 key file locally). Never logged. */
  readonly key: Buffer;
  /** The national data opt-out list; required when the dataset applies it. */
  readonly optOut?: OptOutSet;
  /** Postcode-to-LSOA lookups by file name, for `postcode_lsoa` columns (see core/lsoa-lookup.ts). */
  readonly lookups?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Where temporary files go (a private folder is made inside and removed). @default os.tmpdir() */
  readonly tmpDir?: string;
  /** DuckDB threads for the Parquet conversion. @default 1 */
  readonly threads?: number;
  /** Bytes of the range read so far, for progress bars. */
  readonly onProgress?: (bytesRead: number) => void;
}

/** Pulls the range through, counting (and for a whole-object chunk hashing) the bytes. */
async function* metered(
  body: AsyncIterable<Uint8Array>,
  state: { bytes: number; hash?: ReturnType<typeof createHash> },
  onProgress?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const piece of body) {
    state.bytes += piece.byteLength;
    state.hash?.update(piece);
    onProgress?.(state.bytes);
    yield piece;
  }
}

/** A chunk lost every row to a fault of the platform (a de-identification rule that threw): the batch must fail, not commit empty. */
export class PlatformFaultError extends Error {
  override readonly name = 'PlatformFaultError';
}

export async function processChunk(input: ProcessChunkInput): Promise<ChunkResult> {
  const { store, plan } = input;
  const skipped = (): ChunkResult => ({ batchId: plan.batchId, index: input.chunk, counts: emptyCounts(), bytesRead: 0 });
  // A concurrent run of the batch may commit (and clear staging) while this chunk runs.
  return orAlreadyCommitted(store, plan, () => runChunk(input), skipped);
}

async function runChunk(input: ProcessChunkInput): Promise<ChunkResult> {
  const { store, plan, dataset } = input;
  const spec = plan.chunks[input.chunk];
  if (spec === undefined) throw new Error(`batch ${plan.batchId} has no chunk ${input.chunk} (it has ${plan.chunks.length})`);
  if (dataset.name !== plan.dataset) throw new Error(`batch ${plan.batchId} is for dataset ${plan.dataset}, not ${dataset.name}`);
  if (schemaVersionOf(dataset) !== plan.schemaVersion) {
    throw new Error(`the config of dataset ${dataset.name} changed since batch ${plan.batchId} was planned: plan it again`);
  }
  const curated = plan.buckets.curated;
  if (plan.alreadyCommitted || (await store.head({ bucket: curated, key: manifestKey(plan.dataset, plan.batchId) })) !== undefined) {
    return { batchId: plan.batchId, index: spec.index, counts: emptyCounts(), bytesRead: 0 };
  }
  // Compiled before any byte is read: a missing opt-out list or key fails here, not mid-file.
  const pipeline = createPipeline(dataset, { key: input.key, loadDate: plan.loadDate, optOut: input.optOut, lookups: input.lookups });
  const work = fs.mkdtempSync(path.join(input.tmpDir ?? os.tmpdir(), 'sde-ingest-'));
  let writer: ParquetPartWriter | undefined;
  let rejected: RejectedWriter | undefined;
  try {
    const wholeObject = spec.start === 0 && spec.end === plan.source.size;
    const meter: { bytes: number; hash?: ReturnType<typeof createHash> } = { bytes: 0, hash: wholeObject ? createHash('sha256') : undefined };
    const body = await readLanded(store, plan.source, { start: spec.start, end: spec.end });
    const options = { ...csvOptionsFor(dataset), ...(spec.index === 0 ? {} : { continuation: true, startLine: spec.startLine }) };
    const parts = new ParquetPartWriter(pipeline.columns, work, { threads: input.threads });
    const bad = new RejectedWriter(work);
    writer = parts;
    rejected = bad;
    const counts = emptyCounts();
    const sinks = {
      curated: (row: Parameters<ParquetPartWriter['append']>[0]) => parts.append(row),
      curatedValues: (values: Parameters<ParquetPartWriter['appendValues']>[0]) => parts.appendValues(values),
      rejected: (row: Parameters<RejectedWriter['append']>[0]) => bad.append(row),
    };
    let fileError: FileError | undefined;
    try {
      for await (const records of readCsvBatches(metered(body, meter, input.onProgress), options)) processRecords(pipeline, records, sinks, counts);
    } catch (e) {
      if (!(e instanceof CsvFileError)) throw e;
      const where = spec.start > 0 ? ` (byte offsets counted from byte ${spec.start}, where chunk ${spec.index} starts)` : '';
      fileError = { code: e.code, message: `${e.message}${where}`, ...(e.header === undefined ? {} : { header: e.header }), chunk: spec.index };
    }
    // Exactly the planned range, unless the file was refused part way (it is quarantined whole).
    if (fileError === undefined) checkReadLength(plan.source, spec.start, spec.end, meter.bytes);
    const faults = counts.rejectedByReason.deidentification_failed ?? 0;
    if (fileError === undefined && faults > 0 && counts.rowsWritten === 0) {
      // Not the data's fault: committing "0 rows" would report success. Fail the chunk (and
      // so the execution: the ExecutionsFailed alarm), leaving nothing committed.
      throw new PlatformFaultError(
        `batch ${plan.batchId} of ${plan.dataset}, chunk ${spec.index}: every row that passed validation (${faults} of ${counts.rowsRead}) failed de-identification, ` +
          'a platform fault, not a data error: nothing was committed; report it with this batch id',
      );
    }
    const rejectedBytes = bad.close();
    const sha256 = wholeObject && fileError === undefined ? meter.hash?.digest('hex') : undefined;
    let result: ChunkResult;
    if (fileError !== undefined) {
      parts.close();
      result = {
        batchId: plan.batchId,
        index: spec.index,
        range: { start: spec.start, end: spec.end },
        counts: emptyCounts(),
        bytesRead: meter.bytes,
        fileError,
      };
    } else {
      const partFile = path.join(work, 'part.parquet');
      const part = await parts.finish(partFile);
      let partOut: ChunkResult['part'];
      if (part !== undefined) {
        const key = stagedPartKey(plan.dataset, plan.batchId, spec.index);
        const put = await store.put({ bucket: curated, key }, fs.createReadStream(partFile), {
          contentType: 'application/vnd.apache.parquet',
          contentLength: part.bytes,
        });
        crashPoint('chunk:part-written');
        partOut = { key, bytes: part.bytes, rows: part.rows, etag: put.etag };
      }
      let rejectedOut: ChunkResult['rejected'];
      if (rejectedBytes !== undefined) {
        const key = rejectedKey(plan.dataset, plan.batchId, spec.index);
        await store.put({ bucket: plan.buckets.quarantine, key }, fs.createReadStream(bad.file), { contentType: 'text/csv', contentLength: rejectedBytes });
        rejectedOut = { key, bytes: rejectedBytes, rows: bad.rows };
        crashPoint('chunk:rejected-written');
      }
      result = {
        batchId: plan.batchId,
        index: spec.index,
        range: { start: spec.start, end: spec.end },
        counts,
        bytesRead: meter.bytes,
        ...(partOut === undefined ? {} : { part: partOut }),
        ...(rejectedOut === undefined ? {} : { rejected: rejectedOut }),
        ...(sha256 === undefined ? {} : { sha256 }),
      };
    }
    await store.put({ bucket: curated, key: chunkResultKey(plan.dataset, plan.batchId, spec.index) }, json(result), { contentType: 'application/json' });
    crashPoint('chunk:result-written');
    return result;
  } finally {
    // Closed on every path (a failed read included) before the folder goes.
    writer?.close();
    rejected?.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// commit
// ---------------------------------------------------------------------------------------

export interface CommitBatchInput {
  readonly store: ObjectStore;
  readonly plan: BatchPlan;
  /** @default now */
  readonly now?: Date;
}

export interface CommitResult {
  readonly manifest: Manifest;
  /** True when the manifest was already there: nothing was written. */
  readonly alreadyCommitted: boolean;
}

async function sha256Of(store: ObjectStore, plan: BatchPlan): Promise<string> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const piece of await readLanded(store, plan.source)) {
    read += piece.byteLength;
    hash.update(piece);
  }
  checkReadLength(plan.source, 0, plan.source.size, read);
  return hash.digest('hex');
}

/** What the delivery record says: the batch that committed the content. */
interface DeliveryRecord {
  readonly batchId: string;
  readonly sha256: string;
  readonly source: { readonly bucket: string; readonly key: string };
  readonly claimedAt: string;
}

/**
 * Claims the content for this batch (a conditional write, so of two batches committing the
 * same content at once exactly one wins), or returns the earlier batch that holds it. A retry
 * of this batch finds its own claim and goes on.
 */
async function claimDelivery(store: ObjectStore, plan: BatchPlan, sha256: string, at: string): Promise<(DeliveryRecord & { committed: boolean }) | undefined> {
  const ref = { bucket: plan.buckets.curated, key: deliveryKey(plan.dataset, sha256) };
  const record: DeliveryRecord = { batchId: plan.batchId, sha256, source: { bucket: plan.source.bucket, key: plan.source.key }, claimedAt: at };
  if (await store.putIfAbsent(ref, json(record), { contentType: 'application/json' })) return undefined;
  const existing = await readJson<DeliveryRecord>(store, ref);
  if (existing === undefined || existing.batchId === plan.batchId) return undefined;
  const committed = (await store.head({ bucket: plan.buckets.curated, key: manifestKey(plan.dataset, existing.batchId) })) !== undefined;
  return { ...existing, committed };
}

function duplicateDelivery(earlier: DeliveryRecord & { committed: boolean }, sha256: string): FileError {
  const state = earlier.committed ? 'was committed' : 'is being committed (or its commit was interrupted: run that batch again)';
  return {
    code: 'duplicate_delivery',
    message:
      `the same content (SHA-256 ${sha256}) ${state} as batch ${earlier.batchId}, delivered as s3://${earlier.source.bucket}/${earlier.source.key}: ` +
      'nothing of this delivery is ingested again. If it was sent twice by mistake, nothing needs doing; if the earlier batch must be replaced, remove it first (see docs/ingestion.md)',
    duplicateOf: earlier.batchId,
  };
}

function sumCounts(results: readonly ChunkResult[]): RowCounts {
  let total = emptyCounts();
  for (const r of results) total = addCounts(total, { ...r.counts, rejectedByReason: { ...r.counts.rejectedByReason } });
  return total;
}

/**
 * Puts the batch's curated rows in its partition as one object (see the commit rule above)
 * and says what it wrote; nothing when no row was written.
 */
async function publishBatchData(store: ObjectStore, plan: BatchPlan, results: readonly ChunkResult[]): Promise<ManifestOutput[]> {
  const curated = plan.buckets.curated;
  const parts = results.flatMap((r) => (r.part === undefined ? [] : [r.part]));
  const to = { bucket: curated, key: curatedBatchKey(plan.dataset, plan.loadDate, plan.batchId) };
  if (parts.length === 0) return [];
  // Each part pinned to the version its footer is read from (the curated bucket is versioned
  // on AWS), so a late duplicate of a chunk rewriting its part cannot pair one footer with
  // other bytes; and checked to be the size (and ETag) its chunk reported.
  const staged = await mapConcurrently(parts, COMMIT_CONCURRENCY, async (part) => {
    const head = await store.head({ bucket: curated, key: part.key });
    if (head?.size !== part.bytes)
      throw new Error(
        `batch ${plan.batchId}: staged part s3://${curated}/${part.key} is ${head === undefined ? 'missing' : `${head.size} bytes`}, its chunk wrote ${part.bytes}: run the chunk again`,
      );
    if (part.etag !== undefined && head.etag !== part.etag)
      throw new Error(
        `batch ${plan.batchId}: staged part s3://${curated}/${part.key} is not the object its chunk wrote (ETag ${head.etag}, not ${part.etag}): run the chunk again`,
      );
    return { bucket: curated, key: part.key, ...(head.versionId === undefined ? {} : { versionId: head.versionId }) };
  });
  if (parts.length === 1) {
    await store.copy(staged[0], to);
    return [{ key: to.key, bytes: parts[0].bytes, rows: parts[0].rows }];
  }
  const footers = await mapConcurrently(staged, COMMIT_CONCURRENCY, (ref, i) => readParquetFooter(store, ref, parts[i].bytes));
  const joined = planParquetConcat(
    footers,
    parts.map((p) => `s3://${curated}/${p.key}`),
  );
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  if (joined.rows !== rows)
    throw new Error(`batch ${plan.batchId}: the staged parts' footers hold ${joined.rows} rows, their chunk results ${rows}: refusing to commit`);
  const pieces = joined.segments.map((s) => ('bytes' in s ? s : { from: staged[s.part], start: s.start, end: s.end }));
  await store.compose(to, pieces, { contentType: 'application/vnd.apache.parquet' });
  // One HEAD before the manifest names it: a joined object of the wrong length is never committed.
  const written = await store.head(to);
  if (written?.size !== joined.bytes)
    throw new Error(
      `batch ${plan.batchId}: s3://${to.bucket}/${to.key} has ${written?.size ?? 'no'} bytes, the join planned ${joined.bytes}: refusing to commit`,
    );
  return [{ key: to.key, bytes: joined.bytes, rows }];
}

export async function commitBatch(input: CommitBatchInput): Promise<CommitResult> {
  const { store, plan } = input;
  const staging = stagingPrefix(plan.dataset, plan.batchId);
  const already = async (manifest: Manifest): Promise<CommitResult> => {
    await tidyAfterCommit(store, plan, manifest, staging);
    return { manifest, alreadyCommitted: true };
  };
  const existing = await readManifest(store, plan);
  if (existing !== undefined) return already(existing);
  // Another committer of the batch may win while this one runs (and clear the staging it reads).
  const outcome = await orAlreadyCommitted(
    store,
    plan,
    () => commitOnce(input),
    (m) => ({ manifest: m, written: false }),
  );
  if (!outcome.written) return already(outcome.manifest);
  crashPoint('commit:manifest-written');
  await tidyAfterCommit(store, plan, outcome.manifest, staging);
  return { manifest: outcome.manifest, alreadyCommitted: false };
}

/** Reads the chunk results, publishes the data (or quarantines the file) and writes the manifest once. */
async function commitOnce(input: CommitBatchInput): Promise<{ manifest: Manifest; written: boolean }> {
  const { store, plan } = input;
  const curated = plan.buckets.curated;
  const results = await mapConcurrently(plan.chunks, COMMIT_CONCURRENCY, async (spec) => {
    const ref = { bucket: curated, key: chunkResultKey(plan.dataset, plan.batchId, spec.index) };
    const result = await readJson<ChunkResult>(store, ref);
    if (result === undefined)
      throw new Error(
        `batch ${plan.batchId}: chunk ${spec.index} of ${plan.chunks.length} has not finished (no s3://${ref.bucket}/${ref.key}): run it before committing`,
      );
    // Only a result of this plan's range, read whole, counts: never part of a file.
    const range = result.range;
    if (range !== undefined && (range.start !== spec.start || range.end !== spec.end))
      throw new Error(
        `batch ${plan.batchId}: the result of chunk ${spec.index} covers bytes [${range.start}, ${range.end}), this plan's chunk [${spec.start}, ${spec.end}) (another run chunked the batch otherwise): run the chunk again`,
      );
    if (result.fileError === undefined && result.bytesRead !== spec.end - spec.start)
      throw new Error(`batch ${plan.batchId}: chunk ${spec.index} read ${result.bytesRead} of its ${spec.end - spec.start} bytes: run the chunk again`);
    return result;
  });
  const counts = sumCounts(results);
  let fileError: FileError | undefined =
    results.find((r) => r.fileError !== undefined)?.fileError ??
    (counts.rowsRead === 0 ? { code: 'no_data_rows', message: 'the file has a header but no data rows: nothing to ingest (was it cut short?)' } : undefined);
  const sha256 = plan.inputSha256 ?? results[0]?.sha256 ?? (await sha256Of(store, plan));
  const committedAt = (input.now ?? new Date()).toISOString();
  // Content already committed (under any name, any config version) is not committed again.
  const earlier = fileError === undefined ? await claimDelivery(store, plan, sha256, committedAt) : undefined;
  if (earlier !== undefined) fileError = duplicateDelivery(earlier, sha256);
  const common = {
    manifestVersion: MANIFEST_VERSION,
    batchId: plan.batchId,
    dataset: plan.dataset,
    source: { ...plan.source, sha256 },
    schemaVersion: plan.schemaVersion,
    loadDate: plan.loadDate,
    chunkCount: plan.chunks.length,
  };

  let manifest: Manifest;
  if (fileError !== undefined) {
    // The whole file to quarantine, with why; nothing of it reaches curated.
    const q = plan.buckets.quarantine;
    const sourceKey = quarantinedSourceKey(plan.dataset, plan.batchId);
    const reportKey = errorReportKey(plan.dataset, plan.batchId);
    // Streamed, not copied: the supplier's key may hold any character, and the file may be
    // over CopyObject's 5 GiB limit. Pinned to the version the batch was planned on.
    await store.put({ bucket: q, key: sourceKey }, Readable.from(await readLanded(store, plan.source)), {
      contentType: 'text/csv',
      contentLength: plan.source.size,
    });
    const report: ErrorReport = {
      reportVersion: 1,
      batchId: plan.batchId,
      dataset: plan.dataset,
      source: plan.source,
      error: fileError,
      quarantinedAs: `s3://${q}/${sourceKey}`,
      reportedAt: committedAt,
    };
    await store.put({ bucket: q, key: reportKey }, json(report), { contentType: 'application/json' });
    for (const r of results) if (r.rejected !== undefined) await store.delete({ bucket: q, key: r.rejected.key });
    manifest = {
      ...common,
      status: 'quarantined',
      ...emptyCounts(),
      outputs: [],
      rejectedFiles: [],
      quarantine: { bucket: q, source: sourceKey, errorReport: reportKey, error: fileError },
      committedAt,
    };
  } else {
    if (counts.rowsRead !== counts.rowsWritten + counts.rowsRejected + counts.rowsOptedOut) {
      throw new Error(`batch ${plan.batchId}: rows read (${counts.rowsRead}) are not the sum of written, rejected and opted out: refusing to commit`);
    }
    // Narrows the window in which a late committer rewrites a batch another has committed.
    const winner = await readManifest(store, plan);
    if (winner !== undefined) return { manifest: winner, written: false };
    const outputs = await publishBatchData(store, plan, results);
    crashPoint('commit:data-published');
    const rejectedFiles = results.flatMap((r) => (r.rejected === undefined ? [] : [{ ...r.rejected }]));
    manifest = { ...common, status: 'committed', ...counts, outputs, rejectedFiles, committedAt };
  }
  // The commit point: the manifest, written once.
  return writeManifestOnce(store, plan, manifest);
}
