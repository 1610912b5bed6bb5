import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../../lib/local/s3-api/server';
import { listPage } from '../../../lib/local/s3-api/s3rver-list';
import { MIN_PART_SIZE, uploadFile } from '../../../lib/local/s3-api/upload';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-s3-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function listAll(client: S3Client, bucket: string, options: { Prefix?: string; Delimiter?: string; MaxKeys?: number } = {}) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...options, ContinuationToken: token }));
    pages++;
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    prefixes.push(...(page.CommonPrefixes ?? []).map((c) => c.Prefix!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated) expect(token).toBeDefined();
  } while (token);
  return { keys, prefixes, pages };
}

describe('the local S3 API', () => {
  test('stores, lists and returns objects over a loopback port, and prints nothing', async () => {
    const printed = jest.spyOn(process.stdout, 'write');
    const s3 = await startLocalS3({ directory: tempDir(), buckets: ['test-landing'] });
    try {
      expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
      await s3.client.send(new PutObjectCommand({ Bucket: 'test-landing', Key: 'gp_events/2026-11-22 batch #1.csv', Body: 'a,b\n1,2\n' }));
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'test-landing', Prefix: 'gp_events/' }));
      expect(listed.Contents?.map((c) => [c.Key, c.Size])).toEqual([['gp_events/2026-11-22 batch #1.csv', 8]]);
      const got = await s3.client.send(new GetObjectCommand({ Bucket: 'test-landing', Key: 'gp_events/2026-11-22 batch #1.csv' }));
      expect(await got.Body?.transformToString()).toBe('a,b\n1,2\n');
      await expect(s3.client.send(new GetObjectCommand({ Bucket: 'test-landing', Key: 'missing' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
      await expect(s3.client.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    } finally {
      await s3.stop();
      printed.mockRestore();
    }
    expect(printed).not.toHaveBeenCalled();
  });

  test('refuses an object name whose part is too long to be a file name with S3 KeyTooLongError, and keeps serving', async () => {
    const s3 = await startLocalS3({ directory: tempDir(), buckets: ['test-landing'] });
    try {
      const long = `gp_events/${'a'.repeat(240)}.csv`;
      await expect(s3.client.send(new PutObjectCommand({ Bucket: 'test-landing', Key: long, Body: 'x' }))).rejects.toMatchObject({
        name: 'KeyTooLongError',
        message: expect.stringMatching(/at most 233 bytes/),
      });
      // The longest part it takes, and the server is still up.
      const longest = `gp_events/${'b'.repeat(233)}`;
      await s3.client.send(new PutObjectCommand({ Bucket: 'test-landing', Key: longest, Body: 'y' }));
      const got = await s3.client.send(new GetObjectCommand({ Bucket: 'test-landing', Key: longest }));
      expect(await got.Body?.transformToString()).toBe('y');
    } finally {
      await s3.stop();
    }
  });

  test('is not reachable on the machine’s other network addresses', async () => {
    const s3 = await startLocalS3({ directory: tempDir() });
    try {
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i !== undefined && !i.internal && i.family === 'IPv4');
      // A machine with loopback only has nothing else to try.
      if (external === undefined) return;
      const outcome = await new Promise<string>((resolve) => {
        const socket = net.connect({ host: external.address, port: s3.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome).toBe('ECONNREFUSED');
    } finally {
      await s3.stop();
    }
  });

  test('keeps objects across a restart, and two servers run side by side', async () => {
    const dirA = tempDir();
    const a = await startLocalS3({ directory: dirA, buckets: ['platform-a'] });
    const b = await startLocalS3({ directory: tempDir(), buckets: ['platform-b'] });
    try {
      expect(a.port).not.toBe(b.port);
      await a.client.send(new PutObjectCommand({ Bucket: 'platform-a', Key: 'x', Body: 'from a' }));
      await b.client.send(new PutObjectCommand({ Bucket: 'platform-b', Key: 'x', Body: 'from b' }));
      await expect(b.client.send(new GetObjectCommand({ Bucket: 'platform-a', Key: 'x' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
      const fromB = await b.client.send(new GetObjectCommand({ Bucket: 'platform-b', Key: 'x' }));
      expect(await fromB.Body?.transformToString()).toBe('from b');
    } finally {
      await a.stop();
      await b.stop();
    }
    // Starting again with the bucket listed keeps what is in it.
    const again = await startLocalS3({ directory: dirA, buckets: ['platform-a'] });
    try {
      const got = await again.client.send(new GetObjectCommand({ Bucket: 'platform-a', Key: 'x' }));
      expect(await got.Body?.transformToString()).toBe('from a');
    } finally {
      await again.stop();
    }
  });

  test('uploads a large file in parts (multipart) and a small one in one request', async () => {
    const dir = tempDir();
    const big = path.join(dir, 'big.csv');
    // A full 5 MiB part and a short last one; every line differs, so misordered or lost parts would show.
    const line = (i: number) => `${String(i).padStart(8, '0')},synthetic\n`;
    fs.writeFileSync(big, Array.from({ length: Math.ceil((MIN_PART_SIZE + 1000) / line(0).length) }, (_, i) => line(i)).join(''));
    const small = path.join(dir, 'small.csv');
    fs.writeFileSync(small, 'a,b\n');
    const s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: ['test-landing'] });
    try {
      const up = await uploadFile(s3.client, { bucket: 'test-landing', key: 'big/batch.csv', file: big, partSize: MIN_PART_SIZE, contentType: 'text/csv' });
      expect(up).toEqual({ bucket: 'test-landing', key: 'big/batch.csv', bytes: fs.statSync(big).size, parts: 2 });
      const got = await s3.client.send(new GetObjectCommand({ Bucket: 'test-landing', Key: 'big/batch.csv' }));
      expect(got.ContentType).toBe('text/csv');
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(fs.readFileSync(big))).toBe(true);

      expect(await uploadFile(s3.client, { bucket: 'test-landing', key: 'small.csv', file: small })).toMatchObject({ parts: 1, bytes: 4 });
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'test-landing', Key: 'small.csv' }));
      expect(head.ContentLength).toBe(4);
      await expect(uploadFile(s3.client, { bucket: 'test-landing', key: 'x', file: small, partSize: 1024 })).rejects.toThrow(/at least 5242880/);
    } finally {
      await s3.stop();
    }
  });

  // s3rver alone answers any truncated ListObjectsV2 page with a 500 (DES tokens on OpenSSL 3).
  test('pages through listings in S3 key order, with and without a delimiter', async () => {
    const s3 = await startLocalS3({ directory: tempDir(), buckets: ['test-curated'] });
    // `a-b` sorts before `a/x` in S3 (0x2d < 0x2f) but after it on disk (folder `a` first).
    const keys = ['z/1', 'a/x', 'a-b', 'a', 'b/2/deep', 'b/1', 'c', 'a/y'];
    try {
      for (const key of keys) await s3.client.send(new PutObjectCommand({ Bucket: 'test-curated', Key: key, Body: key }));
      const sorted = [...keys].sort();
      const flat = await listAll(s3.client, 'test-curated', { MaxKeys: 3 });
      expect(flat).toEqual({ keys: sorted, prefixes: [], pages: 3 });

      const grouped = await listAll(s3.client, 'test-curated', { Delimiter: '/', MaxKeys: 2 });
      expect(grouped.keys).toEqual(['a', 'a-b', 'c']);
      expect(grouped.prefixes).toEqual(['a/', 'b/', 'z/']);

      expect(await listAll(s3.client, 'test-curated', { Prefix: 'b/', Delimiter: '/' })).toEqual({ keys: ['b/1'], prefixes: ['b/2/'], pages: 1 });

      // The older ListObjects (V1) pages by marker.
      const v1 = await s3.client.send(new ListObjectsCommand({ Bucket: 'test-curated', MaxKeys: 2, Delimiter: '/' }));
      expect([v1.Contents?.map((c) => c.Key), v1.CommonPrefixes?.map((c) => c.Prefix), v1.IsTruncated, v1.NextMarker]).toEqual([
        ['a', 'a-b'],
        undefined,
        true,
        'a-b',
      ]);

      await expect(s3.client.send(new ListObjectsV2Command({ Bucket: 'test-curated', ContinuationToken: 'not a token' }))).rejects.toMatchObject({
        name: 'InvalidArgument',
      });
    } finally {
      await s3.stop();
    }
  });

  test('says which bucket it could not create, and which port is taken', async () => {
    await expect(startLocalS3({ directory: tempDir(), buckets: ['UPPER_case'] })).rejects.toThrow(
      /could not create bucket "UPPER_case" on the local S3 API at http:\/\/127\.0\.0\.1:\d+: InvalidBucketName/,
    );
    const s3 = await startLocalS3({ directory: tempDir() });
    try {
      await expect(startLocalS3({ directory: tempDir(), port: s3.port })).rejects.toThrow(`port ${s3.port} on 127.0.0.1 is already in use`);
    } finally {
      await s3.stop();
    }
  });
});

describe('a listing page (S3 semantics)', () => {
  const keys = ['a', 'a-b', 'a/x', 'a/y', 'b/1', 'c'];
  test.each([
    [
      { prefix: '', delimiter: '', startAfter: '', maxKeys: 2 },
      { keys: ['a', 'a-b'], commonPrefixes: [], isTruncated: true, last: 'a-b' },
    ],
    [
      { prefix: '', delimiter: '/', startAfter: '', maxKeys: 3 },
      { keys: ['a', 'a-b'], commonPrefixes: ['a/'], isTruncated: true, last: 'a/' },
    ],
    [
      { prefix: '', delimiter: '/', startAfter: 'a/', maxKeys: 3 },
      { keys: ['c'], commonPrefixes: ['b/'], isTruncated: false, last: 'c' },
    ],
    [
      { prefix: 'a/', delimiter: '/', startAfter: '', maxKeys: 1000 },
      { keys: ['a/x', 'a/y'], commonPrefixes: [], isTruncated: false, last: 'a/y' },
    ],
    [
      { prefix: '', delimiter: '', startAfter: 'c', maxKeys: 1000 },
      { keys: [], commonPrefixes: [], isTruncated: false, last: undefined },
    ],
  ])('%j', (options, expected) => {
    expect(listPage(keys, options)).toEqual(expected);
  });
});
