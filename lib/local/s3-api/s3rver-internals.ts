/**
 * The parts of s3rver (3.7.1, its last release) that our replacement handlers use, in one
 * place: its error type and authentication (so our handlers fail and check signatures
 * exactly as its own do), the Koa context they touch, and its on-disk layout.
 */

/** The small part of s3rver's filesystem store our handlers touch. */
export interface FilesystemStore {
  getBucketPath(bucket: string): string;
  getBucket(bucket: string): Promise<unknown>;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
  getObject(bucket: string, key: string, range?: { start: number; end: number }): Promise<{ content: NodeJS.ReadableStream | null } | null>;
  putPart(bucket: string, uploadId: string, partNumber: string | number, content: NodeJS.ReadableStream): Promise<{ size: number; md5: string }>;
}

/** The small part of a Koa context our handlers touch. */
export interface S3rverContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  state: Record<string, unknown>;
  body: unknown;
  store: FilesystemStore;
}

type Next = () => Promise<void>;
export type KoaMiddleware = (ctx: S3rverContext, next: Next) => Promise<void>;

// s3rver's own modules, so errors and authentication behave exactly as for every other call.
export const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string, detail?: Record<string, unknown>) => Error;
export const authentication = require('s3rver/lib/middleware/authentication') as () => KoaMiddleware;
export const { METHODS: BUCKET_SUBRESOURCES } = require('s3rver/lib/controllers/bucket') as { METHODS: string[] };
export const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { id: string; displayName: string } };

/** How s3rver names the file that holds an object's bytes: `<last key segment>._S3rver_object`. */
export const OBJECT_SUFFIX = '._S3rver_object';
/** s3rver keeps unfinished multipart uploads in `<bucket>/._S3rver_uploads/<upload id>/<part number>`. */
export const UPLOADS_DIR = '._S3rver_uploads';

export function queryValue(ctx: S3rverContext, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

export function headerValue(ctx: S3rverContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `/<bucket>/<key>` of a path-style object request, decoded; undefined for anything else. */
export function objectPath(ctx: S3rverContext): { bucket: string; key: string } | undefined {
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (match === null || ctx.state.vhost === true) return undefined;
  return { bucket: decodeURIComponent(match[1]), key: decodeURIComponent(match[2]) };
}
