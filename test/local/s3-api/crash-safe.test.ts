/**
 * The local S3 API survives kills and serialises conditional writes across processes:
 * - a server killed (SIGKILL) while objects are being written, at random moments: the next
 *   server over the same folder answers HEAD, GET and list for every key, and each object
 *   is either its old bytes or its new bytes, whole, with an ETag that is their MD5;
 * - metadata or MD5 files cut to 0 bytes (as s3rver itself left them) do not break the object;
 * - two servers over one folder (as two `sde` processes run): of racing conditional writes
 *   to one key, exactly one wins, every time.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3ObjectStore } from '../../../lib/ingest/s3-object-store';
import { sweepTemporaryFiles } from '../../../lib/local/s3-api/s3rver-crash-safe-store';
import { startLocalS3 } from '../../../lib/local/s3-api/server';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-s3-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** The bytes of version `v` of key `k`: distinct lengths and contents, so a mix of two is recognisable. */
const bodyOf = (k: number, v: number) => Buffer.alloc(200_000 + k * 1_000 + v * 37, `k${k}v${v};`);

async function readAll(store: S3ObjectStore, bucket: string, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of await store.get({ bucket, key })) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

/** A child process that runs its own server over `dir` and rewrites keys 0-4 forever, printing "ready" once started. */
const WRITER = `
const { startLocalS3 } = require('./lib/local/s3-api/server');
const { S3ObjectStore } = require('./lib/ingest/s3-object-store');
const [dir, seed] = process.argv.slice(-2);
const bodyOf = (k, v) => Buffer.alloc(200000 + k * 1000 + v * 37, 'k' + k + 'v' + v + ';');
(async () => {
  const s3 = await startLocalS3({ directory: dir, buckets: ['bkt'] });
  const store = new S3ObjectStore(s3.client);
  process.stdout.write('ready\\n');
  for (let v = 1; ; v++) await Promise.all([0, 1, 2, 3, 4].map((k) => store.put({ bucket: 'bkt', key: 'obj/' + k }, bodyOf(k, v + Number(seed) * 0))));
})();
`;

function startWriter(dir: string): Promise<ReturnType<typeof spawn>> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', WRITER, '--', dir, '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
}

test('a server killed mid-write at random moments never leaves a broken or mixed object', async () => {
  const dir = tempDir();
  const seeded = await startLocalS3({ directory: dir, buckets: ['bkt'] });
  const first = new S3ObjectStore(seeded.client);
  for (let k = 0; k < 5; k++) await first.put({ bucket: 'bkt', key: `obj/${k}` }, bodyOf(k, 0));
  await seeded.stop();
  for (let round = 0; round < 6; round++) {
    const child = await startWriter(dir);
    await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const s3 = await startLocalS3({ directory: dir, buckets: ['bkt'] });
    try {
      const store = new S3ObjectStore(s3.client);
      const listed = await store.list('bkt', 'obj/');
      expect(listed.map((o) => o.key)).toEqual(['obj/0', 'obj/1', 'obj/2', 'obj/3', 'obj/4']);
      for (let k = 0; k < 5; k++) {
        const bytes = await readAll(store, 'bkt', `obj/${k}`);
        const head = await store.head({ bucket: 'bkt', key: `obj/${k}` });
        expect(head).toMatchObject({ size: bytes.length, etag: md5(bytes) });
        // Whole: exactly some version's bytes.
        const v = (bytes.length - 200_000 - k * 1_000) / 37;
        expect(Number.isInteger(v)).toBe(true);
        expect(bytes.equals(bodyOf(k, v))).toBe(true);
        expect(listed[k]).toMatchObject({ size: bytes.length, etag: md5(bytes) });
      }
    } finally {
      await s3.stop();
    }
  }
  // What the kills left half written is only ever temporary files, which a sweep removes.
  const leftovers = (fs.readdirSync(dir, { recursive: true }) as string[]).filter(
    (f) => !/\._S3rver_(object|object\.md5|metadata\.json)$/.test(f) && f.includes('.'),
  );
  expect(leftovers.every((f) => /\.sde-[0-9a-f]{16}\.tmp$/.test(f))).toBe(true);
  expect(sweepTemporaryFiles(dir, 0)).toBe(leftovers.length);
  expect((fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}, 120_000);

test('metadata and MD5 files left empty by a killed s3rver do not break HEAD, GET or list', async () => {
  const dir = tempDir();
  let s3 = await startLocalS3({ directory: dir, buckets: ['bkt'] });
  await new S3ObjectStore(s3.client).put({ bucket: 'bkt', key: 'x/y.csv' }, 'a,b\n1,2\n', { contentType: 'text/csv' });
  await s3.stop();
  fs.writeFileSync(path.join(dir, 'bkt', 'x', 'y.csv._S3rver_metadata.json'), '');
  fs.writeFileSync(path.join(dir, 'bkt', 'x', 'y.csv._S3rver_object.md5'), '');
  s3 = await startLocalS3({ directory: dir, buckets: ['bkt'] });
  try {
    const store = new S3ObjectStore(s3.client);
    expect(await store.head({ bucket: 'bkt', key: 'x/y.csv' })).toMatchObject({ size: 8, etag: md5(Buffer.from('a,b\n1,2\n')) });
    expect((await readAll(store, 'bkt', 'x/y.csv')).toString()).toBe('a,b\n1,2\n');
    expect((await store.list('bkt', 'x/')).map((o) => o.key)).toEqual(['x/y.csv']);
  } finally {
    await s3.stop();
  }
});

test('two servers over one folder: of racing conditional writes to a key, exactly one wins', async () => {
  const dir = tempDir();
  const a = await startLocalS3({ directory: dir, buckets: ['bkt'] });
  const b = await startLocalS3({ directory: dir, buckets: ['bkt'] });
  try {
    const stores = [new S3ObjectStore(a.client), new S3ObjectStore(b.client)];
    for (let round = 0; round < 25; round++) {
      const ref = { bucket: 'bkt', key: `claims/${round}.json` };
      const won = await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % 2].putIfAbsent(ref, JSON.stringify({ writer: i }))));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = won.indexOf(true);
      expect(JSON.parse((await readAll(stores[0], 'bkt', ref.key)).toString())).toEqual({ writer: winner });
    }
  } finally {
    await a.stop();
    await b.stop();
  }
}, 60_000);
