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
 * Write order, under a lock file so several processes (each with its own writer and its
 * own record files) keep one unbroken chain; each step is one write, in this order:
 *   1. the record file is replaced whole (hidden temporary file, fsync, rename), so a
 *      reader never sees half a record;
 *   2. one chain line per record is appended to chain.jsonl;
 *   3. one signed head covering the last entry is appended to heads.jsonl
 *      (signed-heads.ts), once per `append` or `appendAll` call (a write batch).
 * A crash after step 1 leaves a record without a chain entry ("unchained"), after step 2
 * chain entries no head covers ("unsigned"): `verify` reports both, so the crash cannot
 * pass for an intact trail. Recovering from it is not done here.
 *
 * Before each batch the writer checks that the chain it is about to extend ends exactly at
 * its last signed head (same entry, same hash, a valid signature). Otherwise it refuses to
 * write (AuditTrailNotAnchoredError): signing a new head over entries someone appended
 * outside it would launder them into the signed trail. The one exception is a trail written
 * before heads were signed (no heads file, and the audit key made by this writer): its head
 * is signed once, taking over the chain as it stands, as unanchored as it was before.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CloudTrailRecord } from './cloudtrail-record';
import { ChainEntry, chainHash, GENESIS, parseChainLine } from './hash-chain';
import { AuditHeadSigner, HEADS_FILE, localAuditSigner, parseHeadLine, signHead, SignedHead, verifyHeadSignature } from './signed-heads';

export * from './local-audit-events';

export const AUDIT_DIR = 'audit';
export const CHAIN_FILE = 'chain.jsonl';
export const LOCK_FILE = 'chain.lock';

export interface LocalAuditWriterOptions {
  /** @default 100 */
  readonly maxRecordsPerFile?: number;
  /** Give up waiting for another process's lock after this long. @default 10000 */
  readonly lockTimeoutMs?: number;
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

/** A lock older than this belongs to a process that died holding it. */
const STALE_LOCK_MS = 30_000;

const writers = new Map<string, LocalAuditWriter>();

export class LocalAuditWriter {
  /** `<workdir>/audit` */
  readonly dir: string;
  private current?: OpenFile;
  private readonly maxRecordsPerFile: number;
  private readonly lockTimeoutMs: number;
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
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
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
    return this.withLock(() => {
      let last = this.lastEntry();
      this.checkAnchored(last);
      const written: { entry: ChainEntry; file: string }[] = [];
      for (const record of records) {
        const day = record.eventTime.slice(0, 10);
        if (!this.current || this.current.day !== day || this.current.records.length >= this.maxRecordsPerFile) {
          this.current = this.newFile(record.eventTime);
        }
        const file = this.current;
        const prev = last?.sha256 ?? GENESIS;
        const entry: ChainEntry = { seq: (last?.seq ?? 0) + 1, eventID: record.eventID as string, sha256: chainHash(prev, record), prev, file: file.rel };
        // 1. the record file, replaced whole
        file.records.push(record);
        try {
          writeAtomically(path.join(this.dir, file.rel), `${JSON.stringify({ Records: file.records })}\n`);
        } catch (e) {
          file.records.pop();
          throw e;
        }
        // 2. its chain entry
        fs.appendFileSync(path.join(this.dir, CHAIN_FILE), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
        written.push({ entry, file: file.rel });
        last = entry;
      }
      // 3. the signed head over the batch
      const head = signHead(written[written.length - 1].entry, this.signer, this.now());
      fs.appendFileSync(path.join(this.dir, HEADS_FILE), `${JSON.stringify(head)}\n`, { mode: 0o600 });
      this.mayAdopt = false;
      return written.map((w) => ({ ...w, head }));
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

  private withLock<T>(fn: () => T): T {
    const lockPath = path.join(this.dir, LOCK_FILE);
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        const fd = fs.openSync(lockPath, 'wx', 0o600);
        fs.writeSync(fd, String(process.pid));
        fs.closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        try {
          if (Date.now() - fs.statSync(lockPath).mtimeMs > STALE_LOCK_MS) fs.rmSync(lockPath, { force: true });
        } catch {
          // The holder released it between our attempts: try again.
        }
        if (Date.now() > deadline) {
          throw new Error(`${lockPath}: another process has held the audit lock for over ${this.lockTimeoutMs} ms; if none is running, delete the lock file`, {
            cause: e,
          });
        }
        sleep(10);
      }
    }
    try {
      return fn();
    } finally {
      fs.rmSync(lockPath, { force: true });
    }
  }
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
