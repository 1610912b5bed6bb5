/**
 * `sde ingest` killed and raced, as operators and retries do, each run a real child process
 * against its own local S3 API over one workdir:
 * - killed (SIGKILL) at each named crash point in plan, chunk, commit and the audit writer,
 *   then run again: the final state equals a clean run's, `audit verify` passes;
 * - killed at 20 random moments, each followed by a rerun: the same;
 * - 5 runs of one file at once, twice (the first time with 2 other files beside them), while
 *   a reader syncs the query cache over and over (it sees each batch whole or not at all): exactly
 *   one batch of each file, one manifest write each, every other run says "Already ingested" and exits 0,
 *   no stack trace anywhere, and the final state equals a clean run's.
 * "The state" is every object in the landing, curated and quarantine buckets, byte for byte
 * (the commit and claim times aside).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTrail } from '../../lib/audit/cloudtrail-reader';
import { verifyTrail } from '../../lib/audit/verify';
import { loadConfig } from '../../lib/config';
import { CRASH_POINTS, CrashPoint } from '../../lib/config/crash-points';
import type { Manifest } from '../../lib/ingest/manifest';
import { S3ObjectStore } from '../../lib/ingest/s3-object-store';
import { syncCurated } from '../../lib/query/sync-curated';
import { startLocalS3 } from '../../lib/local/s3-api/server';
import { generatePopulation, PopulationGeneration } from '../../lib/local/synthetic/population';
import { bucketNames, workdirLayout } from '../../lib/local/workdir';
import { EXAMPLE_CONFIG, REPO_ROOT, TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const buckets = bucketNames(config);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-race-'));
const KEY_HEX = createHash('sha256').update('crash-and-race test key').digest('hex');
/** Small chunks, so one file is planned, chunked (4 chunks) and joined. */
const CHUNK = '40000';
let population: PopulationGeneration;
let clean: Map<string, string>;
let cleanMs = 0;
let workdirs = 0;

beforeAll(async () => {
  population = await generatePopulation({ config, outDir: path.join(root, 'generated'), people: 300, seed: 25 });
  const dir = newWorkdir();
  const started = Date.now();
  const run = await sde(dir, 'hospital_episodes');
  cleanMs = Date.now() - started;
  expect(run).toMatchObject({ code: 0, signal: null });
  clean = await stateOf(dir);
}, 120_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const fileOf = (dataset: string) => population.datasets.find((d) => d.dataset === dataset)!.file;

/** A fresh workdir holding only the pseudonymisation key every run here shares (so curated bytes compare). */
function newWorkdir(): string {
  const dir = path.join(root, `w${++workdirs}`);
  const keys = workdirLayout(dir).keys;
  fs.mkdirSync(keys, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(keys, 'pseudonym.key'), KEY_HEX, { mode: 0o600 });
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
}

function start(workdir: string, dataset: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const args = ['bin/sde.js', 'ingest', '--dataset', dataset, '--file', fileOf(dataset), '--config', EXAMPLE_CONFIG, '--workdir', workdir];
  const child = spawn(process.execPath, [...args, '--opt-out', population.optOutFile, '--chunk-size', CHUNK], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'test', SDE_TODAY: TEST_TODAY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return { child, done };
}

const sde = (workdir: string, dataset: string, env?: Record<string, string>) => start(workdir, dataset, env).done;

/** A finished run: exit 0, a manifest on stdout, nothing on stderr but "Already ingested", never a stack trace. */
function expectClean(run: Run): void {
  expect(run.err).not.toMatch(/^\s+at /m);
  expect(run.err.replace(/Already ingested \(batch [0-9a-f]{24}\): nothing changed\.\n?/, '')).toBe('');
  expect(run).toMatchObject({ code: 0, signal: null });
  expect(JSON.parse(run.out)).toMatchObject({ status: 'committed' });
}

/** Every object of the three buckets, by bucket and key: its SHA-256, JSON with its times removed. */
async function stateOf(workdir: string): Promise<Map<string, string>> {
  const s3 = await startLocalS3({ directory: workdirLayout(workdir).s3, buckets: [buckets.landing, buckets.curated, buckets.quarantine] });
  try {
    const store = new S3ObjectStore(s3.client);
    const state = new Map<string, string>();
    for (const bucket of [buckets.landing, buckets.curated, buckets.quarantine]) {
      for (const o of await store.list(bucket, '')) {
        const parts: Buffer[] = [];
        for await (const p of await store.get({ bucket, key: o.key })) parts.push(Buffer.from(p));
        let body = Buffer.concat(parts);
        if (o.key.endsWith('.json')) {
          const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          for (const field of ['committedAt', 'claimedAt', 'reportedAt']) delete doc[field];
          body = Buffer.from(JSON.stringify(doc));
        }
        state.set(`${bucket}/${o.key}`, createHash('sha256').update(body).digest('hex'));
      }
    }
    return state;
  } finally {
    await s3.stop();
  }
}

async function expectVerified(workdir: string): Promise<void> {
  const report = await verifyTrail(path.join(workdir, 'audit'));
  expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
  expect(report.ok).toBe(true);
}

/**
 * Syncs the workdir's query cache (what `sde query` reads) over and over while `running()`:
 * every Parquet object it holds must be whole (of the size its manifest gives, a Parquet file
 * from its first byte to its last), and named by a manifest.
 */
async function readWhileRunning(workdir: string, running: () => boolean): Promise<{ reads: number }> {
  const cache = path.join(workdir, 'reader-cache');
  let reads = 0;
  while (running()) {
    const s3 = await startLocalS3({ directory: workdirLayout(workdir).s3, buckets: [buckets.curated] });
    try {
      await syncCurated(s3.client, buckets.curated, cache);
    } finally {
      await s3.stop();
    }
    const manifests = fs.existsSync(path.join(cache, '_manifests'))
      ? (fs.readdirSync(path.join(cache, '_manifests'), { recursive: true }) as string[]).filter((f) => f.endsWith('.json') && !f.startsWith('_deliveries'))
      : [];
    for (const m of manifests) {
      const manifest = JSON.parse(fs.readFileSync(path.join(cache, '_manifests', m), 'utf8')) as Manifest;
      for (const out of manifest.outputs) {
        const file = path.join(cache, ...out.key.split('/'));
        expect(fs.statSync(file).size).toBe(out.bytes);
        const bytes = fs.readFileSync(file);
        expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);
      }
    }
    const parquet = (fs.existsSync(cache) ? (fs.readdirSync(cache, { recursive: true }) as string[]) : []).filter((f) => f.endsWith('.parquet'));
    expect(parquet.length).toBeLessThanOrEqual(manifests.length);
    reads++;
  }
  return { reads };
}

/** Runs `fn` over `items`, two at a time (the machine has two cores). */
async function inPairs<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all([lane(), lane()]);
}

test('the clean run commits one batch in several chunks and leaves no staging', () => {
  const keys = [...clean.keys()];
  expect(keys.filter((k) => k.startsWith(`${buckets.curated}/hospital_episodes/`))).toHaveLength(1);
  expect(keys.filter((k) => k.startsWith(`${buckets.curated}/_manifests/hospital_episodes/`))).toHaveLength(1);
  expect(keys.filter((k) => k.includes('/_staging/'))).toEqual([]);
  expect(keys.some((k) => k.startsWith(`${buckets.quarantine}/`) && k.includes('/rejected/'))).toBe(true);
});

describe('killed at a named point, then run again', () => {
  // Every ingestion point, a chunk point again after two chunks (a kill between chunks), and
  // two of the audit writer's points inside a run (test/audit/crash-consistency.test.ts kills
  // the writer at each of its points).
  const ingestPoints = CRASH_POINTS.filter((p) => !p.startsWith('audit:'));
  const cases: [CrashPoint, number][] = [
    ...ingestPoints.map((p): [CrashPoint, number] => [p, 0]),
    ['chunk:result-written', 2],
    ['audit:record-written', 3],
    ['audit:chain-written', 7],
  ];
  test(`each of ${cases.length} points: the rerun's state equals a clean run's, and the audit trail verifies`, async () => {
    await inPairs(cases, async ([point, skip]) => {
      const dir = newWorkdir();
      const killed = await sde(dir, 'hospital_episodes', { SDE_CRASH_AT: point, SDE_CRASH_SKIP: String(skip) });
      expect({ point, signal: killed.signal }).toEqual({ point, signal: 'SIGKILL' });
      const rerun = await sde(dir, 'hospital_episodes');
      expectClean(rerun);
      expect(await stateOf(dir)).toEqual(clean);
      await expectVerified(dir);
    });
  }, 600_000);
});

test("killed at 20 random moments, each followed by a rerun: the final state equals a clean run's, and the audit trail verifies", async () => {
  // Spread over the clean run's length; a run that finished before its moment (runs vary with
  // the machine's load) is started again on a fresh workdir and killed sooner, so all 20 are kills.
  const moments = Array.from({ length: 20 }, (_, i) => Math.round(((i + Math.random()) / 20) * cleanMs));
  const killedAt: number[] = [];
  await inPairs(moments, async (moment) => {
    let dir: string;
    for (let ms = moment; ; ms = Math.floor(ms / 2)) {
      dir = newWorkdir();
      const { child, done } = start(dir, 'hospital_episodes');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const first = await done;
      clearTimeout(timer);
      if (first.signal === 'SIGKILL') {
        killedAt.push(ms);
        break;
      }
      expectClean(first);
    }
    const rerun = await sde(dir, 'hospital_episodes');
    expectClean(rerun);
    expect(await stateOf(dir)).toEqual(clean);
    await expectVerified(dir);
  });
  expect(killedAt).toHaveLength(20);
}, 600_000);

test('5 runs of one file at once (with 2 other files beside them, then alone): one batch and one manifest write per file', async () => {
  for (let round = 0; round < 2; round++) {
    const dir = newWorkdir();
    // Two other files beside them in the first round; the same file alone in the second.
    const others = round === 0 ? ['gp_events', 'prescriptions'] : [];
    const datasets = [
      'hospital_episodes',
      'hospital_episodes',
      ...others.slice(0, 1),
      'hospital_episodes',
      ...others.slice(1),
      'hospital_episodes',
      'hospital_episodes',
    ];
    let running = true;
    const all = Promise.all(datasets.map((d) => sde(dir, d))).finally(() => (running = false));
    // A reader syncing the query cache throughout sees each batch whole or not at all.
    const seen = await readWhileRunning(dir, () => running);
    const runs = await all;
    runs.forEach(expectClean);
    expect(seen.reads).toBeGreaterThan(0);
    const ours = runs.filter((_, i) => datasets[i] === 'hospital_episodes');
    // Exactly one run committed; the others found its manifest (before or after losing the race).
    expect(ours.filter((r) => !/Already ingested/.test(r.err))).toHaveLength(1);
    const manifests = ours.map((r) => JSON.parse(r.out) as { batchId: string; rowsRead: number; outputs: unknown[] });
    expect(new Set(manifests.map((m) => JSON.stringify({ ...m, committedAt: undefined }))).size).toBe(1);
    const state = await stateOf(dir);
    // This file's objects are exactly a clean run's; the other two files each committed once.
    const mine = new Map([...state].filter(([k]) => k.includes('hospital_episodes')));
    expect(mine).toEqual(new Map([...clean].filter(([k]) => k.includes('hospital_episodes'))));
    for (const other of others) {
      expect([...state.keys()].filter((k) => k.startsWith(`${buckets.curated}/${other}/`))).toHaveLength(1);
      expect([...state.keys()].filter((k) => k.startsWith(`${buckets.curated}/_manifests/${other}/`))).toHaveLength(1);
    }
    expect([...state.keys()].filter((k) => k.includes('/_staging/'))).toEqual([]);
    // One manifest write per batch, by the audit trail (every write is recorded).
    const writes = (await readTrail(path.join(dir, 'audit'))).records
      .map((r) => r.record)
      .filter(
        (r) =>
          r.eventName === 'PutObject' &&
          String(r.requestParameters?.key ?? '').startsWith('_manifests/') &&
          !String(r.requestParameters?.key).includes('_deliveries'),
      );
    expect(writes).toHaveLength(1 + others.length);
    await expectVerified(dir);
  }
}, 300_000);
