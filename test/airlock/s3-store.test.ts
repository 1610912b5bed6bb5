/**
 * The airlock over its S3 store (the AWS layout: lib/constructs/airlock/airlock-bucket.ts) against
 * a real S3 API on loopback (s3rver, lib/local/s3-api/server.ts), with the local signing key:
 * the whole flow, the refusals, the egress, and the conditional writes.
 *
 * What the local S3 API cannot show: it has no bucket policies, KMS or object-tag
 * conditions (those are tested on the CDK templates). It does evaluate PutObject's
 * If-None-Match / If-Match and store x-amz-tagging (lib/local/s3-api/s3rver-conditional-put.ts),
 * so the races below are real: the server refuses the stale write, not a test double.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { AirlockAuditEvent } from '../../lib/airlock/audit-events';
import { AirlockService } from '../../lib/airlock/airlock-service';
import { S3AirlockStore, STAGED_TAG_VALUE } from '../../lib/airlock/s3-store';
import { localSigner } from '../../lib/airlock/signing';
import { AirlockConflictError, FileAirlockStore } from '../../lib/airlock/store';
import { verifyRelease } from '../../lib/airlock/verify';
import type { OutputRequest } from '../../lib/airlock/workflow';
import { loadConfig } from '../../lib/config';
import { RELEASE_TAG, RELEASE_TAG_VALUE } from '../../lib/airlock/bucket-layout';
import { localS3Client, startLocalS3, type LocalS3 } from '../../lib/local/s3-api/server';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { SETTINGS } from './helpers';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const PROJECT = 'ncl-winter-planning';
const REQUESTER = 'NCL-R-0014'; // a researcher of ncl-winter-planning (config researchers[].id)
const TABLE = 'area,F,M,total\nA,5,30,35\nB,22,41,63\nC,18,26,44\nTotal,45,97,142\n';
const FILE = 'beds-by-area.csv';

let s3: LocalS3;
let root: string;
let buckets = 0;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-airlock-s3-'));
  s3 = await startLocalS3({ directory: path.join(root, 's3') });
});
afterAll(async () => {
  await s3?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Sent {
  readonly method: string;
  readonly key: string;
  readonly query: string;
  readonly ifNoneMatch?: string;
  readonly ifMatch?: string;
  readonly tagging?: string;
  /** The ETag S3 answered with. */
  etag?: string;
}

/** A client of the local S3 API that records each request's method, key and conditions. */
function recordingClient(bucket: string): { client: S3Client; sent: Sent[] } {
  const client = localS3Client(s3.endpoint);
  const sent: Sent[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> };
      const key = decodeURIComponent(req.path.replace(new RegExp(`^/${bucket}/?`), ''));
      const entry: Sent = {
        method: req.method,
        key,
        query: Object.keys(req.query ?? {})
          .filter((q) => q !== 'x-id')
          .join('&'),
        ifNoneMatch: req.headers['if-none-match'],
        ifMatch: req.headers['if-match'],
        tagging: req.headers['x-amz-tagging'],
      };
      sent.push(entry);
      const result = await next(args);
      entry.etag = (result.response as { headers?: Record<string, string> }).headers?.etag;
      return result;
    },
    { step: 'finalizeRequest', name: 'recordConditions' },
  );
  return { client, sent };
}

async function setup(options: { reviewers?: readonly string[] } = {}) {
  const bucket = `airlock-test-${++buckets}`;
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const dir = fs.mkdtempSync(path.join(root, 'case-'));
  const input = path.join(dir, FILE);
  fs.writeFileSync(input, TABLE);
  const { client, sent } = recordingClient(bucket);
  const store = new S3AirlockStore({ client, bucket });
  const events: AirlockAuditEvent[] = [];
  const signer = localSigner(path.join(dir, 'keys'));
  const workdir = path.join(dir, 'work');
  let minute = 0;
  const settings = { ...SETTINGS, reviewers: options.reviewers ?? SETTINGS.reviewers };
  const make = (s = store) =>
    new AirlockService({
      config,
      workdir,
      store: s,
      settings,
      sink: (e) => void events.push(e),
      signer,
      now: () => new Date(Date.UTC(2026, 10, 22, 9, minute++)),
    });
  return { bucket, dir, input, store, sent, events, signer, workdir, airlock: make(), make, client };
}

type Setup = Awaited<ReturnType<typeof setup>>;

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

async function getText(bucket: string, key: string): Promise<string> {
  const got = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body!.transformToString();
}

async function approved(s: Setup): Promise<string> {
  const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], statement: 'Emergency bed need by area', requester: REQUESTER });
  if (!req.ok) throw new Error(req.refusal.message);
  const id = req.value.id;
  const checked = await s.airlock.check(id);
  if (!checked.ok) throw new Error(checked.refusal.message);
  for (const reviewer of ['reviewer-a', 'reviewer-b']) {
    const r = await s.airlock.review(id, reviewer, 'approve');
    if (!r.ok) throw new Error(r.refusal.message);
  }
  return id;
}

/** Downloads released/<project>/<id>/ as the project's role would, to verify it offline. */
async function download(s: Setup, id: string): Promise<string> {
  const prefix = `released/${PROJECT}/${id}/`;
  const target = path.join(s.dir, 'download', id);
  for (const key of await keys(s.bucket, prefix)) {
    const file = path.join(target, key.slice(prefix.length));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const got = await s3.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }));
    fs.writeFileSync(file, await got.Body!.transformToByteArray());
  }
  return path.join(target, 'manifest.json');
}

describe('the airlock over the S3 store', () => {
  test('request, check, two reviews, release and verify, in the layout the bucket policy expects', async () => {
    const s = await setup();
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], statement: 'Emergency bed need by area', requester: REQUESTER });
    expect(req.ok).toBe(true);
    if (!req.ok) return;
    const id = req.value.id;
    // The researcher's role may only put under submissions/<project>/: that is all it wrote.
    expect(await keys(s.bucket)).toEqual([`submissions/${PROJECT}/${id}/files/${FILE}`, `submissions/${PROJECT}/${id}/request.json`]);
    expect((await s.airlock.store.read(id)).state).toBe('submitted');

    const checked = await s.airlock.check(id);
    expect(checked.ok && checked.value.request.state).toBe('checked');
    expect(await keys(s.bucket, 'requests/')).toEqual([
      `requests/${id}/checked/${FILE}`,
      `requests/${id}/reports/${FILE}.json`,
      `requests/${id}/reports/${FILE}.txt`,
      `requests/${id}/request.json`,
    ]);
    expect(s.store.reportPath(id, FILE, 'txt')).toBe(`s3://${s.bucket}/requests/${id}/reports/${FILE}.txt`);
    // The submission record is never rewritten: state lives in requests/ from the check on.
    expect(JSON.parse(await getText(s.bucket, `submissions/${PROJECT}/${id}/request.json`)).state).toBe('submitted');

    expect((await s.airlock.review(id, 'reviewer-a', 'approve')).ok).toBe(true);
    expect((await s.airlock.review(id, 'reviewer-b', 'approve')).ok).toBe(true);
    expect(await keys(s.bucket, 'released/')).toEqual([]);

    const rel = await s.airlock.release(id);
    expect(rel.ok).toBe(true);
    if (!rel.ok) return;
    expect(rel.value.manifestPath).toBe(`s3://${s.bucket}/released/${PROJECT}/${id}/manifest.json`);
    expect(await keys(s.bucket, 'released/')).toEqual([`released/${PROJECT}/${id}/files/${FILE}`, `released/${PROJECT}/${id}/manifest.json`]);
    expect((await s.airlock.store.read(id)).state).toBe('released');
    expect((await s.airlock.list(PROJECT)).map((r) => [r.id, r.state])).toEqual([[id, 'released']]);

    const report = verifyRelease(await download(s, id), { publicKeyPem: s.signer.publicKeyPem });
    expect(report.items.filter((i) => !i.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(s.events.map((e) => [e.eventName, e.errorCode ?? 'ok'])).toEqual([
      ['SubmitOutputRequest', 'ok'],
      ['CheckOutputRequest', 'ok'],
      ['ApproveOutputRequest', 'ok'],
      ['ApproveOutputRequest', 'ok'],
      ['ReleaseOutput', 'ok'],
    ]);
  });

  test('released objects appear only under released/<project>/<request>/, only at release, tagged released', async () => {
    const s = await setup();
    const id = await approved(s);
    // Everything up to two approvals: nothing under the egress prefix.
    const before = await keys(s.bucket);
    expect(before.filter((k) => k.startsWith('released/'))).toEqual([]);
    const rel = await s.airlock.release(id);
    if (!rel.ok) throw new Error(rel.refusal.message);
    const after = await keys(s.bucket);
    const added = after.filter((k) => !before.includes(k) && k !== `requests/${id}/request.json`);
    expect(added).toEqual([`released/${PROJECT}/${id}/files/${FILE}`, `released/${PROJECT}/${id}/manifest.json`]);
    expect(after.filter((k) => k.startsWith('released/') && !k.startsWith(`released/${PROJECT}/${id}/`))).toEqual([]);
    // The project's read is conditioned on this tag; staged objects are unreadable to it.
    for (const key of added) {
      const tags = await s3.client.send(new GetObjectTaggingCommand({ Bucket: s.bucket, Key: key }));
      expect(tags.TagSet).toEqual([{ Key: RELEASE_TAG, Value: RELEASE_TAG_VALUE }]);
    }
    // Each egress object was put once (never over another), tagged staged, then all retagged
    // released after the manifest was written.
    const puts = s.sent.filter((x) => x.method === 'PUT' && x.key.startsWith('released/'));
    expect(puts.map((p) => [p.key, p.query, p.ifNoneMatch ?? '', p.tagging ?? ''])).toEqual([
      ...added.map((k) => [k, '', '*', `${RELEASE_TAG}=${STAGED_TAG_VALUE}`]),
      ...added.map((k) => [k, 'tagging', '', '']),
    ]);
    // Retagged only after the released state was saved.
    const order = s.sent
      .filter((x) => x.method === 'PUT')
      .map((x) => (x.key === `requests/${id}/request.json` ? 'state' : x.query === 'tagging' ? 'retag' : 'other'));
    expect(order.lastIndexOf('state')).toBeLessThan(order.indexOf('retag'));
    // The released file is the checked one, not the submission.
    expect(await getText(s.bucket, `released/${PROJECT}/${id}/files/${FILE}`)).toBe(await getText(s.bucket, `requests/${id}/checked/${FILE}`));
  });

  test('refusals: the requester reviewing, the same reviewer twice, a stranger; nothing is written', async () => {
    const s = await setup({ reviewers: [...SETTINGS.reviewers, REQUESTER] });
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    const id = req.value.id;
    await s.airlock.check(id);
    const stateBefore = await getText(s.bucket, `requests/${id}/request.json`);
    const self = await s.airlock.review(id, REQUESTER, 'approve');
    expect(!self.ok && self.refusal.code).toBe('requester_cannot_review');
    expect(await getText(s.bucket, `requests/${id}/request.json`)).toBe(stateBefore);
    expect((await s.airlock.review(id, 'reviewer-a', 'approve')).ok).toBe(true);
    const twice = await s.airlock.review(id, 'reviewer-a', 'approve');
    expect(!twice.ok && twice.refusal.code).toBe('same_reviewer_twice');
    const stranger = await s.airlock.review(id, 'mallory', 'approve');
    expect(!stranger.ok && stranger.refusal.code).toBe('not_a_reviewer');
    expect(s.events.map((e) => e.errorCode ?? 'ok')).toEqual(['ok', 'ok', 'AccessDenied', 'ok', 'AccessDenied', 'AccessDenied']);
    expect((await s.airlock.store.read(id)).state).toBe('first_approval');
    const release = await s.airlock.release(id);
    expect(!release.ok && release.refusal.code).toBe('invalid_state');
    expect(await keys(s.bucket, 'released/')).toEqual([]);
  });

  test('a checked file changed in the bucket after approval is refused at release; nothing is released', async () => {
    const s = await setup();
    const id = await approved(s);
    const key = `requests/${id}/checked/${FILE}`;
    const text = await getText(s.bucket, key);
    expect(text).toContain('[c]');
    await s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: text.replace('[c]', '4') }));
    const rel = await s.airlock.release(id);
    expect(!rel.ok && rel.refusal.code).toBe('file_changed');
    expect(s.events.at(-1)).toMatchObject({ eventName: 'ReleaseOutput', errorCode: 'BadDigest' });
    expect(await keys(s.bucket, 'released/')).toEqual([]);
    expect((await s.airlock.store.read(id)).state).toBe('second_approval');
  });

  test('a submitted file changed in the bucket before the check is refused by the check', async () => {
    const s = await setup();
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    await s3.client.send(
      new PutObjectCommand({ Bucket: s.bucket, Key: `submissions/${PROJECT}/${req.value.id}/files/${FILE}`, Body: TABLE.replace('5,30', '3,30') }),
    );
    const checked = await s.airlock.check(req.value.id);
    expect(checked.ok && checked.value.request.state).toBe('returned');
  });

  test("a researcher's forged submission record (a later state) is not taken as state", async () => {
    const s = await setup();
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    const id = req.value.id;
    const key = `submissions/${PROJECT}/${id}/request.json`;
    const forged: OutputRequest = { ...req.value, state: 'second_approval', approvals: [{ reviewer: 'reviewer-a', time: req.value.submittedAt, files: [] }] };
    // The project's role may put here (the bucket policy allows it): raw S3, not the CLI.
    await s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: JSON.stringify(forged) }));
    await expect(s.airlock.release(id)).rejects.toThrow(/is not a valid submission \(its state is second_approval, not submitted; it carries approvals\)/);
    await expect(s.airlock.list()).rejects.toThrow(/not a valid submission/);
    expect(await keys(s.bucket, 'released/')).toEqual([]);
  });

  test("an unknown request id is the user's mistake, named with the bucket", async () => {
    const s = await setup();
    await expect(s.airlock.check('req-20261122-00000000')).rejects.toThrow(`there is no output request req-20261122-00000000 in s3://${s.bucket}`);
  });
});

describe('conditional writes', () => {
  test('creation is If-None-Match: *, every state update If-Match the ETag it read', async () => {
    const s = await setup();
    const id = await approved(s);
    const rel = await s.airlock.release(id);
    if (!rel.ok) throw new Error(rel.refusal.message);
    const puts = s.sent.filter((x) => x.method === 'PUT');
    for (const p of puts.filter((x) => x.key.startsWith('submissions/'))) expect(p.ifNoneMatch).toBe('*');
    const states = puts.filter((x) => x.key === `requests/${id}/request.json`);
    // check creates the state; two reviews and the release each replace the version read.
    expect(states.map((x) => (x.ifNoneMatch === '*' ? 'create' : x.ifMatch !== undefined ? 'match' : 'none'))).toEqual(['create', 'match', 'match', 'match']);
    // Each update names exactly the ETag of the version the write before it made.
    for (let i = 1; i < states.length; i++) {
      expect(states[i].ifMatch).toBeDefined();
      expect(states[i].ifMatch).toBe(states[i - 1].etag);
    }
  });

  test('two reviewers at once: the slower one, writing over a version it did not read, is refused by the server (412) and nothing of it is recorded', async () => {
    const s = await setup();
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    const id = req.value.id;
    await s.airlock.check(id);
    // Reviewer a reads and holds; reviewer b approves meanwhile; then a writes.
    const read = await s3.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: `requests/${id}/request.json` }));
    const slow = s.store.update(id, async (current, save) => {
      const b = await s.airlock.review(id, 'reviewer-b', 'approve');
      if (!b.ok) throw new Error(b.refusal.message);
      await save({ ...current, state: 'first_approval' });
    });
    await expect(slow).rejects.toThrow(/was changed by someone else since it was read: your action was not recorded\. Run the command again/);
    await expect(slow).rejects.toThrow(AirlockConflictError);
    // a's write named the version it read, which b had replaced.
    const writes = s.sent.filter((x) => x.method === 'PUT' && x.key === `requests/${id}/request.json`);
    expect(writes.at(-1)!.ifMatch).toBe(read.ETag);
    const after = await s.airlock.store.read(id);
    expect(after.state).toBe('first_approval');
    expect(after.approvals.map((a) => a.reviewer)).toEqual(['reviewer-b']);
  });

  test('a state written meanwhile by another reviewer makes the review a clear conflict; the state is left as the other wrote it', async () => {
    const s = await setup();
    const req = await s.airlock.request({ projectId: PROJECT, files: [{ path: s.input }], requester: REQUESTER });
    if (!req.ok) throw new Error('submit failed');
    const id = req.value.id;
    await s.airlock.check(id);
    let written: string | undefined;
    const racing = s.store.update(id, async (current, save) => {
      // Another reviewer's write lands between this one's read and its write.
      const other = await s.airlock.review(id, 'reviewer-a', 'approve');
      if (!other.ok) throw new Error(other.refusal.message);
      written = await getText(s.bucket, `requests/${id}/request.json`);
      await save({ ...current, state: 'returned' });
    });
    await expect(racing).rejects.toThrow(AirlockConflictError);
    expect(await getText(s.bucket, `requests/${id}/request.json`)).toBe(written);
  });

  test('a second writer of the same egress object is refused by the server (If-None-Match: *); the release is not recorded', async () => {
    const s = await setup();
    const id = await approved(s);
    // Someone else wrote the release's first egress object first.
    await s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: `released/${PROJECT}/${id}/files/${FILE}`, Body: 'not the checked file' }));
    await expect(s.airlock.release(id)).rejects.toThrow(/already exists: it was written by someone else .* never overwritten/);
    expect((await s.airlock.store.read(id)).state).toBe('second_approval');
    expect(await getText(s.bucket, `released/${PROJECT}/${id}/files/${FILE}`)).toBe('not the checked file');
  });

  test('a release that loses the state race (a reviewer returned it meanwhile) leaves its egress copy staged, unreadable', async () => {
    const s = await setup();
    const id = await approved(s);
    const { client, sent } = recordingClient(s.bucket);
    // Between the release's read of the state and its write, the state changes: a write by
    // "someone else" lands just before the release's conditional state write.
    let interfered = false;
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { method: string; path: string; headers: Record<string, string> };
        if (!interfered && req.method === 'PUT' && req.path.endsWith(`/requests/${id}/request.json`) && req.headers['if-match'] !== undefined) {
          interfered = true;
          const state = await getText(s.bucket, `requests/${id}/request.json`);
          await s3.client.send(
            new PutObjectCommand({ Bucket: s.bucket, Key: `requests/${id}/request.json`, Body: state.replace('"second_approval"', '"returned"') }),
          );
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'interfere' },
    );
    const releaser = s.make(new S3AirlockStore({ client, bucket: s.bucket }));
    await expect(releaser.release(id)).rejects.toThrow(AirlockConflictError);
    expect(interfered).toBe(true);
    const written = await keys(s.bucket, 'released/');
    expect(written).toEqual([`released/${PROJECT}/${id}/files/${FILE}`, `released/${PROJECT}/${id}/manifest.json`]);
    for (const key of written) {
      const tags = await s3.client.send(new GetObjectTaggingCommand({ Bucket: s.bucket, Key: key }));
      // Staged, as S3 would have it: the bucket policy's tag condition keeps it from the project.
      expect(tags.TagSet).toEqual([{ Key: RELEASE_TAG, Value: STAGED_TAG_VALUE }]);
    }
    expect(sent.filter((x) => x.query === 'tagging')).toEqual([]);
  });

  test('the local S3 API evaluates PutObject conditions and stores x-amz-tagging, as S3 does', async () => {
    const s = await setup();
    const put = (Body: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
      s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'x', Body, ...extra }));
    const first = await put('one', { Tagging: `${RELEASE_TAG}=${STAGED_TAG_VALUE}`, IfNoneMatch: '*' });
    expect((await s3.client.send(new GetObjectTaggingCommand({ Bucket: s.bucket, Key: 'x' }))).TagSet).toEqual([{ Key: RELEASE_TAG, Value: STAGED_TAG_VALUE }]);
    await expect(put('two', { IfNoneMatch: '*' })).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    await expect(put('three', { IfMatch: '"0123456789abcdef0123456789abcdef"' })).rejects.toMatchObject({ name: 'PreconditionFailed' });
    await expect(s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'missing', Body: 'x', IfMatch: first.ETag }))).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
    expect(await getText(s.bucket, 'x')).toBe('one');
    await put('four', { IfMatch: first.ETag });
    expect(await getText(s.bucket, 'x')).toBe('four');
    // A new object without the header has no tags (they belonged to the object it replaced).
    expect((await s3.client.send(new GetObjectTaggingCommand({ Bucket: s.bucket, Key: 'x' }))).TagSet).toEqual([]);
    // Of many racing creations of one key, exactly one wins.
    const racing = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'race', Body: `w${i}`, IfNoneMatch: '*' }))),
    );
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});

describe('a release that stopped before publishing', () => {
  /** The airlock over a client whose retags fail: the release saves its state, then stops. */
  async function interrupted(s: Setup, id: string): Promise<void> {
    const { client } = recordingClient(s.bucket);
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { method: string; query?: Record<string, unknown> };
        if (req.method === 'PUT' && req.query !== undefined && 'tagging' in req.query) throw new Error('the network went away');
        return next(args);
      },
      { step: 'finalizeRequest', name: 'failRetag' },
    );
    await expect(s.make(new S3AirlockStore({ client, bucket: s.bucket })).release(id)).rejects.toThrow(/the network went away/);
    expect((await s.airlock.store.read(id)).state).toBe('released');
  }

  const releaseTags = async (s: Setup, id: string) =>
    Promise.all(
      (await keys(s.bucket, `released/${PROJECT}/${id}/`)).map(
        async (key) => (await s3.client.send(new GetObjectTaggingCommand({ Bucket: s.bucket, Key: key }))).TagSet,
      ),
    );

  test('releasing again checks the copy and makes it readable; once more does nothing', async () => {
    const s = await setup();
    const id = await approved(s);
    await interrupted(s, id);
    expect(await releaseTags(s, id)).toEqual([[{ Key: RELEASE_TAG, Value: STAGED_TAG_VALUE }], [{ Key: RELEASE_TAG, Value: STAGED_TAG_VALUE }]]);

    const again = await s.airlock.release(id);
    if (!again.ok) throw new Error(again.refusal.message);
    expect(again.value.completed).toEqual({ published: 2 });
    expect(again.event.eventName).toBe('CompleteOutputRelease');
    expect(await releaseTags(s, id)).toEqual([[{ Key: RELEASE_TAG, Value: RELEASE_TAG_VALUE }], [{ Key: RELEASE_TAG, Value: RELEASE_TAG_VALUE }]]);
    expect(verifyRelease(await download(s, id), { publicKeyPem: s.signer.publicKeyPem }).ok).toBe(true);

    const third = await s.airlock.release(id);
    expect(third.ok && third.value.completed).toEqual({ published: 0 });
    // Only the one release is counted: completing records its own event name.
    expect(s.events.filter((e) => e.eventName === 'ReleaseOutput' && e.errorCode === undefined)).toHaveLength(1);
  });

  test('a copy changed while it was unreadable (another size) is never made readable; a missing manifest neither', async () => {
    const s = await setup();
    const id = await approved(s);
    await interrupted(s, id);
    const key = `released/${PROJECT}/${id}/files/${FILE}`;
    await s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: 'area,F\nA,1\n', Tagging: `${RELEASE_TAG}=${STAGED_TAG_VALUE}` }));
    // Staged objects are unreadable on AWS, so the S3 store sees sizes (the signed manifest covers the bytes).
    await expect(s.airlock.release(id)).rejects.toThrow(
      new RegExp(`${FILE} is not the file the reviewers approved \\(11 bytes, not \\d+\\): it changed after the release was written and stays unreadable`),
    );
    expect(await releaseTags(s, id)).toEqual([[{ Key: RELEASE_TAG, Value: STAGED_TAG_VALUE }], [{ Key: RELEASE_TAG, Value: STAGED_TAG_VALUE }]]);

    const other = await setup();
    const second = await approved(other);
    await interrupted(other, second);
    await s3.client.send(new DeleteObjectCommand({ Bucket: other.bucket, Key: `released/${PROJECT}/${second}/manifest.json` }));
    await expect(other.airlock.release(second)).rejects.toThrow(/the release manifest is missing or is not this request's/);
  });

  test('locally (files readable), a same-size change is caught by its SHA-256', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'fs-'));
    const store = new FileAirlockStore(path.join(dir, 'airlock'));
    const approvedFile = { bytes: 5, sha256: createHash('sha256').update('hello').digest('hex') };
    const target = store.releaseDir(PROJECT, 'req-20261122-0000abcd');
    fs.mkdirSync(path.join(target, 'files'), { recursive: true });
    fs.writeFileSync(path.join(target, 'files', 'a.csv'), 'jello');
    fs.writeFileSync(
      path.join(target, 'manifest.json'),
      JSON.stringify({ manifest: { request: { id: 'req-20261122-0000abcd' }, files: [{ name: 'a.csv', sha256: approvedFile.sha256 }] } }),
    );
    const approvedFiles = new Map([['a.csv', approvedFile]]);
    await expect(store.completeRelease(PROJECT, 'req-20261122-0000abcd', approvedFiles, 'files')).rejects.toThrow(
      /a\.csv is not the file the reviewers approved \(SHA-256 mismatch\)/,
    );
    fs.writeFileSync(path.join(target, 'files', 'a.csv'), 'hello');
    expect(await store.completeRelease(PROJECT, 'req-20261122-0000abcd', approvedFiles, 'files')).toEqual({
      location: path.join(target, 'manifest.json'),
      published: 0,
    });
  });
});
