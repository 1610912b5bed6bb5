/**
 * Where the airlock keeps requests, files, reports and releases: the `AirlockStore`
 * interface, and its filesystem implementation for the local runtime. The S3
 * implementation (the airlock bucket on AWS) is s3-store.ts.
 *
 * The local store under `<workdir>/airlock/`:
 *
 *   requests/<id>/request.json          the request and its history (state machine record)
 *   requests/<id>/files/<name>          the files as submitted
 *   requests/<id>/contributions/<name>  contributions behind a magnitude table (never released)
 *   requests/<id>/checked/<name>        the checked file that may be released
 *   requests/<id>/reports/<name>.json   the disclosure report (and .txt for people)
 *   released/<project>/<id>/manifest.json and files/<name>   the egress copy, written only at release
 *   keys/                               the local signing key (private key 0600)
 *   events.jsonl                        audit events, unless another sink is plugged in
 *
 * Folders are 0700 and files 0600: outputs before checking may be disclosive. Every
 * file is written whole (temporary file, fsync, rename), and changes to one request are
 * made under a lock (proper-lockfile), so two reviewers acting at once cannot lose an
 * approval, and a lock a killed process left delays the next reviewer by at most 5 s.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { removeOldLockFile } from '../audit/local-audit-writer';
import { sha256Hex } from './disclosure';
import type { OutputRequest } from './workflow';

export const AIRLOCK_DIR = 'airlock';
export const EVENTS_FILE = 'events.jsonl';

const REQUEST_ID = /^req-\d{8}-[0-9a-f]{8}$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{2,39}$/;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A lock not refreshed for this long belongs to a process that died holding it (a live holder refreshes it every STALE_LOCK_MS / 5). */
const STALE_LOCK_MS = 5_000;
/** Waiters wait longer than the stale threshold, so a lock a killed process left delays them and never refuses them. */
const LOCK_TIMEOUT_MS = 15_000;
const LOCK_POLL_MS = 50;

export function isRequestId(id: string): boolean {
  return REQUEST_ID.test(id);
}

export function newRequestId(time: Date): string {
  return `req-${time.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** The request does not exist in this store (a mistyped id, or another store). */
export class RequestNotFoundError extends Error {}

/**
 * Someone else changed the request (or released it) between this action reading it and
 * recording its result: the action's own write did not happen. Running the command again
 * shows the new state and decides again.
 */
export class AirlockConflictError extends Error {}

export interface WrittenRelease {
  readonly location: string;
  publish(): Promise<void>;
}

/** A release copy found complete and unchanged, and how many of its objects were made readable now. */
export interface CompletedRelease {
  readonly location: string;
  readonly published: number;
}

/** What the reviewers approved of one file: its size and SHA-256. */
export interface ApprovedFile {
  readonly bytes: number;
  readonly sha256: string;
}

/** What a store can see of one file of a release copy (on S3 a staged object's bytes are unreadable: only its size). */
export interface FoundFile {
  readonly bytes: number;
  readonly sha256?: string;
}

/**
 * Checks a release copy before it is (re-)published: every approved file is there with the
 * approved size and (where the store can read it) SHA-256, and the manifest is there and,
 * where readable, is this request's and names exactly the approved files and digests. A copy
 * found changed is never made readable. (Where the bytes cannot be read, S3, a same-size
 * change is caught by the researcher's verification of the signed manifest, which covers
 * every file's digest.)
 */
export function checkReleaseCopy(
  id: string,
  where: string,
  approved: ReadonlyMap<string, ApprovedFile>,
  found: ReadonlyMap<string, FoundFile | undefined>,
  manifest: { readonly text?: string } | undefined,
): void {
  for (const [name, want] of approved) {
    const got = found.get(name);
    if (got === undefined) throw new AirlockStoreError(`${where}: ${name} is missing from the release copy, so it cannot be published; submit a new request`);
    const differs =
      got.bytes !== want.bytes
        ? `${got.bytes} bytes, not ${want.bytes}`
        : got.sha256 !== undefined && got.sha256 !== want.sha256
          ? 'SHA-256 mismatch'
          : undefined;
    if (differs !== undefined)
      throw new AirlockStoreError(
        `${where}: ${name} is not the file the reviewers approved (${differs}): it changed after the release was written and stays unreadable`,
      );
  }
  const refuseManifest = () => {
    throw new AirlockStoreError(
      `${where}: the release manifest is missing or is not this request's (it must name exactly the approved files and digests), so the release cannot be published`,
    );
  };
  if (manifest === undefined) refuseManifest();
  if (manifest?.text === undefined) return;
  let listed: { request?: { id?: unknown }; files?: { name?: unknown; sha256?: unknown }[] } | undefined;
  try {
    listed = (JSON.parse(manifest.text) as { manifest?: typeof listed }).manifest;
  } catch {
    listed = undefined;
  }
  const names = (listed?.files ?? []).map((f) => `${String(f.name)} ${String(f.sha256)}`).sort();
  const expected = [...approved].map(([name, f]) => `${name} ${f.sha256}`).sort();
  if (listed?.request?.id !== id || JSON.stringify(names) !== JSON.stringify(expected)) refuseManifest();
}

/** The store holds something the airlock did not write (a forged or damaged record, a missing file). */
export class AirlockStoreError extends Error {}

/** The file kinds kept per request. */
export type StoredFileKind = 'files' | 'contributions' | 'checked' | 'reports';

/**
 * What the airlock needs from a store. Every method is async so that one implementation
 * can be local files and another S3. A store decides nothing: AirlockService decides (the
 * pure workflow), hands the audit event to its sink, and only then writes.
 */
export interface AirlockStore {
  /** Where the store is, for people: a folder, or `s3://bucket`. */
  readonly location: string;
  /** Stores a new request with its files; fails if the id is taken. */
  create(request: OutputRequest, files: ReadonlyMap<string, Uint8Array>, contributions: ReadonlyMap<string, Uint8Array>): Promise<void>;
  /** The request's current state; RequestNotFoundError if there is none. */
  read(id: string): Promise<OutputRequest>;
  /** Every request, oldest first. */
  list(): Promise<OutputRequest[]>;
  readSubmitted(id: string, name: string): Promise<Buffer>;
  readContributions(id: string, name: string): Promise<Buffer | undefined>;
  readChecked(id: string, name: string): Promise<Buffer | undefined>;
  writeChecked(id: string, name: string, output: Uint8Array | undefined, reportJson: string, reportText: string): Promise<void>;
  /** Where a person finds a report: a file path, or an `s3://` URI. */
  reportPath(id: string, name: string, ext: 'json' | 'txt'): string;
  /**
   * Writes the egress copy (files, then the signed manifest) so that the project never
   * reads a half-written release; an existing release is never overwritten. `location` is
   * where the manifest is (a path or an `s3://` URI). `publish` makes it readable to the
   * project: AirlockService calls it only after the released state is saved, so a release
   * that loses a race (the request returned meanwhile) stays unreadable. Locally the copy
   * is in place already (under the lock nothing can race it); on S3 publishing retags it.
   */
  writeRelease(projectId: string, id: string, files: ReadonlyMap<string, Uint8Array>, manifestText: string, filesDir: string): Promise<WrittenRelease>;
  /**
   * Finishes publishing a release whose state was saved but whose copy was not yet made
   * readable (the release stopped in between): checks the copy (`checkReleaseCopy`) and
   * makes readable whatever is not yet. `approved` maps each file name to what was approved.
   */
  completeRelease(projectId: string, id: string, approved: ReadonlyMap<string, ApprovedFile>, filesDir: string): Promise<CompletedRelease>;
  /**
   * Runs `fn` on the request's current state. `save` records the next state only if
   * nobody else recorded one since `fn` was given `current`: locally a lock file makes
   * that so; on S3 a conditional write. Otherwise it throws AirlockConflictError, so two
   * reviewers acting at once cannot both win.
   */
  update<T>(id: string, fn: (current: OutputRequest, save: (next: OutputRequest) => Promise<void>) => Promise<T>): Promise<T>;
}

export function checkFileName(name: string): void {
  if (!FILE_NAME.test(name.replace(/\.(json|txt)$/, '')) || name.includes('/')) throw new Error(`"${name}" is not a file name the airlock stores`);
}

export function checkProjectId(projectId: string): void {
  if (!PROJECT_ID.test(projectId)) throw new Error(`"${projectId}" is not a project id`);
}

export function checkRequestId(id: string): void {
  if (!isRequestId(id)) throw new Error(`"${id}" is not a request id (they look like req-20261122-1a2b3c4d)`);
}

/** The local store: files under `<workdir>/airlock/`. */
export class FileAirlockStore implements AirlockStore {
  readonly root: string;
  readonly requestsDir: string;
  readonly releasedDir: string;
  readonly keysDir: string;
  readonly eventsFile: string;

  constructor(workdir: string) {
    this.root = path.resolve(workdir, AIRLOCK_DIR);
    this.requestsDir = path.join(this.root, 'requests');
    this.releasedDir = path.join(this.root, 'released');
    this.keysDir = path.join(this.root, 'keys');
    this.eventsFile = path.join(this.root, EVENTS_FILE);
    for (const dir of [path.resolve(workdir), this.root, this.requestsDir, this.releasedDir, this.keysDir]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    for (const dir of [this.root, this.requestsDir, this.releasedDir, this.keysDir]) fs.chmodSync(dir, 0o700);
  }

  get location(): string {
    return this.root;
  }

  requestDir(id: string): string {
    checkRequestId(id);
    return path.join(this.requestsDir, id);
  }

  private filePath(id: string, kind: StoredFileKind, name: string): string {
    checkFileName(name);
    return path.join(this.requestDir(id), kind, name);
  }

  exists(id: string): boolean {
    return isRequestId(id) && fs.existsSync(path.join(this.requestDir(id), 'request.json'));
  }

  async create(request: OutputRequest, files: ReadonlyMap<string, Uint8Array>, contributions: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const dir = this.requestDir(request.id);
    fs.mkdirSync(dir, { mode: 0o700 });
    for (const kind of ['files', 'contributions', 'checked', 'reports']) fs.mkdirSync(path.join(dir, kind), { mode: 0o700 });
    for (const [name, bytes] of files) writeFileAtomic(this.filePath(request.id, 'files', name), bytes);
    for (const [name, bytes] of contributions) writeFileAtomic(this.filePath(request.id, 'contributions', name), bytes);
    this.write(request);
  }

  async read(id: string): Promise<OutputRequest> {
    return this.readSync(id);
  }

  private readSync(id: string): OutputRequest {
    const file = path.join(this.requestDir(id), 'request.json');
    if (!fs.existsSync(file)) throw new RequestNotFoundError(`there is no output request ${id} in ${this.requestsDir}`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as OutputRequest;
  }

  private write(request: OutputRequest): void {
    writeFileAtomic(path.join(this.requestDir(request.id), 'request.json'), `${JSON.stringify(request, null, 2)}\n`);
  }

  async list(): Promise<OutputRequest[]> {
    return fs
      .readdirSync(this.requestsDir)
      .filter((id) => isRequestId(id) && fs.existsSync(path.join(this.requestsDir, id, 'request.json')))
      .map((id) => this.readSync(id))
      .sort((a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.id.localeCompare(b.id));
  }

  async readSubmitted(id: string, name: string): Promise<Buffer> {
    return fs.readFileSync(this.filePath(id, 'files', name));
  }

  async readContributions(id: string, name: string): Promise<Buffer | undefined> {
    const file = this.filePath(id, 'contributions', name);
    return fs.existsSync(file) ? fs.readFileSync(file) : undefined;
  }

  async readChecked(id: string, name: string): Promise<Buffer | undefined> {
    const file = this.filePath(id, 'checked', name);
    return fs.existsSync(file) ? fs.readFileSync(file) : undefined;
  }

  async writeChecked(id: string, name: string, output: Uint8Array | undefined, reportJson: string, reportText: string): Promise<void> {
    if (output) writeFileAtomic(this.filePath(id, 'checked', name), output);
    writeFileAtomic(this.filePath(id, 'reports', `${name}.json`), reportJson);
    writeFileAtomic(this.filePath(id, 'reports', `${name}.txt`), reportText);
  }

  reportPath(id: string, name: string, ext: 'json' | 'txt'): string {
    return this.filePath(id, 'reports', `${name}.${ext}`);
  }

  /** Where a release of this request goes: `released/<project>/<id>/`. */
  releaseDir(projectId: string, id: string): string {
    checkProjectId(projectId);
    return path.join(this.releasedDir, projectId, path.basename(this.requestDir(id)));
  }

  /**
   * Writes the egress copy in a hidden folder, then renames it into place, so the project
   * never sees a half-written release; an existing release is never overwritten.
   */
  async writeRelease(projectId: string, id: string, files: ReadonlyMap<string, Uint8Array>, manifestText: string, filesDir: string): Promise<WrittenRelease> {
    const target = this.releaseDir(projectId, id);
    if (fs.existsSync(target)) throw new AirlockConflictError(`request ${id} has already been released to ${target}`);
    const projectDir = path.dirname(target);
    fs.mkdirSync(projectDir, { recursive: true, mode: 0o700 });
    const staging = path.join(projectDir, `.${id}.${randomBytes(6).toString('hex')}.partial`);
    fs.mkdirSync(path.join(staging, filesDir), { recursive: true, mode: 0o700 });
    try {
      for (const [name, bytes] of files) writeFileAtomic(path.join(staging, filesDir, name), bytes);
      writeFileAtomic(path.join(staging, 'manifest.json'), manifestText);
      fs.renameSync(staging, target);
    } catch (e) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw e;
    }
    return { location: path.join(target, 'manifest.json'), publish: async () => undefined };
  }

  /** Locally the copy is readable as soon as it is in place: completing only checks it. */
  async completeRelease(projectId: string, id: string, approved: ReadonlyMap<string, ApprovedFile>, filesDir: string): Promise<CompletedRelease> {
    const target = this.releaseDir(projectId, id);
    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file) : undefined);
    const found = new Map(
      [...approved.keys()].map((name) => {
        const body = read(path.join(target, filesDir, name));
        return [name, body === undefined ? undefined : { bytes: body.length, sha256: sha256Hex(body) }] as const;
      }),
    );
    const manifest = read(path.join(target, 'manifest.json'));
    checkReleaseCopy(id, target, approved, found, manifest === undefined ? undefined : { text: manifest.toString('utf8') });
    return { location: path.join(target, 'manifest.json'), published: 0 };
  }

  /**
   * Runs fn holding the request's lock (proper-lockfile: an atomic mkdir of `.lock` in the
   * request's folder, refreshed while held). A lock left by a killed process goes stale after
   * STALE_LOCK_MS and is broken by the next waiter, who waits longer than that: a kill delays
   * the next reviewer by seconds, never refuses them. `stillHeld` says whether the lock was
   * lost meanwhile (the holder stalled past the stale threshold), so a save can refuse.
   */
  async withLock<T>(id: string, fn: (stillHeld: () => boolean) => Promise<T>): Promise<T> {
    const dir = this.requestDir(id);
    if (!fs.existsSync(dir)) throw new RequestNotFoundError(`there is no output request ${id} in ${this.requestsDir}`);
    const lockPath = path.join(dir, '.lock');
    removeOldLockFile(lockPath, STALE_LOCK_MS);
    let compromised = false;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(dir, {
        lockfilePath: lockPath,
        realpath: false,
        stale: STALE_LOCK_MS,
        update: STALE_LOCK_MS / 5,
        retries: { retries: Math.ceil(LOCK_TIMEOUT_MS / LOCK_POLL_MS), factor: 1, minTimeout: LOCK_POLL_MS, maxTimeout: LOCK_POLL_MS },
        onCompromised: () => {
          compromised = true;
        },
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOCKED')
        throw new Error(`request ${id} is being changed by another process that is still running (${lockPath}); try again when it has finished`, { cause: e });
      throw e;
    }
    try {
      return await fn(() => !compromised);
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** Under the request's lock, `save` cannot lose to another writer: it always wins. */
  async update<T>(id: string, fn: (current: OutputRequest, save: (next: OutputRequest) => Promise<void>) => Promise<T>): Promise<T> {
    return this.withLock(id, async (stillHeld) =>
      fn(this.readSync(id), async (next) => {
        if (next.id !== id) throw new Error(`request ${next.id} cannot be saved as ${id}`);
        // A holder that stalled past the stale threshold may have been overtaken: saving now could lose another's decision.
        if (!stillHeld()) throw new AirlockConflictError(`request ${id} was changed by another process while this one stalled; run the command again`);
        this.write(next);
      }),
    );
  }

  /** The default audit sink: one JSON record per line (the audit reader takes NDJSON). */
  appendEvent(event: unknown): void {
    fs.appendFileSync(this.eventsFile, `${JSON.stringify(event)}\n`, { mode: 0o600 });
  }
}
