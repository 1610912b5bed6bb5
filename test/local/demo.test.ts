import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../lib/config';
import { runDemo } from '../../lib/local/demo';
import { startLocalS3 } from '../../lib/local/s3-server';
import { bucketNames } from '../../lib/local/workdir';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-demo-'));
afterAll(() => fs.rmSync(workdir, { recursive: true, force: true }));

test('sde demo generates a population and delivers every dataset to the landing bucket', async () => {
  const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
  const lines: string[] = [];
  const result = await runDemo({ config, workdir, people: 150, seed: 11, log: (l) => lines.push(l) });

  expect(result.landed.map((l) => l.key).sort()).toEqual(config.datasets.map((d) => `${d.name}/${TEST_TODAY}-synthetic-11.csv`).sort());
  expect(lines.join('\n')).toMatch(/150 people/);
  expect(lines.join('\n')).toMatch(/Delivered 4 files to s3:\/\/onelondon-sde-landing\//);

  // The objects are really in the local store: a fresh server on the same workdir serves them.
  const s3 = await startLocalS3({ directory: result.layout.s3 });
  try {
    for (const landed of result.landed) {
      const got = await s3.client.send(new GetObjectCommand({ Bucket: bucketNames(config).landing, Key: landed.key }));
      const body = await got.Body!.transformToString();
      const generated = result.population.datasets.find((d) => d.dataset === landed.dataset)!;
      expect(body).toBe(fs.readFileSync(generated.file, 'utf8'));
    }
  } finally {
    await s3.stop();
  }

  // Local secrets stay private to the owner.
  expect(fs.statSync(path.join(result.layout.keys, 'pseudonym.key')).mode & 0o777).toBe(0o600);
  expect(fs.statSync(result.layout.root).mode & 0o777).toBe(0o700);
});
