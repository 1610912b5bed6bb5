/**
 * Joins Parquet files that share a schema into one Parquet file without reading their
 * data: the joined file is the first file's magic, every file's data region (row groups,
 * page indexes, bloom filters) byte for byte one after another, and a new footer that
 * lists every row group with its offsets moved to where its bytes now stand.
 *
 * Why: a multi-chunk batch writes one Parquet part per chunk. Published as separate
 * objects, they become visible to Athena one by one; joined into one object (on S3 by a
 * multipart upload whose parts are server-side copies of the staged parts, so no data
 * passes through the Lambda), the batch appears in a single step, like a one-chunk batch.
 *
 * A Parquet file is `PAR1 | data | footer | footer length (u32 LE) | PAR1`, and the footer
 * (FileMetaData, compact Thrift) locates everything by absolute byte offset. Fields moved
 * (parquet.thrift field ids):
 *   RowGroup      5 file_offset, 7 ordinal (renumbered)
 *   ColumnChunk   2 file_offset (deprecated; 0 means unset and stays 0, as DuckDB writes it),
 *                 4 offset_index_offset, 6 column_index_offset
 *   ColumnMetaData 9 data_page_offset, 10 index_page_offset, 11 dictionary_page_offset,
 *                 14 bloom_filter_offset
 *   FileMetaData  3 num_rows (summed), 4 row_groups (all of them, in order)
 * Every other field is kept as the first file wrote it (thrift-compact.ts keeps unknown
 * fields). Files whose schemas differ, encrypted files and column chunks kept in other
 * files (file_path) are refused: joining them would not give one readable table.
 */
import { readPiecesToBuffer, type ObjectRef, type ObjectStore } from './object-store';
import {
  decodeStruct,
  encodeStruct,
  EncodedStruct,
  field,
  i64Field,
  listField,
  setField,
  structField,
  ThriftList,
  ThriftStruct,
  WireType,
} from './thrift-compact';

export const PARQUET_MAGIC = Buffer.from('PAR1', 'ascii');
/** The footer length (u32 LE) and the closing magic. */
export const PARQUET_TRAILER_BYTES = 8;

/** A file that cannot be joined, and why (no values from the data: only structure). */
export class ParquetConcatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParquetConcatError';
  }
}

/** One input: its footer (FileMetaData bytes, no length or magic) and its total size. */
export interface ParquetPartFooter {
  readonly footer: Uint8Array;
  readonly size: number;
}

/** Where the joined file's bytes come from, in order: literal bytes, or a range of input `part`. */
export type ConcatSegment = { readonly bytes: Uint8Array } | { readonly part: number; readonly start: number; readonly end: number };

export interface ConcatPlan {
  readonly segments: ConcatSegment[];
  /** The joined file's size in bytes. */
  readonly bytes: number;
  readonly rows: number;
  readonly rowGroups: number;
}

/** The footer length a file's last 8 bytes give, after checking its closing magic. */
export function footerLengthOf(trailer: Uint8Array, size: number, name: string): number {
  if (trailer.length !== PARQUET_TRAILER_BYTES || Buffer.compare(Buffer.from(trailer.subarray(4)), PARQUET_MAGIC) !== 0) {
    throw new ParquetConcatError(`${name} is not a Parquet file (it does not end with PAR1)`);
  }
  const length = Buffer.from(trailer).readUInt32LE(0);
  if (length + PARQUET_TRAILER_BYTES + PARQUET_MAGIC.length > size)
    throw new ParquetConcatError(`${name}: its footer length (${length}) is larger than the file (${size} bytes)`);
  return length;
}

const OFFSET_FIELDS = {
  rowGroup: [5],
  columnChunk: [4, 6],
  columnMeta: [9, 10, 11, 14],
} as const;

/** Moves an absolute offset of input `name` by `delta`, after checking it points into the input's data region. */
function shift(struct: ThriftStruct, id: number, delta: bigint, dataEnd: bigint, name: string): void {
  const value = i64Field(struct, id);
  if (value === undefined) return;
  if (value < 4n || value >= dataEnd)
    throw new ParquetConcatError(`${name}: an offset (field ${id}) points outside the file's data (${value}, data ends at ${dataEnd})`);
  setField(struct, id, WireType.I64, value + delta);
}

function rowGroupsOf(meta: ThriftStruct, name: string): ThriftStruct[] {
  const list = listField(meta, 4);
  if (list === undefined) return [];
  return list.items.map((rg) => {
    if ((rg as ThriftStruct).kind !== 'struct') throw new ParquetConcatError(`${name}: a row group is not a struct`);
    return rg as ThriftStruct;
  });
}

function columnsOf(rowGroup: ThriftStruct, name: string): ThriftStruct[] {
  const list = listField(rowGroup, 1);
  if (list === undefined) throw new ParquetConcatError(`${name}: a row group lists no columns`);
  return list.items as ThriftStruct[];
}

/**
 * Plans the joined file of `parts` (in order). Pure: the caller reads the footers and
 * writes the segments (see `readParquetFooter` and batch.ts).
 */
export function planParquetConcat(parts: readonly ParquetPartFooter[], names: readonly string[] = parts.map((_, i) => `part ${i}`)): ConcatPlan {
  if (parts.length === 0) throw new ParquetConcatError('there are no Parquet files to join');
  // Decoded one part at a time, and each part's row groups kept only as their re-encoded
  // bytes: a decoded footer takes ~25 times its size in memory, and a batch of a 90 GB file
  // has ~700 of them.
  const decode = (i: number) => {
    try {
      return decodeStruct(parts[i].footer).struct;
    } catch (e) {
      throw new ParquetConcatError(`${names[i]}: its footer cannot be read (${(e as Error).message})`);
    }
  };
  const first = decode(0);
  const schemaOf = (meta: ThriftStruct) => {
    const schema = listField(meta, 2);
    return schema === undefined ? undefined : Buffer.from(encodeStruct({ kind: 'struct', fields: [{ id: 2, type: WireType.List, value: schema }] }));
  };
  const schema = schemaOf(first);
  if (schema === undefined) throw new ParquetConcatError(`${names[0]}: its footer has no schema`);

  const rowGroups: EncodedStruct[] = [];
  let rows = 0n;
  let base = PARQUET_MAGIC.length;
  const segments: ConcatSegment[] = [];
  parts.forEach((part, i) => {
    const meta = i === 0 ? first : decode(i);
    const name = names[i];
    const other = schemaOf(meta);
    if (other === undefined || Buffer.compare(other, schema) !== 0)
      throw new ParquetConcatError(`${name} has a different schema from ${names[0]}: the parts of one batch must share one`);
    if (field(meta, 8) !== undefined || field(meta, 9) !== undefined)
      throw new ParquetConcatError(`${name} is encrypted: joining encrypted Parquet is not supported`);
    const dataEnd = part.size - PARQUET_TRAILER_BYTES - part.footer.length;
    if (dataEnd < PARQUET_MAGIC.length) throw new ParquetConcatError(`${name}: its size (${part.size}) is smaller than its footer`);
    const delta = BigInt(base - PARQUET_MAGIC.length);
    for (const rowGroup of rowGroupsOf(meta, name)) {
      shift(rowGroup, OFFSET_FIELDS.rowGroup[0], delta, BigInt(dataEnd), name);
      for (const chunk of columnsOf(rowGroup, name)) {
        if (field(chunk, 1) !== undefined) throw new ParquetConcatError(`${name} keeps column data in another file (file_path): not supported`);
        if (field(chunk, 8) !== undefined || field(chunk, 9) !== undefined)
          throw new ParquetConcatError(`${name} has encrypted columns: joining encrypted Parquet is not supported`);
        // The deprecated file_offset: 0 means unset (DuckDB), anything else moves with the data.
        if ((i64Field(chunk, 2) ?? 0n) !== 0n) shift(chunk, 2, delta, BigInt(dataEnd), name);
        for (const id of OFFSET_FIELDS.columnChunk) shift(chunk, id, delta, BigInt(dataEnd), name);
        const columnMeta = structField(chunk, 3);
        if (columnMeta === undefined) throw new ParquetConcatError(`${name}: a column chunk has no metadata`);
        for (const id of OFFSET_FIELDS.columnMeta) shift(columnMeta, id, delta, BigInt(dataEnd), name);
      }
      if (field(rowGroup, 7) !== undefined) setField(rowGroup, 7, WireType.I16, rowGroups.length);
      rowGroups.push({ kind: 'encoded', bytes: encodeStruct(rowGroup) });
    }
    rows += i64Field(meta, 3) ?? 0n;
    // The first part's own magic opens the joined file: no literal bytes at the start, so a
    // large first part is one server-side copy (S3 wants 5 MiB in every part but the last).
    const start = i === 0 ? 0 : PARQUET_MAGIC.length;
    if (dataEnd > start) segments.push({ part: i, start, end: dataEnd });
    base += dataEnd - PARQUET_MAGIC.length;
  });
  if (rowGroups.length > 32767)
    throw new ParquetConcatError(`the joined file would have ${rowGroups.length} row groups: Parquet numbers them with an i16 (32,767 at most)`);

  const joined: ThriftStruct = { kind: 'struct', fields: first.fields.map((f) => ({ ...f })) };
  setField(joined, 3, WireType.I64, rows);
  const list: ThriftList = { kind: 'list', set: false, elementType: WireType.Struct, items: rowGroups };
  setField(joined, 4, WireType.List, list);
  const footer = encodeStruct(joined);
  if (footer.length > 0xffffffff) throw new ParquetConcatError('the joined footer is larger than 4 GiB');
  const trailer = Buffer.alloc(PARQUET_TRAILER_BYTES);
  trailer.writeUInt32LE(footer.length, 0);
  PARQUET_MAGIC.copy(trailer, 4);
  segments.push({ bytes: Buffer.concat([footer, trailer]) });
  return { segments, bytes: base + footer.length + PARQUET_TRAILER_BYTES, rows: Number(rows), rowGroups: rowGroups.length };
}

const readRange = (store: ObjectStore, ref: ObjectRef & { readonly versionId?: string }, start: number, end: number) =>
  readPiecesToBuffer(store, [{ from: ref, start, end }]);

/** Bytes read from a file's end at first: most footers fit, so one request reads trailer and footer. */
const FOOTER_GUESS = 64 * 1024;

/**
 * Reads a stored Parquet file's footer with ranged reads (one, or two for a large footer),
 * pinned to `ref.versionId` when given.
 */
export async function readParquetFooter(store: ObjectStore, ref: ObjectRef & { readonly versionId?: string }, size: number): Promise<ParquetPartFooter> {
  const name = `s3://${ref.bucket}/${ref.key}`;
  if (size < PARQUET_MAGIC.length + PARQUET_TRAILER_BYTES) throw new ParquetConcatError(`${name} is too small (${size} bytes) to be a Parquet file`);
  const tailStart = Math.max(0, size - FOOTER_GUESS);
  const tail = await readRange(store, ref, tailStart, size);
  const length = footerLengthOf(tail.subarray(tail.length - PARQUET_TRAILER_BYTES), size, name);
  const footerStart = size - PARQUET_TRAILER_BYTES - length;
  const footer =
    footerStart >= tailStart
      ? tail.subarray(footerStart - tailStart, tail.length - PARQUET_TRAILER_BYTES)
      : await readRange(store, ref, footerStart, size - PARQUET_TRAILER_BYTES);
  return { footer, size };
}
