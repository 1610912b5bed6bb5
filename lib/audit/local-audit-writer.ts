/**
 * The local runtime's audit trail: CloudTrail-format records in CloudTrail's own S3
 * delivery layout under `<workdir>/audit/`, plus a hash chain that makes a missing,
 * altered or reordered record detectable (`sde audit verify`).
 *
 * Layout (the same keys CloudTrail writes in the audit bucket, so the same reader, the
 * same named queries and the same Glue table layout apply):
 *
 *   <workdir>/audit/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
 *       <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json   {"Records":[...]}
 *   <workdir>/audit/chain.jsonl     one {seq, eventID, sha256, prev, file} per record
 *   <workdir>/audit/heads.jsonl     one signed head per write batch
 *   <workdir>/keys/audit/           the audit signing key (private key 0600)
 *
 * Files are plain JSON (not gzipped, unlike CloudTrail's) so that a person can read the
 * local trail directly; the reader accepts both. Each file holds at most
 * `maxRecordsPerFile` records of one UTC day, written by one process.
 *
 * Write order, under a lock (proper-lockfile: `chain.lock`, a folder refreshed while held
 * and broken once stale, so a killed holder delays the next writer by at most
 * `lockStaleMs`; waiters wait longer than that) so several processes (each with its own
 * writer and its own record files) keep one unbroken chain; each step is one write:
 *   0. the write's intent, `pending-write.json`: the entries about to be chained, their
 *      records, and where they attach (the last signed head), SIGNED with the audit key;
 *   1. each record file touched is replaced whole (hidden temporary file, fsync, rename);
 *   2. the batch's chain lines are appended to chain.jsonl (one write);
 *   3. one signed head covering the last entry is appended to heads.jsonl;
 *   4. the intent is removed.
 * A kill at any point leaves either the whole batch or a signed intent that the next
 * writer (any audited command) or `sde audit verify` completes before anything else: it
 * puts back each record its file lacks, appends the chain lines the chain lacks, and signs
 * the head (`completeInterruptedWrite`). Only exactly what the intent signed is completed:
 * the intent must verify with the workdir's key and attach at the last signed head, the
 * chain after that head must be a prefix of the intent's entries, and every record already
 * written must hash to its entry. Anything else (an intent forged or replayed, a record
 * edited, entries appended outside the writer) is refused as before, so a crash reads as an
 * interrupted write and an edit still reads as tampering.
 *
 * Before each batch the writer checks that the chain it is about to extend ends exactly at
 * its last signed head (same entry, same hash, a valid signature). Otherwise it refuses to
 * write (AuditTrailNotAnchoredError): signing a new head over entries someone appended
 * outside it would launder them into the signed trail. The one exception is a trail written
 * before heads were signed (no heads file, and the audit key made by this writer): its head
 * is signed once, taking over the chain as it stands, as unanchored as it was before.
 */
import { randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { crashPoint } from '../config/crash-points';
import type { CloudTrailRecord } from './cloudtrail-record';
import { canonicalJson, ChainEntry, chainHash, GENESIS, parseChainLine } from './hash-chain';
import { PRIVATE_KEY_FILE } from '../airlock/signing';
import {
  AUDIT_KEY_DIR,
  AuditHeadSigner,
  HEADS_FILE,
  localAuditSigner,
  parseHeadLine,
  signHead,
  SignedHead,
  TrustedAuditKey,
  verifyHeadSignature,
} from './signed-heads';

export * from './local-audit-events';

export const AUDIT_DIR = 'audit';
export const CHAIN_FILE = 'chain.jsonl';
export const LOCK_FILE = 'chain.lock';
/** The signed intent of the write in progress (see the file comment); gone when no write is. */
export const PENDING_FILE = 'pending-write.json';

export interface LocalAuditWriterOptions {
  /** @default 100 */
  readonly maxRecordsPerFile?: number;
  /** Give up waiting for another process's lock after this long: longer than `lockStaleMs`. @default 30000 */
  readonly lockTimeoutMs?: number;
  /** A lock not refreshed for this long was left by a killed process, and is broken (at least 2000). @default 5000 */
  readonly lockStaleMs?: number;
  /** The clock heads are signed with. @default the system clock */
  readonly now?: () => Date;
}

/** The chain does not end at the writer's last signed head: nothing is written until someone looks (`sde audit verify`). */
export class AuditTrailNotAnchoredError extends Error {}

export interface AppendResult {
  readonly entry: ChainEntry;
  /** Record file, relative to the audit folder. */
  readonly file: string;
  /** The signed head written after this record's batch. */
  readonly head: SignedHead;
}

interface OpenFile {
  readonly rel: string;
  readonly day: string;
  readonly records: CloudTrailRecord[];
}

/**
 * A lock older than this belongs to a process that died holding it. A holder runs only
 * synchronous code (one batch: a record file, a chain line, a head; milliseconds), so it
 * never holds the lock anywhere near this long, and its refresh timer never needs to run.
 */
export const DEFAULT_LOCK_STALE_MS = 5_000;

const writers = new Map<string, LocalAuditWriter>();

export class LocalAuditWriter {
  /** `<workdir>/audit` */
  readonly dir: string;
  private current?: OpenFile;
  private readonly maxRecordsPerFile: number;
  private readonly lockTimeoutMs: number;
  private readonly lockStaleMs: number;
  private readonly now: () => Date;
  private readonly signer: AuditHeadSigner;
  /** Only a writer that made the audit key, before it signs anything, may take over an unsigned legacy chain. */
  private mayAdopt: boolean;

  /**
   * The writer for `workdir` in this process: one per process and folder, so records
   * written from different parts of the runtime share files and never race each other.
   */
  static open(workdir: string, account: { accountId: string; region: string }, options: LocalAuditWriterOptions = {}): LocalAuditWriter {
    const dir = path.resolve(workdir, AUDIT_DIR);
    const existing = writers.get(dir);
    if (existing) {
      if (existing.accountId !== account.accountId || existing.region !== account.region) {
        throw new Error(`the audit writer for ${dir} is already open for account ${existing.accountId} in ${existing.region}`);
      }
      return existing;
    }
    const writer = new LocalAuditWriter(dir, account.accountId, account.region, options);
    writers.set(dir, writer);
    return writer;
  }

  private constructor(
    dir: string,
    private readonly accountId: string,
    private readonly region: string,
    options: LocalAuditWriterOptions,
  ) {
    this.dir = dir;
    this.maxRecordsPerFile = options.maxRecordsPerFile ?? 100;
    this.lockStaleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 3 * this.lockStaleMs;
    this.now = options.now ?? (() => new Date());
    // Owner only, like the rest of the workdir: records name researchers and hold query text.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.signer = localAuditSigner(path.dirname(dir));
    this.mayAdopt = this.signer.created;
  }

  /** Appends one record (from the builders in local-audit-events.ts), links it into the chain and signs the new head. */
  append(record: CloudTrailRecord): AppendResult {
    return this.appendAll([record])[0];
  }

  /**
   * Appends records as one write batch: each is written and chained in order, then one
   * signed head covers them all. Nothing is written if any record lacks an eventID.
   */
  appendAll(records: readonly CloudTrailRecord[]): AppendResult[] {
    for (const record of records) {
      if (typeof record.eventID !== 'string' || record.eventID.length === 0) throw new Error('an audit record needs an eventID');
    }
    if (records.length === 0) return [];
    return withAuditLock(this.dir, { timeoutMs: this.lockTimeoutMs, staleMs: this.lockStaleMs }, () => {
      // A write a killed process left half done is completed first (or refused as tampering).
      if (completePending(this.dir, this.signer, this.now()) > 0) this.mayAdopt = false;
      const start = this.lastEntry();
      this.checkAnchored(start);
      // Planned in memory first: which file each record goes to, and its chain entry.
      const touched = new Map<string, OpenFile>();
      const written: { entry: ChainEntry; file: string; record: CloudTrailRecord }[] = [];
      let last = start;
      for (const record of records) {
        const day = record.eventTime.slice(0, 10);
        if (!this.current || this.current.day !== day || this.current.records.length >= this.maxRecordsPerFile) {
          this.current = this.newFile(record.eventTime);
        }
        const file = this.current;
        const prev = last?.sha256 ?? GENESIS;
        const entry: ChainEntry = { seq: (last?.seq ?? 0) + 1, eventID: record.eventID as string, sha256: chainHash(prev, record), prev, file: file.rel };
        file.records.push(record);
        touched.set(file.rel, file);
        written.push({ entry, file: file.rel, record });
        last = entry;
      }
      try {
        // 0. the signed intent
        writePending(this.dir, this.signer, { seq: start?.seq ?? 0, sha256: start?.sha256 ?? GENESIS }, written);
        crashPoint('audit:intent-written');
        // 1. each record file, replaced whole
        for (const file of touched.values()) {
          writeAtomically(path.join(this.dir, file.rel), `${JSON.stringify({ Records: file.records })}\n`);
          crashPoint('audit:record-written');
        }
        // 2. the chain entries, in one write
        fs.appendFileSync(path.join(this.dir, CHAIN_FILE), written.map((w) => `${JSON.stringify(w.entry)}\n`).join(''), { mode: 0o600 });
        crashPoint('audit:chain-written');
        // 3. the signed head over the batch
        const head = signHead(written[written.length - 1].entry, this.signer, this.now());
        fs.appendFileSync(path.join(this.dir, HEADS_FILE), `${JSON.stringify(head)}\n`, { mode: 0o600 });
        crashPoint('audit:head-written');
        // 4. done
        fs.rmSync(path.join(this.dir, PENDING_FILE), { force: true });
        this.mayAdopt = false;
        return written.map((w) => ({ entry: w.entry, file: w.file, head }));
      } catch (e) {
        // What reached the disk is completed from the intent by the next write; this
        // writer's view of its open file is no longer sure, so it starts a new one.
        this.current = undefined;
        throw e;
      }
    });
  }

  private newFile(eventTime: string): OpenFile {
    const [y, m, d] = eventTime.slice(0, 10).split('-');
    const stamp = `${y}${m}${d}T${eventTime.slice(11, 13)}${eventTime.slice(14, 16)}Z`;
    const id = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);
    const rel = ['AWSLogs', this.accountId, 'CloudTrail', this.region, y, m, d, `${this.accountId}_CloudTrail_${this.region}_${stamp}_${id}.json`].join('/');
    fs.mkdirSync(path.dirname(path.join(this.dir, rel)), { recursive: true, mode: 0o700 });
    return { rel, day: `${y}-${m}-${d}`, records: [] };
  }

  private lastEntry(): ChainEntry | undefined {
    const chainPath = path.join(this.dir, CHAIN_FILE);
    const line = lastLine(chainPath);
    if (line === undefined) return undefined;
    const entry = parseChainLine(line);
    if (!entry) {
      throw new Error(`${chainPath}: the last line is not a chain entry, so new records cannot be linked; run \`sde audit verify\` to see what happened`);
    }
    return entry;
  }

  /** Refuses to extend a chain that does not end at the last head this key signed (see the file comment). */
  private checkAnchored(last: ChainEntry | undefined): void {
    const headsPath = path.join(this.dir, HEADS_FILE);
    const line = lastLine(headsPath);
    const refuse = (why: string) => {
      throw new AuditTrailNotAnchoredError(
        `${this.dir}: ${why}; nothing more is written to the audit trail until this is looked into: run \`sde audit verify\``,
      );
    };
    if (line === undefined) {
      if (last === undefined) return; // a new trail
      if (this.mayAdopt) {
        // A trail from before heads were signed: take it over as it stands.
        fs.appendFileSync(headsPath, `${JSON.stringify(signHead(last, this.signer, this.now()))}\n`, { mode: 0o600 });
        this.mayAdopt = false;
        return;
      }
      refuse(`the chain has ${last.seq} entries but ${HEADS_FILE} is missing or empty, although this workdir has signed heads before`);
    }
    const head = parseHeadLine(line as string);
    if (!head || !verifyHeadSignature(head, this.signer.trusted)) refuse(`the last line of ${HEADS_FILE} is not a head signed with this workdir's audit key`);
    const h = head as SignedHead;
    if (last === undefined) refuse(`the chain is empty but the last signed head covers entry ${h.seq}: records were cut`);
    const l = last as ChainEntry;
    if (l.seq !== h.seq || l.sha256 !== h.sha256) {
      refuse(
        l.seq > h.seq
          ? `chain entries ${h.seq + 1} to ${l.seq} are covered by no signed head (added outside the writer, or a write was interrupted)`
          : `the chain does not end at the last signed head (entry ${h.seq}): it was cut or rewritten`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// the lock
// ---------------------------------------------------------------------------------------

/**
 * Runs `fn` holding the audit folder's lock (proper-lockfile: an atomic mkdir of
 * `chain.lock`, its mtime refreshed while held, broken by a waiter once older than
 * `staleMs`). Waiters poll until `timeoutMs`, which is longer than `staleMs`, so a lock a
 * killed process left delays them by at most the stale threshold.
 */
export function withAuditLock<T>(dir: string, limits: { readonly timeoutMs: number; readonly staleMs: number }, fn: () => T): T {
  const lockPath = path.join(dir, LOCK_FILE);
  removeOldLockFile(lockPath, limits.staleMs);
  const deadline = Date.now() + limits.timeoutMs;
  let release: () => void;
  for (;;) {
    try {
      // A holder only runs synchronous code, far shorter than the stale threshold: it cannot lose the lock while it writes.
      release = lockfile.lockSync(dir, { lockfilePath: lockPath, realpath: false, stale: limits.staleMs, onCompromised: () => undefined });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      if (Date.now() > deadline) {
        throw new Error(
          `${lockPath}: another process has held the audit lock for over ${limits.timeoutMs} ms and keeps it fresh, so it is alive: wait for it to finish (a lock left by a killed process is broken after ${limits.staleMs} ms)`,
          { cause: e },
        );
      }
      sleep(10);
    }
  }
  try {
    return fn();
  } finally {
    release();
  }
}

/**
 * Writers before proper-lockfile (the audit writer's and the airlock store's) used a plain
 * file as the lock: one left by a killed writer is removed once stale, so it cannot block
 * proper-lockfile's folder of the same name.
 */
export function removeOldLockFile(lockPath: string, staleMs: number): void {
  try {
    const st = fs.statSync(lockPath);
    if (st.isFile() && Date.now() - st.mtimeMs > staleMs) fs.rmSync(lockPath, { force: true });
  } catch {
    // No lock, or already gone.
  }
}

// ---------------------------------------------------------------------------------------
// the signed intent of a write, and completing an interrupted one
// ---------------------------------------------------------------------------------------

const PENDING_TYPE = 'sde-audit-pending-write' as const;

/** Where the write attaches: the last signed head's entry (seq 0 and the genesis hash on a new trail). */
interface Attach {
  readonly seq: number;
  readonly sha256: string;
}

interface PendingWrite {
  readonly type: typeof PENDING_TYPE;
  readonly v: 1;
  readonly after: Attach;
  readonly entries: readonly ChainEntry[];
  readonly records: readonly CloudTrailRecord[];
  readonly key: string;
  /** Base64 DER ECDSA signature over the canonical JSON of every other field. */
  readonly sig: string;
}

const pendingBytes = (p: Omit<PendingWrite, 'sig'>) =>
  Buffer.from(canonicalJson({ type: p.type, v: p.v, after: p.after, entries: p.entries, records: p.records, key: p.key }), 'utf8');

function writePending(dir: string, signer: AuditHeadSigner, after: Attach, written: readonly { entry: ChainEntry; record: CloudTrailRecord }[]): void {
  const body = {
    type: PENDING_TYPE,
    v: 1 as const,
    after,
    entries: written.map((w) => w.entry),
    records: written.map((w) => w.record),
    key: signer.fingerprint,
  };
  const sig = cryptoSign('sha256', pendingBytes(body), { key: signer.privateKey, dsaEncoding: 'der' }).toString('base64');
  writeAtomically(path.join(dir, PENDING_FILE), `${JSON.stringify({ ...body, sig })}\n`);
}

/** The intent, if its signature verifies with the writer's key (anything else is refused by the caller). */
function readPending(file: string, trusted: TrustedAuditKey): PendingWrite | undefined {
  try {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as PendingWrite;
    if (p.type !== PENDING_TYPE || p.v !== 1 || p.key !== trusted.fingerprint || !Array.isArray(p.entries) || !Array.isArray(p.records)) return undefined;
    if (p.entries.length === 0 || p.entries.length !== p.records.length) return undefined;
    const ok = cryptoVerify('sha256', pendingBytes(p), { key: trusted.publicKey, dsaEncoding: 'der' }, Buffer.from(String(p.sig), 'base64'));
    return ok ? p : undefined;
  } catch {
    return undefined;
  }
}

function readRecords(file: string): CloudTrailRecord[] {
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { Records: CloudTrailRecord[] }).Records;
}

/**
 * Completes the write a killed process left (its signed intent), under the caller's lock.
 * Returns how many records it completed (0: there was nothing to complete). Throws
 * AuditTrailNotAnchoredError when the intent is not exactly an interrupted write (see the
 * file comment): then nothing is written.
 */
function completePending(dir: string, signer: AuditHeadSigner, now: Date): number {
  const file = path.join(dir, PENDING_FILE);
  if (!fs.existsSync(file)) return 0;
  const refuse = (why: string): never => {
    throw new AuditTrailNotAnchoredError(
      `${dir}: ${PENDING_FILE} ${why}; it is not completed, and nothing more is written to the audit trail until this is looked into: run \`sde audit verify\``,
    );
  };
  const pending = readPending(file, signer.trusted) ?? refuse("is not a write intent signed with this workdir's audit key");
  const headLine = lastLine(path.join(dir, HEADS_FILE));
  const head = headLine === undefined ? undefined : parseHeadLine(headLine);
  if (headLine !== undefined && (head === undefined || !verifyHeadSignature(head, signer.trusted)))
    refuse(`is there, and the last line of ${HEADS_FILE} is not a signed head`);
  const signed: Attach = head ?? { seq: 0, sha256: GENESIS };
  const lastPending = pending.entries[pending.entries.length - 1];
  const chainLines = fs.existsSync(path.join(dir, CHAIN_FILE))
    ? fs
        .readFileSync(path.join(dir, CHAIN_FILE), 'utf8')
        .split('\n')
        .filter((l) => l.trim().length > 0)
    : [];
  if (signed.seq === lastPending.seq && signed.sha256 === lastPending.sha256) {
    // Killed after the head was signed: the write is whole.
    fs.rmSync(file, { force: true });
    return 0;
  }
  if (signed.seq !== pending.after.seq || signed.sha256 !== pending.after.sha256)
    refuse(`does not attach at the last signed head (entry ${signed.seq}): it is stale or replayed`);
  // The chain after the signed head must be exactly a prefix of the intent's entries.
  const tail = chainLines.slice(signed.seq);
  if (chainLines.length < signed.seq || tail.length > pending.entries.length) refuse('does not account for the chain entries after the last signed head');
  tail.forEach((line, i) => {
    const entry = parseChainLine(line);
    if (entry === undefined || canonicalJson(entry) !== canonicalJson(pending.entries[i])) refuse(`does not match chain entry ${signed.seq + i + 1}`);
  });
  // Each record in its file: already there and unaltered, or put back from the intent.
  const byFile = new Map<string, number[]>();
  pending.entries.forEach((e, i) => byFile.set(e.file, [...(byFile.get(e.file) ?? []), i]));
  for (const [rel, indexes] of byFile) {
    if (rel.split('/').includes('..') || path.isAbsolute(rel)) refuse(`names a record file outside the audit folder (${rel})`);
    const abs = path.join(dir, rel);
    const records = readRecords(abs);
    let changed = false;
    for (const i of indexes) {
      const entry = pending.entries[i];
      const record = pending.records[i];
      if (record.eventID !== entry.eventID || chainHash(entry.prev, record) !== entry.sha256)
        refuse(`holds a record that does not hash to its entry (${entry.seq})`);
      const found = records.filter((r) => r.eventID === entry.eventID);
      if (found.length > 1 || (found.length === 1 && chainHash(entry.prev, found[0]) !== entry.sha256))
        refuse(`finds record ${entry.eventID} in ${rel} altered or duplicated`);
      if (found.length === 0) {
        records.push(record);
        changed = true;
      }
    }
    if (changed) {
      fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
      writeAtomically(abs, `${JSON.stringify({ Records: records })}\n`);
    }
  }
  const missing = pending.entries.slice(tail.length);
  if (missing.length > 0) fs.appendFileSync(path.join(dir, CHAIN_FILE), missing.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
  fs.appendFileSync(path.join(dir, HEADS_FILE), `${JSON.stringify(signHead(lastPending, signer, now))}\n`, { mode: 0o600 });
  fs.rmSync(file, { force: true });
  return pending.entries.length;
}

/**
 * `sde audit verify`'s repair: completes a write a killed process left in `<workdir>/audit`
 * (see the file comment), under the audit lock, with the workdir's own key. Returns how
 * many records it completed; 0 when there was nothing to complete or no key to do it with.
 */
export function completeInterruptedWrite(auditDir: string, options: Pick<LocalAuditWriterOptions, 'lockStaleMs' | 'lockTimeoutMs' | 'now'> = {}): number {
  const dir = path.resolve(auditDir);
  if (!fs.existsSync(path.join(dir, PENDING_FILE))) return 0;
  const workdir = path.dirname(dir);
  if (!fs.existsSync(path.join(workdir, AUDIT_KEY_DIR, PRIVATE_KEY_FILE))) return 0;
  const staleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
  const signer = localAuditSigner(workdir);
  return withAuditLock(dir, { timeoutMs: options.lockTimeoutMs ?? 3 * staleMs, staleMs }, () =>
    completePending(dir, signer, (options.now ?? (() => new Date()))()),
  );
}

/** The last non-empty line of a file (read from its end), or undefined if there is none. */
function lastLine(file: string): string | undefined {
  if (!fs.existsSync(file)) return undefined;
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim().length > 0);
    return lines.at(-1);
  } finally {
    fs.closeSync(fd);
  }
}

/** For tests: forget the per-process writers (their files stay). */
export function closeAllAuditWriters(): void {
  writers.clear();
}

function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
