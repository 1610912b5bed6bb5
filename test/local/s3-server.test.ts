import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../lib/local/s3-server';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-s3-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the local S3 API', () => {
  test('stores, lists and returns objects over a loopback port', async () => {
    const s3 = await startLocalS3({ directory: tempDir(), buckets: ['test-landing'] });
    try {
      expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await s3.client.send(new PutObjectCommand({ Bucket: 'test-landing', Key: 'gp_events/2026-11-22 batch #1.csv', Body: 'a,b\n1,2\n' }));
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'test-landing', Prefix: 'gp_events/' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(['gp_events/2026-11-22 batch #1.csv']);
      const got = await s3.client.send(new GetObjectCommand({ Bucket: 'test-landing', Key: 'gp_events/2026-11-22 batch #1.csv' }));
      expect(await got.Body?.transformToString()).toBe('a,b\n1,2\n');
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
      await expect(b.client.send(new GetObjectCommand({ Bucket: 'platform-a', Key: 'x' }))).rejects.toThrow();
    } finally {
      await a.stop();
      await b.stop();
    }
    const again = await startLocalS3({ directory: dirA, buckets: ['platform-a'] });
    try {
      const got = await again.client.send(new GetObjectCommand({ Bucket: 'platform-a', Key: 'x' }));
      expect(await got.Body?.transformToString()).toBe('from a');
    } finally {
      await again.stop();
    }
  });
});
