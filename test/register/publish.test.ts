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
import { LocalS3, startLocalS3 } from '../../lib/local/s3-api/server';
import { buildRegister } from '../../lib/register/model';
import { publishRegister, recordsFromObject, trailObjectMonth } from '../../lib/register/publish';
import { renderRegisterJson } from '../../lib/register/render';
import { configFromSnapshot, registerConfigSnapshot } from '../../lib/register/snapshot';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { SECRETS, tempDir, writeStory } from './helpers';
import { AIRLOCK, awsRecords, NCL, standInAthena } from './aws-helpers';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const dir = tempDir('sde-register-publish-');
let s3: LocalS3;
let records: CloudTrailRecord[];

beforeAll(async () => {
  records = writeStory(config, path.join(dir, 'workdir'));
  s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: ['audit', 'register', 'aws-audit', 'aws-register'] });
  // As CloudTrail delivers: gzipped {"Records":[...]} per account, region and day.
  const byDay = new Map<string, CloudTrailRecord[]>();
  for (const r of records) byDay.set(r.eventTime.slice(0, 10), [...(byDay.get(r.eventTime.slice(0, 10)) ?? []), r]);
  for (const [day, recs] of byDay) {
    const [y, m, d] = day.split('-');
    const key = `AWSLogs/000000000000/CloudTrail/eu-west-2/${y}/${m}/${d}/000000000000_CloudTrail_eu-west-2_${y}${m}${d}T1200Z_abc.json.gz`;
    await s3.client.send(new PutObjectCommand({ Bucket: 'audit', Key: key, Body: gzipSync(JSON.stringify({ Records: recs })) }));
  }
  await s3.client.send(
    new PutObjectCommand({ Bucket: 'audit', Key: 'AWSLogs/000000000000/CloudTrail-Digest/eu-west-2/2026/11/01/digest.json.gz', Body: gzipSync('{}') }),
  );
  await s3.client.send(
    new PutObjectCommand({
      Bucket: 'audit',
      Key: 'AWSLogs/000000000000/CloudTrail/eu-west-2/2026/11/02/corrupt.json.gz',
      Body: Buffer.from([0x1f, 0x8b, 1, 2, 3]),
    }),
  );
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
  for (const trace of config.projects.flatMap((p) => p.researchers.flatMap((r) => [r.id, r.principal]))) expect(text).not.toContain(trace);
  for (const arn of config.platform.admins) expect(text).not.toContain(arn);
  expect(buildRegister(configFromSnapshot(JSON.parse(text), TEST_TODAY), records)).toEqual(buildRegister(config, records));
});

test('on AWS: bytes scanned from Athena, kept from the published register once Athena forgets, and releases from the airlock bucket', async () => {
  const { awsQuery, s3Event, execution } = awsRecords(config);
  const september = Array.from({ length: 10 }, (_, i) => awsQuery(`sep-${i}`, `2026-09-${String(i + 1).padStart(2, '0')}T10:00:00Z`));
  const november = Array.from({ length: 9 }, (_, i) => awsQuery(`nov-${i}`, `2026-11-${String(i + 1).padStart(2, '0')}T10:00:00Z`));
  const releases = Array.from({ length: 8 }, (_, i) =>
    s3Event('PutObjectTagging', `released/${NCL}/req-2026110${i + 1}-0000000${i}/manifest.json`, `2026-11-0${i + 1}T12:00:00Z`),
  );
  const trail = [
    ...september,
    ...november,
    ...releases,
    // Re-tagged, and the staged put of a manifest: neither is another release.
    s3Event('PutObjectTagging', `released/${NCL}/req-20261101-00000000/manifest.json`, '2026-11-20T12:00:00Z'),
    s3Event('PutObject', `released/${NCL}/req-20261109-00000009/manifest.json`, '2026-11-09T12:00:00Z'),
  ];
  await s3.client.send(
    new PutObjectCommand({
      Bucket: 'aws-audit',
      Key: 'AWSLogs/111122223333/CloudTrail/eu-west-2/2026/11/30/111122223333_CloudTrail_eu-west-2_20261130T1200Z_x.json.gz',
      Body: gzipSync(JSON.stringify({ Records: trail })),
    }),
  );
  const snapshot = registerConfigSnapshot(config);
  const all = new Map(
    [...september, ...november].map((r) => [String(r.responseElements!.queryExecutionId), execution(String(r.responseElements!.queryExecutionId), 2_000_000)]),
  );
  const publish = (athena: ReturnType<typeof standInAthena>, today: string) =>
    publishRegister({ s3: s3.client, athena, airlockBucket: AIRLOCK, auditBucket: 'aws-audit', registerBucket: 'aws-register', snapshot, today });
  const months = async () => {
    const o = await s3.client.send(new GetObjectCommand({ Bucket: 'aws-register', Key: 'register.json' }));
    return JSON.parse(await o.Body!.transformToString()).projects.find((p: { id: string }) => p.id === NCL).activity.months;
  };

  // Mid-October: Athena still knows every query (November's are in the trail too: asked, as nothing is older than 46 days).
  const first = await publish(standInAthena(all), '2026-10-15');
  expect(first).toMatchObject({ queriesAsked: 19, queriesMeasured: 19, previousRead: false });
  const expected = [
    { month: '2026-09', queries: { count: 10 }, dataScannedBytes: 20_000_000, dataScanned: '20 MB', outputsReleased: { count: 0 } },
    { month: '2026-11', queries: { count: 9 }, dataScannedBytes: 18_000_000, dataScanned: '18 MB', outputsReleased: { count: 8 } },
  ];
  expect(await months()).toMatchObject(expected);

  // Mid-December: Athena has forgotten September and early November, which are not even
  // asked about; those figures come from the published register, once, not added.
  const later = standInAthena(new Map([...all].filter(([id]) => id.startsWith('nov-'))));
  const second = await publish(later, '2026-12-20');
  expect(second).toMatchObject({ queriesAsked: 6, queriesMeasured: 6, previousRead: true });
  expect(later.calls.flat().every((id) => id.startsWith('nov-'))).toBe(true);
  expect(await months()).toMatchObject(expected);
  // And again, with Athena knowing nothing: carried figures do not grow run after run.
  await publish(standInAthena(new Map()), '2026-12-21');
  expect(await months()).toMatchObject(expected);
});

test('a register.json that is not a register stops the run rather than lose its figures', async () => {
  await s3.client.send(new PutObjectCommand({ Bucket: 'aws-register', Key: 'register.json', Body: '<html>oops</html>' }));
  const snapshot = registerConfigSnapshot(config);
  await expect(publishRegister({ s3: s3.client, auditBucket: 'aws-audit', registerBucket: 'aws-register', snapshot, today: TEST_TODAY })).rejects.toThrow();
});
