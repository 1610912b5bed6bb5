/**
 * Data built into a Lambda bundle as a JSON file next to its code. Passing it through
 * esbuild's `define` or the environment puts it on a command line or in the function
 * configuration, where a region-sized config (hundreds of projects, dozens of tables)
 * overflows the limits (E2BIG at bundling, 4 KB of environment); a file has no such limit.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Writes `value` as JSON to a file named by its content hash (so the same content is the
 * same file, and the asset hash does not depend on the machine), and returns its path.
 */
export function stageBundledJson(prefix: string, value: unknown): string {
  const text = `${JSON.stringify(value, null, 1)}\n`;
  const file = path.join(os.tmpdir(), `${prefix}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, text, { mode: 0o644 });
  return file;
}

/** Quotes a path for the bash command lines CDK's local bundling runs. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
