import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CuratedColumn } from '../../lib/config/curated';
import { duckdbErrorKind, ParquetPartWriter, ParquetWriteError } from '../../lib/ingest/parquet-writer';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('a failed Parquet write names the kind of failure and never the value DuckDB quoted', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-parquet-err-'));
  dirs.push(dir);
  const columns = [{ name: 'length_of_stay', glueType: 'int' }] as unknown as CuratedColumn[];
  const writer = new ParquetPartWriter(columns, dir);
  // A value the integer column cannot hold: DuckDB's own message would quote it.
  writer.appendValues(['SECRET-VALUE-943' as unknown as number]);
  const error = await writer.finish(path.join(dir, 'part.parquet')).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ParquetWriteError);
  expect((error as Error).message).toMatch(/^writing the curated Parquet failed \([A-Za-z ]+ Error\)/);
  expect((error as Error).message).not.toContain('SECRET');
  expect(JSON.stringify(error)).not.toContain('SECRET');
});

test.each([
  ['Conversion Error: Could not convert string "x" to INT32', 'Conversion Error'],
  ['Invalid Input Error: CSV Error on Line: 2', 'Invalid Input Error'],
  ['something else entirely', 'unknown'],
])('the kind of %p is %p', (message, kind) => {
  expect(duckdbErrorKind(new Error(message))).toBe(kind);
});
