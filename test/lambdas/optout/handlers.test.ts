/**
 * The three opt-out handlers, driven the way the opt-out state machine drives them (the
 * plan's result, each item of the items.json its Distributed Map reads, then finish),
 * against the local S3 API, after the population was ingested by the ingestion handlers'
 * library: the glue between Step Functions and lib/optout. The list is replaced with a
 * later one in the landing bucket, as a new list lands on AWS.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { pseudonymise } from '../../../lib/ingest/core/deidentify';
import { ENV, OPT_OUT_LIST_KEY } from '../../../lib/ingest/lambda-settings';
import type { Manifest } from '../../../lib/ingest/manifest';
import { readSmallObject } from '../../../lib/ingest/object-store';
import { S3ObjectStore } from '../../../lib/ingest/s3-object-store';
import { ingestObject } from '../../../lib/local/runners/ingest';
import { startLocalS3, type LocalS3 } from '../../../lib/local/s3-api/server';
import { uploadFile } from '../../../lib/local/s3-api/upload';
import { generatePopulation } from '../../../lib/local/synthetic/population';
import { OPTOUT_ENV } from '../../../lib/optout/lambda-settings';
import { runDoneKey } from '../../../lib/optout/layout';
import { ingestionConfig } from '../../../lib/stacks/ingestion-stack';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { platformAppliesOptOut } from '../../../lib/config/curated';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-optout-handlers-'));
const buckets = { landing: 'optout-landing', curated: 'optout-curated', quarantine: 'optout-quarantine' };
const key = randomBytes(32);
let s3: LocalS3;
let plan: typeof import('../../../lambdas/optout/plan').handler;
let rewrite: typeof import('../../../lambdas/optout/rewrite').handler;
let finish: typeof import('../../../lambdas/optout/finish').handler;
let laterFile: string;

const saved = { ...process.env };
beforeAll(async () => {
  const population = await generatePopulation({ config, outDir: path.join(work, 'generated'), people: 150, seed: 7 });
  s3 = await startLocalS3({ directory: path.join(work, 's3'), buckets: Object.values(buckets) });
  const store = new S3ObjectStore(s3.client);
  const earlier = new Set(fs.readFileSync(population.optOutFile, 'utf8').split('\n').filter(Boolean));
  for (const d of population.datasets) {
    const landed = { bucket: buckets.landing, key: `${d.dataset}/${TEST_TODAY}-synthetic-7.csv` };
    await uploadFile(s3.client, { ...landed, file: d.file, contentType: 'text/csv' });
    const dataset = config.datasets.find((x) => x.name === d.dataset)!;
    await ingestObject({
      store,
      config: { ...config, platform: { ...config.platform, name: 'optout' } },
      dataset,
      source: landed,
      key,
      // A dataset whose supplier applied the opt-out takes no list (it would be refused).
      optOut: platformAppliesOptOut(dataset) ? earlier : undefined,
      lookups: new Map(),
    });
  }
  // The later list: the earlier one and three people of the demographics file.
  const demographics = fs
    .readFileSync(population.datasets.find((d) => d.dataset === 'demographics')!.file, 'utf8')
    .split('\n')
    .slice(1);
  const more = demographics
    .map((l) => l.split(',')[0])
    .filter((n) => /^\d{10}$/.test(n) && !earlier.has(n))
    .slice(0, 3);
  laterFile = path.join(work, 'later.txt');
  fs.writeFileSync(laterFile, `${[...earlier, ...more].join('\n')}\n`);
  await uploadFile(s3.client, { bucket: buckets.landing, key: OPT_OUT_LIST_KEY, file: laterFile, contentType: 'text/plain' });

  const configFile = path.join(work, 'sde-ingest-config.json');
  fs.writeFileSync(configFile, JSON.stringify(ingestionConfig(config)));
  Object.assign(process.env, {
    SDE_INGEST_CONFIG_FILE: configFile,
    [ENV.landingBucket]: buckets.landing,
    [ENV.curatedBucket]: buckets.curated,
    [ENV.quarantineBucket]: buckets.quarantine,
    [ENV.pseudonymKeySecretArn]: 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:test/pseudonym-key-AbCdEf',
    [ENV.optOutKey]: OPT_OUT_LIST_KEY,
    [OPTOUT_ENV.maxRemovedShare]: '0.05',
    POWERTOOLS_METRICS_NAMESPACE: 'test/ingestion',
    POWERTOOLS_SERVICE_NAME: 'optout-test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  ({ handler: plan } = await import('../../../lambdas/optout/plan'));
  ({ handler: rewrite } = await import('../../../lambdas/optout/rewrite'));
  ({ handler: finish } = await import('../../../lambdas/optout/finish'));
  const { configureIngestRuntime } = await import('../../../lib/ingest/lambda-runtime');
  const { configureOptOutRuntime } = await import('../../../lib/optout/lambda-runtime');
  configureIngestRuntime({ objectStore: store, readSecret: async () => key.toString('hex') });
  configureOptOutRuntime({ s3Client: s3.client });
}, 300_000);

afterAll(async () => {
  process.env = saved;
  await s3?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** What the state machine does with one execution's input. */
async function runStateMachine(input: object) {
  const planned = await plan(input);
  if (planned.status === 'already-applied') return { planned, finished: undefined, outcomes: [] };
  const store = new S3ObjectStore(s3.client);
  const items = JSON.parse((await readSmallObject(store, { bucket: planned.bucket, key: planned.itemsKey }))!.toString('utf8')) as object[];
  const outcomes = [];
  for (const item of items) outcomes.push(await rewrite(item as Parameters<typeof rewrite>[0]));
  return { planned, finished: await finish({ listSha256: planned.listSha256 }), outcomes };
}

test('a new list: planned, each affected batch rewritten, finished with the counts; the state carries counts only', async () => {
  const { planned, finished, outcomes } = await runStateMachine({ version: '0', 'detail-type': 'Object Created' });
  expect(planned).toMatchObject({ status: 'planned', bucket: buckets.curated, people: 3 });
  expect(planned.batches).toBeGreaterThan(0);
  expect(outcomes.every((o) => o.status === 'rewritten' && o.rowsRemoved > 0)).toBe(true);
  expect(finished).toMatchObject({ people: 3, batchesRewritten: planned.batches, rowsRemoved: outcomes.reduce((s, o) => s + o.rowsRemoved, 0) });
  const state = JSON.stringify({ planned, finished, outcomes });
  for (const n of fs.readFileSync(laterFile, 'utf8').split('\n').filter(Boolean)) {
    expect(state).not.toContain(n);
    expect(state).not.toContain(pseudonymise(key, n));
  }
  const store = new S3ObjectStore(s3.client);
  expect(await readSmallObject(store, { bucket: buckets.curated, key: runDoneKey(planned.listSha256) })).toBeDefined();
  const manifests = await store.list(buckets.curated, '_manifests/');
  const removed = [];
  for (const m of manifests.filter((o) => /^_manifests\/[a-z_]+\/[0-9a-f]{24}\.json$/.test(o.key))) {
    const manifest = JSON.parse((await readSmallObject(store, { bucket: buckets.curated, key: m.key }))!.toString('utf8')) as Manifest;
    removed.push(manifest.rowsRemovedForOptOut ?? 0);
  }
  expect(removed.reduce((a, b) => a + b, 0)).toBe(finished!.rowsRemoved);
}, 300_000);

test('the daily run after it finds the list applied and does nothing', async () => {
  const { planned, finished } = await runStateMachine({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
  expect([planned.status, finished]).toEqual(['already-applied', undefined]);
}, 120_000);
