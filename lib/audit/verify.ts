/**
 * `sde audit verify`: is the trail complete and unchanged?
 *
 * Two kinds of evidence, whichever the folder holds:
 * - the local runtime's hash chain (`chain.jsonl`, see hash-chain.ts): every record is
 *   found, hashes to its chain entry, follows the entry before it, and sits in its file
 *   in the order it was written; records with no chain entry are reported too;
 * - CloudTrail digest files (`CloudTrail-Digest/...json.gz`, written hourly when log file
 *   validation is on): each listed log file is present and its SHA-256 (of the
 *   uncompressed content, as CloudTrail defines it) matches; each digest's
 *   `previousDigestHashValue` matches the SHA-256 of the previous digest's uncompressed
 *   content, and no digest in the chain is missing.
 *
 * What it cannot do offline: check the digest signatures. That needs CloudTrail's public
 * key for each region and period (ListPublicKeys) and each digest object's S3 metadata
 * (x-amz-meta-signature), which a copied folder does not have. The report says so; use
 * `aws cloudtrail validate-logs` against the bucket for that step.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DIGEST_DIR, readTrail, TrailRecord } from './cloudtrail-reader';
import { ChainEntry, chainHash, GENESIS, parseChainLine } from './hash-chain';
import { CHAIN_FILE } from './local-audit-writer';

export type FindingKind =
  | 'missing'
  | 'altered'
  | 'reordered'
  | 'unchained'
  | 'broken-link'
  | 'duplicate'
  | 'corrupt-chain'
  | 'unreadable-record'
  | 'digest-unreadable'
  | 'digest-missing'
  | 'digest-altered'
  | 'log-file-missing'
  | 'log-file-altered'
  | 'not-in-digest'
  | 'nothing-to-verify';

export interface VerifyFinding {
  readonly kind: FindingKind;
  /** Errors fail verification; warnings are worth a look but may be benign. */
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export interface LocalChainReport {
  readonly chainEntries: number;
  readonly recordsFound: number;
  /** SHA-256 of the last entry: note it, and compare later to detect a rewritten or cut chain. */
  readonly head?: string;
  readonly findings: readonly VerifyFinding[];
}

export interface DigestReport {
  readonly digestFiles: number;
  readonly logFilesChecked: number;
  readonly findings: readonly VerifyFinding[];
  readonly notes: readonly string[];
}

export interface VerifyReport {
  readonly localChain?: LocalChainReport;
  readonly digests?: DigestReport;
  readonly findings: readonly VerifyFinding[];
  /** True when there was something to check and no error was found. */
  readonly ok: boolean;
}

export const SIGNATURE_NOTE =
  "Digest signatures were NOT checked: that needs CloudTrail public keys (aws cloudtrail list-public-keys) and each digest object's S3 metadata (x-amz-meta-signature), which a copied folder does not hold. This check shows the files agree with each other, not that CloudTrail wrote them; run `aws cloudtrail validate-logs` against the bucket for that.";

const error = (kind: FindingKind, message: string): VerifyFinding => ({ kind, severity: 'error', message });
const warning = (kind: FindingKind, message: string): VerifyFinding => ({ kind, severity: 'warning', message });

export async function verifyTrail(dir: string): Promise<VerifyReport> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`${dir}: no such folder`);
  const hasChain = fs.existsSync(path.join(root, CHAIN_FILE));
  const digestFiles = listFiles(root).filter(isDigestFile);
  const localChain = hasChain ? await verifyLocalChain(root) : undefined;
  const digests = digestFiles.length > 0 ? verifyDigests(root) : undefined;
  const findings = [...(localChain?.findings ?? []), ...(digests?.findings ?? [])];
  if (!localChain && !digests) {
    findings.push(
      error(
        'nothing-to-verify',
        `${dir} holds neither a local hash chain (${CHAIN_FILE}) nor CloudTrail digest files (${DIGEST_DIR}/): there is nothing to check the records against`,
      ),
    );
  }
  return { localChain, digests, findings, ok: findings.every((f) => f.severity !== 'error') };
}

/** Checks the local hash chain in `auditDir` against the record files beside it. */
export async function verifyLocalChain(auditDir: string): Promise<LocalChainReport> {
  const findings: VerifyFinding[] = [];
  const entries: ChainEntry[] = [];
  const lines = fs.readFileSync(path.join(auditDir, CHAIN_FILE), 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const entry = parseChainLine(line);
    if (entry) entries.push(entry);
    else findings.push(error('corrupt-chain', `${CHAIN_FILE} line ${i + 1} is not a chain entry (edited or cut short)`));
  });

  const read = await readTrail(auditDir);
  for (const issue of read.issues) {
    findings.push(
      error('unreadable-record', `${issue.file}: ${issue.count} record${issue.count === 1 ? '' : 's'} could not be read (${issue.kind}: ${issue.detail})`),
    );
  }
  const byId = new Map<string, TrailRecord[]>();
  for (const r of read.records) {
    const id = typeof r.record.eventID === 'string' ? r.record.eventID : '';
    byId.set(id, [...(byId.get(id) ?? []), r]);
  }

  const seqAt = new Map<string, number>(); // "file#index" -> seq
  const chained = new Set<string>();
  let expectedPrev = GENESIS;
  for (const entry of entries) {
    if (entry.prev !== expectedPrev) {
      findings.push(
        error(
          'broken-link',
          `chain entry ${entry.seq} does not follow the entry before it: an entry (and its record) was removed before it, or entries were reordered`,
        ),
      );
    }
    expectedPrev = entry.sha256;
    chained.add(entry.eventID);
    const found = byId.get(entry.eventID) ?? [];
    if (found.length === 0) {
      findings.push(error('missing', `record ${entry.eventID} (chain entry ${entry.seq}, written to ${entry.file}) is in no record file: it was deleted`));
      continue;
    }
    if (found.length > 1) {
      findings.push(
        error('duplicate', `record ${entry.eventID} (chain entry ${entry.seq}) appears ${found.length} times: ${found.map((f) => f.file).join(', ')}`),
      );
    }
    const rec = found.find((f) => f.file === entry.file) ?? found[0];
    if (chainHash(entry.prev, rec.record) !== entry.sha256) {
      findings.push(
        error('altered', `record ${entry.eventID} (chain entry ${entry.seq}, in ${rec.file}) does not match its hash: it was changed after it was written`),
      );
    }
    seqAt.set(`${rec.file}#${rec.index}`, entry.seq);
  }

  for (const r of read.records) {
    const id = typeof r.record.eventID === 'string' ? r.record.eventID : '(no eventID)';
    if (!chained.has(id))
      findings.push(
        error('unchained', `record ${id} in ${r.file} has no chain entry: it was added outside the writer (or the writer stopped before linking it)`),
      );
  }

  // Within a file, records must sit in the order they were chained.
  const byFile = new Map<string, number[]>();
  for (const r of read.records) {
    const seq = seqAt.get(`${r.file}#${r.index}`);
    if (seq !== undefined) byFile.set(r.file, [...(byFile.get(r.file) ?? []), seq]);
  }
  for (const [file, seqs] of byFile) {
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] < seqs[i - 1]) {
        findings.push(error('reordered', `${file}: the record of chain entry ${seqs[i]} comes after that of entry ${seqs[i - 1]}: records were reordered`));
      }
    }
  }

  return { chainEntries: entries.length, recordsFound: read.records.length, head: entries.at(-1)?.sha256, findings };
}

interface Digest {
  readonly rel: string;
  readonly sha256: string;
  readonly key: string;
  readonly group: string;
  readonly endTime: string;
  readonly previousKey?: string;
  readonly previousHash?: string;
  readonly previousHashAlgorithm?: string;
  readonly logFiles: readonly { s3Object: string; hashValue: string; hashAlgorithm: string }[];
}

/** Checks the CloudTrail digest chain and the log files the digests list. */
export function verifyDigests(root: string): DigestReport {
  const findings: VerifyFinding[] = [];
  const notes: string[] = [SIGNATURE_NOTE];
  const files = listFiles(root);
  const resolve = (key: string) => files.find((rel) => rel === key || key.endsWith(`/${rel}`) || rel.endsWith(`/${key}`));

  const digests: Digest[] = [];
  for (const rel of files.filter(isDigestFile)) {
    let content: Buffer;
    let parsed: Record<string, unknown>;
    try {
      content = uncompressed(path.join(root, rel));
      parsed = JSON.parse(content.toString('utf8'));
    } catch {
      findings.push(error('digest-unreadable', `${rel}: not a readable digest file (corrupt gzip or not JSON)`));
      continue;
    }
    const str = (k: string) => (typeof parsed[k] === 'string' ? (parsed[k] as string) : undefined);
    const logFiles = Array.isArray(parsed.logFiles) ? (parsed.logFiles as Record<string, unknown>[]) : [];
    digests.push({
      rel,
      sha256: sha256(content),
      key: str('digestS3Object') ?? rel,
      group: path.posix.basename(rel).replace(/_\d{8}T\d{6}Z(_backfill)?\.json(\.gz)?$/, ''),
      endTime: str('digestEndTime') ?? '',
      previousKey: str('previousDigestS3Object'),
      previousHash: str('previousDigestHashValue'),
      previousHashAlgorithm: str('previousDigestHashAlgorithm'),
      logFiles: logFiles.map((f) => ({
        s3Object: String(f.s3Object ?? ''),
        hashValue: String(f.hashValue ?? ''),
        hashAlgorithm: String(f.hashAlgorithm ?? ''),
      })),
    });
  }
  digests.sort((a, b) => (a.endTime < b.endTime ? -1 : a.endTime > b.endTime ? 1 : 0));

  const listed = new Set<string>();
  let logFilesChecked = 0;
  for (const d of digests) {
    for (const lf of d.logFiles) {
      const rel = resolve(lf.s3Object);
      if (rel === undefined) {
        findings.push(error('log-file-missing', `${lf.s3Object} is listed in digest ${d.rel} but is not in the folder: it was deleted (or not copied)`));
        continue;
      }
      listed.add(rel);
      logFilesChecked++;
      if (lf.hashAlgorithm !== 'SHA-256') {
        findings.push(warning('log-file-altered', `${rel}: digest ${d.rel} uses hash algorithm ${lf.hashAlgorithm}, which this check does not know`));
        continue;
      }
      let actual: string;
      try {
        actual = sha256(uncompressed(path.join(root, rel)));
      } catch {
        findings.push(error('log-file-altered', `${rel}: cannot be decompressed, so it is not the file digest ${d.rel} lists`));
        continue;
      }
      if (actual !== lf.hashValue)
        findings.push(error('log-file-altered', `${rel}: its SHA-256 differs from the one in digest ${d.rel}: it was changed after delivery`));
    }

    if (d.previousKey === undefined) continue; // a starting digest: validation was (re)started here
    const prevRel = resolve(d.previousKey);
    const prev = digests.find((x) => x.rel === prevRel);
    if (!prev) {
      const earlier = digests.some((x) => x.group === d.group && x.endTime < d.endTime);
      if (earlier) {
        findings.push(
          error('digest-missing', `digest ${d.previousKey}, which ${d.rel} follows, is not in the folder although earlier digests are: it was deleted`),
        );
      } else {
        notes.push(
          `${d.rel} is the oldest digest of its chain here; its predecessor (${d.previousKey}) is outside the folder, so the chain is checked from this digest on`,
        );
      }
      continue;
    }
    if (d.previousHashAlgorithm !== undefined && d.previousHashAlgorithm !== 'SHA-256') {
      findings.push(warning('digest-altered', `${d.rel}: previous digest hash algorithm ${d.previousHashAlgorithm} is not known to this check`));
    } else if (prev.sha256 !== d.previousHash) {
      findings.push(error('digest-altered', `digest ${prev.rel} does not match the hash recorded in the next digest ${d.rel}: it was changed`));
    }
  }

  for (const rel of files.filter((f) => !isDigestFile(f) && /(^|\/)CloudTrail\//.test(f) && /\.json(\.gz)?$/.test(f))) {
    if (!listed.has(rel)) {
      findings.push(warning('not-in-digest', `${rel} is listed in no digest here: delivered after the newest digest, or added by someone else`));
    }
  }
  return { digestFiles: digests.length, logFilesChecked, findings, notes };
}

function isDigestFile(rel: string): boolean {
  return rel.split('/').includes(DIGEST_DIR) && /\.json(\.gz)?$/.test(rel);
}

function listFiles(root: string): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

function uncompressed(file: string): Buffer {
  const raw = fs.readFileSync(file);
  return raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Human-readable lines for the CLI. */
export function describeVerifyReport(report: VerifyReport): string[] {
  const lines: string[] = [];
  if (report.localChain) {
    const c = report.localChain;
    lines.push(
      `local hash chain: ${c.chainEntries} entr${c.chainEntries === 1 ? 'y' : 'ies'}, ${c.recordsFound} record${c.recordsFound === 1 ? '' : 's'} found`,
    );
    if (c.head) lines.push(`  head: ${c.head} (note it: a later run showing another head for the same entries means the chain was rewritten)`);
  }
  if (report.digests) {
    lines.push(
      `CloudTrail digests: ${report.digests.digestFiles} digest file${report.digests.digestFiles === 1 ? '' : 's'}, ${report.digests.logFilesChecked} log file hash${report.digests.logFilesChecked === 1 ? '' : 'es'} checked`,
    );
    for (const n of report.digests.notes) lines.push(`  note: ${n}`);
  }
  for (const f of report.findings) lines.push(`${f.severity.toUpperCase()} ${f.kind}: ${f.message}`);
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  lines.push(report.ok ? 'verified: no missing, altered or reordered record found' : `NOT verified: ${errors} problem${errors === 1 ? '' : 's'} found`);
  return lines;
}
