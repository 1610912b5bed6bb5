import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CHAIN_FILE, closeAllAuditWriters } from '../../lib/audit/local-audit-writer';
import { describeVerifyReport, SIGNATURE_NOTE, verifyTrail } from '../../lib/audit/verify';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { REAL_TRAIL, TempDir } from './helpers/fixtures';
import { writeDemoTrail } from './helpers/local-trail';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
afterEach(() => closeAllAuditWriters());

/** A fresh demo trail; `tamper` edits it, then verify runs. */
async function verifyAfter(tamper: (auditDir: string, files: string[]) => void) {
  const tmp = new TempDir();
  try {
    const { writer, records } = writeDemoTrail(config, tmp.dir);
    const files = fs
      .readdirSync(writer.dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => path.join(writer.dir, f));
    tamper(writer.dir, files);
    const report = await verifyTrail(writer.dir);
    return { report, records, kinds: report.findings.map((f) => f.kind) };
  } finally {
    tmp.cleanup();
  }
}

const editRecords = (file: string, change: (records: any[]) => void) => {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(doc.Records);
  fs.writeFileSync(file, JSON.stringify(doc));
};

describe('verify: the local hash chain', () => {
  test('an untouched trail verifies, and reports its head hash', async () => {
    const { report } = await verifyAfter(() => undefined);
    expect(report.ok).toBe(true);
    expect(report.findings).toEqual([]);
    expect(report.localChain).toMatchObject({ chainEntries: 7, recordsFound: 7, head: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(describeVerifyReport(report).at(-1)).toBe('verified: no missing, altered or reordered record found');
  });

  test('detects an altered record (a refused query rewritten as allowed)', async () => {
    const { report, records, kinds } = await verifyAfter((_dir, files) =>
      editRecords(files[1], (recs) => {
        const refused = recs.find((r) => r.errorCode === 'AccessDenied');
        delete refused.errorCode;
        delete refused.errorMessage;
      }),
    );
    expect(report.ok).toBe(false);
    expect(kinds).toEqual(['altered']);
    expect(report.findings[0].message).toContain(records[4].eventID);
  });

  test('detects a deleted record', async () => {
    const { report, records, kinds } = await verifyAfter((_dir, files) => editRecords(files[1], (recs) => recs.splice(2, 1)));
    expect(kinds).toEqual(['missing']);
    expect(report.findings[0].message).toMatch(new RegExp(`record ${records[4].eventID} \\(chain entry 5, .*\\) is in no record file`));
  });

  test('detects a record deleted together with its chain entry', async () => {
    const { kinds } = await verifyAfter((dir, files) => {
      editRecords(files[1], (recs) => recs.splice(2, 1));
      const chain = fs.readFileSync(path.join(dir, CHAIN_FILE), 'utf8').split('\n');
      chain.splice(4, 1);
      fs.writeFileSync(path.join(dir, CHAIN_FILE), chain.join('\n'));
    });
    expect(kinds).toEqual(['broken-link']);
  });

  test('detects reordered records', async () => {
    const { kinds, report } = await verifyAfter((_dir, files) => editRecords(files[1], (recs) => recs.reverse()));
    expect(new Set(kinds)).toEqual(new Set(['reordered']));
    expect(report.findings[0].message).toMatch(/records were reordered/);
  });

  test('detects a reordered chain', async () => {
    const { kinds } = await verifyAfter((dir) => {
      const chain = fs.readFileSync(path.join(dir, CHAIN_FILE), 'utf8').trim().split('\n');
      [chain[2], chain[3]] = [chain[3], chain[2]];
      fs.writeFileSync(path.join(dir, CHAIN_FILE), `${chain.join('\n')}\n`);
    });
    // Each swapped entry no longer follows the one before it.
    expect(kinds).toEqual(['broken-link', 'broken-link', 'broken-link']);
  });

  test('detects a record slipped in outside the writer', async () => {
    const { kinds } = await verifyAfter((_dir, files) =>
      editRecords(files[0], (recs) => recs.push({ ...recs[0], eventID: '11111111-2222-4333-8444-555555555555' })),
    );
    expect(kinds).toEqual(['unchained']);
  });

  test('detects a damaged chain file', async () => {
    const { kinds } = await verifyAfter((dir) => fs.appendFileSync(path.join(dir, CHAIN_FILE), '{"seq": 8, "eventID": "x"\n'));
    expect(kinds).toEqual(['corrupt-chain']);
  });
});

describe('verify: CloudTrail digest files', () => {
  const account = '111122223333';
  const region = 'eu-west-2';
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const logKey = (hhmm: string) =>
    `AWSLogs/${account}/CloudTrail/${region}/2026/05/01/${account}_CloudTrail_${region}_20260501T${hhmm}Z_abcdefghijklmnop.json.gz`;
  const digestKey = (hhmmss: string) =>
    `AWSLogs/${account}/CloudTrail-Digest/${region}/2026/05/01/${account}_CloudTrail-Digest_${region}_sde-audit_${region}_20260501T${hhmmss}Z.json.gz`;

  /** Three hourly digests, each listing one log file and chained to the one before. */
  function buildTrail(tmp: TempDir) {
    const hours = ['10', '11', '12'];
    let previous: { key: string; content: string } | undefined;
    hours.forEach((h, i) => {
      const log = JSON.stringify({
        Records: [{ eventVersion: '1.09', eventTime: `2026-05-01T${h}:10:00Z`, eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventID: `e${i}` }],
      });
      tmp.write(logKey(`${h}05`), gzipSync(log));
      const digest = JSON.stringify({
        awsAccountId: account,
        digestStartTime: `2026-05-01T${h}:00:00Z`,
        digestEndTime: `2026-05-01T${h}:59:59Z`,
        digestS3Bucket: 'audit-bucket',
        digestS3Object: digestKey(`${h}5959`),
        digestPublicKeyFingerprint: '31e8b5433410dfb61a9dc45cc65b22ff',
        digestSignatureAlgorithm: 'SHA256withRSA',
        previousDigestS3Bucket: previous ? 'audit-bucket' : null,
        previousDigestS3Object: previous?.key ?? null,
        previousDigestHashValue: previous ? sha(previous.content) : null,
        previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
        previousDigestSignature: previous ? 'ab'.repeat(256) : null,
        logFiles: [{ s3Bucket: 'audit-bucket', s3Object: logKey(`${h}05`), hashValue: sha(log), hashAlgorithm: 'SHA-256' }],
      });
      tmp.write(digestKey(`${h}5959`), gzipSync(digest));
      previous = { key: digestKey(`${h}5959`), content: digest };
    });
  }

  async function verifyDigestsAfter(tamper: (tmp: TempDir) => void) {
    const tmp = new TempDir();
    try {
      buildTrail(tmp);
      tamper(tmp);
      const report = await verifyTrail(tmp.dir);
      return { report, kinds: report.findings.map((f) => f.kind) };
    } finally {
      tmp.cleanup();
    }
  }

  test('an intact chain verifies; signatures are said not to be checked', async () => {
    const { report } = await verifyDigestsAfter(() => undefined);
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.digests).toMatchObject({ digestFiles: 3, logFilesChecked: 3 });
    expect(report.digests?.notes).toContain(SIGNATURE_NOTE);
    expect(describeVerifyReport(report).join('\n')).toMatch(/signatures were NOT checked/);
  });

  test('hashes the uncompressed log file, as CloudTrail defines it (re-gzipping the same JSON still verifies)', async () => {
    const { report } = await verifyDigestsAfter((tmp) => {
      const file = tmp.path(logKey('1105'));
      const json = require('node:zlib').gunzipSync(fs.readFileSync(file));
      fs.writeFileSync(file, gzipSync(json, { level: 1 }));
    });
    expect(report.ok).toBe(true);
  });

  test('detects an altered log file', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => {
      const file = tmp.path(logKey('1105'));
      const json = require('node:zlib').gunzipSync(fs.readFileSync(file)).toString().replace('GetObject', 'ListBuckets');
      fs.writeFileSync(file, gzipSync(json));
    });
    expect(kinds).toEqual(['log-file-altered']);
  });

  test('detects a deleted log file', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => fs.rmSync(tmp.path(logKey('1205'))));
    expect(kinds).toEqual(['log-file-missing']);
  });

  test('detects a deleted digest in the middle of the chain', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => fs.rmSync(tmp.path(digestKey('115959'))));
    // The digest is gone, so its log file is covered by no digest any more either.
    expect(kinds).toEqual(['digest-missing', 'not-in-digest']);
  });

  test('detects an altered digest', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => {
      const file = tmp.path(digestKey('105959'));
      const doc = JSON.parse(require('node:zlib').gunzipSync(fs.readFileSync(file)).toString());
      doc.logFiles = [];
      fs.writeFileSync(file, gzipSync(JSON.stringify(doc)));
    });
    expect(kinds).toEqual(['digest-altered', 'not-in-digest']);
  });

  test('a chain whose first digest predates the folder is checked from the oldest digest present', async () => {
    const { report } = await verifyDigestsAfter((tmp) => {
      fs.rmSync(tmp.path(digestKey('105959')));
      fs.rmSync(tmp.path(logKey('1005')));
    });
    expect(report.ok).toBe(true);
    expect(report.digests?.notes.join('\n')).toMatch(/oldest digest of its chain here/);
  });

  test('a log file no digest lists is a warning', async () => {
    const { report } = await verifyDigestsAfter((tmp) => tmp.write(logKey('1305'), gzipSync('{"Records":[]}')));
    expect(report.findings.map((f) => [f.kind, f.severity])).toEqual([['not-in-digest', 'warning']]);
    expect(report.ok).toBe(true);
  });
});

test('a folder with neither a hash chain nor digests cannot be verified, and says so', async () => {
  const report = await verifyTrail(REAL_TRAIL);
  expect(report.ok).toBe(false);
  expect(report.findings.map((f) => f.kind)).toEqual(['nothing-to-verify']);
});
