import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * Reads Parquet files with hyparquet, a pure-JavaScript reader independent of DuckDB that
 * finds every column chunk by the footer's offsets (see hyparquet-read.mjs, run as a child
 * process because hyparquet is ESM-only): rows and row groups over all files, and an
 * order-free digest of their rows.
 */
export function readWithHyparquet(...files: string[]): { rows: number; rowGroups: number; digest: string } {
  return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'hyparquet-read.mjs'), ...files], { encoding: 'utf8' }));
}
