/**
 * The SDK adapter against the local S3 API (the same code the Lambdas run against AWS):
 * ranges, streams of unknown length (multipart), odd keys in copies, idempotent deletes,
 * composing an object from ranges (UploadPartCopy) and S3's 5 MiB part minimum.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { LocalS3, startLocalS3 } from '../../lib/local/s3-api/server';
import { readSmallObject } from '../../lib/ingest/object-store';
import { S3ObjectStore } from '../../lib/ingest/s3-object-store';
import { commandsDuring } from './helpers/observe-commands';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-store-'));
let s3: LocalS3;
let store: S3ObjectStore;
beforeAll(async () => {
  s3 = await startLocalS3({ directory: dir, buckets: ['store-a', 'store-b'] });
  store = new S3ObjectStore(s3.client);
});
afterAll(async () => {
  await s3.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function bytes(iter: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of iter) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

test('head, ranged get (end exclusive), and a missing object', async () => {
  await store.put({ bucket: 'store-a', key: 'x/one.csv' }, 'abcdefghij');
  expect(await store.head({ bucket: 'store-a', key: 'x/one.csv' })).toMatchObject({ size: 10, etag: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect((await bytes(await store.get({ bucket: 'store-a', key: 'x/one.csv' }, { start: 2, end: 5 }))).toString()).toBe('cde');
  expect((await bytes(await store.get({ bucket: 'store-a', key: 'x/one.csv' }, { start: 7 }))).toString()).toBe('hij');
  expect((await bytes(await store.get({ bucket: 'store-a', key: 'x/one.csv' }, { start: 4, end: 4 }))).length).toBe(0);
  expect(await store.head({ bucket: 'store-a', key: 'x/none.csv' })).toBeUndefined();
  expect(await readSmallObject(store, { bucket: 'store-a', key: 'x/none.csv' })).toBeUndefined();
});

test('a stream of unknown length larger than one part goes up whole', async () => {
  const big = Buffer.alloc(9 * 1024 * 1024 + 123, 'z');
  big.write('start', 0);
  big.write('end', big.length - 3);
  await store.put({ bucket: 'store-a', key: 'x/big.bin' }, Readable.from([big.subarray(0, 5_000_000), big.subarray(5_000_000)]));
  expect((await store.head({ bucket: 'store-a', key: 'x/big.bin' }))?.size).toBe(big.length);
  expect((await bytes(await store.get({ bucket: 'store-a', key: 'x/big.bin' }))).equals(big)).toBe(true);
});

test('copy keeps odd characters in keys; list is by prefix in key order; delete is idempotent', async () => {
  // Not # + &: s3rver decodes the copy source with decodeURI (see s3-object-store.ts); AWS takes them.
  const odd = "x/2026-11-22 Trust's export (v2) ü %20 ~.csv";
  await store.put({ bucket: 'store-a', key: odd }, 'hello');
  await store.copy({ bucket: 'store-a', key: odd }, { bucket: 'store-b', key: `copies/${odd.slice(2)}` });
  expect((await readSmallObject(store, { bucket: 'store-b', key: `copies/${odd.slice(2)}` }))?.toString()).toBe('hello');
  expect((await store.list('store-a', 'x/')).map((o) => o.key)).toEqual([odd, 'x/big.bin', 'x/one.csv'].sort());
  await store.delete({ bucket: 'store-a', key: odd });
  await store.delete({ bucket: 'store-a', key: odd });
  expect(await store.head({ bucket: 'store-a', key: odd })).toBeUndefined();
});

describe('compose: one object from ranges of others and literal bytes', () => {
  const MiB = 1024 * 1024;
  const patterned = (n: number, seed: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
    return b;
  };

  test('large ranges are copied server-side, small ones and literals uploaded, and the bytes come out in order', async () => {
    const a = patterned(12 * MiB + 11, 1);
    const b = patterned(6 * MiB, 2);
    await store.put({ bucket: 'store-a', key: 'compose/a.bin' }, a);
    await store.put({ bucket: 'store-b', key: 'compose/b.bin' }, b);
    const head = Buffer.from('HEAD');
    const tail = Buffer.from('TAIL-bytes');
    const pieces = [
      { bytes: head },
      { from: { bucket: 'store-a', key: 'compose/a.bin' }, start: 4, end: a.length - 3 },
      { from: { bucket: 'store-b', key: 'compose/b.bin' }, start: 100, end: 200 },
      { from: { bucket: 'store-b', key: 'compose/b.bin' }, start: 0, end: b.length },
      { bytes: tail },
    ];
    let multipart: boolean | undefined;
    const commands = await commandsDuring(
      s3.client,
      async () => ({ multipart } = await store.compose({ bucket: 'store-a', key: 'compose/joined.bin' }, pieces)),
    );
    expect(multipart).toBe(true);
    const expected = Buffer.concat([head, a.subarray(4, a.length - 3), b.subarray(100, 200), b, tail]);
    const got = await bytes(await store.get({ bucket: 'store-a', key: 'compose/joined.bin' }));
    expect(got.length).toBe(expected.length);
    expect(got.equals(expected)).toBe(true);
    // HEAD + the first 5 MiB of a (uploaded), the other 7 MiB of a (copied), b's 100 bytes + 5 MiB of b (uploaded), the rest of b + TAIL (uploaded, last).
    expect(commands.filter((c) => c === 'UploadPartCopyCommand')).toHaveLength(1);
    expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(commands).toContain('CompleteMultipartUploadCommand');
  });

  test('a small composed object is one PutObject', async () => {
    await store.put({ bucket: 'store-a', key: 'compose/small.txt' }, 'abcdef');
    const commands = await commandsDuring(s3.client, async () =>
      expect(
        await store.compose({ bucket: 'store-a', key: 'compose/small-joined.txt' }, [
          { bytes: Buffer.from('<') },
          { from: { bucket: 'store-a', key: 'compose/small.txt' }, start: 1, end: 4 },
          { bytes: Buffer.from('>') },
        ]),
      ).toMatchObject({ multipart: false }),
    );
    expect((await readSmallObject(store, { bucket: 'store-a', key: 'compose/small-joined.txt' }))?.toString()).toBe('<bcd>');
    expect(commands).toContain('PutObjectCommand');
    expect(commands.filter((c) => c.includes('Multipart') || c.startsWith('UploadPart'))).toEqual([]);
  });

  test('a range past the end of its source fails, and no object appears', async () => {
    await store.put({ bucket: 'store-a', key: 'compose/short.bin' }, patterned(6 * MiB, 3));
    const to = { bucket: 'store-a', key: 'compose/never.bin' };
    await expect(store.compose(to, [{ from: { bucket: 'store-a', key: 'compose/short.bin' }, start: 0, end: 6 * MiB + 1 }])).rejects.toThrow(
      /not valid for source object of size/,
    );
    await expect(store.compose(to, [{ from: { bucket: 'store-a', key: 'compose/missing.bin' }, start: 0, end: 6 * MiB }])).rejects.toThrow(/does not exist/);
    expect(await store.head(to)).toBeUndefined();
  });
});

test('the local S3 API refuses, as S3 does, a completed upload whose first part is under 5 MiB, and aborts an upload', async () => {
  const Bucket = 'store-a';
  const Key = 'x/too-small.bin';
  const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const one = await s3.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1024) }));
  const two = await s3.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: Buffer.alloc(1024) }));
  await expect(
    s3.client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: one.ETag },
            { PartNumber: 2, ETag: two.ETag },
          ],
        },
      }),
    ),
  ).rejects.toMatchObject({ name: 'EntityTooSmall' });
  expect(await store.head({ bucket: Bucket, key: Key })).toBeUndefined();
  // Aborting removes the parts, as on S3: the upload is gone.
  await s3.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  await expect(s3.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 3, Body: Buffer.alloc(10) }))).rejects.toMatchObject({
    name: 'NoSuchUpload',
  });
});
