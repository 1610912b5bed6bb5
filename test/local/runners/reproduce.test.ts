/**
 * Reproducibility end to end on the local runtime: `sde query` records how a result was
 * made, the airlock request and the release manifest carry it, and `sde output reproduce`
 * runs the query again over real Parquet with DuckDB and compares the SHA-256; a new
 * curated batch since then is named as the reason a result differs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../lib/cli/cli';
import { loadConfig } from '../../../lib/config';
import { startLocalS3 } from '../../../lib/local/s3-api/server';
import { bucketNames, workdirLayout } from '../../../lib/local/workdir';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { putCommittedBatch, uploadCuratedParquet, writeCuratedParquet } from '../../helpers/curated-parquet';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-reproduce-'));
const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-reproduce-staging-'));
afterAll(() => [workdir, staging].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
beforeAll(async () => {
  await uploadCuratedParquet(config, workdir, staging, 60);
});

async function sde(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...argv, '--config', EXAMPLE_CONFIG, '--workdir', workdir, '--today', TEST_TODAY], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const SQL = 'SELECT sex, count(*) AS episodes FROM hospital_episodes GROUP BY sex ORDER BY sex';

test('a query result is reproduced byte for byte; after a new batch it differs, and says why', async () => {
  const q = await sde('query', '--project', 'ncl-winter-planning', '--sql', SQL, '--format', 'csv');
  expect(q.code).toBe(0);
  const queryId = /query id ([0-9a-f-]{36})/.exec(q.err)![1];
  const record = JSON.parse(fs.readFileSync(path.join(workdir, 'results', 'ncl-winter-planning', `${queryId}.json`), 'utf8'));
  expect(record).toMatchObject({
    queryExecutionId: queryId,
    sql: SQL,
    querySha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    engine: { name: 'duckdb', version: expect.stringMatching(/^v\d/) },
    curatedObjects: [expect.objectContaining({ dataset: 'hospital_episodes', batchId: 'batch-0001' })],
  });

  const req = await sde(
    'output',
    'request',
    '--project',
    'ncl-winter-planning',
    '--query-id',
    queryId,
    '--description',
    'Episodes by sex: the count of emergency episodes',
  );
  expect(req.code).toBe(0);
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(req.out)![1];
  const show = await sde('output', 'show', '--request', id);
  expect(show.out).toMatch(new RegExp(`made by sde query ${queryId}`));

  const same = await sde('output', 'reproduce', '--request', id);
  expect(same.code).toBe(0);
  expect(same.out).toMatch(/reproduced \(same SHA-256\)/);

  // A new batch of hospital episodes lands in the curated zone.
  const dataset = config.datasets.find((d) => d.name === 'hospital_episodes')!;
  const file = await writeCuratedParquet(path.join(staging, 'later'), dataset, 20, '2026-11-20');
  const s3 = await startLocalS3({ directory: workdirLayout(workdir).s3, buckets: [bucketNames(config).curated] });
  try {
    await putCommittedBatch(
      s3.client,
      bucketNames(config).curated,
      dataset.name,
      'hospital_episodes/load_date=2026-11-20/batch-0002.parquet',
      fs.readFileSync(file),
      20,
    );
  } finally {
    await s3.stop();
  }
  const later = await sde('output', 'reproduce', '--request', id);
  expect(later.code).toBe(1);
  expect(later.err).toMatch(/DIFFERS/);
  expect(later.err).toMatch(/curated data: hospital_episodes\/load_date=2026-11-20\/batch-0002.parquet \(batch batch-0002\) is new/);
});

test("a result edited after the query ran is not accepted as that query's result", async () => {
  const q = await sde('query', '--project', 'ncl-winter-planning', '--sql', SQL, '--format', 'csv');
  const queryId = /query id ([0-9a-f-]{36})/.exec(q.err)![1];
  fs.appendFileSync(path.join(workdir, 'results', 'ncl-winter-planning', `${queryId}.csv`), '9,1\r\n');
  const r = await sde('output', 'request', '--project', 'ncl-winter-planning', '--query-id', queryId, '--description', 'Episodes by sex, edited');
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(/not the result the platform recorded/);
});
