/**
 * The airlock's store on AWS: the AirlockStack's bucket (lib/constructs/airlock/airlock-bucket.ts),
 * laid out as its bucket policy expects:
 *
 *   submissions/<project>/<id>/request.json          the request as submitted   } written by the
 *   submissions/<project>/<id>/files/<name>          the files as submitted     } project's role,
 *   submissions/<project>/<id>/contributions/<name>  magnitude contributions    } which may only put here
 *   requests/<id>/request.json                       the request's state from the check on
 *   requests/<id>/checked/<name>                     the checked file that may be released
 *   requests/<id>/reports/<name>.json|.txt           the disclosure report
 *   released/<project>/<id>/files/<name>, manifest.json   the egress, written only at release
 *
 * `submissions/` and `requests/` are separate because the bucket policy lets the project's
 * role put objects under its own `submissions/<project>/` and nothing else, while only
 * reviewer roles read submissions and read and write `requests/`. A researcher's record in
 * `submissions/` is therefore taken as a claim, not as state: it is accepted only as a
 * fresh submission of that project (state `submitted`, one history entry, its own id), and
 * every later state lives in `requests/`, where researchers cannot write.
 *
 * Concurrency without locks: S3 conditional writes. A new object is put with
 * `If-None-Match: *` (creation fails if it exists: a request id, a first state, a release
 * file can each be written once), and a state update with `If-Match: <ETag read>` (it fails
 * if anyone wrote the state since). S3 answers 412 PreconditionFailed, or 409
 * ConditionalRequestConflict for a racing write; both become AirlockConflictError.
 *
 * Encryption: no SSE headers are sent, so every object takes the bucket's default, SSE-KMS
 * with the airlock's own key. Sending `x-amz-server-side-encryption: aws:kms` without the key
 * id would make S3 use the AWS-managed aws/s3 key instead; the bucket policy denies only
 * naming another key or asking for non-KMS encryption. A response that reports other than
 * aws:kms is refused.
 *
 * Released objects are put tagged `sde-airlock=staged` and retagged `released` only after
 * the signed manifest is written and the released state saved: the project's read is
 * conditioned on the tag, so a half-written release, or one that lost a race to a reviewer
 * returning or rejecting the request, is unreadable.
 */
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { REQUESTS_PREFIX, RELEASED_PREFIX, RELEASE_TAG, RELEASE_TAG_VALUE, SUBMISSIONS_PREFIX } from './bucket-layout';
import {
  AirlockConflictError,
  AirlockStoreError,
  checkFileName,
  checkReleaseCopy,
  checkProjectId,
  checkRequestId,
  isRequestId,
  RequestNotFoundError,
  type AirlockStore,
  type ApprovedFile,
  type CompletedRelease,
  type StoredFileKind,
  type WrittenRelease,
} from './store';
import type { OutputRequest } from './workflow';

/** The tag value of an egress object written but not yet released. */
export const STAGED_TAG_VALUE = 'staged';

/** The part of the S3 client the store uses (any client: AWS, or the local S3 API in tests). */
export type S3Send = Pick<S3Client, 'send'>;

export interface S3AirlockStoreOptions {
  readonly client: S3Send;
  /** The AirlockStack's bucket (its AirlockBucketName output). */
  readonly bucket: string;
}

interface Found {
  readonly request: OutputRequest;
  /** The ETag of requests/<id>/request.json, or undefined when the state is still the submission record. */
  readonly etag: string | undefined;
}

function errorName(e: unknown): string {
  return (e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? '';
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** S3's answer to a failed condition: 412, or 409 when two conditional writes raced. */
export function isConditionFailure(e: unknown): boolean {
  const name = errorName(e);
  const status = httpStatus(e);
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412;
}

function isNotFound(e: unknown): boolean {
  const name = errorName(e);
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(e) === 404;
}

export class S3AirlockStore implements AirlockStore {
  readonly bucket: string;
  private readonly client: S3Send;
  /** Which project each request belongs to (its submission files live under the project). */
  private readonly projects = new Map<string, string>();

  constructor(options: S3AirlockStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
  }

  get location(): string {
    return `s3://${this.bucket}`;
  }

  /** `s3://bucket/key` */
  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  submissionKey(projectId: string, id: string, kind?: 'files' | 'contributions', name?: string): string {
    checkProjectId(projectId);
    checkRequestId(id);
    if (kind === undefined) return `${SUBMISSIONS_PREFIX}${projectId}/${id}/request.json`;
    checkFileName(name ?? '');
    return `${SUBMISSIONS_PREFIX}${projectId}/${id}/${kind}/${name}`;
  }

  requestKey(id: string, kind?: Exclude<StoredFileKind, 'files' | 'contributions'>, name?: string): string {
    checkRequestId(id);
    if (kind === undefined) return `${REQUESTS_PREFIX}${id}/request.json`;
    checkFileName(name ?? '');
    return `${REQUESTS_PREFIX}${id}/${kind}/${name}`;
  }

  releaseKey(projectId: string, id: string, rest: string): string {
    checkProjectId(projectId);
    checkRequestId(id);
    return `${RELEASED_PREFIX}${projectId}/${id}/${rest}`;
  }

  private async put(
    key: string,
    body: Uint8Array | string,
    condition: { ifNoneMatch: true } | { ifMatch: string } | undefined,
    extra: Partial<PutObjectCommandInput> = {},
  ): Promise<void> {
    const input: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: key,
      Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      ContentType: key.endsWith('.json') ? 'application/json' : key.endsWith('.csv') ? 'text/csv' : 'application/octet-stream',
      ...(condition === undefined ? {} : 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: '*' }),
      ...extra,
    };
    let sse: string | undefined;
    try {
      sse = (await this.client.send(new PutObjectCommand(input))).ServerSideEncryption;
    } catch (e) {
      if (condition !== undefined && isConditionFailure(e)) {
        throw new AirlockConflictError(
          'ifMatch' in condition
            ? `${this.uri(key)} was changed by someone else since it was read: your action was not recorded. Run the command again to see the request's new state.`
            : `${this.uri(key)} already exists: it was written by someone else (or an earlier attempt), and is never overwritten.`,
        );
      }
      throw e;
    }
    // Absent on S3 APIs without encryption (the local one in tests); on AWS it is always set.
    if (sse !== undefined && sse !== 'aws:kms')
      throw new AirlockStoreError(`${this.uri(key)} was stored with ${sse} encryption, not SSE-KMS: is ${this.bucket} the AirlockStack's bucket?`);
  }

  /** The object's bytes and ETag, or undefined when there is no such object. */
  private async get(key: string): Promise<{ body: Buffer; etag: string | undefined } | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = await out.Body!.transformToByteArray();
      return { body: Buffer.from(bytes), etag: out.ETag };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async listKeys(prefix: string, delimiter?: string): Promise<{ keys: string[]; prefixes: string[]; sizes: Map<string, number> }> {
    const keys: string[] = [];
    const prefixes: string[] = [];
    const sizes = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, ...(delimiter ? { Delimiter: delimiter } : {}) }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        keys.push(o.Key);
        sizes.set(o.Key, o.Size ?? 0);
      }
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { keys, prefixes, sizes };
  }

  async create(request: OutputRequest, files: ReadonlyMap<string, Uint8Array>, contributions: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const record = this.submissionKey(request.projectId, request.id);
    // The files first, the record last: a reviewer finds a request only once it is whole.
    for (const [name, bytes] of files) await this.put(this.submissionKey(request.projectId, request.id, 'files', name), bytes, { ifNoneMatch: true });
    for (const [name, bytes] of contributions)
      await this.put(this.submissionKey(request.projectId, request.id, 'contributions', name), bytes, { ifNoneMatch: true });
    await this.put(record, `${JSON.stringify(request, null, 2)}\n`, { ifNoneMatch: true });
    this.projects.set(request.id, request.projectId);
  }

  /**
   * A submission record is written by the project's role and is a claim: accepted only
   * as what a submission is, so a researcher cannot put a request into any later state.
   */
  private submissionRecord(key: string, projectId: string, id: string, body: Buffer): OutputRequest {
    let r: OutputRequest;
    try {
      r = JSON.parse(body.toString('utf8')) as OutputRequest;
    } catch {
      throw new AirlockStoreError(`${this.uri(key)} is not a request record (not JSON)`);
    }
    const problems = [
      r.id !== id ? `its id is ${String(r.id)}` : undefined,
      r.projectId !== projectId ? `its project is ${String(r.projectId)}` : undefined,
      r.state !== 'submitted' ? `its state is ${String(r.state)}, not submitted` : undefined,
      !Array.isArray(r.history) || r.history.length !== 1 || r.history[0]?.action !== 'submit' ? 'its history is not one submission' : undefined,
      !Array.isArray(r.approvals) || r.approvals.length !== 0 ? 'it carries approvals' : undefined,
      r.decision !== undefined || r.release !== undefined ? 'it carries a decision or a release' : undefined,
      !Array.isArray(r.files) || r.files.some((f) => f.checked !== undefined) ? 'its files carry check results' : undefined,
      Array.isArray(r.files) && r.files.some((f) => f.classifications !== undefined) ? "its files carry reviewers' classifications" : undefined,
      // On AWS a result's provenance cannot come from the researcher's side (sde output refuses --query-id there).
      Array.isArray(r.files) && r.files.some((f) => f.provenance !== undefined || f.queryText !== undefined) ? 'its files claim a query provenance' : undefined,
      r.overrides !== undefined || r.resubmittedAs !== undefined ? 'it carries overrides or a resubmission mark' : undefined,
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0)
      throw new AirlockStoreError(
        `${this.uri(key)} is not a valid submission (${problems.join('; ')}): it was not written by sde output request; look in CloudTrail for who wrote it`,
      );
    return r;
  }

  private async find(id: string): Promise<Found> {
    checkRequestId(id);
    const state = await this.get(this.requestKey(id));
    if (state) {
      const request = JSON.parse(state.body.toString('utf8')) as OutputRequest;
      if (request.id !== id) throw new AirlockStoreError(`${this.uri(this.requestKey(id))} holds request ${request.id}, not ${id}`);
      this.projects.set(id, request.projectId);
      return { request, etag: state.etag };
    }
    const known = this.projects.get(id);
    const projects = known !== undefined ? [known] : (await this.listKeys(SUBMISSIONS_PREFIX, '/')).prefixes.map((p) => p.slice(SUBMISSIONS_PREFIX.length, -1));
    for (const projectId of projects) {
      if (!/^[a-z][a-z0-9-]{2,39}$/.test(projectId)) continue;
      const key = this.submissionKey(projectId, id);
      const record = await this.get(key);
      if (record) {
        this.projects.set(id, projectId);
        return { request: this.submissionRecord(key, projectId, id, record.body), etag: undefined };
      }
    }
    throw new RequestNotFoundError(`there is no output request ${id} in ${this.location}`);
  }

  async read(id: string): Promise<OutputRequest> {
    return (await this.find(id)).request;
  }

  async list(): Promise<OutputRequest[]> {
    const byId = new Map<string, OutputRequest>();
    for (const key of (await this.listKeys(REQUESTS_PREFIX)).keys) {
      const m = /^requests\/([^/]+)\/request\.json$/.exec(key);
      if (m && isRequestId(m[1])) byId.set(m[1], (await this.find(m[1])).request);
    }
    for (const key of (await this.listKeys(SUBMISSIONS_PREFIX)).keys) {
      const m = /^submissions\/([^/]+)\/([^/]+)\/request\.json$/.exec(key);
      if (!m || !isRequestId(m[2]) || byId.has(m[2])) continue;
      const record = await this.get(key);
      if (record) byId.set(m[2], this.submissionRecord(key, m[1], m[2], record.body));
    }
    return [...byId.values()].sort((a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.id.localeCompare(b.id));
  }

  private async projectOf(id: string): Promise<string> {
    return this.projects.get(id) ?? (await this.find(id)).request.projectId;
  }

  async readSubmitted(id: string, name: string): Promise<Buffer> {
    const key = this.submissionKey(await this.projectOf(id), id, 'files', name);
    const got = await this.get(key);
    if (!got) throw new AirlockStoreError(`${this.uri(key)} is missing: the submitted file is gone`);
    return got.body;
  }

  async readContributions(id: string, name: string): Promise<Buffer | undefined> {
    return (await this.get(this.submissionKey(await this.projectOf(id), id, 'contributions', name)))?.body;
  }

  async readChecked(id: string, name: string): Promise<Buffer | undefined> {
    return (await this.get(this.requestKey(id, 'checked', name)))?.body;
  }

  async writeChecked(id: string, name: string, output: Uint8Array | undefined, reportJson: string, reportText: string): Promise<void> {
    // Unconditional: a check is repeatable, and the state written after it (conditionally)
    // records each checked file's SHA-256, which the release compares.
    if (output) await this.put(this.requestKey(id, 'checked', name), output, undefined);
    await this.put(this.requestKey(id, 'reports', `${name}.json`), reportJson, undefined);
    await this.put(this.requestKey(id, 'reports', `${name}.txt`), reportText, undefined);
  }

  reportPath(id: string, name: string, ext: 'json' | 'txt'): string {
    return this.uri(this.requestKey(id, 'reports', `${name}.${ext}`));
  }

  async writeRelease(projectId: string, id: string, files: ReadonlyMap<string, Uint8Array>, manifestText: string, filesDir: string): Promise<WrittenRelease> {
    const staged = `${RELEASE_TAG}=${STAGED_TAG_VALUE}`;
    const keys = [...files.keys()].map((name) => {
      checkFileName(name);
      return this.releaseKey(projectId, id, `${filesDir}/${name}`);
    });
    const manifestKey = this.releaseKey(projectId, id, 'manifest.json');
    // Each egress object is written once (If-None-Match): of two releases racing, one
    // fails on its first file and writes nothing more.
    for (const [i, bytes] of [...files.values()].entries()) await this.put(keys[i], bytes, { ifNoneMatch: true }, { Tagging: staged });
    await this.put(manifestKey, manifestText, { ifNoneMatch: true }, { Tagging: staged });
    return {
      location: this.uri(manifestKey),
      // After the released state is saved: until then the project cannot read any of it.
      publish: async () => {
        for (const key of [...keys, manifestKey]) await this.markReleased(key);
      },
    };
  }

  /**
   * Staged egress objects are unreadable to everyone (the bucket policy), reviewers
   * included, so the copy is checked by listing: every approved file there with its
   * approved size, and the manifest there. Their bytes were fixed when the release wrote
   * them (each object is written once, If-None-Match), and the project verifies the signed
   * manifest, which covers every file's SHA-256.
   */
  async completeRelease(projectId: string, id: string, approved: ReadonlyMap<string, ApprovedFile>, filesDir: string): Promise<CompletedRelease> {
    const fileKeys = new Map([...approved.keys()].map((name) => (checkFileName(name), [name, this.releaseKey(projectId, id, `${filesDir}/${name}`)] as const)));
    const manifestKey = this.releaseKey(projectId, id, 'manifest.json');
    const { sizes } = await this.listKeys(this.releaseKey(projectId, id, ''));
    const found = new Map([...fileKeys].map(([name, key]) => [name, sizes.has(key) ? { bytes: sizes.get(key)! } : undefined] as const));
    checkReleaseCopy(id, this.uri(this.releaseKey(projectId, id, '')), approved, found, sizes.has(manifestKey) ? {} : undefined);
    // Files first, the manifest last, as a release publishes them.
    const unpublished: string[] = [];
    for (const key of [...fileKeys.values(), manifestKey]) if (!(await this.isReleased(key))) unpublished.push(key);
    for (const key of unpublished) await this.markReleased(key);
    return { location: this.uri(manifestKey), published: unpublished.length };
  }

  private async isReleased(key: string): Promise<boolean> {
    const { TagSet } = await this.client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: key }));
    return (TagSet ?? []).some((t) => t.Key === RELEASE_TAG && t.Value === RELEASE_TAG_VALUE);
  }

  private async markReleased(key: string): Promise<void> {
    await this.client.send(
      new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet: [{ Key: RELEASE_TAG, Value: RELEASE_TAG_VALUE }] } }),
    );
  }

  async update<T>(id: string, fn: (current: OutputRequest, save: (next: OutputRequest) => Promise<void>) => Promise<T>): Promise<T> {
    const found = await this.find(id);
    let saved = false;
    return fn(found.request, async (next) => {
      if (next.id !== id) throw new Error(`request ${next.id} cannot be saved as ${id}`);
      if (saved) throw new Error(`request ${id} was already saved in this action`);
      saved = true;
      // The first state after the submission is created (only one checker can); every
      // later one replaces exactly the version this action read.
      await this.put(this.requestKey(id), `${JSON.stringify(next, null, 2)}\n`, found.etag === undefined ? { ifNoneMatch: true } : { ifMatch: found.etag });
    });
  }
}
