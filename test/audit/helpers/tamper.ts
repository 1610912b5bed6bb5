/**
 * What an attacker who controls the audit folder (but not the audit key) can do to a local
 * trail: read and rewrite record files, recompute the whole hash chain, cut signed heads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CloudTrailRecord } from '../../../lib/audit/cloudtrail-record';
import { chainHash, ChainEntry, GENESIS } from '../../../lib/audit/hash-chain';
import { CHAIN_FILE } from '../../../lib/audit/local-audit-writer';
import { HEADS_FILE } from '../../../lib/audit/signed-heads';

export function recordFiles(auditDir: string): string[] {
  return fs
    .readdirSync(auditDir, { recursive: true })
    .map(String)
    .filter((f) => f.startsWith('AWSLogs') && f.endsWith('.json'))
    .sort()
    .map((f) => path.join(auditDir, f));
}

export function readLines(file: string): string[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
    : [];
}

export function writeLines(file: string, lines: readonly string[]): void {
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

/**
 * Replaces the trail's records with `records` and recomputes a perfectly consistent chain
 * for them (the unkeyed chain holds no secret); the signed heads are left as they are,
 * since nobody without the key can sign new ones.
 */
export function rewriteTrail(auditDir: string, records: readonly CloudTrailRecord[]): void {
  const files = recordFiles(auditDir);
  for (const f of files) fs.rmSync(f);
  const file = files[0] ?? path.join(auditDir, 'AWSLogs', '000000000000', 'CloudTrail', 'eu-west-2', '2026', '11', '20', 'forged.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const rel = path.relative(auditDir, file).split(path.sep).join('/');
  if (records.length > 0) fs.writeFileSync(file, JSON.stringify({ Records: records }));
  let prev = GENESIS;
  const entries: ChainEntry[] = records.map((r, i) => {
    const sha256 = chainHash(prev, r);
    const e = { seq: i + 1, eventID: String(r.eventID), sha256, prev, file: rel };
    prev = sha256;
    return e;
  });
  writeLines(
    path.join(auditDir, CHAIN_FILE),
    entries.map((e) => JSON.stringify(e)),
  );
}

export const chainFile = (auditDir: string) => path.join(auditDir, CHAIN_FILE);
export const headsFile = (auditDir: string) => path.join(auditDir, HEADS_FILE);

/** Slips one forged record into the first record file, as anyone able to write the folder could (no chain entry, no head). */
export function slipRecordIn(auditDir: string, forge: (records: CloudTrailRecord[]) => CloudTrailRecord): CloudTrailRecord {
  const file = recordFiles(auditDir)[0];
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { Records: CloudTrailRecord[] };
  const forged = forge(doc.Records);
  doc.Records.push(forged);
  fs.writeFileSync(file, JSON.stringify(doc));
  return forged;
}
