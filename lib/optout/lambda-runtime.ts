/**
 * What the three opt-out handlers share on AWS, on top of ingestion's runtime (the bundled
 * config, the object store, the pseudonymisation key, logging and metrics): the list
 * object in the landing bucket (read pinned to one version), its pseudonyms cached per
 * warm container by the list's SHA-256, and the conditional replacement.
 *
 * Nothing here logs a list entry or a pseudonym: only the list's SHA-256, counts and keys.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV as INGEST_ENV } from '../ingest/lambda-settings';
import { objectStore, pseudonymisationKey } from '../ingest/lambda-runtime';
import { s3ReplaceIfMatch, type ReplaceIfMatch, type RewriteStore } from './conditional-put';
import { OPTOUT_ENV } from './lambda-settings';
import { listPseudonyms, readList, type OptOutList } from './list';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`environment variable ${name} is not set: the ingestion stack sets it; was the function deployed by hand?`);
  return value;
}

let client: S3Client | undefined;
let replace: ReplaceIfMatch | undefined;

/** Points the handlers at another S3 client (the local S3 API in tests). */
export function configureOptOutRuntime(adapters: { readonly s3Client: S3Client }): void {
  client = adapters.s3Client;
  replace = undefined;
  cached = undefined;
}

function s3(): S3Client {
  client ??= new S3Client({});
  return client;
}

export function rewriteStore(): RewriteStore {
  replace ??= s3ReplaceIfMatch(s3());
  return { objects: objectStore(), replaceIfMatch: replace };
}

export function maxRemovedShare(): number {
  const share = Number(required(OPTOUT_ENV.maxRemovedShare));
  if (!(share > 0 && share <= 1)) throw new Error(`${OPTOUT_ENV.maxRemovedShare} must be a share above 0 and at most 1`);
  return share;
}

export function listRef(): { bucket: string; key: string } {
  return { bucket: required(INGEST_ENV.landingBucket), key: required(INGEST_ENV.optOutKey) };
}

/** The list object's version and upload time, or an error saying what to upload. */
export async function headList(): Promise<{ versionId?: string; lastModified: Date }> {
  const ref = listRef();
  try {
    const out = await s3().send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return { ...(out.VersionId ? { versionId: out.VersionId } : {}), lastModified: out.LastModified ?? new Date(0) };
  } catch (e) {
    throw new Error(`the national data opt-out list s3://${ref.bucket}/${ref.key} is missing or unreadable (${(e as Error).name}): upload a current list`, {
      cause: e,
    });
  }
}

let cached: { sha256: string; list: OptOutList; pseudonyms: ReadonlySet<string> } | undefined;

/** The list at one version (its date: the day it was uploaded), with its pseudonyms. */
export async function loadList(versionId: string | undefined, date: string): Promise<{ list: OptOutList; pseudonyms: ReadonlySet<string> }> {
  const ref = listRef();
  const list = await readList(await objectStore().get(ref, undefined, versionId), date, versionId);
  if (cached?.sha256 !== list.sha256) cached = { sha256: list.sha256, list, pseudonyms: listPseudonyms(list, await pseudonymisationKey()) };
  return cached;
}
