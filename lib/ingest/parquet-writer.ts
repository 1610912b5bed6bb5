/**
 * Writes curated rows as one Parquet file (zstd) whose columns are exactly the Glue
 * table's (lib/config/curated.ts: same names, same order, same types; the partition
 * column is in the path, not the file).
 *
 * How, and why this way: rows are spooled to a temporary CSV file on local disk (Lambda
 * /tmp, or the OS temp folder locally), then DuckDB converts that file with
 * `COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet, COMPRESSION zstd)` and
 * explicit column types. DuckDB's CSV reader and Parquet writer are native and fast;
 * appending values one by one through its Appender measured at only ~123k rows/s. Memory
 * stays flat: the spool is on disk, and DuckDB streams it in row groups.
 *
 * On AWS the Lambda ships DuckDB (@duckdb/node-api and its native binding) as a layer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_TYPE, type CuratedColumn } from '../config/curated';
import type { CuratedRow, CuratedValue } from './core/deidentify';

/** A Parquet write that failed, described without any value from the data. */
export class ParquetWriteError extends Error {
  constructor(readonly kind: string) {
    super(`writing the curated Parquet failed (${kind}); the batch is not committed and can be retried`);
    this.name = 'ParquetWriteError';
  }
}

/** The error class DuckDB names at the start of its message ("Conversion Error: ..."), or "unknown". */
export function duckdbErrorKind(e: unknown): string {
  // Not `instanceof Error`: errors from the native module may come from another realm.
  const message = typeof (e as { message?: unknown } | undefined)?.message === 'string' ? (e as { message: string }).message : '';
  const m = /^([A-Za-z ]{1,40} Error):/.exec(message);
  return m ? m[1] : 'unknown';
}

/** Spooled text is written to disk in pieces of about this many characters. */
const FLUSH_CHARS = 1 << 20;
/** A curated row can hold several fields of up to 1 MB (MAX_FIELD_BYTES); DuckDB's default line limit is 2 MB. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Characters that force a spooled text value into quotes. */
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A text value as one CSV field: quoted when needed, so an empty string stays distinct from null (unquoted empty). */
function textField(v: string): string {
  if (v.length === 0) return '""';
  return NEEDS_QUOTES.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The DuckDB statement that converts a spool (CSV as `ParquetPartWriter` writes it: comma,
 * double quotes, LF, an unquoted empty field for null) into the curated Parquet file.
 * Exported for the costing benchmark, which converts a spool of its own the same way.
 */
export function spoolToParquetSql(columns: readonly CuratedColumn[], spoolFile: string, out: string): string {
  const types = columns.map((c) => `${sqlString(c.name)}: ${sqlString(DUCKDB_TYPE[c.glueType])}`).join(', ');
  const read =
    `read_csv(${sqlString(spoolFile)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', ` +
    `new_line = '\\n', allow_quoted_nulls = false, max_line_size = ${MAX_LINE_BYTES}, columns = {${types}})`;
  // Column order and names come from the curated model; the SELECT lists them to pin both.
  const select = columns.map((c) => `"${c.name.replace(/"/g, '""')}"`).join(', ');
  return `COPY (SELECT ${select} FROM ${read}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`;
}

/**
 * One in-memory DuckDB per process and thread count, reused by every chunk (and, in a warm
 * Lambda, every invocation): creating and dropping one per chunk cost time and left the
 * process's native memory growing with the number of chunks.
 */
const instances = new Map<number, Promise<DuckDBInstance>>();

function duckdb(threads: number): Promise<DuckDBInstance> {
  let instance = instances.get(threads);
  if (instance === undefined) {
    // Spill under the temp folder (in a Lambda only /tmp is writable), per process because
    // DuckDB's spill file names are not unique across processes. DuckDB creates the folder
    // only if it ever spills, and removes its files when it closes.
    const spill = path.join(os.tmpdir(), `sde-duckdb-spill-${process.pid}`);
    instance = DuckDBInstance.create(':memory:', { threads: String(threads), temp_directory: spill });
    instances.set(threads, instance);
  }
  return instance;
}

export interface ParquetWriterOptions {
  /** DuckDB worker threads for the conversion. @default 1 */
  readonly threads?: number;
}

export interface ParquetPart {
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
}

export class ParquetPartWriter {
  private readonly spoolFile: string;
  private readonly fd: number;
  private readonly names: readonly string[];
  /** Per column: a text value (quoted when needed) or not (numbers, dates, booleans: written as they are). */
  private readonly text: readonly boolean[];
  private readonly fields: string[];
  private pending: string[] = [];
  private pendingChars = 0;
  private closed = false;
  rows = 0;

  /** Spools into `workDir` (a private temporary folder the caller removes). */
  constructor(
    private readonly columns: readonly CuratedColumn[],
    private readonly workDir: string,
    private readonly options: ParquetWriterOptions = {},
  ) {
    this.names = columns.map((c) => c.name);
    this.text = columns.map((c) => c.glueType === 'string');
    this.fields = new Array<string>(columns.length);
    this.spoolFile = path.join(workDir, 'curated-spool.csv');
    // Owner only: de-identified, but still record-level data.
    this.fd = fs.openSync(this.spoolFile, 'w', 0o600);
  }

  append(row: CuratedRow): void {
    this.appendValues(this.names.map((n) => row[n]));
  }

  /** One row's values in column order (the pipeline's `curatedValues` sink; the array may be reused after). */
  appendValues(values: readonly CuratedValue[]): void {
    const text = this.text;
    const count = text.length;
    // A reused array joined once: building the line with + made ~30 rope strings per row,
    // and flattening them cost twice as much (measured).
    const fields = this.fields;
    for (let i = 0; i < count; i++) {
      const v = values[i];
      fields[i] = v === null ? '' : text[i] ? textField(v as string) : String(v);
    }
    const line = `${fields.join(',')}\n`;
    this.pending.push(line);
    this.pendingChars += line.length;
    this.rows++;
    if (this.pendingChars >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    fs.writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.pendingChars = 0;
  }

  /** Converts the spooled rows into a Parquet file at `out` (nothing is written when there are no rows). */
  async finish(out: string): Promise<ParquetPart | undefined> {
    this.flush();
    this.close();
    if (this.rows === 0) return undefined;
    const connection = await (await duckdb(this.options.threads ?? 1)).connect();
    try {
      await connection.run(spoolToParquetSql(this.columns, this.spoolFile, out));
    } catch (e) {
      // DuckDB's messages quote the value they could not read; this error reaches logs and
      // the dead-letter queue, so it keeps only the kind of failure.
      throw new ParquetWriteError(duckdbErrorKind(e));
    } finally {
      connection.closeSync();
    }
    return { file: out, rows: this.rows, bytes: fs.statSync(out).size };
  }

  /** Closes the spool without converting it (the caller removes the folder). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  get dir(): string {
    return this.workDir;
  }

  /** The spooled CSV (complete once `finish` or `close` has been called). */
  get spoolPath(): string {
    return this.spoolFile;
  }
}
