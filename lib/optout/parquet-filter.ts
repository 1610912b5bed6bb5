/**
 * The two things the job asks of a curated Parquet file, done by DuckDB on local files:
 * how many rows each person has (for the batch's pseudonym index), and the same file
 * without the rows of some people. The rewrite keeps every other row as it was: same
 * columns, same types (read from the file itself), same order, zstd as ingestion writes.
 *
 * Errors keep only DuckDB's kind of failure: its messages can quote a value.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbErrorKind } from '../ingest/parquet-writer';

let instance: Promise<DuckDBInstance> | undefined;

/** One in-memory DuckDB per process, one thread: the rewrite runs one batch per Lambda. */
async function connect(): Promise<DuckDBConnection> {
  instance ??= DuckDBInstance.create(':memory:', { threads: '1', temp_directory: path.join(os.tmpdir(), `sde-optout-spill-${process.pid}`) });
  return (await instance).connect();
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const read = (file: string) => `read_parquet(${sqlString(file)}, hive_partitioning = false)`;

export class ParquetFilterError extends Error {
  constructor(what: string, e: unknown) {
    super(`${what} failed (${duckdbErrorKind(e)}); nothing was replaced and the run can be retried`);
    this.name = 'ParquetFilterError';
  }
}

async function using<T>(what: string, body: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await connect();
  try {
    return await body(connection);
  } catch (e) {
    if (e instanceof ParquetFilterError) throw e;
    throw new ParquetFilterError(what, e);
  } finally {
    connection.closeSync();
  }
}

/** Rows per non-null value of `column`, sorted by value; and the file's row count. */
export async function rowsPerPerson(file: string, column: string): Promise<{ readonly rows: number; readonly people: Array<[string, number]> }> {
  return using('reading the person column', async (c) => {
    const total = await c.runAndReadAll(`SELECT count(*)::BIGINT FROM ${read(file)}`);
    const grouped = await c.runAndReadAll(
      `SELECT ${ident(column)}::VARCHAR, count(*)::BIGINT FROM ${read(file)} WHERE ${ident(column)} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    return { rows: Number(total.getRows()[0][0]), people: grouped.getRows().map(([p, n]) => [String(p), Number(n)] as [string, number]) };
  });
}

/**
 * Writes `out`: the rows of `input` whose `column` is not one of `remove` (a row whose value
 * is null is kept: it names nobody on the list), in their order. Returns the row counts.
 */
export async function withoutPeople(
  input: string,
  out: string,
  column: string,
  remove: Iterable<string>,
): Promise<{ readonly rowsBefore: number; readonly rowsAfter: number }> {
  return using('rewriting the batch without opted-out rows', async (c) => {
    // Its own table per call: the in-memory database is shared by the process's connections.
    const table = `sde_removal_${randomBytes(8).toString('hex')}`;
    await c.run(`CREATE TABLE ${table} (p VARCHAR PRIMARY KEY)`);
    try {
      const appender = await c.createAppender(table);
      for (const p of remove) {
        appender.appendVarchar(p);
        appender.endRow();
      }
      appender.closeSync();
      const before = Number((await c.runAndReadAll(`SELECT count(*)::BIGINT FROM ${read(input)}`)).getRows()[0][0]);
      // Insertion order is kept (DuckDB's default, one thread), so the surviving rows stay in file order.
      await c.run(
        `COPY (SELECT * FROM ${read(input)} WHERE ${ident(column)} IS NULL OR ${ident(column)} NOT IN (SELECT p FROM ${table})) ` +
          `TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const after = Number((await c.runAndReadAll(`SELECT count(*)::BIGINT FROM ${read(out)}`)).getRows()[0][0]);
      return { rowsBefore: before, rowsAfter: after };
    } finally {
      await c.run(`DROP TABLE IF EXISTS ${table}`);
    }
  });
}
