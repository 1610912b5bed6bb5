import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTrail } from '../../lib/audit/cloudtrail-reader';
import { checkRecord } from '../../lib/audit/cloudtrail-record';
import { chainHash, GENESIS, parseChainLine } from '../../lib/audit/hash-chain';
import {
  AuditTrailNotAnchoredError,
  CHAIN_FILE,
  closeAllAuditWriters,
  ingestionWriteEvent,
  localAuditEnv,
  LocalAuditWriter,
  projectQueryEvent,
  SDE_PROJECT_FIELD,
} from '../../lib/audit/local-audit-writer';
import { AUDIT_KEY_DIR, HEADS_FILE } from '../../lib/audit/signed-heads';
import { verifyTrail } from '../../lib/audit/verify';
import { rewriteTrail } from './helpers/tamper';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, REPO_ROOT, TEST_TODAY } from '../helpers/config-fixture';
import { REAL_TRAIL, TempDir } from './helpers/fixtures';
import { writeDemoTrail } from './helpers/local-trail';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const env = localAuditEnv(config);
afterEach(() => closeAllAuditWriters());

describe('local records have the shape of real CloudTrail records', () => {
  const tmp = new TempDir();
  afterAll(() => tmp.cleanup());
  const { records } = writeDemoTrail(config, tmp.dir);

  test('every one is a valid CloudTrail API-call record', () => {
    for (const r of records) expect(checkRecord(r).ok).toBe(true);
  });

  test('they use only field names that real records use, with the same nesting', async () => {
    const real = (await readTrail(REAL_TRAIL)).records.map((r) => r.record);
    const keysOf = (objs: readonly object[]) => new Set(objs.flatMap((o) => Object.keys(o)));
    const realTop = keysOf(real);
    const realIdentity = keysOf(real.map((r) => r.userIdentity ?? {}));
    const realIssuer = keysOf(real.map((r) => r.userIdentity?.sessionContext?.sessionIssuer ?? {}));
    const realResource = keysOf(real.flatMap((r) => r.resources ?? []));
    for (const r of records) {
      expect([...Object.keys(r)].filter((k) => !realTop.has(k))).toEqual([]);
      expect([...Object.keys(r.userIdentity ?? {})].filter((k) => !realIdentity.has(k))).toEqual([]);
      expect([...Object.keys(r.userIdentity?.sessionContext?.sessionIssuer ?? {})].filter((k) => !realIssuer.has(k))).toEqual([]);
      for (const res of r.resources ?? []) expect(Object.keys(res).filter((k) => !realResource.has(k))).toEqual([]);
    }
  });

  test('an ingestion write is an S3 PutObject data event on the curated object', () => {
    expect(records[0]).toMatchObject({
      eventVersion: '1.09',
      eventSource: 's3.amazonaws.com',
      eventName: 'PutObject',
      eventType: 'AwsApiCall',
      eventCategory: 'Data',
      managementEvent: false,
      readOnly: false,
      recipientAccountId: '000000000000',
      awsRegion: 'eu-west-2',
      requestParameters: { bucketName: 'onelondon-sde-curated', key: 'hospital_episodes/load_date=2026-11-20/batch-001.parquet' },
      resources: [
        { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::onelondon-sde-curated/hospital_episodes/load_date=2026-11-20/batch-001.parquet' },
        { type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::onelondon-sde-curated', accountId: '000000000000' },
      ],
      userIdentity: { type: 'AssumedRole', sessionContext: { sessionIssuer: { type: 'Role', userName: 'onelondon-sde-ingest' } } },
    });
    expect(records[0].eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(records[0].eventTime).toBe('2026-11-20T09:00:00Z');
  });

  test("a query runs as the project's role, in the project's workgroup, with bytes scanned and the project id", () => {
    expect(records[2]).toMatchObject({
      eventSource: 'athena.amazonaws.com',
      eventName: 'StartQueryExecution',
      eventCategory: 'Management',
      requestParameters: { workGroup: 'onelondon-sde-project-ncl-winter-planning' },
      additionalEventData: { [SDE_PROJECT_FIELD]: 'ncl-winter-planning', sdeBytesScanned: 52_345, sdeTables: ['hospital_episodes'] },
      userIdentity: {
        arn: 'arn:aws:sts::000000000000:assumed-role/onelondon-sde-project-ncl-winter-planning/ncl-icb-analyst',
        sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::000000000000:role/onelondon-sde-project-ncl-winter-planning' } },
      },
      responseElements: { queryExecutionId: 'q-ncl-1' },
    });
    expect(records[2].errorCode).toBeUndefined();
  });

  test('a refused query carries errorCode AccessDenied and the message, and scanned nothing', () => {
    expect(records[4]).toMatchObject({
      errorCode: 'AccessDenied',
      errorMessage: 'column primary_procedure is not approved for project ncl-winter-planning',
      responseElements: null,
      additionalEventData: { sdeBytesScanned: 0 },
    });
  });

  test("an output release is the airlock's own record in the same trail, for the project", () => {
    expect(records[6]).toMatchObject({
      eventSource: 'sde-airlock.local',
      eventName: 'ReleaseOutput',
      additionalEventData: { [SDE_PROJECT_FIELD]: 'ncl-winter-planning', sdeAction: 'output-release', sdeState: 'released' },
    });
    expect(records[6].errorCode).toBeUndefined();
  });
});

describe('the local writer', () => {
  test('writes the S3 delivery layout, which the reader reads back unchanged', async () => {
    const tmp = new TempDir();
    try {
      const { records, writer } = writeDemoTrail(config, tmp.dir);
      const files = fs
        .readdirSync(writer.dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.json'))
        .sort();
      expect(files).toEqual([
        expect.stringMatching(
          /^AWSLogs\/000000000000\/CloudTrail\/eu-west-2\/2026\/11\/20\/000000000000_CloudTrail_eu-west-2_20261120T0900Z_[A-Za-z0-9]{16}\.json$/,
        ),
        expect.stringMatching(
          /^AWSLogs\/000000000000\/CloudTrail\/eu-west-2\/2026\/11\/21\/000000000000_CloudTrail_eu-west-2_20261121T1000Z_[A-Za-z0-9]{16}\.json$/,
        ),
      ]);
      const text = fs.readFileSync(path.join(writer.dir, files[0]), 'utf8');
      expect(Object.keys(JSON.parse(text))).toEqual(['Records']);
      const back = await readTrail(writer.dir);
      expect(back.records.map((r) => r.record)).toEqual(records);
      expect(back.issues).toEqual([]);
      // Owner only, like the rest of the workdir: the records name researchers.
      const mode = (f: string) => fs.statSync(path.join(writer.dir, f)).mode & 0o777;
      expect([mode('.'), mode(files[0]), mode(CHAIN_FILE)]).toEqual([0o700, 0o600, 0o600]);
      // Nothing half-written or locked is left behind.
      expect(
        fs
          .readdirSync(writer.dir, { recursive: true })
          .map(String)
          .filter((f) => /\.tmp$|chain\.lock/.test(f)),
      ).toEqual([]);
    } finally {
      tmp.cleanup();
    }
  });

  test('keeps a hash chain: each entry hashes its record and the entry before', () => {
    const tmp = new TempDir();
    try {
      const { records, writer } = writeDemoTrail(config, tmp.dir);
      const entries = fs.readFileSync(path.join(writer.dir, CHAIN_FILE), 'utf8').trim().split('\n').map(parseChainLine);
      expect(entries.map((e) => e?.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      let prev = GENESIS;
      entries.forEach((e, i) => {
        expect(e).toMatchObject({ eventID: records[i].eventID, prev, sha256: chainHash(prev, records[i]) });
        prev = e!.sha256;
      });
    } finally {
      tmp.cleanup();
    }
  });

  test('starts a new file when one is full', () => {
    const tmp = new TempDir();
    try {
      const writer = LocalAuditWriter.open(tmp.dir, env, { maxRecordsPerFile: 2 });
      const files = Array.from(
        { length: 5 },
        () => writer.append(ingestionWriteEvent(env, { bucket: 'b', key: 'k', bytes: 1, time: new Date('2026-11-21T10:00:00Z') })).file,
      );
      expect(new Set(files).size).toBe(3);
    } finally {
      tmp.cleanup();
    }
  });

  test('is one per process and folder', () => {
    const tmp = new TempDir();
    try {
      expect(LocalAuditWriter.open(tmp.dir, env)).toBe(LocalAuditWriter.open(tmp.dir, env));
      expect(() => LocalAuditWriter.open(tmp.dir, { accountId: '123456789012', region: 'eu-west-2' })).toThrow(/already open for account 000000000000/);
    } finally {
      tmp.cleanup();
    }
  });

  test('several processes appending at once keep one unbroken chain', async () => {
    const tmp = new TempDir();
    try {
      const script = path.join(REPO_ROOT, 'test', 'audit', 'helpers', 'append-records.ts');
      const children = ['a', 'b', 'c'].map(
        (tag) =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, ['--import', 'tsx', script, tmp.dir, '40', tag], { cwd: REPO_ROOT, stdio: 'ignore' });
            child.on('exit', resolve);
          }),
      );
      expect(await Promise.all(children)).toEqual([0, 0, 0]);
      const report = await verifyTrail(path.join(tmp.dir, 'audit'));
      expect(report.findings).toEqual([]);
      expect(report.localChain?.chainEntries).toBe(120);
      expect(report.localChain?.recordsFound).toBe(120);
    } finally {
      tmp.cleanup();
    }
  }, 60_000);

  test('signs one head per write batch, covering the batch', () => {
    const tmp = new TempDir();
    try {
      const writer = LocalAuditWriter.open(tmp.dir, env, { now: () => new Date('2026-11-21T10:00:00.123Z') });
      const q = (i: number) =>
        projectQueryEvent(env, { projectId: 'x', sessionName: `s${i}`, queryString: 'SELECT 1', time: new Date('2026-11-21T10:00:00Z') });
      const batch = writer.appendAll([q(1), q(2), q(3)]);
      expect(batch.map((b) => b.head)).toEqual(Array(3).fill(batch[2].head));
      expect(batch[2].head).toMatchObject({ v: 1, seq: 3, sha256: batch[2].entry.sha256, signedAt: '2026-11-21T10:00:00.123Z', alg: 'ECDSA_SHA_256' });
      writer.append(q(4));
      const heads = fs.readFileSync(path.join(writer.dir, HEADS_FILE), 'utf8').trim().split('\n');
      expect(heads.map((l) => JSON.parse(l).seq)).toEqual([3, 4]);
    } finally {
      tmp.cleanup();
    }
  });

  test('does not launder a record appended outside it: the next write is refused, and the forged entry stays unsigned', async () => {
    const tmp = new TempDir();
    try {
      const { writer, records } = writeDemoTrail(config, tmp.dir);
      const forged = { ...records[2], eventID: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' };
      rewriteTrail(writer.dir, [...records, forged]);
      const next = projectQueryEvent(env, { projectId: 'x', sessionName: 's', queryString: 'SELECT 1' });
      expect(() => writer.append(next)).toThrow(AuditTrailNotAnchoredError);
      expect(() => writer.append(next)).toThrow(/chain entries 8 to 8 are covered by no signed head .*run `sde audit verify`/);
      const report = await verifyTrail(writer.dir);
      expect(report.findings.map((f) => f.kind)).toEqual(['unsigned-entries']);
      // Deleting the heads does not help: this workdir has signed before.
      fs.rmSync(path.join(writer.dir, HEADS_FILE));
      closeAllAuditWriters();
      expect(() => LocalAuditWriter.open(tmp.dir, env).append(next)).toThrow(/heads\.jsonl is missing or empty, although this workdir has signed heads before/);
    } finally {
      tmp.cleanup();
    }
  });

  test('takes over a trail written before heads were signed (no heads, no audit key yet), once', async () => {
    const tmp = new TempDir();
    try {
      const { writer, records } = writeDemoTrail(config, tmp.dir);
      closeAllAuditWriters();
      // What an older version left: records and chain, no heads file, no audit key.
      fs.rmSync(path.join(writer.dir, HEADS_FILE));
      fs.rmSync(tmp.path(AUDIT_KEY_DIR), { recursive: true });
      expect((await verifyTrail(writer.dir)).findings.map((f) => f.kind)).toEqual(['no-trusted-key']);
      LocalAuditWriter.open(tmp.dir, env).append(projectQueryEvent(env, { projectId: 'x', sessionName: 's', queryString: 'SELECT 1' }));
      const report = await verifyTrail(writer.dir);
      expect(report.ok).toBe(true);
      expect(report.localChain).toMatchObject({ chainEntries: records.length + 1, signedHeads: 2 });
    } finally {
      tmp.cleanup();
    }
  });

  test('refuses a record without an eventID', () => {
    const tmp = new TempDir();
    try {
      const writer = LocalAuditWriter.open(tmp.dir, env);
      const record = projectQueryEvent(env, { projectId: 'x', sessionName: 's', queryString: 'SELECT 1' });
      expect(() => writer.append({ ...record, eventID: '' })).toThrow(/needs an eventID/);
    } finally {
      tmp.cleanup();
    }
  });
});
