/**
 * The airlock: the pure checks, workflow and manifest, joined to a store, a signer and an
 * audit sink. The CLI (`sde output`) and the demo call this. By default everything is
 * local (the files under `<workdir>/airlock/`, the local key pair, events.jsonl); on AWS
 * the CLI gives it the S3 store over the airlock bucket (s3-store.ts), the KMS signer
 * (kms-signer.ts) and no local sink (CloudTrail records the S3 and KMS calls): one
 * service on both sides, the decisions made here, on the machine of whoever acts.
 *
 * Order of every action: decide (pure), hand the audit event to the sink, then write. A
 * refused action writes nothing but its event; and if the sink fails, the action does not
 * take effect, so nothing happens that the trail does not show (a failure after the event
 * leaves the record of an attempt, the safer side).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectState, type SdeConfig } from '../config/model';
import { projectRoleName } from '../config/naming';
import { AIRLOCK_LOCAL_ACCOUNT, AIRLOCK_LOCAL_REGION, type AirlockAuditEnv, type AirlockAuditEvent, type AuditSink } from './audit-events';
import { checkOutputFile, digest, sha256Hex, type FileCheckResult } from './disclosure';
import { buildManifest, RELEASED_FILES_DIR } from './manifest';
import { checkSummaries, renderFileReport, type FileReport } from './report';
import { airlockSettings, type AirlockSettings } from '../config/airlock-settings';
import { localSigner, PUBLIC_KEY_FILE, renderSignedManifest, signManifest, type ManifestSigner } from './signing';
import { AIRLOCK_DIR, FileAirlockStore, newRequestId, RequestNotFoundError, type AirlockStore } from './store';
import type { TableSpec } from './table-shape';
import { verifyRelease, type VerifyReport } from './verify';
import {
  submitRequest,
  transition,
  type CheckedFile,
  type OutputRequest,
  type Refusal,
  type RequestFile,
  type WorkflowContext,
  type WorkflowResult,
} from './workflow';

/** The identity the automatic checks act as in the audit trail. */
export const AIRLOCK_SERVICE_PRINCIPAL = 'sde-airlock';

/** A problem with what the user typed (a missing file, an unknown request): not an audited refusal. */
export class AirlockInputError extends Error {}

export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly event: AirlockAuditEvent }
  | { readonly ok: false; readonly refusal: Refusal; readonly event: AirlockAuditEvent };

export interface ReleaseResult {
  readonly request: OutputRequest;
  readonly manifestPath: string;
  /** Set when the request had been released already: how many objects this run made readable. */
  readonly completed?: { readonly published: number };
}

export interface AirlockServiceOptions {
  readonly config: SdeConfig;
  /** The local workdir: the default store and key pair live in `<workdir>/airlock/`. */
  readonly workdir: string;
  /**
   * Where requests and releases are kept. @default the local store under <workdir>/airlock/
   * (created on first use); S3AirlockStore on AWS.
   */
  readonly store?: AirlockStore;
  /** @default airlockSettings(config.platform) */
  readonly settings?: AirlockSettings;
  /** Where audit events go. @default append to <workdir>/airlock/events.jsonl (with the local store; with another store, required) */
  readonly sink?: AuditSink;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Signs release manifests, or makes the signer when first needed (only a release signs:
   * a researcher submitting needs no right on the signing key). @default the local key pair
   * in <workdir>/airlock/keys; kmsSigner on AWS
   */
  readonly signer?: ManifestSigner | (() => Promise<ManifestSigner>);
}

export interface OutputFileInput {
  readonly path: string;
  readonly spec?: TableSpec;
  /** For a magnitude table: the contributions CSV (checked, never released). */
  readonly contributionsPath?: string;
}

export interface CheckOutcome {
  readonly request: OutputRequest;
  readonly reports: readonly FileReport[];
}

export class AirlockService {
  readonly store: AirlockStore;
  readonly settings: AirlockSettings;
  private readonly config: SdeConfig;
  private readonly workdir: string;
  private readonly sink: AuditSink;
  private readonly now: () => Date;
  private readonly signerOption?: ManifestSigner | (() => Promise<ManifestSigner>);
  private signerMade?: Promise<ManifestSigner>;

  constructor(options: AirlockServiceOptions) {
    this.config = options.config;
    this.workdir = options.workdir;
    let sink = options.sink;
    if (options.store !== undefined) {
      this.store = options.store;
    } else {
      const local = new FileAirlockStore(options.workdir);
      this.store = local;
      sink ??= (event) => local.appendEvent(event);
    }
    if (sink === undefined)
      throw new Error('AirlockService over a store other than the local one needs an audit sink (a no-op one on AWS, where CloudTrail records each call)');
    this.sink = sink;
    this.settings = options.settings ?? airlockSettings(options.config.platform);
    this.now = options.now ?? (() => new Date());
    this.signerOption = options.signer;
  }

  /** The public key a verifier should trust for local releases. */
  get publicKeyPath(): string {
    return path.join(this.keysDir, PUBLIC_KEY_FILE);
  }

  private get keysDir(): string {
    return path.join(path.resolve(this.workdir), AIRLOCK_DIR, 'keys');
  }

  /** The public key (PEM) that verifies this airlock's releases. */
  async publicKeyPem(): Promise<string> {
    return (await this.signer()).publicKeyPem;
  }

  private signer(): Promise<ManifestSigner> {
    const option = this.signerOption;
    return (this.signerMade ??= typeof option === 'function' ? option() : Promise.resolve(option ?? localSigner(this.keysDir)));
  }

  private auditEnv(): AirlockAuditEnv {
    return {
      accountId: this.config.platform.aws.account ?? AIRLOCK_LOCAL_ACCOUNT,
      region: this.config.platform.aws.region ?? AIRLOCK_LOCAL_REGION,
      projectRoleName: (id) => projectRoleName(this.config, id),
    };
  }

  private context(projectId: string): WorkflowContext {
    const project = this.config.projects.find((p) => p.id === projectId);
    return {
      projectState: project ? projectState(project, this.config.today) : 'unknown',
      reviewers: this.settings.reviewers,
      audit: this.auditEnv(),
      projectResearchers: project?.researchers.map((r) => r.id) ?? [],
      projectPrincipals: project?.researchers.map((r) => r.principal) ?? [],
    };
  }

  /** Audits the decision, then (only if allowed) applies it. */
  private async commit<T>(result: WorkflowResult, apply: (request: OutputRequest) => T | Promise<T>): Promise<Outcome<T>> {
    await this.sink(result.event);
    if (!result.ok) return { ok: false, refusal: result.refusal, event: result.event };
    return { ok: true, value: await apply(result.request), event: result.event };
  }

  /** `sde output request`: copies the files into the airlock and records the request. */
  async request(input: { projectId: string; files: readonly OutputFileInput[]; statement?: string; requester?: string }): Promise<Outcome<OutputRequest>> {
    const project = this.config.projects.find((p) => p.id === input.projectId);
    const requester = input.requester ?? project?.researchers[0]?.id ?? 'unknown';
    const time = this.now();
    const id = newRequestId(time);
    const contents = new Map<string, Uint8Array>();
    const contributions = new Map<string, Uint8Array>();
    const files: Omit<RequestFile, 'checked'>[] = [];
    for (const f of input.files) {
      const name = path.basename(f.path);
      const stat = statFile(f.path);
      // An oversized file is refused by size alone: it is never read into memory.
      if (stat.size > this.settings.maxFileBytes) {
        files.push({ name, submitted: { bytes: stat.size, sha256: '' }, ...(f.spec ? { spec: f.spec } : {}) });
        continue;
      }
      const bytes = fs.readFileSync(f.path);
      contents.set(name, bytes);
      let contributionsDigest;
      if (f.contributionsPath !== undefined) {
        const c = statFile(f.contributionsPath);
        if (c.size > this.settings.maxFileBytes)
          throw new AirlockInputError(`${f.contributionsPath} is ${c.size} bytes; contributions files may be at most ${this.settings.maxFileBytes} bytes`);
        const cbytes = fs.readFileSync(f.contributionsPath);
        contributions.set(name, cbytes);
        contributionsDigest = digest(cbytes);
      }
      files.push({
        name,
        submitted: digest(bytes),
        ...(f.spec ? { spec: f.spec } : {}),
        ...(contributionsDigest ? { contributions: contributionsDigest } : {}),
      });
    }
    const result = submitRequest(
      { id, projectId: input.projectId, requester, statement: input.statement ?? '', time, files },
      { ...this.context(input.projectId), projectResearchers: project?.researchers.map((r) => r.id) ?? [], maxFileBytes: this.settings.maxFileBytes },
    );
    return this.commit(result, async (r) => {
      await this.store.create(r, contents, contributions);
      return r;
    });
  }

  /** `sde output check`: runs the disclosure checks and writes a report per file. */
  async check(requestId: string): Promise<Outcome<CheckOutcome>> {
    return this.onRequest(requestId, async (current, save) => {
      const checked = new Map<string, FileCheckResult>();
      for (const f of current.files) {
        const bytes = await this.store.readSubmitted(current.id, f.name);
        const result =
          sha256Hex(bytes) === f.submitted.sha256
            ? checkOutputFile({ name: f.name, bytes, spec: f.spec, contributions: await this.store.readContributions(current.id, f.name) }, this.settings)
            : changedSinceSubmission(f.name, bytes, this.settings);
        checked.set(f.name, result);
      }
      const results = new Map<string, CheckedFile>(
        [...checked].map(([name, r]) => {
          const { reviewers: _r, ...settings } = this.settings;
          return [
            name,
            {
              outcome: r.outcome,
              ...(r.report.output ? { output: r.report.output } : {}),
              checks: checkSummaries(r.report),
              settings,
              cellsChanged: r.report.changes.length,
              refusals: r.report.refusals.length,
            },
          ];
        }),
      );
      const result = transition(current, { type: 'check', actor: AIRLOCK_SERVICE_PRINCIPAL, time: this.now(), results }, this.context(current.projectId));
      return this.commit(result, async (r) => {
        for (const [name, c] of checked)
          await this.store.writeChecked(current.id, name, c.output, `${JSON.stringify(c.report, null, 2)}\n`, renderFileReport(c.report));
        await save(r);
        return { request: r, reports: [...checked.values()].map((c) => c.report) };
      });
    });
  }

  /** `sde output review`: one reviewer approves, returns or rejects. */
  async review(requestId: string, reviewer: string, decision: 'approve' | 'return' | 'reject', reason?: string): Promise<Outcome<OutputRequest>> {
    return this.onRequest(requestId, async (current, save) => {
      const time = this.now();
      const action =
        decision === 'approve' ? { type: 'approve' as const, actor: reviewer, time } : { type: decision, actor: reviewer, time, reason: reason ?? '' };
      const result = transition(current, action, this.context(current.projectId));
      return this.commit(result, async (r) => {
        await save(r);
        return r;
      });
    });
  }

  /**
   * `sde output release`: after two approvals, re-hashes every file, then writes the
   * egress copy and the signed manifest. Nothing reaches released/ before this.
   */
  async release(requestId: string, actor: string = AIRLOCK_SERVICE_PRINCIPAL): Promise<Outcome<ReleaseResult>> {
    return this.onRequest(requestId, async (current, save) => {
      if (current.state === 'released') return this.completeRelease(current, actor);
      const hashes = new Map<string, { submitted: string; checked?: string }>();
      const outputs = new Map<string, Uint8Array>();
      for (const f of current.files) {
        const submitted = sha256Hex(await this.store.readSubmitted(current.id, f.name));
        const output = await this.store.readChecked(current.id, f.name);
        if (output) outputs.set(f.name, output);
        hashes.set(f.name, { submitted, ...(output ? { checked: sha256Hex(output) } : {}) });
      }
      const result = transition(current, { type: 'release', actor, time: this.now(), current: hashes }, this.context(current.projectId));
      return this.commit(result, async (r) => {
        const project = this.config.projects.find((p) => p.id === current.projectId)!;
        const signed = await signManifest(buildManifest(r, project, this.config.platform.name), await this.signer());
        const written = await this.store.writeRelease(current.projectId, current.id, outputs, renderSignedManifest(signed), RELEASED_FILES_DIR);
        // Released in the record first, readable by the project second: if the save loses a
        // race (the request was returned meanwhile), the egress copy stays unreadable.
        await save(r);
        await written.publish();
        return { request: r, manifestPath: written.location };
      });
    });
  }

  /**
   * `sde output release` again on a released request: a release that stopped after saving
   * its state but before making its copy readable (on S3, the retag) is finished, after the
   * copy is checked against what was approved (see AirlockStore.completeRelease). A finished
   * release is left as it is.
   */
  private async completeRelease(current: OutputRequest, actor: string): Promise<Outcome<ReleaseResult>> {
    const result = transition(current, { type: 'complete_release', actor, time: this.now() }, this.context(current.projectId));
    return this.commit(result, async (r) => {
      const approved = new Map(r.files.map((f) => [f.name, { bytes: f.checked?.output?.bytes ?? -1, sha256: f.checked?.output?.sha256 ?? '' }] as const));
      const done = await this.store.completeRelease(r.projectId, r.id, approved, RELEASED_FILES_DIR);
      return { request: r, manifestPath: done.location, completed: { published: done.published } };
    });
  }

  /** `sde output verify`: with the given trusted public key, or this workdir's. */
  verify(manifestPath: string, publicKeyPem?: string): VerifyReport {
    return verifyWithWorkdirKey(manifestPath, path.join(path.resolve(this.workdir), AIRLOCK_DIR), publicKeyPem);
  }

  async list(projectId?: string): Promise<OutputRequest[]> {
    return (await this.store.list()).filter((r) => projectId === undefined || r.projectId === projectId);
  }

  /** The store's update, with an unknown request id reported as the user's mistake. */
  private async onRequest<T>(id: string, fn: (current: OutputRequest, save: (next: OutputRequest) => Promise<void>) => Promise<T>): Promise<T> {
    try {
      return await this.store.update(id, fn);
    } catch (e) {
      if (e instanceof RequestNotFoundError) throw new AirlockInputError(e.message);
      if (e instanceof Error && /is not a request id/.test(e.message)) throw new AirlockInputError(e.message);
      throw e;
    }
  }
}

/**
 * Verifies a release with the trusted key given, or else the signing public key of the
 * local airlock at `airlockRoot` (`<workdir>/airlock`). Needs no config: anyone can verify.
 */
export function verifyWithWorkdirKey(manifestPath: string, airlockRoot: string, publicKeyPem?: string): VerifyReport {
  let key = publicKeyPem;
  if (key === undefined) {
    const file = path.join(airlockRoot, 'keys', PUBLIC_KEY_FILE);
    if (!fs.existsSync(file))
      throw new AirlockInputError(`no trusted public key: ${file} does not exist (nothing was released from this workdir); give --public-key PEM`);
    key = fs.readFileSync(file, 'utf8');
  }
  return verifyRelease(manifestPath, { publicKeyPem: key });
}

function statFile(p: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new AirlockInputError(`${p} does not exist or cannot be read`);
  }
  if (!stat.isFile()) throw new AirlockInputError(`${p} is not a file`);
  return stat;
}

/** A stored submission that no longer matches its recorded hash is refused, not checked. */
function changedSinceSubmission(name: string, bytes: Uint8Array, settings: AirlockSettings): FileCheckResult {
  const { reviewers: _r, ...checkSettings } = settings;
  const reason = 'the stored file no longer matches the SHA-256 recorded when it was submitted: it was changed inside the airlock';
  return {
    outcome: 'refused',
    report: {
      reportVersion: 1,
      file: name,
      outcome: 'refused',
      input: digest(bytes),
      settings: checkSettings,
      checks: [{ id: 'file_format', title: 'file is a table', outcome: 'refused', summary: reason }],
      changes: [],
      refusals: [{ check: 'file_format', rule: 'file_changed', reason }],
      warnings: [],
    },
  };
}
