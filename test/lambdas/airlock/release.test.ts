/**
 * The release service's handler (lambdas/airlock/release.ts is `createReleaseHandler` with the
 * SDK clients) driven with function URL events against the real local S3 API, the local key
 * standing in for KMS. The caller is the ARN Lambda's IAM authorisation puts in the event;
 * the decisions are the local airlock's workflow. What AWS adds and this cannot show (the
 * SigV4 check, the bucket and key policies that leave the service the only writer and
 * signer) is asserted on the template (test/stacks/airlock-stack.test.ts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { AirlockService } from '../../../lib/airlock/airlock-service';
import { reviewerRoleSuffix } from '../../../lib/airlock/bucket-layout';
import { airlockConfigSnapshot, createReleaseHandler, type FunctionUrlEvent, type ServiceResponse } from '../../../lib/airlock/release-service';
import { S3AirlockStore } from '../../../lib/airlock/s3-store';
import { localSigner } from '../../../lib/airlock/signing';
import { verifyRelease } from '../../../lib/airlock/verify';
import { loadConfig } from '../../../lib/config';
import { startLocalS3, type LocalS3 } from '../../../lib/local/s3-api/server';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { SETTINGS } from '../../airlock/helpers';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const PROJECT = 'ncl-winter-planning';
const REQUESTER = 'NCL-R-0014';
const ACCOUNT = '111122223333';
const REVIEWER_A = `arn:aws:iam::${ACCOUNT}:role/SdeOutputChecker1`;
const REVIEWER_B = `arn:aws:iam::${ACCOUNT}:role/SdeOutputChecker2`;
/** A reviewer who signs in through the principal the project's researchers use: never one of its two approvers. */
const RESEARCHER_REVIEWER = config.projects.find((p) => p.id === PROJECT)!.researchers[0].principal;
const TABLE = 'area,F,M,total\nA,5,30,35\nB,22,41,63\nC,18,26,44\nTotal,45,97,142\n';
const FILE = 'beds-by-area.csv';

/** A session of a reviewer's own role, under any session name the caller picks. */
const reviewerSession = (reviewer: string, session = 'session') =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/${config.platform.name}-airlock-reviewer-${reviewerRoleSuffix(reviewer)}/${session}`;
const PROJECT_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/${config.platform.name}-project-${PROJECT}/${REQUESTER}`;

let s3: LocalS3;
let root: string;
let buckets = 0;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-release-service-'));
  s3 = await startLocalS3({ directory: path.join(root, 's3') });
});
afterAll(async () => {
  await s3?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

async function setup() {
  const bucket = `release-service-${++buckets}`;
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const dir = fs.mkdtempSync(path.join(root, 'case-'));
  const signer = localSigner(path.join(dir, 'keys'));
  let signerMade = 0;
  let minute = 0;
  const now = () => new Date(Date.UTC(2026, 10, 22, 9, minute++));
  const snapshot = airlockConfigSnapshot({
    ...config,
    platform: { ...config.platform, airlock: { ...SETTINGS, reviewers: [REVIEWER_A, REVIEWER_B, RESEARCHER_REVIEWER] } },
  });
  const logs: string[] = [];
  const handler = createReleaseHandler(
    {
      snapshot,
      s3: s3.client,
      bucket,
      signer: async () => {
        signerMade++;
        return signer;
      },
      now,
    },
    (l) => void logs.push(l),
  );
  const call = async (callerArn: string | undefined, body: unknown, method = 'POST') => {
    const event: FunctionUrlEvent = {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      requestContext: { http: { method }, ...(callerArn === undefined ? {} : { authorizer: { iam: { userArn: callerArn } } }) },
    };
    const result = await handler(event);
    return { status: result.statusCode, body: JSON.parse(result.body) as ServiceResponse };
  };
  // The researcher submits as on AWS: a put under submissions/<project>/ with the project role (no service involved).
  const input = path.join(dir, FILE);
  fs.writeFileSync(input, TABLE);
  const researcher = new AirlockService({
    config,
    workdir: path.join(dir, 'work'),
    store: new S3AirlockStore({ client: s3.client, bucket }),
    settings: SETTINGS,
    sink: () => undefined,
    now,
  });
  const submitted = await researcher.request({
    projectId: PROJECT,
    files: [{ path: input, description: 'Beds by area (a test table)' }],
    requester: REQUESTER,
  });
  if (!submitted.ok) throw new Error(submitted.refusal.message);
  return { bucket, dir, signer, call, id: submitted.value.id, logs, signerMade: () => signerMade };
}

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((c) => c.Key!).sort();
}

async function checked(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  const r = await s.call(reviewerSession(REVIEWER_A), { action: 'check', request: s.id });
  expect([r.status, r.body.request?.state]).toEqual([200, 'checked']);
}

describe('the release service handler over the local S3 API', () => {
  test('one approval is refused a release; nothing reaches released/ and nothing is signed', async () => {
    const s = await setup();
    await checked(s);
    const first = await s.call(reviewerSession(REVIEWER_A), { action: 'review', request: s.id, decision: 'approve' });
    expect([first.status, first.body.request?.state, first.body.actor]).toEqual([200, 'first_approval', REVIEWER_A]);
    for (const caller of [REVIEWER_A, REVIEWER_B]) {
      const rel = await s.call(reviewerSession(caller), { action: 'release', request: s.id });
      expect([rel.status, rel.body.ok, rel.body.refusal?.code]).toEqual([409, false, 'invalid_state']);
    }
    expect(await keys(s.bucket, 'released/')).toEqual([]);
    expect(s.signerMade()).toBe(0);
  });

  test('two approvals from the same person are refused, whatever session names their role is assumed under', async () => {
    const s = await setup();
    await checked(s);
    expect((await s.call(reviewerSession(REVIEWER_A, 'monday'), { action: 'review', request: s.id, decision: 'approve' })).status).toBe(200);
    // Generated session names, cases and reviewer spellings: the role, not the name, is the person.
    for (let i = 0; i < 8; i++) {
      const session = `${randomBytes(6).toString('hex')}-${i}`;
      const again = await s.call(reviewerSession(REVIEWER_A, session), { action: 'review', request: s.id, decision: 'approve' });
      expect([again.status, again.body.refusal?.code, again.body.request]).toEqual([403, 'same_reviewer_twice', undefined]);
    }
    // The reviewer cannot name someone else in the body: the call is refused before anything runs.
    const smuggled = await s.call(reviewerSession(REVIEWER_A), { action: 'review', request: s.id, decision: 'approve', actor: REVIEWER_B });
    expect([smuggled.status, smuggled.body.error?.kind]).toEqual([400, 'input']);
    expect(smuggled.body.error?.message).toMatch(/unexpected field "actor"/);
    const rel = await s.call(reviewerSession(REVIEWER_A), { action: 'release', request: s.id });
    expect(rel.body.refusal?.code).toBe('invalid_state');
    expect(await keys(s.bucket, 'released/')).toEqual([]);
  });

  test("a researcher's approval is refused: through the project role, and as a reviewer signing in through a researcher's principal", async () => {
    const s = await setup();
    await checked(s);
    const asProject = await s.call(PROJECT_SESSION, { action: 'review', request: s.id, decision: 'approve' });
    expect([asProject.status, asProject.body.refusal?.code]).toEqual([403, 'not_a_reviewer']);
    const asResearcher = await s.call(reviewerSession(RESEARCHER_REVIEWER), { action: 'review', request: s.id, decision: 'approve' });
    expect([asResearcher.status, asResearcher.body.refusal?.code]).toEqual([403, 'reviewer_is_project_researcher']);
    // Neither counts: one real approval still leaves the request one short.
    expect((await s.call(reviewerSession(REVIEWER_A), { action: 'review', request: s.id, decision: 'approve' })).body.request?.state).toBe('first_approval');
    const rel = await s.call(reviewerSession(REVIEWER_B), { action: 'release', request: s.id });
    expect(rel.body.refusal?.code).toBe('invalid_state');
    // A caller that is not a reviewer's role cannot release or check either.
    expect((await s.call(PROJECT_SESSION, { action: 'release', request: s.id })).body.ok).toBe(false);
    expect(await keys(s.bucket, 'released/')).toEqual([]);
  });

  test('two distinct reviewers: released under released/<project>/<id>/, and the manifest is signed and verifies', async () => {
    const s = await setup();
    await checked(s);
    expect((await s.call(reviewerSession(REVIEWER_A), { action: 'review', request: s.id, decision: 'approve' })).status).toBe(200);
    expect((await s.call(reviewerSession(REVIEWER_B), { action: 'review', request: s.id, decision: 'approve' })).body.request?.state).toBe('second_approval');
    const rel = await s.call(reviewerSession(REVIEWER_B, 'release'), { action: 'release', request: s.id });
    expect([rel.status, rel.body.request?.state, rel.body.signingKeyId]).toEqual([200, 'released', s.signer.keyId]);
    expect(rel.body.manifestPath).toBe(`s3://${s.bucket}/released/${PROJECT}/${s.id}/manifest.json`);
    const released = await keys(s.bucket, 'released/');
    expect(released).toEqual([`released/${PROJECT}/${s.id}/files/${FILE}`, `released/${PROJECT}/${s.id}/manifest.json`]);
    // Download as the project would, and verify against the signer's public key.
    const target = path.join(s.dir, 'download');
    for (const key of released) {
      const file = path.join(target, key.slice(`released/${PROJECT}/${s.id}/`.length));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, await (await s3.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }))).Body!.transformToByteArray());
    }
    const report = verifyRelease(path.join(target, 'manifest.json'), { publicKeyPem: s.signer.publicKeyPem });
    expect(report.items.filter((i) => !i.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(target, 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).toContain(REVIEWER_A);
    expect(JSON.stringify(manifest)).toContain(REVIEWER_B);
    // The logs name the action, the request and the outcome: never a reviewer or a value.
    expect(s.logs.join('\n')).not.toMatch(/SdeOutputChecker|NCL-R|area/);
  });

  test("a check's answer is each report in brief (the full reports stay in requests/<id>/reports/)", async () => {
    const s = await setup();
    const r = await s.call(reviewerSession(REVIEWER_A), { action: 'check', request: s.id });
    expect(r.body.reports).toHaveLength(1);
    const [brief] = r.body.reports!;
    expect(Object.keys(brief).sort()).toEqual(['cellsChanged', 'file', 'findings', 'outcome', 'refusals']);
    const full = JSON.parse(
      await (await s3.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: `requests/${s.id}/reports/${FILE}.json` }))).Body!.transformToString(),
    );
    expect(brief.cellsChanged).toBe(full.changes.filter((c: { action: string }) => c.action !== 'normalised').length);
    expect(brief.cellsChanged).toBeGreaterThan(0);
    expect(brief.findings.map((f) => f.id)).toEqual(full.findings.map((f: { id: string }) => f.id));
  });

  test('a file changed in the airlock after the approvals is refused at release', async () => {
    const s = await setup();
    await checked(s);
    await s.call(reviewerSession(REVIEWER_A), { action: 'review', request: s.id, decision: 'approve' });
    await s.call(reviewerSession(REVIEWER_B), { action: 'review', request: s.id, decision: 'approve' });
    await s3.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: `requests/${s.id}/checked/${FILE}`, Body: 'area,total\nA,1\n' }));
    const rel = await s.call(reviewerSession(REVIEWER_B), { action: 'release', request: s.id });
    expect([rel.body.ok, rel.body.refusal?.code]).toEqual([false, 'file_changed']);
    expect(await keys(s.bucket, 'released/')).toEqual([]);
  });

  test('calls that are not IAM-signed, not POST, not JSON or not an allowed action run nothing', async () => {
    const s = await setup();
    expect((await s.call(undefined, { action: 'check', request: s.id })).status).toBe(401);
    expect((await s.call('', { action: 'check', request: s.id })).status).toBe(401);
    expect((await s.call(reviewerSession(REVIEWER_A), { action: 'check', request: s.id }, 'GET')).status).toBe(405);
    const bodies: unknown[] = ['{not json', [], null, { action: 'request', request: s.id }, { action: 'check', request: '../released/x' }, { action: 'check' }];
    bodies.push({ action: 'review', request: s.id, decision: 'approve', reason: 'x'.repeat(5000) });
    bodies.push({ action: 'classify', request: s.id, file: FILE, column: 'F', role: 'owner', reason: 'a reason' });
    for (const body of bodies) {
      const r = await s.call(reviewerSession(REVIEWER_A), body);
      expect([r.status, r.body.ok, r.body.error?.kind]).toEqual([400, false, 'input']);
    }
    expect(await keys(s.bucket, 'requests/')).toEqual([]);
    // An unknown request is the caller's mistake, named.
    const unknown = await s.call(reviewerSession(REVIEWER_A), { action: 'check', request: 'req-20261122-0000abcd' });
    expect([unknown.status, unknown.body.error?.kind]).toEqual([400, 'input']);
  });
});
