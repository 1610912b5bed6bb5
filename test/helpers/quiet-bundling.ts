/**
 * Jest setup (jest.config.js `setupFiles`): drops the one line aws-cdk-lib writes straight
 * to stderr for every asset it bundles ("Bundling asset <path>..."), which no option turns
 * off, so the test log shows results rather than hundreds of bundling lines. Everything
 * else written to stderr passes through unchanged; esbuild itself is quietened by
 * PlatformFunction's `logLevel` (it still prints warnings and errors).
 */
const BUNDLING_LINE = /^Bundling asset [^\n]*\.\.\.\n$/;
const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
  if (typeof chunk === 'string' && BUNDLING_LINE.test(chunk)) return true;
  return write(chunk, ...rest);
}) as typeof process.stderr.write;
