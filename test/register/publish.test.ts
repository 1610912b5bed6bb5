/**
 * The register Lambda's work, run against a real S3 API (the local one): CloudTrail files
 * and signed digests in the audit bucket in AWS's layout, gzipped, in, the three register
 * files out; the register it publishes is the one `sde register` writes from the same
 * records, and nothing is published from a trail that does not verify.
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
import { cloudTrailKey, signedTrail, standInCloudTrail, TrailObject } from '../audit/helpers/signed-cloudtrail';

const key = cloudTrailKey('2026-01-01T00:00:00Z', '2027-06-01T00:00:00Z');
const cloudtrail = standInCloudTrail(key);

/** As CloudTrail delivers: gzipped {"Records":[...]} per delivery, each in a signed, chained digest, the signature in the object metadata. */
async function deliver(bucket: string, deliveries: { delivered: string; records: readonly CloudTrailRecord[] }[], objects?: TrailObject[]) {
  for (const o of objects ?? signedTrail(key, deliveries as never, bucket)) {
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body, Metadata: o.metadata }));
  }
}

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const dir = tempDir('sde-register-publish-');
let s3: LocalS3;
let records: CloudTrailRecord[];

beforeAll(async () => {
  records = writeStory(config, path.join(dir, 'workdir'));
  s3 = await startLocalS3({
    directory: path.join(dir, 's3'),
    buckets: ['audit', 'register', 'aws-audit', 'aws-register', 'forged-audit', 'forged-register', 'pending-audit', 'pending-register'],
  });
  const byDay = new Map<string, CloudTrailRecord[]>();
  for (const r of records) byDay.set(r.eventTime.slice(0, 10), [...(byDay.get(r.eventTime.slice(0, 10)) ?? []), r]);
  // The local trail's accounts are 000000000000; the signed deliveries name 111122223333, as a real trail would.
  await deliver(
    'audit',
    [...byDay].sort().map(([day, recs]) => ({ delivered: `${day}T12:00:00Z`, records: recs })),
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

test('publishes the same register as sde register writes, from the verified audit bucket, with content types, and says when it verified it', async () => {
  const snapshot = registerConfigSnapshot(config);
  const now = new Date('2026-11-21T05:00:00Z');
  const result = await publishRegister({
    s3: s3.client,
    cloudtrail,
    auditBucket: 'audit',
    registerBucket: 'register',
    snapshot,
    today: TEST_TODAY,
    concurrency: 3,
    now: () => now,
  });
  expect(result).toMatchObject({
    recordsRead: records.filter((r) => r.eventSource !== 'lakeformation.amazonaws.com').length,
    skipped: 0,
    projects: 5,
    logFilesPending: 0,
  });
  expect(result.digestFiles).toBe(result.logFilesVerified);
  expect(result.auditTrail).toMatchObject({ verified: true, method: 'cloudtrail-digests', problems: 0, checkedAt: now.toISOString() });
  // The keys asked for cover the digests' period.
  expect(cloudtrail.calls.at(-1)!.StartTime!.getTime()).toBeLessThan(Date.parse('2026-10-03T13:00:00Z'));
  const get = async (key: string) => {
    const o = await s3.client.send(new GetObjectCommand({ Bucket: 'register', Key: key }));
    return { type: o.ContentType, cache: o.CacheControl, text: await o.Body!.transformToString() };
  };
  const json = await get('register.json');
  expect(json.type).toBe('application/json; charset=utf-8');
  expect(json.text).toBe(renderRegisterJson(buildRegister(config, records, { auditTrail: result.auditTrail })));
  const html = await get('index.html');
  expect(html.type).toBe('text/html; charset=utf-8');
  expect(html.cache).toBe('public, max-age=3600');
  for (const secret of Object.values(SECRETS)) expect(html.text).not.toContain(secret);
  expect(html.text).toMatch(
    /last verified on <time datetime="2026-11-21T05:00:00.000Z">21 November 2026 at 05:00 UTC<\/time> against CloudTrail's signed digest files/,
  );
  expect((await get('register.csv')).type).toBe('text/csv; charset=utf-8');
});

describe('a trail that does not verify is not published', () => {
  const snapshot = registerConfigSnapshot(config);
  const publish = (extra: Partial<Parameters<typeof publishRegister>[0]> = {}) =>
    publishRegister({ s3: s3.client, cloudtrail, auditBucket: 'forged-audit', registerBucket: 'forged-register', snapshot, today: TEST_TODAY, ...extra });
  const registerJson = async () =>
    JSON.parse(await (await s3.client.send(new GetObjectCommand({ Bucket: 'forged-register', Key: 'register.json' }))).Body!.transformToString());

  test('one forged record in a log file (its digest left alone) is refused: nothing is written', async () => {
    const objects = signedTrail(key, [{ delivered: '2026-11-02T12:00:00Z', records: records.slice(0, 3) }], 'forged-audit');
    const log = objects.find((o) => !o.metadata)!;
    const forged = { ...records[0], eventID: '00000000-0000-4000-8000-00000000beef' };
    const edited = { ...log, body: gzipSync(JSON.stringify({ Records: [...records.slice(0, 3), forged] })) };
    await deliver(
      'forged-audit',
      [],
      objects.map((o) => (o === log ? edited : o)),
    );
    await expect(publish()).rejects.toThrow(/the audit trail did not verify, so nothing is published from it \(1 problem\):\n\s+log-file-altered:/);
    await expect(s3.client.send(new GetObjectCommand({ Bucket: 'forged-register', Key: 'register.json' }))).rejects.toThrow();
  });

  test('without CloudTrail keys (no ListPublicKeys) it is refused too', async () => {
    await expect(publish({ cloudtrail: undefined })).rejects.toThrow(/signature-not-checked/);
  });

  test('with allowUnverified it is published, marked unverified', async () => {
    const result = await publish({ allowUnverified: true });
    expect(result.auditTrail).toMatchObject({ verified: false, problems: 1 });
    expect((await registerJson()).auditTrail).toMatchObject({ verified: false, problems: 1 });
  });
});

test('log files delivered after the newest digest wait for the next run; a forged log file with no digest is refused', async () => {
  await deliver('pending-audit', [{ delivered: '2026-11-03T12:00:00Z', records: records.slice(0, 3) }]);
  const late = 'AWSLogs/111122223333/CloudTrail/eu-west-2/2026/11/03/111122223333_CloudTrail_eu-west-2_20261103T1305Z_late.json.gz';
  await s3.client.send(new PutObjectCommand({ Bucket: 'pending-audit', Key: late, Body: gzipSync(JSON.stringify({ Records: records.slice(4, 6) })) }));
  const snapshot = registerConfigSnapshot(config);
  const run = () =>
    publishRegister({ s3: s3.client, cloudtrail, auditBucket: 'pending-audit', registerBucket: 'pending-register', snapshot, today: TEST_TODAY });
  const result = await run();
  // records 0-2: two queries and a Lake Formation access (not counted); the late file's queries are not counted yet.
  expect(result).toMatchObject({ logFilesVerified: 1, logFilesPending: 1, recordsRead: 2 });
  expect(result.auditTrail.pendingLogFiles).toBe(1);
  const page = await (await s3.client.send(new GetObjectCommand({ Bucket: 'pending-register', Key: 'index.html' }))).Body!.transformToString();
  expect(page).toMatch(/Records delivered since CloudTrail's last digest \(1 file\) are not counted yet/);
  const slipped = 'AWSLogs/111122223333/CloudTrail/eu-west-2/2026/11/03/111122223333_CloudTrail_eu-west-2_20261103T1005Z_slip.json.gz';
  await s3.client.send(new PutObjectCommand({ Bucket: 'pending-audit', Key: slipped, Body: gzipSync(JSON.stringify({ Records: records.slice(6, 7) })) }));
  await expect(run()).rejects.toThrow(/not-in-digest: .*_20261103T1005Z_slip\.json\.gz is listed in no digest/);
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
  await deliver('aws-audit', [{ delivered: '2026-11-30T12:00:00Z', records: trail }]);
  // The worked figures below (9 and 10 queries a month) are shown at the old threshold of 7.
  const snapshot = registerConfigSnapshot({ ...config, platform: { ...config.platform, airlock: { ...config.platform.airlock!, suppressionThreshold: 7 } } });
  const all = new Map(
    [...september, ...november].map((r) => [String(r.responseElements!.queryExecutionId), execution(String(r.responseElements!.queryExecutionId), 2_000_000)]),
  );
  const publish = (athena: ReturnType<typeof standInAthena>, today: string) =>
    publishRegister({ s3: s3.client, athena, cloudtrail, airlockBucket: AIRLOCK, auditBucket: 'aws-audit', registerBucket: 'aws-register', snapshot, today });
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
  await expect(
    publishRegister({ s3: s3.client, cloudtrail, auditBucket: 'aws-audit', registerBucket: 'aws-register', snapshot, today: TEST_TODAY }),
  ).rejects.toThrow(/not a register|JSON/);
});
