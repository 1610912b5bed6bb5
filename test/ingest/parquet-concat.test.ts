/**
 * Joining Parquet parts into one object without reading their data (how a multi-chunk
 * batch is committed in one step): the Thrift footer codec round-trips DuckDB's footers
 * byte for byte, and a file joined on the local S3 API (server-side part copies) reads
 * back, in DuckDB and in an independent reader (hyparquet), as exactly the parts' rows.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { planParquetConcat, ParquetConcatError, readParquetFooter, type ParquetPartFooter } from '../../lib/ingest/parquet-concat';
import { S3ObjectStore } from '../../lib/ingest/s3-object-store';
import { decodeStruct, encodeStruct, ThriftDecodeError, type ThriftList, type ThriftStruct, WireType } from '../../lib/ingest/thrift-compact';
import { LocalS3, startLocalS3 } from '../../lib/local/s3-api/server';
import { readWithHyparquet } from './helpers/independent-reader';
import { commandsDuring } from './helpers/observe-commands';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-concat-'));
const BUCKET = 'curated';
let s3: LocalS3;
let store: S3ObjectStore;
let instance: DuckDBInstance;
let db: DuckDBConnection;

beforeAll(async () => {
  s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  store = new S3ObjectStore(s3.client);
  instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  db = await instance.connect();
});
afterAll(async () => {
  db.closeSync();
  instance.closeSync();
  await s3.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A Parquet file as ingestion writes them (zstd, several row groups, dictionary pages and
 * bloom filters on the text columns, nulls): rows `from` to `from + rows - 1`. The `note`
 * column is an MD5, so the file does not compress below S3's 5 MiB part size.
 */
async function writePart(name: string, from: number, rows: number, noteType = 'VARCHAR'): Promise<string> {
  const file = path.join(dir, name);
  await db.run(`COPY (
      SELECT i AS id, 'p' || (i % 97) AS person, DATE '2020-01-01' + (i % 400)::INT AS event_date,
             CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1.5 END AS amount, md5(i::VARCHAR)::${noteType} AS note
      FROM range(${from}, ${from + rows}) t(i)
    ) TO '${file}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 50000)`);
  return file;
}

function footerOf(file: string): ParquetPartFooter {
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt32LE(bytes.length - 8);
  return { footer: bytes.subarray(bytes.length - 8 - length, bytes.length - 8), size: bytes.length };
}

const sqlList = (files: readonly string[]) => `read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`;

async function scalar(sql: string): Promise<unknown> {
  return (await db.runAndReadAll(sql)).getRowsJS()[0][0];
}

describe('thrift-compact', () => {
  test("decoding and re-encoding DuckDB's footer gives the same bytes", async () => {
    const { footer } = footerOf(await writePart('roundtrip.parquet', 0, 120_000));
    const { struct, length } = decodeStruct(footer);
    expect(length).toBe(footer.length);
    expect(Buffer.from(encodeStruct(struct)).equals(Buffer.from(footer))).toBe(true);
  });

  test('every wire type, long lists, negative numbers, large i64 and far field ids survive a round trip', () => {
    const struct: ThriftStruct = {
      kind: 'struct',
      fields: [
        { id: 1, type: WireType.True, value: true },
        { id: 2, type: WireType.False, value: false },
        { id: 3, type: WireType.Byte, value: -5 },
        { id: 4, type: WireType.I16, value: -32768 },
        { id: 5, type: WireType.I32, value: 2147483647 },
        { id: 6, type: WireType.I64, value: -9223372036854775808n },
        { id: 7, type: WireType.Double, value: new Uint8Array([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]) },
        { id: 8, type: WireType.Binary, value: new Uint8Array(300).fill(7) },
        {
          id: 9,
          type: WireType.List,
          value: { kind: 'list', set: false, elementType: WireType.I64, items: Array.from({ length: 20 }, (_, i) => BigInt(i) * 10_000_000_000n) },
        },
        { id: 10, type: WireType.Set, value: { kind: 'list', set: true, elementType: WireType.True, items: [true, false, true] } },
        { id: 11, type: WireType.Map, value: { kind: 'map', keyType: WireType.Binary, valueType: WireType.I32, entries: [[new Uint8Array([65]), -1]] } },
        { id: 12, type: WireType.Map, value: { kind: 'map', keyType: WireType.Stop, valueType: WireType.Stop, entries: [] } },
        { id: 40, type: WireType.Struct, value: { kind: 'struct', fields: [{ id: 1000, type: WireType.I32, value: 3 }] } },
      ],
    };
    const bytes = encodeStruct(struct);
    const { struct: back, length } = decodeStruct(bytes);
    expect(length).toBe(bytes.length);
    expect(back).toEqual(struct);
  });

  test('an already-encoded struct is written as its bytes: the same document as from the tree', async () => {
    const { footer } = footerOf(await writePart('encoded.parquet', 0, 120_000));
    const { struct } = decodeStruct(footer);
    const rowGroups = struct.fields.find((f) => f.id === 4)!.value as ThriftList;
    const withEncoded: ThriftStruct = {
      kind: 'struct',
      fields: struct.fields.map((f) =>
        f.id === 4
          ? { ...f, value: { ...rowGroups, items: rowGroups.items.map((rg) => ({ kind: 'encoded' as const, bytes: encodeStruct(rg as ThriftStruct) })) } }
          : f,
      ),
    };
    expect(Buffer.from(encodeStruct(withEncoded)).equals(Buffer.from(footer))).toBe(true);
  });

  test('a cut-short document is a clear error, not a wrong struct', async () => {
    const { footer } = footerOf(await writePart('cut.parquet', 0, 1000));
    expect(() => decodeStruct(footer.subarray(0, footer.length - 10))).toThrow(ThriftDecodeError);
    expect(() => decodeStruct(footer.subarray(0, footer.length - 10))).toThrow(/unexpected end|runs past the end/);
  });
});

describe('joining Parquet parts on the local S3 API', () => {
  test('a part over 5 MiB (copied server-side), a tiny one and a middling one join into one file with every row, in either reader', async () => {
    const files = [await writePart('a.parquet', 0, 260_000), await writePart('b.parquet', 1_000_000, 3), await writePart('c.parquet', 2_000_000, 70_000)];
    expect(fs.statSync(files[0]).size).toBeGreaterThan(5 * 1024 * 1024);
    const refs = files.map((f) => ({ bucket: BUCKET, key: `_staging/t/${path.basename(f)}` }));
    for (let i = 0; i < files.length; i++) await store.put(refs[i], fs.readFileSync(files[i]));

    // The footers are read back from S3 with ranged reads, as the commit does.
    const footers = await Promise.all(refs.map((r, i) => readParquetFooter(store, r, fs.statSync(files[i]).size)));
    footers.forEach((f, i) => expect(Buffer.from(f.footer).equals(Buffer.from(footerOf(files[i]).footer))).toBe(true));
    const plan = planParquetConcat(footers);
    const to = { bucket: BUCKET, key: 't/load_date=2026-12-01/joined.parquet' };
    const pieces = plan.segments.map((s) => ('bytes' in s ? s : { from: refs[s.part], start: s.start, end: s.end }));
    const commands = await commandsDuring(s3.client, () => store.compose(to, pieces));
    // The large part's bytes never left S3; the small ones and the new footer went up as the last part.
    expect(commands.filter((c) => c.startsWith('UploadPart'))).toEqual(['UploadPartCopyCommand', 'UploadPartCommand']);
    const joined = path.join(dir, 'joined.parquet');
    const chunks: Buffer[] = [];
    for await (const c of await store.get(to)) chunks.push(Buffer.from(c));
    fs.writeFileSync(joined, Buffer.concat(chunks));
    expect(fs.statSync(joined).size).toBe(plan.bytes);
    expect(plan.rows).toBe(330_003);

    // DuckDB: the same rows, no more, no fewer.
    expect(await scalar(`SELECT count(*) FROM '${joined}'`)).toBe(330_003n);
    expect(await scalar(`SELECT count(*) FROM (SELECT * FROM '${joined}' EXCEPT ALL SELECT * FROM ${sqlList(files)})`)).toBe(0n);
    expect(await scalar(`SELECT count(*) FROM (SELECT * FROM ${sqlList(files)} EXCEPT ALL SELECT * FROM '${joined}')`)).toBe(0n);
    // Statistics and bloom filters still point at the right bytes: a filtered read finds exactly the matching rows.
    expect(await scalar(`SELECT count(*) FROM '${joined}' WHERE person = 'p42' AND id >= 2000000`)).toBe(
      await scalar(`SELECT count(*) FROM '${files[2]}' WHERE person = 'p42'`),
    );
    expect(await scalar(`SELECT count(*) FROM '${joined}' WHERE note = md5('2069999')`)).toBe(1n);

    // The offsets moved: each row group's first data page now sits where its part's bytes were put.
    const offsets = async (file: string) =>
      (await db.runAndReadAll(`SELECT row_group_id, data_page_offset FROM parquet_metadata('${file}') WHERE path_in_schema = 'id' ORDER BY row_group_id`))
        .getRowsJS()
        .map((r) => Number(r[1]));
    const partOffsets = [await offsets(files[0]), await offsets(files[1]), await offsets(files[2])];
    const sizes = files.map((f) => fs.statSync(f).size - 8 - footerOf(f).footer.length - 4);
    const expected = [...partOffsets[0], ...partOffsets[1].map((o) => o + sizes[0]), ...partOffsets[2].map((o) => o + sizes[0] + sizes[1])];
    expect(await offsets(joined)).toEqual(expected);

    // An independent reader that locates every column chunk by those offsets agrees.
    const parts = readWithHyparquet(...files);
    expect(readWithHyparquet(joined)).toEqual({ rows: 330_003, rowGroups: parts.rowGroups, digest: parts.digest });
  });

  test('parts with different schemas, and a file that is not Parquet, are refused with the reason', async () => {
    const a = footerOf(await writePart('s1.parquet', 0, 10));
    const b = footerOf(await writePart('s2.parquet', 0, 10, 'BLOB'));
    expect(() => planParquetConcat([a, b], ['first', 'second'])).toThrow(
      new ParquetConcatError('second has a different schema from first: the parts of one batch must share one'),
    );
    await store.put({ bucket: BUCKET, key: 'not-parquet.csv' }, 'a,b\n1,2\n3,4\n');
    await expect(readParquetFooter(store, { bucket: BUCKET, key: 'not-parquet.csv' }, 12)).rejects.toThrow(
      /is not a Parquet file \(it does not end with PAR1\)/,
    );
    expect(() => planParquetConcat([])).toThrow(/no Parquet files/);
  });
});
