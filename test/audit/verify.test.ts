import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parsePublicKeys } from '../../lib/audit/cloudtrail-digest';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { closeAllAuditWriters, LocalAuditWriter, localAuditEnv, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import { AUDIT_KEY_DIR, HEADS_FILE, parseHeadLine, trustedKeyFromPem } from '../../lib/audit/signed-heads';
import { describeVerifyReport, PublishedHeadInput, verifyTrail, VerifyOptions } from '../../lib/audit/verify';
import { ensureLocalKeyPair, PUBLIC_KEY_FILE } from '../../lib/airlock/signing';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { CLOUDTRAIL_FIXTURES, REAL_TRAIL, TempDir } from './helpers/fixtures';
import { writeDemoTrail } from './helpers/local-trail';
import {
  BUCKET,
  cloudTrailKey,
  digestKey,
  logKey,
  readJsonGz,
  s3Record,
  sha256,
  signDigest,
  signedTrail,
  TrailObject,
  writeJsonGz,
  writeTrailFolder,
} from './helpers/signed-cloudtrail';
import { chainFile, headsFile, readLines, recordFiles, rewriteTrail, writeLines } from './helpers/tamper';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
afterEach(() => closeAllAuditWriters());

/** A fresh demo trail (7 records, 7 signed heads); `tamper` edits it, then verify runs. */
async function verifyAfter(
  tamper: (auditDir: string, files: string[], records: CloudTrailRecord[]) => void,
  options: (auditDir: string) => VerifyOptions = () => ({}),
) {
  const tmp = new TempDir();
  try {
    const { writer, records } = writeDemoTrail(config, tmp.dir);
    closeAllAuditWriters();
    tamper(writer.dir, recordFiles(writer.dir), records);
    const report = await verifyTrail(writer.dir, options(writer.dir));
    return { report, records, kinds: report.findings.map((f) => f.kind), text: describeVerifyReport(report).join('\n') };
  } finally {
    tmp.cleanup();
  }
}

const editRecords = (file: string, change: (records: any[]) => void) => {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(doc.Records);
  fs.writeFileSync(file, JSON.stringify(doc));
};

/** The published head a register built from this trail would carry, as a file's content. */
const publishedFrom = (auditDir: string, source = 'register.json'): PublishedHeadInput => {
  const heads = readLines(headsFile(auditDir)).map((l) => parseHeadLine(l)!);
  const publicKeyPem = fs.readFileSync(path.join(auditDir, '..', AUDIT_KEY_DIR, PUBLIC_KEY_FILE), 'utf8');
  return { head: heads[heads.length - 1], publicKeyPem, source };
};

describe('verify: the local hash chain and its signed heads', () => {
  test('an untouched trail verifies, and reports its signed head and key', async () => {
    const { report, text } = await verifyAfter(() => undefined);
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.localChain).toMatchObject({ chainEntries: 7, recordsFound: 7, signedHeads: 7, latestSignedHead: { seq: 7 } });
    expect(text).toMatch(/latest signed head: entry 7, [0-9a-f]{64}, signed \d{4}-/);
    expect(text).toMatch(/audit key: [0-9a-f]{64} \(the workdir's audit key/);
    expect(describeVerifyReport(report).at(-1)).toBe('verified: no missing, altered, reordered or unsigned record found');
  });

  test('a re-serialised trail still verifies: record files pretty-printed with keys reordered, gzipped, chain and heads reformatted', async () => {
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverseKeys)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverseKeys(x)]),
            )
          : v;
    const { report } = await verifyAfter((dir, files) => {
      for (const f of files) {
        const doc = JSON.parse(fs.readFileSync(f, 'utf8'));
        fs.writeFileSync(f, JSON.stringify(reverseKeys(doc), null, 4).replace(/\n/g, '\r\n'));
      }
      // CloudTrail's own form: the same JSON, gzipped (the reader tells by the magic bytes).
      fs.writeFileSync(files[0], gzipSync(fs.readFileSync(files[0])));
      for (const file of [chainFile(dir), headsFile(dir)]) {
        writeLines(
          file,
          readLines(file).map((l) => JSON.stringify(reverseKeys(JSON.parse(l)), null, 0).replace(/,/g, ', ')),
        );
      }
    });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
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

  test('detects reordered records', async () => {
    const { kinds, report } = await verifyAfter((_dir, files) => editRecords(files[1], (recs) => recs.reverse()));
    expect(new Set(kinds)).toEqual(new Set(['reordered']));
    expect(report.findings[0].message).toMatch(/records were reordered/);
  });

  test('detects a record slipped in outside the writer', async () => {
    const { kinds } = await verifyAfter((_dir, files) =>
      editRecords(files[0], (recs) => recs.push({ ...recs[0], eventID: '11111111-2222-4333-8444-555555555555' })),
    );
    expect(kinds).toEqual(['unchained']);
  });

  test('detects a damaged chain file', async () => {
    const { kinds } = await verifyAfter((dir) => fs.appendFileSync(chainFile(dir), '{"seq": 8, "eventID": "x"\n'));
    expect(kinds).toEqual(['corrupt-chain']);
  });

  // The six edits the unkeyed chain alone let through (issue 19).
  describe('edits a recomputed chain used to hide', () => {
    test('1. the last records dropped together with their chain lines: the chain is shorter than its last signed head', async () => {
      const { kinds, text } = await verifyAfter((dir, files) => {
        editRecords(files[1], (recs) => recs.splice(-2));
        writeLines(chainFile(dir), readLines(chainFile(dir)).slice(0, 5));
      });
      expect(kinds).toEqual(['truncated']);
      expect(text).toMatch(/the chain has 5 entries, but the last signed head .* covers entry 7: records were cut from the end/);
    });

    test('2. a record altered and the whole chain recomputed: the signed heads no longer match', async () => {
      const { kinds } = await verifyAfter((dir, _files, records) => {
        const forged = records.map((r) =>
          r.errorCode === 'AccessDenied' && r.eventName === 'StartQueryExecution' ? { ...r, errorCode: undefined, errorMessage: undefined } : r,
        );
        rewriteTrail(dir, JSON.parse(JSON.stringify(forged)));
      });
      expect(kinds.length).toBeGreaterThan(0);
      expect(new Set(kinds)).toEqual(new Set(['head-mismatch']));
    });

    test('3. a record deleted and the chain recomputed', async () => {
      const { kinds } = await verifyAfter((dir, _files, records) =>
        rewriteTrail(
          dir,
          records.filter((_, i) => i !== 3),
        ),
      );
      expect(kinds).toContain('head-mismatch');
      expect(kinds).toContain('truncated');
    });

    test('4. a forged record inserted and the chain recomputed', async () => {
      const { kinds } = await verifyAfter((dir, _files, records) => {
        const forged = { ...records[2], eventID: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', eventTime: '2026-11-21T10:30:00Z' };
        rewriteTrail(dir, [...records.slice(0, 3), forged, ...records.slice(3)]);
      });
      expect(kinds).toContain('head-mismatch');
      expect(kinds).not.toContain('unchained');
    });

    test('5. a forged record appended with a valid chain entry: no signed head covers it', async () => {
      const { kinds, text } = await verifyAfter((dir, _files, records) => {
        const forged = { ...records[2], eventID: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', eventTime: '2026-11-22T10:30:00Z' };
        rewriteTrail(dir, [...records, forged]);
      });
      expect(kinds).toEqual(['unsigned-entries']);
      expect(text).toMatch(/chain entries 8 to 8 \(1 record\) are covered by no signed head/);
    });

    test('6. every record deleted and an empty chain file left: the trail does not verify', async () => {
      const emptied = await verifyAfter((dir, files) => {
        for (const f of files) fs.rmSync(f);
        fs.writeFileSync(chainFile(dir), '');
      });
      expect(emptied.report.ok).toBe(false);
      expect(emptied.kinds).toEqual(['empty-trail', 'truncated']);
      // ...and with the signed heads deleted too.
      const bare = await verifyAfter((dir, files) => {
        for (const f of files) fs.rmSync(f);
        fs.writeFileSync(chainFile(dir), '');
        fs.rmSync(headsFile(dir));
      });
      expect(bare.report.ok).toBe(false);
      expect(bare.kinds).toEqual(['empty-trail', 'unsigned-head']);
    });
  });

  test('a head whose signature was edited (or forged with another key) is refused', async () => {
    const edited = await verifyAfter((dir) => {
      const lines = readLines(headsFile(dir));
      const last = JSON.parse(lines[6]);
      lines[6] = JSON.stringify({ ...last, signedAt: '2030-01-01T00:00:00.000Z' });
      writeLines(headsFile(dir), lines);
    });
    expect(edited.kinds).toEqual(['bad-head-signature', 'unsigned-entries']);
    const otherKey = await verifyAfter((dir) => {
      // An attacker signs a head for a rewritten chain with a key of their own.
      const tmp = new TempDir();
      const w = LocalAuditWriter.open(tmp.dir, localAuditEnv(config));
      const { head } = w.append(projectQueryEvent(localAuditEnv(config), { projectId: 'x', sessionName: 'x', queryString: 'SELECT 1' }));
      fs.appendFileSync(headsFile(dir), `${JSON.stringify({ ...head, seq: 7 })}\n`);
      tmp.cleanup();
    });
    expect(otherKey.kinds).toEqual(['bad-head-signature']);
    expect(otherKey.text).toMatch(/signed by key [0-9a-f]{64}, not the trusted audit key/);
  });

  test('heads put back in the wrong order are refused', async () => {
    const { kinds } = await verifyAfter((dir) => writeLines(headsFile(dir), readLines(headsFile(dir)).reverse()));
    expect(new Set(kinds)).toEqual(new Set(['heads-out-of-order']));
  });

  test('a trail copied away from its workdir needs the public key; with it, it verifies', async () => {
    const tmp = new TempDir();
    try {
      const { writer } = writeDemoTrail(config, tmp.path('work'));
      const copy = tmp.path('copy');
      fs.cpSync(writer.dir, copy, { recursive: true });
      const without = await verifyTrail(copy);
      expect(without.findings.map((f) => f.kind)).toEqual(['no-trusted-key']);
      const pem = fs.readFileSync(tmp.path(`work/${AUDIT_KEY_DIR}/${PUBLIC_KEY_FILE}`), 'utf8');
      const withKey = await verifyTrail(copy, { auditKey: trustedKeyFromPem(pem, 'audit.pem') });
      expect(withKey.ok).toBe(true);
    } finally {
      tmp.cleanup();
    }
  });

  describe('what only a published head catches', () => {
    test('records AND their heads cut from the end verify alone, but not against the head a register published before', async () => {
      let published: PublishedHeadInput | undefined;
      const cut = (dir: string) => {
        published = publishedFrom(dir);
        editRecords(recordFiles(dir)[1], (recs) => recs.splice(-2));
        writeLines(chainFile(dir), readLines(chainFile(dir)).slice(0, 5));
        writeLines(headsFile(dir), readLines(headsFile(dir)).slice(0, 5));
      };
      const alone = await verifyAfter(cut);
      expect(alone.report.ok).toBe(true); // undetectable without an outside copy: documented
      const against = await verifyAfter(cut, () => ({ published: [published!] }));
      expect(against.kinds).toEqual(['truncated']);
      expect(against.text).toMatch(/the head published in register\.json .* covers entry 7/);
    });

    test('a trail rewritten and re-signed with a replaced key verifies alone, but the published key shows the replacement', async () => {
      let published: PublishedHeadInput | undefined;
      const replaceKey = (dir: string, _files: string[], records: CloudTrailRecord[]) => {
        published = publishedFrom(dir);
        // The attacker deletes everything, makes a new key and writes a forged history with it.
        fs.rmSync(dir, { recursive: true });
        fs.rmSync(path.join(dir, '..', AUDIT_KEY_DIR), { recursive: true });
        const w = LocalAuditWriter.open(path.join(dir, '..'), localAuditEnv(config));
        for (const r of records.slice(0, 3)) w.append(r);
        closeAllAuditWriters();
      };
      const alone = await verifyAfter(replaceKey);
      expect(alone.report.ok).toBe(true);
      const against = await verifyAfter(replaceKey, () => ({ published: [published!] }));
      expect(against.kinds).toContain('key-changed');
      expect(against.report.ok).toBe(false);
    });

    test('a published head that was itself edited is not taken as genuine', async () => {
      const { kinds } = await verifyAfter(
        () => undefined,
        (dir) => {
          const p = publishedFrom(dir);
          return { published: [{ ...p, head: { ...p.head!, seq: 3 } }] };
        },
      );
      expect(kinds).toEqual(['published-head-mismatch']);
    });
  });

  test('generated attacks by someone who can rewrite every file but not sign: none verifies', async () => {
    const tmp = new TempDir();
    try {
      const { writer, records } = writeDemoTrail(config, tmp.path('pristine'));
      closeAllAuditWriters();
      const pristine = writer.dir;
      const attack = fc.oneof(
        fc.record({
          kind: fc.constant('alter' as const),
          at: fc.nat(6),
          field: fc.constantFrom('eventTime', 'eventName', 'errorCode', 'sourceIPAddress'),
          value: fc.string(),
        }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(6) }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(7) }),
        fc.record({ kind: fc.constant('swap' as const), at: fc.nat(5) }),
        fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat(6) }),
      );
      let attempt = 0;
      await fc.assert(
        fc.asyncProperty(attack, fc.boolean(), async (a, dropLaterHeads) => {
          const dir = tmp.path(`attempt-${(attempt += 1)}`);
          fs.cpSync(path.dirname(pristine), dir, { recursive: true });
          const audit = path.join(dir, 'audit');
          let next: CloudTrailRecord[] = JSON.parse(JSON.stringify(records));
          let changedFrom: number;
          if (a.kind === 'alter') {
            const before = JSON.stringify(next[a.at]);
            next[a.at] = { ...next[a.at], [a.field]: a.value };
            if (JSON.stringify(next[a.at]) === before) return; // not an edit
            changedFrom = a.at;
          } else if (a.kind === 'delete') {
            next.splice(a.at, 1);
            changedFrom = a.at;
          } else if (a.kind === 'insert') {
            next.splice(a.at, 0, { ...records[0], eventID: 'ffffffff-0000-4000-8000-000000000000' });
            changedFrom = a.at;
          } else if (a.kind === 'swap') {
            [next[a.at], next[a.at + 1]] = [next[a.at + 1], next[a.at]];
            changedFrom = a.at;
          } else {
            next = next.slice(0, a.keep);
            changedFrom = a.keep;
          }
          rewriteTrail(audit, next);
          // A careful attacker also drops the heads that covered what they changed.
          if (dropLaterHeads) writeLines(headsFile(audit), readLines(headsFile(audit)).slice(0, changedFrom));
          const report = await verifyTrail(audit, { published: [publishedFrom(path.dirname(pristine) + '/audit')] });
          expect(report.ok).toBe(false);
          fs.rmSync(dir, { recursive: true });
        }),
        { numRuns: 60 },
      );
    } finally {
      tmp.cleanup();
    }
  });
});

describe('verify: CloudTrail digest files', () => {
  const key = cloudTrailKey();
  const keys = parsePublicKeys(key.listPublicKeys, 'keys.json');
  const hours = ['10', '11', '12'].map((h, i) => ({ delivered: `2026-05-01T${h}:05:00Z`, records: [s3Record(`e${i}`, `2026-05-01T${h}:04:00Z`)] }));

  async function verifyDigestsAfter(
    tamper: (tmp: TempDir, objects: TrailObject[]) => void,
    options: VerifyOptions = { publicKeys: keys },
    build = () => signedTrail(key, hours),
  ) {
    const tmp = new TempDir();
    try {
      const objects = build();
      writeTrailFolder(tmp.dir, objects);
      tamper(tmp, objects);
      const report = await verifyTrail(tmp.dir, options);
      return { report, kinds: report.findings.map((f) => f.kind), text: describeVerifyReport(report).join('\n') };
    } finally {
      tmp.cleanup();
    }
  }
  const d = (end: string) => digestKey(end);
  const newest = d('2026-05-01T13:00:00Z');
  const middle = d('2026-05-01T12:00:00Z');

  test('an intact delivery verifies with the public keys: every signature, the chain and every log file', async () => {
    const { report } = await verifyDigestsAfter(() => undefined);
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.digests).toMatchObject({ digestFiles: 3, digestsAuthenticated: 3, logFilesChecked: 3 });
    expect(report.digests?.verifiedLogFiles.size).toBe(3);
    expect(report.digests?.newestAuthenticated).toEqual({ location: newest, endTime: '2026-05-01T13:00:00Z' });
  });

  test('without the keys it does not verify, and says exactly what was not checked', async () => {
    const { report, kinds, text } = await verifyDigestsAfter(() => undefined, {});
    expect(report.ok).toBe(false);
    expect(kinds).toEqual(['signature-not-checked']);
    expect(text).toMatch(/3 digest signatures NOT checked: no CloudTrail public keys were given/);
    expect(text).toMatch(/aws cloudtrail list-public-keys/);
    expect(report.digests?.verifiedLogFiles.size).toBe(0);
  });

  test('hashes the uncompressed log file, as CloudTrail defines it (re-gzipping the same JSON still verifies)', async () => {
    const { report } = await verifyDigestsAfter((tmp) => {
      const file = tmp.path(logKey('2026-05-01', '1105'));
      fs.writeFileSync(file, gzipSync(gunzipSync(fs.readFileSync(file)), { level: 1 }));
    });
    expect(report.ok).toBe(true);
  });

  test('detects an altered log file', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => {
      const file = tmp.path(logKey('2026-05-01', '1105'));
      fs.writeFileSync(file, gzipSync(gunzipSync(fs.readFileSync(file)).toString().replace('GetObject', 'ListBuckets')));
    });
    expect(kinds).toEqual(['log-file-altered']);
  });

  describe('a log file edited together with its digest, re-hashed', () => {
    const editNewest = (tmp: TempDir) => {
      const file = tmp.path(logKey('2026-05-01', '1205'));
      const text = gunzipSync(fs.readFileSync(file)).toString().replace('GetObject', 'DeleteObject');
      fs.writeFileSync(file, gzipSync(text));
      const digest = readJsonGz(tmp.path(newest));
      digest.logFiles[0].hashValue = sha256(text);
      writeJsonGz(tmp.path(newest), digest);
    };

    test('the newest digest: its signature no longer verifies', async () => {
      const { kinds } = await verifyDigestsAfter(editNewest);
      expect(kinds).toEqual(['digest-signature-invalid']);
    });

    test('without the keys the same edit is not caught by hashes alone, and the report says the signatures were not checked', async () => {
      const { kinds, report } = await verifyDigestsAfter(editNewest, {});
      expect(kinds).toEqual(['signature-not-checked']);
      expect(report.ok).toBe(false);
    });

    test('a middle digest, with every later digest re-hashed to keep the chain: each rewritten digest fails its signature', async () => {
      const { kinds } = await verifyDigestsAfter((tmp) => {
        const file = tmp.path(logKey('2026-05-01', '1105'));
        const text = gunzipSync(fs.readFileSync(file)).toString().replace('GetObject', 'DeleteObject');
        fs.writeFileSync(file, gzipSync(text));
        const mid = readJsonGz(tmp.path(middle));
        mid.logFiles[0].hashValue = sha256(text);
        const midText = JSON.stringify(mid);
        fs.writeFileSync(tmp.path(middle), gzipSync(midText));
        const last = readJsonGz(tmp.path(newest));
        last.previousDigestHashValue = sha256(midText);
        writeJsonGz(tmp.path(newest), last);
      });
      expect(kinds).toEqual(['digest-signature-invalid', 'digest-signature-invalid']);
    });
  });

  test('a digest forged with another RSA key that claims the CloudTrail key fingerprint is refused', async () => {
    const attacker = cloudTrailKey();
    const { kinds } = await verifyDigestsAfter(
      () => undefined,
      { publicKeys: keys },
      () => signedTrail({ ...attacker, fingerprint: key.fingerprint }, hours),
    );
    expect(new Set(kinds)).toEqual(new Set(['digest-signature-invalid']));
  });

  test('detects a deleted log file', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => fs.rmSync(tmp.path(logKey('2026-05-01', '1205'))));
    expect(kinds).toEqual(['log-file-missing']);
  });

  test('detects a deleted digest in the middle of the chain', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => fs.rmSync(tmp.path(middle)));
    // The digest is gone, so its log file is covered by no digest any more, and the digest
    // before it lost the only copy of its signature (the deleted digest's previousDigestSignature).
    expect(kinds).toEqual(['digest-unsigned', 'digest-missing', 'not-in-digest']);
  });

  test('detects an altered digest', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => {
      const doc = readJsonGz(tmp.path(d('2026-05-01T11:00:00Z')));
      doc.logFiles = [];
      writeJsonGz(tmp.path(d('2026-05-01T11:00:00Z')), doc);
    });
    expect(kinds).toEqual(['digest-signature-invalid', 'digest-altered', 'not-in-digest']);
  });

  test('the newest digest needs its S3 metadata signature: without it, it and its log files are not verified, and the report says how to get it', async () => {
    const { kinds, text, report } = await verifyDigestsAfter((tmp) => fs.rmSync(tmp.path(`${newest}.metadata.json`)));
    expect(kinds).toEqual(['digest-unsigned']);
    expect(text).toMatch(/aws s3api head-object --bucket audit-bucket --key AWSLogs\/.*20260501T130000Z\.json\.gz/);
    expect(report.digests?.verifiedLogFiles.size).toBe(2);
  });

  test('a copy cut after the newest digest a register published verifies alone, but not against that register', async () => {
    const cut = (tmp: TempDir) => {
      // The attacker drops the last hour and, to keep the copy verifying, saves the now-newest
      // digest's signature (found in the dropped digest) as its metadata sidecar.
      const dropped = readJsonGz(tmp.path(newest));
      fs.rmSync(tmp.path(newest));
      fs.rmSync(tmp.path(`${newest}.metadata.json`));
      fs.rmSync(tmp.path(logKey('2026-05-01', '1205')));
      tmp.write(
        `${middle}.metadata.json`,
        JSON.stringify({ Metadata: { signature: dropped.previousDigestSignature, 'signature-algorithm': 'SHA256withRSA' } }),
      );
    };
    const register: PublishedHeadInput = { newestDigest: { location: newest, endTime: '2026-05-01T13:00:00Z' }, source: 'register.json' };
    expect((await verifyDigestsAfter(cut)).report.ok).toBe(true);
    const against = await verifyDigestsAfter(cut, { publicKeys: keys, published: [register] });
    expect(against.kinds).toEqual(['truncated']);
    expect(against.text).toMatch(/the newest register\.json was built from, is not here: the copy was cut before it/);
    expect((await verifyDigestsAfter(() => undefined, { publicKeys: keys, published: [register] })).report.ok).toBe(true);
  });

  test('a digest moved from where CloudTrail delivered it is refused', async () => {
    const { kinds } = await verifyDigestsAfter((tmp) => {
      const moved = tmp.path(middle.replace('/05/01/', '/05/02/'));
      fs.mkdirSync(path.dirname(moved), { recursive: true });
      fs.renameSync(tmp.path(middle), moved);
    });
    expect(kinds).toContain('digest-moved');
  });

  test('a gap in time between chained digests is an error', async () => {
    const gappy = ['10', '11', '13'].map((h, i) => ({ delivered: `2026-05-01T${h}:05:00Z`, records: [s3Record(`g${i}`, `2026-05-01T${h}:04:00Z`)] }));
    const { kinds, text } = await verifyDigestsAfter(
      () => undefined,
      { publicKeys: keys },
      () => signedTrail(key, gappy, BUCKET, false),
    );
    expect(kinds).toEqual(['digest-gap']);
    expect(text).toMatch(/no digest covers 2026-05-01T12:00:00Z to 2026-05-01T13:00:00Z/);
  });

  test('a chain whose first digest predates the folder is checked from the oldest digest present', async () => {
    const { report } = await verifyDigestsAfter((tmp) => {
      fs.rmSync(tmp.path(d('2026-05-01T11:00:00Z')));
      fs.rmSync(tmp.path(logKey('2026-05-01', '1005')));
    });
    expect(report.ok).toBe(true);
    expect(report.digests?.notes.join('\n')).toMatch(/oldest digest of its chain here/);
  });

  test('a log file delivered after the newest digest is pending (a warning, never verified); one delivered earlier that no digest lists is an error', async () => {
    const pending = await verifyDigestsAfter((tmp) => tmp.write(logKey('2026-05-01', '1305'), gzipSync('{"Records":[]}')));
    expect(pending.report.findings.map((f) => [f.kind, f.severity])).toEqual([['pending-digest', 'warning']]);
    expect(pending.report.ok).toBe(true);
    expect(pending.report.digests?.pendingLogFiles.size).toBe(1);
    const slipped = await verifyDigestsAfter((tmp) => tmp.write(logKey('2026-05-01', '1130'), gzipSync('{"Records":[]}')));
    expect(slipped.kinds).toEqual(['not-in-digest']);
    const stray = await verifyDigestsAfter((tmp) => tmp.write('extra/forged.json', '{"Records":[]}'));
    expect(stray.kinds).toEqual(['not-in-digest']);
  });

  test('keys are used only within their validity period, and a keys file whose fingerprints do not match is refused', async () => {
    const expired = parsePublicKeys(cloudTrailKey().listPublicKeys, 'k'); // another key: unknown fingerprint
    expect((await verifyDigestsAfter(() => undefined, { publicKeys: expired })).kinds).toEqual([
      'digest-key-unknown',
      'digest-key-unknown',
      'digest-key-unknown',
    ]);
    const window = { ...key.listPublicKeys.PublicKeyList[0], ValidityEndTime: Date.parse('2026-05-01T11:30:00Z') / 1000 };
    const { kinds } = await verifyDigestsAfter(() => undefined, { publicKeys: parsePublicKeys({ PublicKeyList: [window] }, 'k') });
    expect(kinds).toEqual(['digest-key-unknown', 'digest-key-unknown']);
    expect(() => parsePublicKeys({ PublicKeyList: [{ ...window, Fingerprint: '0'.repeat(32) }] }, 'keys.json')).toThrow(/does not match its Value/);
    expect(() => parsePublicKeys({ Keys: [] }, 'keys.json')).toThrow(/not the output of `aws cloudtrail list-public-keys`/);
  });

  test("the AWS documentation's sample: its keys parse (PKCS #1 and SubjectPublicKeyInfo), its digest names one of them, and its illustrative signature is refused, not crashed on", async () => {
    const docs = path.join(CLOUDTRAIL_FIXTURES, 'aws-docs-digest');
    const docKeys = parsePublicKeys(JSON.parse(fs.readFileSync(path.join(docs, 'list-public-keys.sample.json'), 'utf8')), 'sample');
    expect(docKeys.map((k) => k.fingerprint)).toEqual([
      '8eba5db5bea9b640d1c96a77256fe7f2',
      '8933b39ddc64d26d8e14ffbf6566fee4',
      '31e8b5433410dfb61a9dc45cc65b22ff',
    ]);
    expect(docKeys[0].validFrom).toBe(1436317441000);
    const digest = JSON.parse(fs.readFileSync(path.join(docs, 'digest-file.sample.json'), 'utf8'));
    const tmp = new TempDir();
    try {
      tmp.write(digest.digestS3Object, gzipSync(JSON.stringify(digest)));
      const sample = fs.readFileSync(path.join(docs, 'digest-signature.sample.txt'), 'utf8').replace(/\s+/g, '');
      tmp.write(`${digest.digestS3Object}.metadata.json`, JSON.stringify({ Metadata: { signature: sample, 'signature-algorithm': 'SHA256withRSA' } }));
      // The sample digest (August 2015) names a key whose documented validity ended in July 2015.
      const report = await verifyTrail(tmp.dir, { publicKeys: docKeys });
      expect(report.findings.map((f) => f.kind)).toEqual(['digest-key-unknown', 'log-file-missing']);
      expect(report.findings[0].message).toMatch(/outside the validity period of key 31e8b5433410dfb61a9dc45cc65b22ff/);
      expect(report.digests?.notes.join('\n')).toMatch(/oldest digest of its chain here/);
      // Taken without its validity window, the key is used, and the illustrative signature does not verify.
      const timeless = docKeys.map((k) => ({ ...k, validFrom: undefined, validTo: undefined }));
      const signed = await verifyTrail(tmp.dir, { publicKeys: timeless });
      expect(signed.findings.map((f) => f.kind)).toEqual(['digest-signature-invalid', 'log-file-missing']);
      expect(signed.findings[0].message).toContain('31e8b5433410dfb61a9dc45cc65b22ff');
    } finally {
      tmp.cleanup();
    }
  });

  test('re-signing a digest with the right key is the only way through: our signer and verifier agree on the data signing string', () => {
    const objects = signedTrail(key, hours);
    const digest = JSON.parse(gunzipSync(objects.find((o) => o.key === newest)!.body).toString());
    const text = JSON.stringify(digest);
    expect(signDigest(digest, text, key.privateKey)).toBe(objects.find((o) => o.key === newest)!.metadata!.signature);
    expect(digest.digestS3Bucket).toBe(BUCKET);
  });
});

test('a folder with neither a hash chain nor digests cannot be verified, and says so', async () => {
  const report = await verifyTrail(REAL_TRAIL);
  expect(report.ok).toBe(false);
  expect(report.findings.map((f) => f.kind)).toEqual(['nothing-to-verify']);
});

test('the audit key pair is kept owner-only, beside the other workdir keys, and never inside the audit folder', () => {
  const tmp = new TempDir();
  try {
    writeDemoTrail(config, tmp.dir);
    const keyDir = tmp.path(AUDIT_KEY_DIR);
    expect(fs.statSync(path.join(keyDir, 'signing-key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(keyDir).mode & 0o777).toBe(0o700);
    expect(
      fs
        .readdirSync(tmp.path('audit'), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.pem')),
    ).toEqual([]);
    // The heads carry the fingerprint, never the key.
    const heads = fs.readFileSync(tmp.path(`audit/${HEADS_FILE}`), 'utf8');
    expect(heads).not.toContain('PRIVATE KEY');
    expect(ensureLocalKeyPair(keyDir).fingerprint).toBe(parseHeadLine(heads.split('\n')[0])!.key);
  } finally {
    tmp.cleanup();
  }
});
