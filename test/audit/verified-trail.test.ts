import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeAllAuditWriters } from '../../lib/audit/local-audit-writer';
import { AUDIT_KEY_DIR } from '../../lib/audit/signed-heads';
import { describeAttestation, readVerifiedTrail, UnverifiedTrailError } from '../../lib/audit/verified-trail';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { REAL_TRAIL, TempDir } from './helpers/fixtures';
import { writeDemoTrail } from './helpers/local-trail';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
afterEach(() => closeAllAuditWriters());

test('a workdir that never recorded anything (no trail, no audit key) gives no records, and says so', async () => {
  const tmp = new TempDir();
  try {
    const read = await readVerifiedTrail(tmp.path('audit'));
    expect(read.records).toEqual([]);
    expect(read.attestation).toMatchObject({ verified: true, method: 'no-trail', records: 0 });
    expect(describeAttestation(read.attestation)).toBe('No audit trail exists yet: nothing has been recorded.');
  } finally {
    tmp.cleanup();
  }
});

test('a trail deleted from a workdir that has an audit key is refused, or marked unverified', async () => {
  const tmp = new TempDir();
  try {
    writeDemoTrail(config, tmp.dir);
    fs.rmSync(tmp.path('audit'), { recursive: true });
    expect(fs.existsSync(tmp.path(AUDIT_KEY_DIR))).toBe(true);
    await expect(readVerifiedTrail(tmp.path('audit'))).rejects.toThrow(/is missing, but the workdir has an audit key .*: the trail was deleted/);
    const allowed = await readVerifiedTrail(tmp.path('audit'), { allowUnverified: true });
    expect(allowed.attestation).toMatchObject({ verified: false, records: 0, problems: 1 });
  } finally {
    tmp.cleanup();
  }
});

test('a single file carries nothing to verify it against: refused, or read marked unverified', async () => {
  const file = path.join(REAL_TRAIL, 'aws-docs-examples', 'athena.Records.json');
  await expect(readVerifiedTrail(file)).rejects.toBeInstanceOf(UnverifiedTrailError);
  const allowed = await readVerifiedTrail(file, { allowUnverified: true });
  expect(allowed.attestation).toMatchObject({ verified: false, method: 'none', problems: 1 });
  expect(allowed.records.length).toBeGreaterThan(0);
  expect(describeAttestation(allowed.attestation)).toMatch(/^UNVERIFIED: built from \d+ audit records that did not verify/);
});

test('a verified local trail gives its records, its latest signed head and the public key', async () => {
  const tmp = new TempDir();
  try {
    const { records } = writeDemoTrail(config, tmp.dir);
    const read = await readVerifiedTrail(tmp.path('audit'));
    expect(read.records).toEqual(records);
    expect(read.attestation).toMatchObject({
      verified: true,
      method: 'local-hash-chain',
      records: records.length,
      problems: 0,
      signedHead: { seq: records.length },
    });
    expect(read.attestation.publicKey).toBe(fs.readFileSync(tmp.path(`${AUDIT_KEY_DIR}/signing-public-key.pem`), 'utf8'));
  } finally {
    tmp.cleanup();
  }
});

test('the refusal names the first problems and counts the rest', () => {
  const e = new UnverifiedTrailError(
    'trail',
    Array.from({ length: 25 }, (_, i) => `problem ${i}`),
  );
  expect(e.message).toMatch(/\(25 problems\):\n {2}problem 0\n/);
  expect(e.message).toContain('  problem 19\n  ... and 5 more\n');
  expect(e.message).not.toContain('problem 20');
});
