/**
 * A later opt-out list applied to curated data, in three steps that the AWS state machine
 * runs as three Lambdas (plan, a Distributed Map of batch rewrites, finish) and the local
 * runtime (`sde optout apply`) runs in one process, through these same functions:
 *
 *   planOptOut     which batches hold people on the list, found through each batch's
 *                  pseudonym index (built where missing or stale); refuses a list that would
 *                  remove more than the configured share of a dataset unless overridden;
 *                  writes the plan (batches, counts) once per list.
 *   rewriteBatch   one batch: its object replaced by the same rows without the listed
 *                  people, then its manifest updated, each a conditional write on the ETag read.
 *   finishOptOut   checks every planned batch records the list, writes the run's record and
 *                  its public trace (counts in the key, for the audit trail and the register).
 *
 * The rewrite rule (what makes it atomic, idempotent and resumable):
 *  - the batch's data is one object replaced by one PutObject, so every reader (Athena, the
 *    local query engine) sees the old rows or the new ones, never a mix; versioning keeps
 *    the old version under the bucket's lifecycle (docs/ingestion.md#later-opt-outs);
 *  - the replacement is conditional on the ETag the job read (If-Match), and so is the
 *    manifest's update: a batch changed in between is not overwritten;
 *  - a batch has applied a list exactly when its manifest records the list's SHA-256: a
 *    second run finds it there and writes nothing;
 *  - before replacing, the job writes an intent (the ETag it replaces, the rows it removes,
 *    the SHA-256 of the new object): a run cut between the replacement and the manifest
 *    finds the new object by its SHA-256 and finishes the manifest with the counts it meant.
 *
 * No pseudonym or NHS number is written anywhere by these steps except the rewritten batch
 * and its index; records, logs and errors carry datasets, batch ids, counts and checksums.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DatasetConfig } from '../config/schema';
import { manifestKey, MANIFEST_PREFIX } from '../ingest/layout';
import type { Manifest, OptOutApplication } from '../ingest/manifest';
import { readSmallObject, type ObjectHead, type ObjectRef, type ObjectStore } from '../ingest/object-store';
import type { RewriteStore } from './conditional-put';
import { appliedTraceKey, intentKey, pseudonymIndexKey, runDoneKey, runItemsKey, runPlanKey } from './layout';
import type { OptOutList } from './list';
import { rowsPerPerson, withoutPeople } from './parquet-filter';
import { decodeIndex, encodeIndex, IndexFormatError, matchIndex, sortedPseudonyms, type PseudonymIndex } from './pseudonym-index';
import { optOutTarget } from './targets';

export const PLAN_VERSION = 1;

export interface OptOutContext {
  readonly store: RewriteStore;
  readonly curatedBucket: string;
  /** Where temporary files go (a private folder is made inside and removed). @default os.tmpdir() */
  readonly tmpDir?: string;
  /** @default the system clock */
  readonly now?: () => Date;
}

export interface PlannedBatch {
  readonly dataset: string;
  readonly batchId: string;
  /** The curated column holding the pseudonym the list is matched on. */
  readonly column: string;
  readonly rowsToRemove: number;
}

export interface DatasetPlan {
  readonly dataset: string;
  /** Why the job does not touch it; absent when it does. */
  readonly skipped?: string;
  readonly batches: number;
  readonly rows: number;
  readonly rowsToRemove: number;
}

export interface OptOutPlan {
  readonly planVersion: number;
  readonly listSha256: string;
  readonly listDate: string;
  readonly listEntries: number;
  /** The list object's version on AWS, so every batch rewrite reads the same list. */
  readonly listVersionId?: string;
  readonly plannedAt: string;
  /** People on the list found in curated data (each counted once, across every dataset). */
  readonly people: number;
  readonly maxRemovedShare: number;
  /** True when someone chose to apply a list above the share. */
  readonly override: boolean;
  readonly datasets: readonly DatasetPlan[];
  readonly items: readonly PlannedBatch[];
}

export interface OptOutRunRecord {
  readonly recordVersion: number;
  readonly listSha256: string;
  readonly listDate: string;
  readonly listEntries: number;
  readonly plannedAt: string;
  readonly finishedAt: string;
  readonly people: number;
  readonly rowsRemoved: number;
  readonly batchesRewritten: number;
  readonly override: boolean;
  readonly datasets: readonly (DatasetPlan & { readonly rowsRemoved: number })[];
  /** The key of the public trace (counts in the key). */
  readonly trace: string;
}

/** A list that would remove more than the configured share of a dataset: nothing was changed. */
export class OptOutRefused extends Error {
  constructor(
    readonly over: readonly { dataset: string; rows: number; rowsToRemove: number }[],
    share: number,
  ) {
    super(
      `the opt-out list would remove more than ${(share * 100).toFixed(1)}% of ${over
        .map((o) => `${o.dataset} (${o.rowsToRemove} of ${o.rows} rows, ${((o.rowsToRemove / o.rows) * 100).toFixed(1)}%)`)
        .join(', ')}: nothing was changed. Check it is the national data opt-out list and not another file; ` +
        'if it is right, apply it with the override (sde optout apply --override; on AWS the execution input {"override": true})',
    );
    this.name = 'OptOutRefused';
  }
}

/** A batch changed (re-ingested, or rewritten by another run) between the job's read and its write: run again. */
export class BatchChanged extends Error {}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

async function readJson<T>(store: ObjectStore, ref: ObjectRef): Promise<T | undefined> {
  const body = await readSmallObject(store, ref);
  return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
}

async function withTmp<T>(ctx: OptOutContext, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(ctx.tmpDir ?? os.tmpdir(), 'sde-optout-'));
  try {
    return await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Downloads an object (pinned to the version headed) into `file`; its SHA-256. */
async function download(store: ObjectStore, head: ObjectHead, file: string): Promise<string> {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    for await (const piece of await store.get(head, undefined, head.versionId)) {
      hash.update(piece);
      fs.writeSync(fd, piece);
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The committed manifests of a dataset (`_manifests/<dataset>/<batch>.json`), in key order. */
async function manifestsOf(ctx: OptOutContext, dataset: string): Promise<{ ref: ObjectRef; manifest: Manifest }[]> {
  const prefix = `${MANIFEST_PREFIX}/${dataset}/`;
  const out: { ref: ObjectRef; manifest: Manifest }[] = [];
  for (const o of await ctx.store.objects.list(ctx.curatedBucket, prefix)) {
    const name = o.key.slice(prefix.length);
    if (!/^[0-9a-f]{24}\.json$/.test(name)) continue;
    const ref = { bucket: ctx.curatedBucket, key: o.key };
    const manifest = await readJson<Manifest>(ctx.store.objects, ref);
    if (manifest?.status === 'committed' && manifest.outputs.length > 0) out.push({ ref, manifest });
  }
  return out;
}

function onlyOutput(manifest: Manifest): { readonly key: string } {
  // One batch is one curated object (lib/ingest/README.md): that is what makes the replacement atomic.
  if (manifest.outputs.length !== 1)
    throw new Error(`batch ${manifest.batchId} of ${manifest.dataset} has ${manifest.outputs.length} data objects, not one: it cannot be replaced atomically`);
  return { key: manifest.outputs[0].key };
}

/** The batch's pseudonym index, rebuilt (and stored) when missing, stale or for another column; undefined when it needs building and `mayBuild` says no. */
export async function ensureIndex(
  ctx: OptOutContext,
  dataset: string,
  batchId: string,
  data: ObjectHead,
  column: string,
  build: { readonly mayBuild?: () => boolean; readonly onBuilt?: () => void } = {},
): Promise<PseudonymIndex | undefined> {
  const ref = { bucket: ctx.curatedBucket, key: pseudonymIndexKey(dataset, batchId) };
  const stored = await readSmallObject(ctx.store.objects, ref, 1 << 30);
  if (stored !== undefined) {
    try {
      const index = decodeIndex(stored);
      if (index.header.etag === data.etag && index.header.column === column) return index;
    } catch (e) {
      if (!(e instanceof IndexFormatError)) throw e;
    }
  }
  if (build.mayBuild?.() === false) return undefined;
  return withTmp(ctx, async (dir) => {
    const file = path.join(dir, 'batch.parquet');
    await download(ctx.store.objects, data, file);
    const counts = await rowsPerPerson(file, column);
    const bytes = encodeIndex(data.etag, column, counts.rows, counts.people);
    await ctx.store.objects.put(ref, bytes, { contentType: 'application/octet-stream' });
    build.onBuilt?.();
    return decodeIndex(bytes);
  });
}

export interface PlanOptOutInput extends OptOutContext {
  readonly datasets: readonly DatasetConfig[];
  readonly list: OptOutList;
  /** The list's pseudonyms under the platform key (listPseudonyms). */
  readonly pseudonyms: ReadonlySet<string>;
  readonly maxRemovedShare: number;
  /** Apply a list above the share. @default false */
  readonly override?: boolean;
  /**
   * Stop building missing indexes at this time (ms since the epoch) and report `indexing`:
   * a first run over many batches spans several plan invocations (each keeps the indexes it
   * built) instead of failing at the Lambda's time limit. @default no limit
   */
  readonly buildIndexesUntil?: number;
}

export type PlanOutcome =
  | { readonly status: 'planned'; readonly plan: OptOutPlan; readonly resumed: boolean }
  | { readonly status: 'already-applied'; readonly record: OptOutRunRecord }
  | { readonly status: 'indexing'; readonly indexesBuilt: number };

/**
 * Plans the run for a list, or picks up the plan an earlier (cut) run of the same list
 * wrote, or reports that the list was applied already. Writes the plan and the Map's items.
 */
export async function planOptOut(input: PlanOptOutInput): Promise<PlanOutcome> {
  const { store, curatedBucket: bucket, list } = input;
  const done = await readJson<OptOutRunRecord>(store.objects, { bucket, key: runDoneKey(list.sha256) });
  if (done !== undefined) return { status: 'already-applied', record: done };
  const earlier = await readJson<OptOutPlan>(store.objects, { bucket, key: runPlanKey(list.sha256) });
  if (earlier !== undefined) return { status: 'planned', plan: earlier, resumed: true };

  const datasets: DatasetPlan[] = [];
  const items: PlannedBatch[] = [];
  const found = new Set<string>();
  const wanted = sortedPseudonyms(input.pseudonyms);
  let built = 0;
  const now = () => input.now?.().getTime() ?? Date.now();
  for (const config of input.datasets) {
    const target = optOutTarget(config);
    if ('skipped' in target) {
      datasets.push({ dataset: config.name, skipped: target.skipped, batches: 0, rows: 0, rowsToRemove: 0 });
      continue;
    }
    let rows = 0;
    let rowsToRemove = 0;
    const batches = await manifestsOf(input, config.name);
    for (const { manifest } of batches) {
      const dataRef = { bucket, key: onlyOutput(manifest).key };
      const head = await store.objects.head(dataRef);
      if (head === undefined)
        throw new Error(`batch ${manifest.batchId} of ${config.name}: its manifest names s3://${bucket}/${dataRef.key}, which is missing`);
      // Only building is bounded: matching indexes already built always finishes the plan.
      const mayBuild = () => input.buildIndexesUntil === undefined || now() <= input.buildIndexesUntil;
      const index = await ensureIndex(input, config.name, manifest.batchId, head, target.column, { mayBuild, onBuilt: () => built++ });
      if (index === undefined) return { status: 'indexing', indexesBuilt: built };
      const match = matchIndex(index, wanted);
      rows += index.header.rows;
      if (match.rows > 0) {
        rowsToRemove += match.rows;
        for (const p of match.people) found.add(p);
        items.push({ dataset: config.name, batchId: manifest.batchId, column: target.column, rowsToRemove: match.rows });
      }
    }
    datasets.push({ dataset: config.name, batches: batches.length, rows, rowsToRemove });
  }
  const over = datasets.filter((d) => d.rows > 0 && d.rowsToRemove / d.rows > input.maxRemovedShare);
  if (over.length > 0 && input.override !== true) throw new OptOutRefused(over, input.maxRemovedShare);

  const plan: OptOutPlan = {
    planVersion: PLAN_VERSION,
    listSha256: list.sha256,
    listDate: list.date,
    listEntries: list.numbers.size,
    ...(list.versionId === undefined ? {} : { listVersionId: list.versionId }),
    plannedAt: (input.now?.() ?? new Date()).toISOString(),
    people: found.size,
    maxRemovedShare: input.maxRemovedShare,
    override: input.override === true,
    datasets,
    items,
  };
  await store.objects.put(
    { bucket, key: runItemsKey(list.sha256) },
    json(items.map((i) => ({ listSha256: list.sha256, dataset: i.dataset, batchId: i.batchId }))),
    { contentType: 'application/json' },
  );
  // Once per list: of two runs planning at once, the first plan stands and both follow it.
  if (!(await store.objects.putIfAbsent({ bucket, key: runPlanKey(list.sha256) }, json(plan), { contentType: 'application/json' }))) {
    const winner = await readJson<OptOutPlan>(store.objects, { bucket, key: runPlanKey(list.sha256) });
    if (winner !== undefined) return { status: 'planned', plan: winner, resumed: true };
  }
  return { status: 'planned', plan, resumed: false };
}

/** Reads back the stored plan of a list (a Map item names only the list, dataset and batch). */
export async function loadOptOutPlan(store: ObjectStore, bucket: string, listSha256: string): Promise<OptOutPlan> {
  const plan = await readJson<OptOutPlan>(store, { bucket, key: runPlanKey(listSha256) });
  if (plan === undefined)
    throw new Error(`no opt-out plan for list ${listSha256.slice(0, 16)}... in s3://${bucket}/${runPlanKey(listSha256)}: run the plan step first`);
  return plan;
}

interface Intent {
  readonly fromEtag: string;
  readonly rowsBefore: number;
  readonly rowsAfter: number;
  readonly bytesAfter: number;
  readonly sha256After: string;
}

export interface RewriteBatchInput extends OptOutContext {
  readonly plan: OptOutPlan;
  readonly dataset: string;
  readonly batchId: string;
  /** The list's pseudonyms under the platform key (the list must be the plan's: its SHA-256 is checked by the caller). */
  readonly pseudonyms: ReadonlySet<string>;
}

export interface BatchOutcome {
  readonly dataset: string;
  readonly batchId: string;
  readonly status: 'rewritten' | 'already-applied';
  readonly rowsRemoved: number;
}

/** Replaces one batch's object without the listed people's rows and records the list in its manifest (idempotent). */
export async function rewriteBatch(input: RewriteBatchInput): Promise<BatchOutcome> {
  const { store, curatedBucket: bucket, plan, dataset, batchId } = input;
  const item = plan.items.find((i) => i.dataset === dataset && i.batchId === batchId);
  if (item === undefined) throw new Error(`batch ${batchId} of ${dataset} is not in the plan of list ${plan.listSha256.slice(0, 16)}...`);
  const mRef = { bucket, key: manifestKey(dataset, batchId) };
  const mHead = await store.objects.head(mRef);
  const manifest = mHead === undefined ? undefined : await readJson<Manifest>(store.objects, mRef);
  if (mHead === undefined || manifest === undefined) throw new Error(`batch ${batchId} of ${dataset} has no manifest at s3://${bucket}/${mRef.key}`);
  const applied = manifest.optOutApplied?.find((a) => a.listSha256 === plan.listSha256);
  if (applied !== undefined) return { dataset, batchId, status: 'already-applied', rowsRemoved: applied.rowsRemoved };

  const dataRef = { bucket, key: onlyOutput(manifest).key };
  const iRef = { bucket, key: intentKey(plan.listSha256, dataset, batchId) };
  const dHead = await store.objects.head(dataRef);
  if (dHead === undefined) throw new Error(`batch ${batchId} of ${dataset}: s3://${bucket}/${dataRef.key} is missing`);
  const intent = await readJson<Intent>(store.objects, iRef);

  const after = await withTmp(input, async (dir) => {
    const current = path.join(dir, 'current.parquet');
    if (intent !== undefined && dHead.etag !== intent.fromEtag) {
      // Cut after the replacement: the object must be exactly the one the intent meant.
      if ((await download(store.objects, dHead, current)) !== intent.sha256After) {
        throw new BatchChanged(`batch ${batchId} of ${dataset} changed since this run meant to rewrite it (re-ingested?): apply the list again`);
      }
      return { rowsBefore: intent.rowsBefore, rowsAfter: intent.rowsAfter, bytesAfter: intent.bytesAfter, etag: dHead.etag };
    }
    await download(store.objects, dHead, current);
    const out = path.join(dir, 'rewritten.parquet');
    const counts = await withoutPeople(current, out, item.column, input.pseudonyms);
    if (counts.rowsBefore !== manifest.outputs[0].rows) {
      throw new BatchChanged(
        `batch ${batchId} of ${dataset}: its object holds ${counts.rowsBefore} rows, its manifest ${manifest.outputs[0].rows}: refusing to rewrite`,
      );
    }
    if (counts.rowsAfter === counts.rowsBefore) return { ...counts, bytesAfter: dHead.size, etag: dHead.etag };
    const bytesAfter = fs.statSync(out).size;
    const next: Intent = { fromEtag: dHead.etag, rowsBefore: counts.rowsBefore, rowsAfter: counts.rowsAfter, bytesAfter, sha256After: sha256File(out) };
    await store.objects.put(iRef, json(next), { contentType: 'application/json' });
    const replaced = await store.replaceIfMatch(dataRef, fs.readFileSync(out), dHead.etag, { contentType: 'application/vnd.apache.parquet' });
    if (replaced === undefined) throw new BatchChanged(`batch ${batchId} of ${dataset} changed while it was being rewritten: apply the list again`);
    // The index of the new object, from the file in hand (a stale one would only be rebuilt later).
    const people = await rowsPerPerson(out, item.column);
    await store.objects.put({ bucket, key: pseudonymIndexKey(dataset, batchId) }, encodeIndex(replaced.etag, item.column, people.rows, people.people), {
      contentType: 'application/octet-stream',
    });
    return { ...counts, bytesAfter, etag: replaced.etag };
  });

  const removed = after.rowsBefore - after.rowsAfter;
  const application: OptOutApplication = {
    listSha256: plan.listSha256,
    listDate: plan.listDate,
    rowsRemoved: removed,
    appliedAt: (input.now?.() ?? new Date()).toISOString(),
  };
  const updated: Manifest = {
    ...manifest,
    rowsWritten: manifest.rowsWritten - removed,
    rowsRemovedForOptOut: (manifest.rowsRemovedForOptOut ?? 0) + removed,
    outputs: [{ ...manifest.outputs[0], rows: after.rowsAfter, bytes: after.bytesAfter }],
    optOutApplied: [...(manifest.optOutApplied ?? []), application],
  };
  if ((await store.replaceIfMatch(mRef, Buffer.from(json(updated)), mHead.etag, { contentType: 'application/json' })) === undefined) {
    throw new BatchChanged(`the manifest of batch ${batchId} of ${dataset} changed while the list was applied: apply the list again`);
  }
  await store.objects.delete(iRef);
  return { dataset, batchId, status: 'rewritten', rowsRemoved: removed };
}

/** A planned batch whose manifest does not record the list yet: the run is not finished. */
export class RunNotFinished extends Error {}

/** Checks every planned batch, then writes the run's record and its public trace (idempotent). */
export async function finishOptOut(ctx: OptOutContext & { readonly listSha256: string }): Promise<OptOutRunRecord> {
  const { store, curatedBucket: bucket } = ctx;
  const doneRef = { bucket, key: runDoneKey(ctx.listSha256) };
  const existing = await readJson<OptOutRunRecord>(store.objects, doneRef);
  if (existing !== undefined) return existing;
  const plan = await loadOptOutPlan(store.objects, bucket, ctx.listSha256);
  const removedBy = new Map<string, number>();
  const missing: string[] = [];
  for (const item of plan.items) {
    const manifest = await readJson<Manifest>(store.objects, { bucket, key: manifestKey(item.dataset, item.batchId) });
    const applied = manifest?.optOutApplied?.find((a) => a.listSha256 === plan.listSha256);
    if (applied === undefined) missing.push(`${item.dataset}/${item.batchId}`);
    else removedBy.set(item.dataset, (removedBy.get(item.dataset) ?? 0) + applied.rowsRemoved);
  }
  if (missing.length > 0) {
    throw new RunNotFinished(
      `${missing.length} planned batch(es) do not record the list yet (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}): run them first`,
    );
  }
  const rowsRemoved = [...removedBy.values()].reduce((a, b) => a + b, 0);
  const trace = appliedTraceKey(plan.listSha256, plan.listDate, plan.people, rowsRemoved);
  const record: OptOutRunRecord = {
    recordVersion: 1,
    listSha256: plan.listSha256,
    listDate: plan.listDate,
    listEntries: plan.listEntries,
    plannedAt: plan.plannedAt,
    finishedAt: (ctx.now?.() ?? new Date()).toISOString(),
    people: plan.people,
    rowsRemoved,
    batchesRewritten: plan.items.length,
    override: plan.override,
    datasets: plan.datasets.map((d) => ({ ...d, rowsRemoved: removedBy.get(d.dataset) ?? 0 })),
    trace,
  };
  // The trace first: a cut before the record leaves a trace the next finish writes again (same key, same counts).
  await store.objects.put({ bucket, key: trace }, '{}\n', { contentType: 'application/json' });
  if (!(await store.objects.putIfAbsent(doneRef, json(record), { contentType: 'application/json' }))) {
    return (await readJson<OptOutRunRecord>(store.objects, doneRef)) ?? record;
  }
  return record;
}

export interface ApplyOptOutInput extends PlanOptOutInput {
  /** Called after each batch (progress; tests cut the run here). */
  readonly onBatch?: (outcome: BatchOutcome, index: number, of: number) => void;
}

export type ApplyOutcome =
  | { readonly status: 'applied'; readonly record: OptOutRunRecord; readonly resumed: boolean; readonly batches: readonly BatchOutcome[] }
  | { readonly status: 'already-applied'; readonly record: OptOutRunRecord };

/** The whole run in one process (the local runtime): plan, every batch in turn, finish. */
export async function applyOptOut(input: ApplyOptOutInput): Promise<ApplyOutcome> {
  const planned = await planOptOut(input);
  if (planned.status === 'already-applied') return planned;
  if (planned.status === 'indexing') throw new Error('planOptOut stopped building indexes: applyOptOut gives it no time limit');
  const batches: BatchOutcome[] = [];
  for (const [i, item] of planned.plan.items.entries()) {
    const outcome = await rewriteBatch({ ...input, plan: planned.plan, dataset: item.dataset, batchId: item.batchId });
    batches.push(outcome);
    input.onBatch?.(outcome, i, planned.plan.items.length);
  }
  const record = await finishOptOut({ ...input, listSha256: planned.plan.listSha256 });
  return { status: 'applied', record, resumed: planned.resumed, batches };
}
