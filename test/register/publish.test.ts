/**
 * The register Lambda's work, run against a real S3 API (the local one): CloudTrail files
 * in the audit bucket in AWS's layout, gzipped, in, the three register files out; and the
 * register it publishes is the one `sde register` writes from the same records.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { loadConfig } from '../../lib/config';
import { LocalS3, startLocalS3 } from '../../lib/local/s3-server';
import { buildRegister } from '../../lib/register/model';
import { publishRegister, recordsFromObject, trailObjectMonth } from '../../lib/register/publish';
import { renderRegisterJson } from '../../lib/register/render';
import { configFromSnapshot, registerConfigSnapshot } from '../../lib/register/snapshot';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { SECRETS, tempDir, writeStory } from './helpers';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const dir = tempDir('sde-register-publish-');
let s3: LocalS3;
let records: CloudTrailRecord[];

beforeAll(async () => {
  records = writeStory(config, path.join(dir, 'workdir'));
  s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: ['audit', 'register'] });
  // As CloudTrail delivers: gzipped {"Records":[...]} per account, region and day.
  const byDay = new Map<string, CloudTrailRecord[]>();
  for (const r of records) byDay.set(r.eventTime.slice(0, 10), [...(byDay.get(r.eventTime.slice(0, 10)) ?? []), r]);
  for (const [day, recs] of byDay) {
    const [y, m, d] = day.split('-');
    const key = `AWSLogs/000000000000/CloudTrail/eu-west-2/${y}/${m}/${d}/000000000000_CloudTrail_eu-west-2_${y}${m}${d}T1200Z_abc.json.gz`;
    await s3.client.send(new PutObjectCommand({ Bucket: 'audit', Key: key, Body: gzipSync(JSON.stringify({ Records: recs })) }));
  }
  await s3.client.send(new PutObjectCommand({ Bucket: 'audit', Key: 'AWSLogs/000000000000/CloudTrail-Digest/eu-west-2/2026/11/01/digest.json.gz', Body: gzipSync('{}') }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'audit', Key: 'AWSLogs/000000000000/CloudTrail/eu-west-2/2026/11/02/corrupt.json.gz', Body: Buffer.from([0x1f, 0x8b, 1, 2, 3]) }));
}, 60_000);

afterAll(async () => {
  await s3?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('trailObjectMonth reads the month of a CloudTrail log file, and nothing else', () => {
  expect(trailObjectMonth('AWSLogs/111122223333/CloudTrail/eu-west-2/2026/11/03/x.json.gz')).toBe('2026-11');
  expect(trailObjectMonth('AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2025/01/31/x.json.gz')).toBe('2025-01');
  expect(trailObjectMonth('AWSLogs/111122223333/CloudTrail-Digest/eu-west-2/2026/11/03/x.json.gz')).toBeUndefined();
  expect(trailObjectMonth('AWSLogs/111122223333/CloudTrail/eu-west-2/2026/11/03/README.txt')).toBeUndefined();
});

test('recordsFromObject skips what is not a record, and a corrupt file whole', () => {
  const good = records[0];
  expect(recordsFromObject(Buffer.from(JSON.stringify({ Records: [good, { eventName: 'x' }, 7] })))).toEqual({ records: [good], skipped: 2 });
  expect(recordsFromObject(Buffer.from([0x1f, 0x8b, 0, 0]))).toEqual({ records: [], skipped: 1 });
});

test('publishes the same register as sde register writes, from the audit bucket, with content types', async () => {
  const snapshot = registerConfigSnapshot(config);
  const result = await publishRegister({ s3: s3.client, auditBucket: 'audit', registerBucket: 'register', snapshot, today: TEST_TODAY, concurrency: 3 });
  expect(result).toMatchObject({ recordsRead: records.filter((r) => r.eventSource !== 'lakeformation.amazonaws.com').length, skipped: 1, projects: 4 });
  const get = async (key: string) => {
    const o = await s3.client.send(new GetObjectCommand({ Bucket: 'register', Key: key }));
    return { type: o.ContentType, cache: o.CacheControl, text: await o.Body!.transformToString() };
  };
  const json = await get('register.json');
  expect(json.type).toBe('application/json; charset=utf-8');
  expect(json.text).toBe(renderRegisterJson(buildRegister(config, records)));
  const html = await get('index.html');
  expect(html.type).toBe('text/html; charset=utf-8');
  expect(html.cache).toBe('public, max-age=3600');
  for (const secret of Object.values(SECRETS)) expect(html.text).not.toContain(secret);
  expect((await get('register.csv')).type).toBe('text/csv; charset=utf-8');
});

test('the snapshot built into the Lambda carries no researcher, and gives the same register as the config', () => {
  const snapshot = registerConfigSnapshot(config);
  const text = JSON.stringify(snapshot);
  for (const arn of config.projects.flatMap((p) => p.researchers)) expect(text).not.toContain(arn);
  for (const arn of config.platform.admins) expect(text).not.toContain(arn);
  expect(buildRegister(configFromSnapshot(JSON.parse(text), TEST_TODAY), records)).toEqual(buildRegister(config, records));
});
