import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describeReadResult, readTrail } from '../../lib/audit/cloudtrail-reader';
import { JsonRecordScanner, ScanEvent } from '../../lib/audit/json-record-scanner';
import { BARE_ARRAYS, LOGSTASH_NDJSON, REAL_COUNTS, REAL_TRAIL, TempDir } from './helpers/fixtures';

const record = (i: number, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.09',
  eventTime: `2026-05-01T10:00:${String(i % 60).padStart(2, '0')}Z`,
  eventSource: 's3.amazonaws.com',
  eventName: 'GetObject',
  eventID: `id-${i}`,
  ...extra,
});

describe('reading real CloudTrail files', () => {
  test('reads every record of the real fixtures: envelopes, gzipped or not', async () => {
    const r = await readTrail(REAL_TRAIL);
    expect({ records: r.records.length, filesRead: r.filesRead, filesSkipped: r.filesSkipped }).toEqual({
      records: REAL_COUNTS.records,
      filesRead: REAL_COUNTS.files,
      filesSkipped: 0,
    });
    // The only records set aside are the two CloudTrail Insights summaries, which are not API calls.
    expect(r.issues.map((i) => [i.file, i.kind, i.count])).toEqual([
      ['aws-docs-examples/cloudtrail-log-file-examples.Records.json', 'insight', REAL_COUNTS.insights],
    ]);
  });

  test('keeps anonymised regions, invalid IPs and records without optional fields as they are', async () => {
    const r = await readTrail(path.join(REAL_TRAIL, 'stratus-red-team'));
    const odd = r.records.find((x) => x.record.awsRegion === 'megov-westwest-1r');
    expect(odd?.record.sourceIPAddress).toBe('08.1.250.216');
    const docs = await readTrail(path.join(REAL_TRAIL, 'aws-docs-examples', 'iam-sts.Records.json'));
    // The IAM guide's GetUserPolicy example has no eventType, readOnly or recipientAccountId.
    expect(docs.records.find((x) => x.record.eventName === 'GetUserPolicy')?.record.eventType).toBeUndefined();
  });

  test('reads bare JSON arrays (Stratus Red Team detonation logs)', async () => {
    const r = await readTrail(BARE_ARRAYS);
    expect(r.records).toHaveLength(34 + 1 + 1 + 1);
    expect(r.issues).toEqual([]);
    expect(r.records.map((x) => x.record.eventName)).toEqual(expect.arrayContaining(['DeleteTrail', 'StopLogging', 'PutEventSelectors']));
  });

  test("reads Logstash's NDJSON export, putting its @timestamp back as eventTime: the same records as the OTRF delivery, and says so", async () => {
    const r = await readTrail(LOGSTASH_NDJSON);
    expect(r.records).toHaveLength(103);
    expect(r.issues).toEqual([]);
    expect(r.notes).toEqual([
      {
        file: 'ec2_proxy_s3_exfiltration_2020-09-14011940.ndjson',
        count: 103,
        detail: "eventTime taken from Logstash's @timestamp (its @timestamp and @version fields dropped)",
      },
    ]);
    expect(describeReadResult(r).join('\n')).toMatch(/103 records read with a change: eventTime taken from Logstash's @timestamp/);
    // The shared set derived the OTRF delivery from this export the same way: record for record, equal.
    const delivered = await readTrail(path.join(REAL_TRAIL, 'otrf-security-datasets'));
    const byId = new Map(delivered.records.map((x) => [x.record.eventID, x.record]));
    for (const x of r.records) expect(x.record).toEqual(byId.get(x.record.eventID));
  });

  test.each([
    [{ '@timestamp': '2020-09-14T01:19:40.250Z' }, { eventTime: '2020-09-14T01:19:40.250Z' }],
    [{ '@timestamp': '2020-09-14T01:19:40Z', '@version': '1' }, { eventTime: '2020-09-14T01:19:40Z' }],
    [{ '@timestamp': '2020-09-14 01:19:40' }, /@timestamp is not a UTC time/],
    [{ '@timestamp': '2020-09-14T01:19:40+01:00' }, /@timestamp is not a UTC time/],
    [{ EventTime: '2020-09-14T01:19:40Z' }, /no eventTime but a field "EventTime"/],
    [{ timestamp: 1600046380000 }, /no eventTime but a field "timestamp"/],
    [{ CloudTrailEvent: '{}' }, /LookupEvents result/],
    [{ 'detail-type': 'AWS API Call via CloudTrail', detail: {} }, /EventBridge event/],
    [{}, /missing eventTime/],
  ])('a record without eventTime but %j is read or refused with the reason', async (fields, expected) => {
    const { checkRecord } = await import('../../lib/audit/cloudtrail-record');
    const base: Record<string, unknown> = { eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventID: 'x', ...fields };
    const check = checkRecord(base);
    if (expected instanceof RegExp) {
      expect(check.ok).toBe(false);
      expect(!check.ok && check.detail).toMatch(expected);
    } else {
      expect(check.ok && check.record).toEqual({ eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventID: 'x', ...expected });
      expect(check.ok && check.adjusted).toMatch(/@timestamp/);
    }
  });

  test('a record that has both eventTime and @timestamp keeps its own eventTime, untouched', async () => {
    const { checkRecord } = await import('../../lib/audit/cloudtrail-record');
    const r = { ...record(1), '@timestamp': '1999-01-01T00:00:00Z' };
    expect(checkRecord(r)).toEqual({ ok: true, record: r });
  });
});

describe('layouts', () => {
  const tmp = new TempDir();
  afterAll(() => tmp.cleanup());
  const records = [record(1), record(2), record(3)];

  test.each([
    ['envelope.json', JSON.stringify({ Records: records })],
    ['pretty.json', JSON.stringify({ Records: records }, null, 2)],
    ['envelope-key-last.json', JSON.stringify({ other: { Records: 'not this one' }, Records: records })],
    ['array.json', JSON.stringify(records)],
    ['lines.ndjson', records.map((r) => JSON.stringify(r)).join('\n')],
    ['crlf.jsonl', `${records.map((r) => JSON.stringify(r)).join('\r\n')}\r\n`],
    ['bom.json', `\ufeff${JSON.stringify({ Records: records })}`],
  ])('%s', async (name, text) => {
    const r = await readTrail(tmp.write(`layouts/${name}`, text));
    expect(r.records.map((x) => x.record.eventID)).toEqual(['id-1', 'id-2', 'id-3']);
    expect(r.issues).toEqual([]);
  });

  test('gzip is recognised by its magic bytes, whatever the name', async () => {
    const r = await readTrail(tmp.write('named-wrong.json', gzipSync(JSON.stringify({ Records: records }))));
    expect(r.records).toHaveLength(3);
  });

  test('every split of the text into two chunks gives the same records (streaming boundaries)', () => {
    const text = JSON.stringify({ Records: [record(1, { requestParameters: { key: 'a "quoted" \\ }{ ][ value' } }), record(2)] });
    const collect = (chunks: string[]) => {
      const seen: string[] = [];
      const s = new JsonRecordScanner(1_000_000, (e: ScanEvent) => e.type === 'value' && seen.push(e.text ?? ''));
      chunks.forEach((c) => s.push(c));
      s.finish();
      return seen;
    };
    const whole = collect([text]);
    expect(whole).toHaveLength(2);
    for (let i = 1; i < text.length; i++) expect(collect([text.slice(0, i), text.slice(i)])).toEqual(whole);
  });

  test('streams a large gzipped file', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => record(i, { requestParameters: { bucketName: 'b', key: `k/${i}`.repeat(20) } }));
    const file = tmp.write('large/big.json.gz', gzipSync(JSON.stringify({ Records: many })));
    const started = Date.now();
    const r = await readTrail(path.dirname(file));
    expect(r.records).toHaveLength(20_000);
    expect(r.records[19_999].record.eventID).toBe('id-19999');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('bad input is reported and skipped with a count, never a crash', () => {
  const tmp = new TempDir();
  afterAll(() => tmp.cleanup());
  const good = JSON.stringify({ Records: [record(1), record(2)] });
  const gz = gzipSync(JSON.stringify({ Records: Array.from({ length: 200 }, (_, i) => record(i, { padding: `${i}`.repeat(50) })) }));
  const corrupt = Buffer.from(gz);
  for (let i = 200; i < 260; i++) corrupt[i] ^= 0xff;

  tmp.write('bad/good.json', good);
  tmp.write('bad/truncated.json.gz', gz.subarray(0, Math.floor(gz.length / 2)));
  tmp.write('bad/corrupt.json.gz', corrupt);
  tmp.write('bad/not-json.json', 'this is not JSON at all\n');
  tmp.write('bad/empty.json', '');
  tmp.write('bad/cut-short.json', good.slice(0, good.length - 10));
  tmp.write(
    'bad/mixed.json',
    JSON.stringify({
      Records: [
        record(10),
        { eventTime: '2026-05-01T10:00:00Z', eventSource: 's3.amazonaws.com' }, // no eventName
        { eventTime: '01/05/2026 10:00', eventSource: 's3.amazonaws.com', eventName: 'GetObject' }, // not CloudTrail's time
        'a string, not a record',
        record(11, { requestParameters: { blob: 'x'.repeat(1_100_000) } }), // over the 1 MB cap
        record(12),
      ],
    }),
  );
  tmp.write(
    'bad/lines.ndjson',
    [JSON.stringify(record(20)), 'garbage line', JSON.stringify(record(21)), '{"eventTime": "2026-05-01T10:00:00Z", "eventSo'].join('\n'),
  );
  tmp.write('bad/README.txt', 'not a trail file');

  test('the good records are read and each problem is named with its file, kind and count', async () => {
    const r = await readTrail(tmp.path('bad'));
    expect(r.records.map((x) => x.record.eventID).sort()).toEqual(['id-1', 'id-10', 'id-12', 'id-2', 'id-20', 'id-21']);
    const issues = r.issues.map((i) => ({ file: i.file, kind: i.kind, count: i.count, fileSkipped: i.fileSkipped }));
    expect(issues).toEqual(
      expect.arrayContaining([
        { file: 'truncated.json.gz', kind: 'corrupt-gzip', count: expect.any(Number), fileSkipped: true },
        { file: 'corrupt.json.gz', kind: 'corrupt-gzip', count: expect.any(Number), fileSkipped: true },
        { file: 'not-json.json', kind: 'not-json', count: 0, fileSkipped: true },
        { file: 'empty.json', kind: 'not-json', count: 0, fileSkipped: true },
        { file: 'cut-short.json', kind: 'truncated', count: 1, fileSkipped: true }, // the one complete record before the cut
        { file: 'mixed.json', kind: 'missing-fields', count: 2, fileSkipped: false },
        { file: 'mixed.json', kind: 'not-a-record', count: 1, fileSkipped: false },
        { file: 'mixed.json', kind: 'too-large', count: 1, fileSkipped: false },
        { file: 'lines.ndjson', kind: 'not-json', count: 1, fileSkipped: false },
        { file: 'lines.ndjson', kind: 'truncated', count: 1, fileSkipped: false },
      ]),
    );
    expect(issues).toHaveLength(10);
    expect({ filesRead: r.filesRead, filesSkipped: r.filesSkipped, ignored: r.filesIgnored }).toEqual({
      filesRead: 3,
      filesSkipped: 5,
      ignored: ['README.txt'],
    });
  });

  test('a truncated gzip never yields the records before the cut: the file is known to be incomplete', async () => {
    const r = await readTrail(tmp.path('bad/truncated.json.gz'));
    expect(r.records).toHaveLength(0);
    expect(r.issues[0]).toMatchObject({ kind: 'corrupt-gzip', fileSkipped: true });
  });

  test('the report names files and counts, never record contents', async () => {
    const text = describeReadResult(await readTrail(tmp.path('bad'))).join('\n');
    expect(text).toMatch(/^read 6 records from 3 files; skipped \d+ records and 5 whole files/);
    expect(text).toMatch(/mixed\.json: too-large: 1 skipped: record 5 is \d+ characters, over the 1048576 limit/);
    expect(text).not.toMatch(/xxxx|a string, not a record|garbage line/);
  });

  test('the record size cap can be lowered', async () => {
    const r = await readTrail(tmp.path('bad/good.json'), { maxRecordBytes: 50 });
    expect(r.records).toHaveLength(0);
    expect(r.issues).toEqual([expect.objectContaining({ kind: 'too-large', count: 2 })]);
  });

  test('a missing folder is a clear error', async () => {
    await expect(readTrail(tmp.path('nope'))).rejects.toThrow(/no such file or folder/);
  });

  test('an unreadable file is skipped, not fatal', async () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const file = tmp.write('locked/secret.json', good);
    fs.chmodSync(file, 0o000);
    try {
      const r = await readTrail(path.dirname(file));
      expect(r.issues).toEqual([expect.objectContaining({ kind: 'unreadable', fileSkipped: true })]);
    } finally {
      fs.chmodSync(file, 0o600);
    }
  });
});
