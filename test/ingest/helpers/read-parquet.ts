/** Reads Parquet back with DuckDB: the columns (name, type) and the rows, as a researcher's engine would. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export interface ParquetContent {
  readonly columns: { name: string; type: string }[];
  readonly rows: unknown[][];
}

export async function readParquet(bytes: Buffer | readonly Buffer[]): Promise<ParquetContent> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-parquet-'));
  const list = Buffer.isBuffer(bytes) ? [bytes] : bytes;
  const files = list.map((b, i) => {
    const f = path.join(dir, `p${String(i).padStart(4, '0')}.parquet`);
    fs.writeFileSync(f, b);
    return f;
  });
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    if (files.length === 0) return { columns: [], rows: [] };
    const source = `read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`;
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const columns = described.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
    const reader = await connection.runAndReadAll(`SELECT * FROM ${source}`);
    const rows = reader.getRowsJS() as unknown[][];
    return { columns, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
