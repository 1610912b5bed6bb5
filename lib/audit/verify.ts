/**
 * `sde audit verify`: is the trail complete, unchanged, and anchored to something its
 * holder cannot forge?
 *
 * Two kinds of evidence, whichever the folder holds:
 * - the local runtime's hash chain (`chain.jsonl`, hash-chain.ts) and its signed heads
 *   (`heads.jsonl`, signed-heads.ts): every record is found, hashes to its chain entry,
 *   follows the entry before it and sits in its file in the order it was written; every
 *   head's signature verifies with the trusted audit key and the chain still holds the
 *   entry it signed; no entry lies beyond the last signed head; and, given heads published
 *   earlier (`--published register.json`), the chain still holds those too;
 * - CloudTrail digest files (`CloudTrail-Digest/`, written hourly when log file validation
 *   is on): signatures, chain and log file hashes, see cloudtrail-digest.ts. Digest
 *   signatures need CloudTrail's public keys (`--public-keys`); without them the report
 *   says exactly what was not checked, and the trail does not verify.
 *
 * An empty trail never verifies: with every record deleted there is nothing to vouch for.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { checkDigests, CloudTrailPublicKey, DigestCheckResult, DigestFile } from './cloudtrail-digest';
import { DIGEST_DIR, listTrailFiles, readTrail, ReadResult, TrailRecord } from './cloudtrail-reader';
import { error, FindingKind, plural, VerifyFinding, warning } from './findings';
import { ChainEntry, chainHash, GENESIS, parseChainLine } from './hash-chain';
import { AuditTrailNotAnchoredError, CHAIN_FILE, completeInterruptedWrite, PENDING_FILE } from './local-audit-writer';
import {
  HEADS_FILE,
  parseHeadLine,
  PublishedAnchor,
  SignedHead,
  TrustedAuditKey,
  trustedKeyFromPem,
  verifyHeadSignature,
  workdirAuditKey,
} from './signed-heads';

export type { FindingKind, VerifyFinding } from './findings';

export interface PublishedHeadInput extends PublishedAnchor {
  /** Where it came from (a file name), for the report. */
  readonly source: string;
}

export interface VerifyOptions {
  /** CloudTrail public keys (`aws cloudtrail list-public-keys`). Undefined: digest signatures are not checked, and the trail does not verify. */
  readonly publicKeys?: readonly CloudTrailPublicKey[];
  /** The key the local trail's heads must be signed with. @default a published head's key, else the workdir's own audit key */
  readonly auditKey?: TrustedAuditKey;
  /** What registers published earlier: the local chain must still hold each signed head, a CloudTrail copy each newest digest. */
  readonly published?: readonly PublishedHeadInput[];
  /** The audit lock's stale threshold, when completing an interrupted write (local-audit-writer.ts). @default DEFAULT_LOCK_STALE_MS */
  readonly auditLockStaleMs?: number;
}

export interface LocalChainReport {
  readonly chainEntries: number;
  readonly recordsFound: number;
  /** SHA-256 of the last entry. */
  readonly head?: string;
  /** The newest head whose signature verified. */
  readonly latestSignedHead?: SignedHead;
  readonly signedHeads: number;
  /** The key the heads were checked with, and where it came from. */
  readonly key?: { readonly fingerprint: string; readonly source: string; readonly publicKeyPem: string };
  readonly findings: readonly VerifyFinding[];
}

export type DigestReport = DigestCheckResult;

export interface VerifyReport {
  readonly localChain?: LocalChainReport;
  readonly digests?: DigestReport;
  readonly findings: readonly VerifyFinding[];
  /** True when there was something to check, everything was checked, and no error was found. */
  readonly ok: boolean;
  /** When the check ran (ISO 8601 UTC). */
  readonly checkedAt: string;
  /** The records read (what readers use, after the check). */
  readonly read?: ReadResult;
}

const SIDECAR = '.metadata.json';

export async function verifyTrail(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`${dir}: no such folder`);
  const checkedAt = new Date().toISOString();
  const hasChain = fs.existsSync(path.join(root, CHAIN_FILE)) || fs.existsSync(path.join(root, HEADS_FILE));
  const interrupted = hasChain ? completeInterrupted(root, options.auditLockStaleMs) : [];
  const digestFiles = listFiles(root).filter(isDigestFile);
  const read = hasChain || digestFiles.length > 0 ? await readTrail(root) : undefined;
  const localChain = hasChain && read ? verifyLocalChain(root, read, options) : undefined;
  const digests = digestFiles.length > 0 ? verifyDigests(root, options) : undefined;
  const findings = [...interrupted, ...(localChain?.findings ?? []), ...(digests?.findings ?? [])];
  if (!localChain && !digests) {
    findings.push(
      error(
        'nothing-to-verify',
        `${dir} holds neither a local hash chain (${CHAIN_FILE}, ${HEADS_FILE}) nor CloudTrail digest files (${DIGEST_DIR}/): there is nothing to check the records against`,
      ),
    );
  }
  return { localChain, digests, findings, ok: findings.every((f) => f.severity !== 'error'), checkedAt, read };
}

/**
 * A write a killed process left half done (its signed intent, `pending-write.json`) is
 * completed first, with the workdir's own key, under the writer's lock: a crash then reads
 * as the interrupted write it was, not as tampering. An intent that does not verify, or
 * does not match the trail exactly, is not completed and is an error (local-audit-writer.ts).
 */
function completeInterrupted(root: string, lockStaleMs: number | undefined): VerifyFinding[] {
  try {
    const n = completeInterruptedWrite(root, { lockStaleMs });
    if (n > 0)
      return [warning('interrupted-write', `a write of ${plural(n, 'record')} was interrupted (the process was killed); completed from its signed intent`)];
  } catch (e) {
    if (e instanceof AuditTrailNotAnchoredError) return [error('interrupted-write', e.message)];
    throw e;
  }
  if (fs.existsSync(path.join(root, PENDING_FILE))) {
    return [
      error(
        'interrupted-write',
        `${PENDING_FILE}: a write was interrupted, and this folder has no workdir audit key beside it to complete it with: run \`sde audit verify\` in the workdir it came from`,
      ),
    ];
  }
  return [];
}

function readLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
}

/** Checks the local hash chain and its signed heads in `auditDir` against the record files beside it. */
export function verifyLocalChain(auditDir: string, read: ReadResult, options: VerifyOptions = {}): LocalChainReport {
  const findings: VerifyFinding[] = [];
  const entries: ChainEntry[] = [];
  readLines(path.join(auditDir, CHAIN_FILE)).forEach((line, i) => {
    if (line.trim() === '') return;
    const entry = parseChainLine(line);
    if (entry) entries.push(entry);
    else findings.push(error('corrupt-chain', `${CHAIN_FILE} line ${i + 1} is not a chain entry (edited or cut short)`));
  });

  for (const issue of read.issues) {
    findings.push(
      error('unreadable-record', `${issue.file}: ${issue.count} record${issue.count === 1 ? '' : 's'} could not be read (${issue.kind}: ${issue.detail})`),
    );
  }
  checkRecordsAgainstChain(entries, read.records, findings);
  if (entries.length === 0 && read.records.length === 0) {
    findings.push(
      error(
        'empty-trail',
        'the trail holds no record and no chain entry: an empty trail vouches for nothing (every record may have been deleted with its chain)',
      ),
    );
  }
  const heads = checkHeads(auditDir, entries, findings, options);
  return {
    chainEntries: entries.length,
    recordsFound: read.records.length,
    head: entries.at(-1)?.sha256,
    ...heads,
    findings,
  };
}

/** Records against chain entries: present, unaltered, linked, in order, none extra. */
function checkRecordsAgainstChain(entries: readonly ChainEntry[], records: readonly TrailRecord[], findings: VerifyFinding[]): void {
  const byId = new Map<string, TrailRecord[]>();
  for (const r of records) {
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

  for (const r of records) {
    const id = typeof r.record.eventID === 'string' ? r.record.eventID : '(no eventID)';
    if (!chained.has(id))
      findings.push(
        error('unchained', `record ${id} in ${r.file} has no chain entry: it was added outside the writer (or the writer stopped before linking it)`),
      );
  }

  // Within a file, records must sit in the order they were chained.
  const byFile = new Map<string, number[]>();
  for (const r of records) {
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
}

/** The trusted key: given, else a published head's, else the workdir's own; a mismatch between them is an error. */
function trustedKey(auditDir: string, options: VerifyOptions, findings: VerifyFinding[]): TrustedAuditKey | undefined {
  const publishedKeys = (options.published ?? []).flatMap((p) =>
    p.publicKeyPem === undefined ? [] : [trustedKeyFromPem(p.publicKeyPem, `the key published with ${p.source}`)],
  );
  const workdir = workdirAuditKey(auditDir);
  const trusted = options.auditKey ?? publishedKeys[0] ?? workdir;
  for (const other of [...publishedKeys, ...(workdir ? [workdir] : [])]) {
    if (trusted && other.fingerprint !== trusted.fingerprint) {
      findings.push(
        error(
          'key-changed',
          `${other.source} is ${other.fingerprint}, but the trail is checked with ${trusted.source} (${trusted.fingerprint}): the audit key was replaced, and a trail re-signed with a new key proves nothing`,
        ),
      );
    }
  }
  return trusted;
}

function checkHeads(
  auditDir: string,
  entries: readonly ChainEntry[],
  findings: VerifyFinding[],
  options: VerifyOptions,
): Pick<LocalChainReport, 'latestSignedHead' | 'signedHeads' | 'key'> {
  const key = trustedKey(auditDir, options, findings);
  if (!key) {
    findings.push(
      error(
        'no-trusted-key',
        'no audit key to check the signed heads with: this trail is not in a workdir with its key (keys/audit/); give the public key with --audit-key FILE, or a register.json published from it with --published FILE',
      ),
    );
  }
  const bySeq = new Map<number, ChainEntry>();
  for (const e of entries) if (!bySeq.has(e.seq)) bySeq.set(e.seq, e);

  const valid: SignedHead[] = [];
  readLines(path.join(auditDir, HEADS_FILE)).forEach((line, i) => {
    if (line.trim() === '') return;
    const head = parseHeadLine(line);
    if (!head) {
      findings.push(error('corrupt-heads', `${HEADS_FILE} line ${i + 1} is not a signed head (edited or cut short)`));
      return;
    }
    if (!key) return;
    if (head.key !== key.fingerprint) {
      findings.push(error('bad-head-signature', `${HEADS_FILE} line ${i + 1} is signed by key ${head.key}, not the trusted audit key ${key.fingerprint}`));
    } else if (!verifyHeadSignature(head, key)) {
      findings.push(error('bad-head-signature', `${HEADS_FILE} line ${i + 1}: its signature does not verify: the head was edited`));
    } else {
      valid.push(head);
    }
  });

  for (let i = 1; i < valid.length; i++) {
    const [before, after] = [valid[i - 1], valid[i]];
    if (after.seq < before.seq) {
      findings.push(
        error(
          'heads-out-of-order',
          `the head covering entry ${after.seq} (signed ${after.signedAt}) comes after the one covering entry ${before.seq} (signed ${before.signedAt}): heads were reordered or replayed`,
        ),
      );
    } else if (after.signedAt < before.signedAt) {
      // The sequence is what orders heads; a time going back is the clock's doing, or worth a look.
      findings.push(
        warning(
          'heads-out-of-order',
          `the head covering entry ${after.seq} was signed at ${after.signedAt}, before the one covering entry ${before.seq} (${before.signedAt}): the clock went back`,
        ),
      );
    }
  }
  const anchor = (h: SignedHead, what: string, mismatch: FindingKind) => {
    const entry = bySeq.get(h.seq);
    if (h.seq > entries.length || !entry) {
      findings.push(
        error(
          'truncated',
          `the chain has ${plural(entries.length, 'entry', 'entries')}, but ${what} (signed ${h.signedAt}) covers entry ${h.seq}: records were cut from the end of the trail`,
        ),
      );
    } else if (entry.sha256 !== h.sha256) {
      findings.push(
        error(
          mismatch,
          `chain entry ${h.seq} is not the one ${what} signed at ${h.signedAt}: the chain up to it was rewritten (a record changed, removed or inserted)`,
        ),
      );
    }
  };
  // Every valid head, not only the last, must still be in the chain; report the worst truncation once.
  const beyond = valid.filter((h) => h.seq > entries.length);
  for (const h of valid.filter((x) => x.seq <= entries.length)) anchor(h, `the signed head in ${HEADS_FILE}`, 'head-mismatch');
  if (beyond.length > 0)
    anchor(
      beyond.reduce((a, b) => (b.seq > a.seq ? b : a)),
      `the last signed head in ${HEADS_FILE}`,
      'head-mismatch',
    );

  const latest = valid.reduce<SignedHead | undefined>((a, b) => (a === undefined || b.seq > a.seq ? b : a), undefined);
  if (key && !latest) {
    findings.push(
      error('unsigned-head', `no valid signed head in ${HEADS_FILE}: nothing anchors the chain, which anyone able to write the folder could have recomputed`),
    );
  } else if (latest && latest.seq < entries.length) {
    findings.push(
      error(
        'unsigned-entries',
        `chain entries ${latest.seq + 1} to ${entries.length} (${plural(entries.length - latest.seq, 'record')}) are covered by no signed head: appended outside the writer (or the writer stopped before signing)`,
      ),
    );
  }

  for (const p of options.published ?? []) {
    if (p.head === undefined || p.publicKeyPem === undefined) {
      findings.push(
        error('published-head-mismatch', `${p.source} was published from CloudTrail digests, not from a local trail: it cannot vouch for this one`),
      );
      continue;
    }
    const pubKey = trustedKeyFromPem(p.publicKeyPem, p.source);
    if (!verifyHeadSignature(p.head, pubKey)) {
      findings.push(
        error('published-head-mismatch', `${p.source}: the published head does not verify with the key published beside it: not a genuine register`),
      );
      continue;
    }
    anchor(p.head, `the head published in ${p.source}`, 'published-head-mismatch');
  }
  return {
    latestSignedHead: latest,
    signedHeads: valid.length,
    key: key ? { fingerprint: key.fingerprint, source: key.source, publicKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString() } : undefined,
  };
}

/** The digest sidecar: `aws s3api head-object` output, or the metadata map alone. */
function readSidecar(file: string): { signature?: string; algorithm?: string } {
  if (!fs.existsSync(file)) return {};
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const meta = (doc && typeof doc.Metadata === 'object' && doc.Metadata !== null ? doc.Metadata : doc) as Record<string, unknown>;
  const pick = (...names: string[]) => names.map((n) => meta[n]).find((v): v is string => typeof v === 'string');
  return { signature: pick('signature', 'x-amz-meta-signature'), algorithm: pick('signature-algorithm', 'x-amz-meta-signature-algorithm') };
}

/** Checks the CloudTrail digests in a folder (a copy of the bucket, or of its AWSLogs/ prefix). */
export function verifyDigests(root: string, options: VerifyOptions = {}): DigestReport {
  const files = listFiles(root);
  const byName = new Map<string, string[]>();
  for (const rel of files) {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    byName.set(name, [...(byName.get(name) ?? []), rel]);
  }
  // A copy keeps the object keys below some folder: a key and a path match when one ends with the other.
  const sameObject = (rel: string, key: string) => rel === key || key.endsWith(`/${rel}`) || rel.endsWith(`/${key}`);
  const resolve = (_bucket: string | undefined, key: string) => (byName.get(key.slice(key.lastIndexOf('/') + 1)) ?? []).find((rel) => sameObject(rel, key));

  const digests: DigestFile[] = [];
  const unreadable: VerifyFinding[] = [];
  for (const rel of files.filter(isDigestFile)) {
    let content: Buffer;
    try {
      content = uncompressed(path.join(root, rel));
    } catch {
      unreadable.push(error('digest-unreadable', `${rel}: not a readable digest file (corrupt gzip)`));
      continue;
    }
    const sidecar = readSidecar(path.join(root, `${rel}${SIDECAR}`));
    digests.push({ location: rel, content, metadataSignature: sidecar.signature, metadataAlgorithm: sidecar.algorithm });
  }
  const logFiles = listTrailFiles(root).files.map((rel) => {
    try {
      return {
        location: rel,
        sha256: createHash('sha256')
          .update(uncompressed(path.join(root, rel)))
          .digest('hex'),
      };
    } catch {
      return { location: rel };
    }
  });
  const result = checkDigests({ digests, logFiles, resolve, locatedAt: (rel, _bucket, key) => sameObject(rel, key), publicKeys: options.publicKeys });
  // A digest a register published as its newest must still be here, and still verify.
  const published: VerifyFinding[] = [];
  for (const p of options.published ?? []) {
    if (p.newestDigest === undefined) {
      published.push(
        error('published-head-mismatch', `${p.source} was published from a local trail, not from CloudTrail digests: it cannot vouch for this copy`),
      );
      continue;
    }
    const here = resolve(undefined, p.newestDigest.location);
    const newest = result.newestAuthenticated;
    if (here === undefined) {
      published.push(
        error(
          'truncated',
          `digest ${p.newestDigest.location} (ending ${p.newestDigest.endTime}), the newest ${p.source} was built from, is not here: the copy was cut before it`,
        ),
      );
    } else if (newest === undefined || newest.endTime < p.newestDigest.endTime) {
      published.push(error('published-head-mismatch', `digest ${here}, published as verified in ${p.source}, does not verify here`));
    }
  }
  return { ...result, findings: [...unreadable, ...result.findings, ...published] };
}

function isDigestFile(rel: string): boolean {
  return rel.split('/').includes(DIGEST_DIR) && /\.json(\.gz)?$/.test(rel) && !rel.endsWith(SIDECAR);
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

/** Human-readable lines for the CLI. */
export function describeVerifyReport(report: VerifyReport): string[] {
  const lines: string[] = [];
  if (report.localChain) {
    const c = report.localChain;
    lines.push(`local hash chain: ${plural(c.chainEntries, 'entry', 'entries')}, ${plural(c.recordsFound, 'record')} found`);
    if (c.key) lines.push(`  audit key: ${c.key.fingerprint} (${c.key.source})`);
    if (c.latestSignedHead) {
      const h = c.latestSignedHead;
      lines.push(`  latest signed head: entry ${h.seq}, ${h.sha256}, signed ${h.signedAt} (${plural(c.signedHeads, 'valid signed head')})`);
      lines.push('  only a copy of a later head held elsewhere (the published register) shows whether records after it were cut away with their heads');
    }
  }
  if (report.digests) {
    const d = report.digests;
    lines.push(
      `CloudTrail digests: ${plural(d.digestFiles, 'digest file')} (${d.digestsAuthenticated} with a verified signature), ${plural(d.logFilesChecked, 'log file hash', 'log file hashes')} checked, ${plural(d.verifiedLogFiles.size, 'log file')} verified`,
    );
    if (d.newestAuthenticated) lines.push(`  newest verified digest: ${d.newestAuthenticated.location} (ends ${d.newestAuthenticated.endTime})`);
    for (const n of d.notes) lines.push(`  note: ${n}`);
  }
  for (const f of report.findings) lines.push(`${f.severity.toUpperCase()} ${f.kind}: ${f.message}`);
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  lines.push(
    report.ok
      ? 'verified: no missing, altered, reordered or unsigned record found'
      : `NOT verified: ${plural(errors, 'problem')} found (checked ${report.checkedAt})`,
  );
  return lines;
}
