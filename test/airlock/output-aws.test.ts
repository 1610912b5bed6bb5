/**
 * `sde output ... --airlock-bucket NAME`: the CLI over the S3 store, against the local S3
 * API with the local key standing in for KMS (the AWS side is injected the way the CLI
 * builds it), and the default AWS side without credentials.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { localSigner } from '../../lib/airlock/signing';
import { airlockConfigSnapshot, createReleaseHandler, type ServiceCall } from '../../lib/airlock/release-service';
import { loadConfig } from '../../lib/config';
import { reviewerRoleSuffix } from '../../lib/airlock/bucket-layout';
import { verifyRelease } from '../../lib/airlock/verify';
import { UsageError } from '../../lib/cli/command';
import { commandHelp } from '../../lib/cli/cli';
import { createOutputCommand, type OutputCommandOptions } from '../../lib/cli/commands/output';
import { localS3Client, startLocalS3, type LocalS3 } from '../../lib/local/s3-api/server';
import { ConfigFixture, TEST_TODAY } from '../helpers/config-fixture';
import { SETTINGS } from './helpers';

const BUCKET = 'sde-airlock-cli';
/** The AirlockStack output ReleaseServiceUrl (the calls are served in process by the service's handler). */
const SERVICE_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-2.on.aws/';
/** What STS says for a session of a reviewer's own role (AirlockReviewers), or of the project's role. */
const reviewerSession = (reviewer: string) =>
  `arn:aws:sts::111122223333:assumed-role/onelondon-sde-airlock-reviewer-${reviewerRoleSuffix(reviewer)}/any-session-name`;
/** The project role's trust admits a session named after one of its researchers only (researcher-trust.ts). */
const PROJECT_SESSION = 'arn:aws:sts::111122223333:assumed-role/onelondon-sde-project-ncl-winter-planning/NCL-R-0014';
let s3: LocalS3;
let root: string;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-output-aws-'));
  s3 = await startLocalS3({ directory: path.join(root, 's3'), buckets: [BUCKET] });
});
afterAll(async () => {
  await s3?.stop();
  cleanups.forEach((c) => c());
  fs.rmSync(root, { recursive: true, force: true });
});

function setup(aws?: OutputCommandOptions['aws']) {
  const fixture = new ConfigFixture();
  cleanups.push(() => fixture.cleanup());
  const dir = fs.mkdtempSync(path.join(root, 'case-'));
  const keysDir = path.join(dir, 'keys');
  const regions: (string | undefined)[] = [];
  let audited = 0;
  const identity = { caller: PROJECT_SESSION };
  const calls: { url: string; call: ServiceCall; caller: string }[] = [];
  let signerMade = 0;
  const service = { bucket: BUCKET };
  const command = createOutputCommand({
    // Called only for the local airlock: on AWS nothing may be written locally.
    auditSink: () => () => void audited++,
    settings: () => SETTINGS,
    aws:
      aws ??
      (({ region }) => {
        regions.push(region);
        const client = localS3Client(s3.endpoint);
        return {
          s3: client,
          // The release service's own handler, as Lambda would run it: the caller is the ARN
          // IAM authenticated (here, whoever the test signed in as), never the CLI's say-so.
          callService: async (url, call) => {
            calls.push({ url, call, caller: identity.caller });
            const config = loadConfig(fixture.dir, { today: TEST_TODAY });
            const handler = createReleaseHandler(
              {
                snapshot: airlockConfigSnapshot({ ...config, platform: { ...config.platform, airlock: { ...SETTINGS, reviewers: [...SETTINGS.reviewers] } } }),
                s3: client,
                // The service is deployed with its bucket; --airlock-bucket is only the CLI's.
                bucket: service.bucket,
                signer: async () => (signerMade++, localSigner(keysDir)),
                now: () => new Date(`${TEST_TODAY}T12:00:00Z`),
              },
              () => undefined,
            );
            const r = await handler({
              body: JSON.stringify(call),
              requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: identity.caller } } },
            });
            return JSON.parse(r.body);
          },
          callerArn: async () => identity.caller,
        };
      }),
  });
  const file = path.join(dir, 'admissions.csv');
  fs.writeFileSync(file, 'age_band,admissions\n0-17,4\n18-64,123\n65+,45\n');
  return {
    fixture,
    dir,
    keysDir,
    command,
    file,
    workdir: path.join(dir, 'work'),
    regions,
    audited: () => audited,
    identity,
    calls,
    signerMade: () => signerMade,
    service,
  };
}

type Setup = ReturnType<typeof setup>;

async function run(s: Setup, args: string[]) {
  const options = Object.fromEntries(Object.entries(s.command.options).map(([k, { description: _d, valueName: _v, ...spec }]) => [k, spec]));
  const parsed = parseArgs({
    args: [...args, '--config', s.fixture.dir, '--workdir', s.workdir, '--today', TEST_TODAY],
    options,
    allowPositionals: true,
    strict: true,
  } as Parameters<typeof parseArgs>[0]);
  const out: string[] = [];
  const err: string[] = [];
  const code = await s.command.run({
    values: parsed.values as Record<string, string | boolean | string[] | undefined>,
    positionals: parsed.positionals,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('help documents the AWS switch', () => {
  const help = commandHelp(createOutputCommand());
  expect(help).toContain('--airlock-bucket NAME');
  expect(help).toContain('--release-service URL');
  expect(help).toMatch(/No local audit record is written: CloudTrail is the record/);
});

test('the whole flow on the airlock bucket: request, check, two reviews, release, list; no local record', async () => {
  const s = setup();
  const aws = ['--airlock-bucket', BUCKET, '--release-service', SERVICE_URL];
  const req = await run(s, [
    'request',
    '--project',
    'ncl-winter-planning',
    '--file',
    s.file,
    '--description',
    'Admissions by age band (a test table)',
    '--statement',
    'Admissions by age band',
    ...aws,
  ]);
  expect(req.code).toBe(0);
  const id = /Submitted output request (req-\d{8}-[0-9a-f]{8})/.exec(req.out)![1];
  s.identity.caller = reviewerSession('reviewer-a');
  const check = await run(s, ['check', '--request', id, ...aws]);
  expect(check.code).toBe(0);
  expect(check.out).toContain(`report: s3://${BUCKET}/requests/${id}/reports/admissions.csv.txt`);
  // On AWS the reviewer is the caller's reviewer role: no --as needed, and another name is refused.
  expect((await run(s, ['review', '--request', id, '--approve', ...aws])).out).toMatch(/approved by 1 of 2/);
  const twice = await run(s, ['review', '--request', id, '--as', 'REVIEWER-A', '--approve', ...aws]);
  expect(twice.code).toBe(1);
  expect(twice.err).toMatch(/different reviewer/);
  await expect(run(s, ['review', '--request', id, '--as', 'reviewer-b', '--approve', ...aws])).rejects.toThrow(
    /on AWS you act as your AWS identity, reviewer-a \(from arn:aws:sts::111122223333:assumed-role\/onelondon-sde-airlock-reviewer-[0-9a-f]{8}\/any-session-name\); --as reviewer-b names someone else/,
  );
  s.identity.caller = reviewerSession('reviewer-b');
  expect((await run(s, ['review', '--request', id, '--approve', ...aws])).out).toMatch(/approved by 2 of 2/);
  const rel = await run(s, ['release', '--request', id, ...aws]);
  expect(rel.code).toBe(0);
  expect(rel.out).toContain(`manifest: s3://${BUCKET}/released/ncl-winter-planning/${id}/manifest.json`);
  // The key that signed, as the service reports it (on AWS, the signing key's ARN).
  expect(rel.out).toContain(`aws kms get-public-key --key-id ${localSigner(s.keysDir).keyId}`);
  const list = await run(s, ['list', '--format', 'json', ...aws]);
  expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ id, state: 'released' })]);

  // The region came from platform.yaml; nothing was written to the workdir, no local audit record.
  expect(new Set(s.regions)).toEqual(new Set(['eu-west-2']));
  expect(s.audited()).toBe(0);
  expect(fs.existsSync(s.workdir)).toBe(false);

  // What the project role downloads verifies under the signing key.
  const prefix = `released/ncl-winter-planning/${id}/`;
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  for (const { Key } of listed.Contents ?? []) {
    const target = path.join(s.dir, 'download', Key!.slice(prefix.length));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, await (await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToByteArray());
  }
  expect(verifyRelease(path.join(s.dir, 'download', 'manifest.json'), { publicKeyPem: localSigner(s.keysDir).publicKeyPem }).ok).toBe(true);
  const manifest = JSON.parse(fs.readFileSync(path.join(s.dir, 'download', 'manifest.json'), 'utf8')).manifest;
  expect(JSON.stringify(manifest)).toContain('reviewer-a');
  expect(JSON.stringify(manifest)).toContain('reviewer-b');
  expect(JSON.stringify(manifest)).not.toContain('any-session-name');
  // Every decision was one call to the service, as the caller's role, naming nobody in its body.
  expect(s.calls.map((c) => [c.url, c.call.action])).toEqual([
    [SERVICE_URL, 'check'],
    [SERVICE_URL, 'review'],
    [SERVICE_URL, 'review'],
    [SERVICE_URL, 'review'],
    [SERVICE_URL, 'release'],
  ]);
  expect(JSON.stringify(s.calls.map((c) => c.call))).not.toMatch(/reviewer-|--as/);
  expect(s.signerMade()).toBe(1);
});

test('on AWS a researcher requests as the person their session was opened for; naming another is refused', async () => {
  const s = setup();
  const aws = ['--airlock-bucket', 'sde-airlock-cli-requester'];
  await s3.client.send(new CreateBucketCommand({ Bucket: 'sde-airlock-cli-requester' }));
  await expect(run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--as', 'NCL-R-0022', ...aws])).rejects.toThrow(
    /on AWS you request as the person you signed in as, NCL-R-0014 .*--as NCL-R-0022 names someone else/,
  );
  const req = await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--description', 'Admissions by age band (a test table)', ...aws]);
  expect(req.code).toBe(0);
  const list = await run(s, ['list', '--format', 'json', ...aws]);
  expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ requester: 'NCL-R-0014' })]);
});

test('on AWS, check, review and release run only in the release service: without --release-service they are refused before any call', async () => {
  const s = setup();
  s.identity.caller = reviewerSession('reviewer-a');
  for (const args of [
    ['check', '--request', 'req-20261122-00000000'],
    ['review', '--request', 'req-20261122-00000000', '--approve'],
    ['release', '--request', 'req-20261122-00000000'],
    ['classify', '--request', 'req-20261122-00000000', '--file', 'a.csv', '--column', 'n', '--role', 'count', '--reason', 'a count of people'],
    ['override', '--request', 'req-20261122-00000000', '--file', 'a.csv', '--finding', 'f1', '--reason', 'checked by hand'],
  ]) {
    await expect(run(s, [...args, '--airlock-bucket', BUCKET])).rejects.toThrow(
      new RegExp(`on AWS, ${args[0]} runs in the airlock's release service .*give --release-service URL \\(the AirlockStack output ReleaseServiceUrl\\)`),
    );
  }
  expect(s.calls).toEqual([]);
});

test('the service records who called, not who the CLI says: a project role cannot approve, and a refusal is exit 1 with its reason', async () => {
  const s = setup();
  s.service.bucket = 'sde-airlock-cli-2';
  await s3.client.send(new CreateBucketCommand({ Bucket: 'sde-airlock-cli-2' }));
  const aws = ['--airlock-bucket', 'sde-airlock-cli-2', '--release-service', SERVICE_URL];
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(
    (await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--description', 'Admissions by age band (a test table)', ...aws])).out,
  )![1];
  s.identity.caller = reviewerSession('reviewer-a');
  expect((await run(s, ['check', '--request', id, ...aws])).code).toBe(0);
  s.identity.caller = PROJECT_SESSION;
  const self = await run(s, ['review', '--request', id, '--approve', ...aws]);
  expect(self.code).toBe(1);
  expect(self.err).toMatch(/^Refused \(AccessDenied\): /);
  s.identity.caller = reviewerSession('reviewer-a');
  await run(s, ['review', '--request', id, '--approve', ...aws]);
  const early = await run(s, ['release', '--request', id, ...aws]);
  expect(early.code).toBe(1);
  expect(early.err).toMatch(/^Refused \(InvalidRequestStateException\)/);
  expect(s.signerMade()).toBe(0);
});

test('AWS failures are messages with exit 1, not stack traces', async () => {
  const s = setup();
  const missing = await run(s, ['list', '--airlock-bucket', 'no-such-airlock-bucket']);
  expect(missing.code).toBe(1);
  expect(missing.err).toMatch(/^sde output list: AWS refused the call: NoSuchBucket: .*\(HTTP 404.*check --airlock-bucket/);
  const unknown = run(s, ['check', '--request', 'req-20261122-00000000', '--airlock-bucket', BUCKET, '--release-service', SERVICE_URL]);
  await expect(unknown).rejects.toThrow(UsageError);
  await expect(unknown).rejects.toThrow(`there is no output request req-20261122-00000000 in s3://${BUCKET}`);
});

test('a forged submission record stops the command with its key (exit 1), not a stack trace', async () => {
  const s = setup();
  const bucket = 'sde-airlock-cli-3';
  s.service.bucket = bucket;
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const aws = ['--airlock-bucket', bucket, '--release-service', SERVICE_URL];
  const id = /(req-\d{8}-[0-9a-f]{8})/.exec(
    (await run(s, ['request', '--project', 'ncl-winter-planning', '--file', s.file, '--description', 'Admissions by age band (a test table)', ...aws])).out,
  )![1];
  const key = `submissions/ncl-winter-planning/${id}/request.json`;
  const record = JSON.parse(await (await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify({ ...record, state: 'second_approval' }) }));
  s.identity.caller = reviewerSession('reviewer-a');
  const rel = await run(s, ['release', '--request', id, ...aws]);
  expect(rel.code).toBe(1);
  expect(rel.err).toBe(
    `sde output release: s3://${bucket}/${key} is not a valid submission (its state is second_approval, not submitted): it was not written by sde output request; look in CloudTrail for who wrote it`,
  );
});

test('bad usage of the AWS options', async () => {
  const s = setup();
  await expect(run(s, ['list', '--release-service', SERVICE_URL])).rejects.toThrow(/--release-service is for AWS: give --airlock-bucket NAME too/);
  await expect(run(s, ['list', '--airlock-bucket', 'Not_A_Bucket'])).rejects.toThrow(/is not an S3 bucket name/);
  await expect(run(s, ['verify', 'manifest.json', '--airlock-bucket', BUCKET])).rejects.toThrow(/works on a downloaded release/);
  await expect(run(s, ['request', '--project', 'ncl-winter-planning', '--query-id', 'q-1', '--airlock-bucket', BUCKET])).rejects.toThrow(
    /download the query's result/,
  );
});

describe('without AWS credentials', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: path.join(os.tmpdir(), 'sde-no-such-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(os.tmpdir(), 'sde-no-such-aws-credentials'),
      // No instance metadata lookup: this machine is not on EC2, and the test must not wait for it.
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
  afterAll(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  test('the default AWS side fails with a clear message and exit 1, before any call', async () => {
    const fixture = new ConfigFixture();
    cleanups.push(() => fixture.cleanup());
    const s = { ...setup(), fixture };
    const command = createOutputCommand({ settings: () => SETTINGS });
    const r = await run({ ...s, command }, ['list', '--airlock-bucket', BUCKET]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^sde output: no AWS credentials: .*Sign in \(aws sso login, or AWS_PROFILE \/ AWS_ACCESS_KEY_ID\) as your airlock role, or leave out --airlock-bucket/s,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  }, 20_000);
});
