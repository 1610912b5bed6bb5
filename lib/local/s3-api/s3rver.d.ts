// The s3rver package ships no types: the part of its API the local runtime uses.
declare module 's3rver' {
  import type { RequestListener } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
  }

  /** S3rver extends Koa. */
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Koa's middleware stack; composed when `callback()` is called. */
    middleware: Array<(ctx: any, next: () => Promise<void>) => Promise<void>>;
    /** Koa: the request handler for an HTTP server. */
    callback(): RequestListener;
    /** winston logger (silent when asked). */
    logger: { exceptions: { unhandle(): void }; close(): void };
  }
}
