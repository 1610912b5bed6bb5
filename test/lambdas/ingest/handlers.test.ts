/**
 * The three Lambda handlers, driven the way the state machine drives them (the same
 * event shapes, the plan's chunk numbers fed to the chunk handler, the batch reference to
 * commit), against the local S3 API: the glue between Step Functions and lib/ingest.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { startLocalS3, type LocalS3 } from '../../../lib/local/s3-api/server';
import { uploadFile } from '../../../lib/local/s3-api/upload';
import { generatePopulation, type PopulationGeneration } from '../../../lib/local/synthetic/population';
import { ingestionConfig } from '../../../lib/stacks/ingestion-stack';
import type { PlanEvent } from '../../../lambdas/ingest/plan';
import { ENV, OPT_OUT_LIST_KEY } from '../../../lib/ingest/lambda-settings';
import { manifestKey } from '../../../lib/ingest/layout';
import { S3ObjectStore } from '../../../lib/ingest/s3-object-store';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-ingest-handlers-'));
const buckets = { landing: 'handlers-landing', curated: 'handlers-curated', quarantine: 'handlers-quarantine' };
const key = randomBytes(32).toString('hex');
const secretArn = 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:test/pseudonym-key-AbCdEf';
let s3: LocalS3;
let population: PopulationGeneration;
const secretReads: string[] = [];
// Loaded after the environment is set: Powertools reads it when the module loads, as in Lambda.
let plan: typeof import('../../../lambdas/ingest/plan').handler;
let chunk: typeof import('../../../lambdas/ingest/chunk').handler;
let commit: typeof import('../../../lambdas/ingest/commit').handler;
let configureIngestRuntime: typeof import('../../../lib/ingest/lambda-runtime').configureIngestRuntime;
let logger: typeof import('../../../lib/ingest/lambda-runtime').logger;

const saved = { ...process.env };
beforeAll(async () => {
  population = await generatePopulation({ config, outDir: path.join(work, 'generated'), people: 120, seed: 11 });
  s3 = await startLocalS3({ directory: path.join(work, 's3'), buckets: Object.values(buckets) });
  const configFile = path.join(work, 'sde-ingest-config.json');
  fs.writeFileSync(configFile, JSON.stringify(ingestionConfig(config)));
  Object.assign(process.env, {
    SDE_INGEST_CONFIG_FILE: configFile,
    [ENV.landingBucket]: buckets.landing,
    [ENV.curatedBucket]: buckets.curated,
    [ENV.quarantineBucket]: buckets.quarantine,
    [ENV.pseudonymKeySecretArn]: secretArn,
    [ENV.optOutKey]: OPT_OUT_LIST_KEY,
    // Small chunks, so one file runs through several chunk invocations as on AWS.
    [ENV.chunkBytes]: '8192',
    POWERTOOLS_METRICS_NAMESPACE: 'test/ingestion',
    POWERTOOLS_SERVICE_NAME: 'ingest-test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  ({ handler: plan } = await import('../../../lambdas/ingest/plan'));
  ({ handler: chunk } = await import('../../../lambdas/ingest/chunk'));
  ({ handler: commit } = await import('../../../lambdas/ingest/commit'));
  ({ configureIngestRuntime, logger } = await import('../../../lib/ingest/lambda-runtime'));
  configureIngestRuntime({
    objectStore: new S3ObjectStore(s3.client),
    readSecret: async (id) => {
      secretReads.push(id);
      return key;
    },
  });
  await uploadFile(s3.client, { bucket: buckets.landing, key: OPT_OUT_LIST_KEY, file: population.optOutFile, contentType: 'text/plain' });
}, 60_000);

afterAll(async () => {
  process.env = saved;
  await s3?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** What the state machine does with one EventBridge event. */
async function runStateMachine(event: PlanEvent) {
  const planned = await plan(event);
  if (planned.skip) return { planned, summary: undefined };
  const chunks = [];
  for (const n of planned.chunks) chunks.push(await chunk({ batch: planned.batch, chunk: n }));
  return { planned, chunks, summary: await commit({ batch: planned.batch }) };
}

describe('the handlers, as the state machine runs them', () => {
  const generated = () => population.datasets.find((d) => d.dataset === 'hospital_episodes')!;
  // An odd file name, delivered URL-encoded as classic S3 notifications do.
  const landedKey = 'hospital_episodes/2026-11-22 episodes+v2.csv';
  const event = (): PlanEvent => ({
    bucket: buckets.landing,
    object: { key: 'hospital_episodes/2026-11-22+episodes%2Bv2.csv' },
    time: `${TEST_TODAY}T09:30:00Z`,
  });
  let first: Awaited<ReturnType<typeof runStateMachine>>;

  beforeAll(async () => {
    await uploadFile(s3.client, { bucket: buckets.landing, key: landedKey, file: generated().file, contentType: 'text/csv' });
    first = await runStateMachine(event());
  }, 120_000);

  test('plan splits the file into several chunks and returns only their numbers', () => {
    expect(first.planned.skip).toBe(false);
    expect(first.planned.batch.dataset).toBe('hospital_episodes');
    expect(first.planned.chunks.length).toBeGreaterThan(1);
    expect(first.planned.chunks).toEqual(first.planned.chunks.map((_c, i) => i));
  });

  test('commit reports the batch committed with every row accounted for (the generator planted bad and opted-out rows)', () => {
    const g = generated();
    expect(first.summary).toMatchObject({
      status: 'committed',
      alreadyCommitted: false,
      rowsRead: g.rows,
      rowsRejected: g.badRowCount,
      rowsOptedOut: g.goodRowsOptedOut,
    });
    expect(first.summary!.rowsWritten).toBe(g.goodRows - g.goodRowsOptedOut);
    expect(first.chunks!.reduce((n, c) => n + c.rowsRead, 0)).toBe(g.rows);
  });

  test('the manifest is in the curated bucket, and the key came from the secret reader', async () => {
    const store = new S3ObjectStore(s3.client);
    expect(await store.head({ bucket: buckets.curated, key: manifestKey('hospital_episodes', first.planned.batch.batchId) })).toBeDefined();
    expect(secretReads.every((id) => id === secretArn)).toBe(true);
  });

  test('a re-delivered event plans nothing: the state machine stops at AlreadyCommitted?', async () => {
    const again = await runStateMachine(event());
    expect(again.planned).toEqual({ skip: true, batch: first.planned.batch, chunks: [] });
  });

  test('an object outside the configured datasets, or from another bucket, is refused with the fix', async () => {
    await expect(plan({ bucket: buckets.landing, object: { key: 'unknown_dataset/x.csv' }, time: `${TEST_TODAY}T09:30:00Z` })).rejects.toThrow(
      /not under a configured dataset prefix/,
    );
    await expect(plan({ bucket: 'someone-elses-bucket', object: { key: landedKey }, time: `${TEST_TODAY}T09:30:00Z` })).rejects.toThrow(
      /check the EventBridge rule/,
    );
  });

  test('the logs of a whole batch carry counts and codes, never a value from the file', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    logger.setLogLevel('INFO');
    try {
      // Content of its own (the generated file once more, with its first row again at the end): the
      // generated file itself was delivered above, and the same content is not committed twice.
      const own = path.join(work, 'logged.csv');
      const text = fs.readFileSync(generated().file, 'utf8');
      fs.writeFileSync(own, text + text.split('\n')[1] + '\n');
      await uploadFile(s3.client, { bucket: buckets.landing, key: 'hospital_episodes/logged.csv', file: own, contentType: 'text/csv' });
      await runStateMachine({ bucket: buckets.landing, object: { key: 'hospital_episodes/logged.csv' }, time: `${TEST_TODAY}T11:00:00Z` });
    } finally {
      logger.setLogLevel('SILENT');
      spy.mockRestore();
    }
    const output = written.join('');
    expect(output).toMatch(/"message":"chunk processed"/);
    expect(output).toMatch(/"message":"batch committed"/);
    // Every field value of the file (NHS numbers, dates, postcodes, codes...) is absent,
    // except bare small numbers and column names that a count or a reason could spell.
    const [header, ...rows] = fs
      .readFileSync(generated().file, 'utf8')
      .trim()
      .split(/\r?\n/)
      .map((l) => l.split(','));
    const values = new Set(rows.flat().filter((v) => v.length >= 6 && !header.includes(v)));
    expect(values.size).toBeGreaterThan(100);
    expect([...values].filter((v) => output.includes(v))).toEqual([]);
  });

  test('without the opt-out list, a dataset that applies it fails closed', async () => {
    const store = new S3ObjectStore(s3.client);
    await store.delete({ bucket: buckets.landing, key: OPT_OUT_LIST_KEY });
    configureIngestRuntime({}); // forget the cached list
    try {
      await uploadFile(s3.client, { bucket: buckets.landing, key: 'hospital_episodes/second.csv', file: generated().file, contentType: 'text/csv' });
      const planned = await plan({ bucket: buckets.landing, object: { key: 'hospital_episodes/second.csv' }, time: `${TEST_TODAY}T10:00:00Z` });
      await expect(chunk({ batch: planned.batch, chunk: 0 })).rejects.toThrow(/national data opt-out list .* is missing/);
    } finally {
      await uploadFile(s3.client, { bucket: buckets.landing, key: OPT_OUT_LIST_KEY, file: population.optOutFile, contentType: 'text/plain' });
    }
  });
});
