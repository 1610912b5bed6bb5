/**
 * Thrift's compact protocol, read into a generic tree and written back, for the one
 * Thrift document ingestion edits: a Parquet file's footer (see parquet-concat.ts).
 *
 * Generic on purpose: every field is kept, known or not, with its wire type, so a footer
 * that is read and written back unchanged comes out byte for byte the same (tested on
 * DuckDB's footers). Editing code changes only the fields it names and cannot drop one
 * a newer writer added (statistics, bloom filters, size statistics, ...).
 *
 * The wire format: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 * Integers are zigzag varints; i64 is kept as a bigint (lossless); doubles are kept as
 * their 8 raw bytes (never re-encoded through a float).
 */

export const WireType = {
  Stop: 0,
  True: 1,
  False: 2,
  Byte: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  Double: 7,
  Binary: 8,
  List: 9,
  Set: 10,
  Map: 11,
  Struct: 12,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftStruct | ThriftList | ThriftMap | EncodedStruct;

/**
 * A struct already encoded (written as its bytes, never read back as one): lets a caller
 * edit a large document piece by piece and keep only bytes, not a tree, for each piece.
 */
export interface EncodedStruct {
  readonly kind: 'encoded';
  readonly bytes: Uint8Array;
}

export interface ThriftField {
  readonly id: number;
  /** The wire type; for a boolean field, True or False as the value. */
  type: WireType;
  value: ThriftValue;
}

export interface ThriftStruct {
  readonly kind: 'struct';
  fields: ThriftField[];
}

export interface ThriftList {
  readonly kind: 'list';
  /** A set is written like a list, with its own type code. */
  readonly set: boolean;
  readonly elementType: WireType;
  items: ThriftValue[];
}

export interface ThriftMap {
  readonly kind: 'map';
  readonly keyType: WireType;
  readonly valueType: WireType;
  entries: [ThriftValue, ThriftValue][];
}

/** A footer that is not well-formed compact Thrift (cut short, or not Thrift at all). */
export class ThriftDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset} of the Thrift document`);
    this.name = 'ThriftDecodeError';
  }
}

/** Parquet footers nest five deep; anything near this is not a footer. */
const MAX_DEPTH = 64;

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new ThriftDecodeError('unexpected end', this.pos);
    return this.buf[this.pos++];
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw new ThriftDecodeError(`a length of ${n} runs past the end`, this.pos);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** An unsigned varint of up to 64 bits. */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new ThriftDecodeError('a varint longer than 10 bytes', this.pos);
  }

  /** A zigzag varint as a number: i16 and i32. */
  int(): number {
    const n = this.varint();
    return Number((n >> 1n) ^ -(n & 1n));
  }

  long(): bigint {
    const n = this.varint();
    return BigInt.asIntN(64, (n >> 1n) ^ -(n & 1n));
  }

  size(): number {
    const n = this.varint();
    if (n > BigInt(this.buf.length)) throw new ThriftDecodeError(`a size of ${n} is larger than the document`, this.pos);
    return Number(n);
  }
}

function readValue(r: Reader, type: WireType, depth: number, inCollection: boolean): ThriftValue {
  switch (type) {
    case WireType.True:
    case WireType.False:
      // A boolean field carries its value in the type; in a list it is a byte of its own.
      return inCollection ? r.byte() === WireType.True : type === WireType.True;
    case WireType.Byte: {
      const b = r.byte();
      return b > 127 ? b - 256 : b;
    }
    case WireType.I16:
    case WireType.I32:
      return r.int();
    case WireType.I64:
      return r.long();
    case WireType.Double:
      return r.bytes(8);
    case WireType.Binary:
      return r.bytes(r.size());
    case WireType.List:
    case WireType.Set: {
      const header = r.byte();
      const elementType = (header & 0x0f) as WireType;
      const size = header >> 4 === 15 ? r.size() : header >> 4;
      const items: ThriftValue[] = [];
      for (let i = 0; i < size; i++) items.push(readValue(r, elementType, depth + 1, true));
      return { kind: 'list', set: type === WireType.Set, elementType, items };
    }
    case WireType.Map: {
      const size = r.size();
      if (size === 0) return { kind: 'map', keyType: WireType.Stop, valueType: WireType.Stop, entries: [] };
      const types = r.byte();
      const keyType = (types >> 4) as WireType;
      const valueType = (types & 0x0f) as WireType;
      const entries: [ThriftValue, ThriftValue][] = [];
      for (let i = 0; i < size; i++) entries.push([readValue(r, keyType, depth + 1, true), readValue(r, valueType, depth + 1, true)]);
      return { kind: 'map', keyType, valueType, entries };
    }
    case WireType.Struct:
      return readStruct(r, depth + 1);
    default:
      throw new ThriftDecodeError(`unknown wire type ${type}`, r.pos - 1);
  }
}

function readStruct(r: Reader, depth: number): ThriftStruct {
  if (depth > MAX_DEPTH) throw new ThriftDecodeError(`structs nested more than ${MAX_DEPTH} deep`, r.pos);
  const fields: ThriftField[] = [];
  let lastId = 0;
  for (;;) {
    const header = r.byte();
    if (header === WireType.Stop) return { kind: 'struct', fields };
    const type = (header & 0x0f) as WireType;
    const delta = header >> 4;
    const id = delta === 0 ? r.int() : lastId + delta;
    fields.push({ id, type, value: readValue(r, type, depth, false) });
    lastId = id;
  }
}

/** Reads one struct from the start of `bytes`; `length` is how many bytes it took. */
export function decodeStruct(bytes: Uint8Array): { struct: ThriftStruct; length: number } {
  const r = new Reader(bytes);
  const struct = readStruct(r, 0);
  return { struct, length: r.pos };
}

class Writer {
  private buf = Buffer.alloc(1024);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  varint(n: bigint): void {
    let v = BigInt.asUintN(64, n);
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  int(n: number): void {
    this.varint(BigInt.asUintN(32, BigInt((n << 1) ^ (n >> 31))));
  }

  long(n: bigint): void {
    this.varint(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
  }

  done(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

function fail(what: string): never {
  throw new Error(`cannot write a Thrift ${what}`);
}

function writeValue(w: Writer, type: WireType, value: ThriftValue, inCollection: boolean): void {
  switch (type) {
    case WireType.True:
    case WireType.False:
      if (typeof value !== 'boolean') fail('boolean from a non-boolean value');
      if (inCollection) w.byte(value ? WireType.True : WireType.False);
      return; // a field's boolean is in its header
    case WireType.Byte:
    case WireType.I16:
    case WireType.I32:
      if (typeof value !== 'number' || !Number.isInteger(value)) fail('integer from a non-integer value');
      if (type === WireType.Byte) w.byte(value);
      else w.int(value);
      return;
    case WireType.I64:
      if (typeof value !== 'bigint') fail('i64 from a value that is not a bigint');
      w.long(value);
      return;
    case WireType.Double:
      if (!(value instanceof Uint8Array) || value.length !== 8) fail('double from anything but its 8 bytes');
      w.bytes(value);
      return;
    case WireType.Binary:
      if (!(value instanceof Uint8Array)) fail('binary from a non-byte value');
      w.varint(BigInt(value.length));
      w.bytes(value);
      return;
    case WireType.List:
    case WireType.Set: {
      const list = value as ThriftList;
      if (list.kind !== 'list') fail('list from a non-list value');
      const n = list.items.length;
      if (n < 15) w.byte((n << 4) | list.elementType);
      else {
        w.byte(0xf0 | list.elementType);
        w.varint(BigInt(n));
      }
      for (const item of list.items) writeValue(w, list.elementType, item, true);
      return;
    }
    case WireType.Map: {
      const map = value as ThriftMap;
      if (map.kind !== 'map') fail('map from a non-map value');
      w.varint(BigInt(map.entries.length));
      if (map.entries.length === 0) return;
      w.byte((map.keyType << 4) | map.valueType);
      for (const [k, v] of map.entries) {
        writeValue(w, map.keyType, k, true);
        writeValue(w, map.valueType, v, true);
      }
      return;
    }
    case WireType.Struct:
      if ((value as EncodedStruct).kind === 'encoded') w.bytes((value as EncodedStruct).bytes);
      else if ((value as ThriftStruct).kind === 'struct') writeStruct(w, value as ThriftStruct);
      else fail('struct from a non-struct value');
      return;
    default:
      fail(`value of unknown wire type ${type}`);
  }
}

function writeStruct(w: Writer, struct: ThriftStruct): void {
  let lastId = 0;
  for (const field of struct.fields) {
    const boolean = field.type === WireType.True || field.type === WireType.False;
    const type = boolean ? (field.value === true ? WireType.True : WireType.False) : field.type;
    const delta = field.id - lastId;
    if (delta > 0 && delta <= 15) w.byte((delta << 4) | type);
    else {
      w.byte(type);
      w.int(field.id);
    }
    writeValue(w, type, field.value, false);
    lastId = field.id;
  }
  w.byte(WireType.Stop);
}

export function encodeStruct(struct: ThriftStruct): Uint8Array {
  const w = new Writer();
  writeStruct(w, struct);
  return w.done();
}

// --- typed access to the fields the editing code needs --------------------------------

export function field(struct: ThriftStruct, id: number): ThriftField | undefined {
  return struct.fields.find((f) => f.id === id);
}

export function structField(struct: ThriftStruct, id: number): ThriftStruct | undefined {
  const f = field(struct, id);
  return f !== undefined && f.type === WireType.Struct ? (f.value as ThriftStruct) : undefined;
}

export function listField(struct: ThriftStruct, id: number): ThriftList | undefined {
  const f = field(struct, id);
  return f !== undefined && f.type === WireType.List ? (f.value as ThriftList) : undefined;
}

export function i64Field(struct: ThriftStruct, id: number): bigint | undefined {
  const f = field(struct, id);
  return f !== undefined && f.type === WireType.I64 ? (f.value as bigint) : undefined;
}

/** Sets a field, keeping the fields in id order (the compact protocol's deltas rely on no order, but writers keep one). */
export function setField(struct: ThriftStruct, id: number, type: WireType, value: ThriftValue): void {
  const existing = struct.fields.findIndex((f) => f.id === id);
  if (existing >= 0) {
    struct.fields[existing] = { id, type, value };
    return;
  }
  const at = struct.fields.findIndex((f) => f.id > id);
  struct.fields.splice(at < 0 ? struct.fields.length : at, 0, { id, type, value });
}
