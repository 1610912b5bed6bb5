/**
 * A streaming CSV reader for landing files: RFC 4180 records over an async iterable of
 * Buffers (an S3 GetObject body, a file stream), in bounded memory.
 *
 * Two kinds of trouble, kept apart because they lead to different places:
 * - a bad *record* (a quote left open, a quote inside an unquoted field) is returned as a
 *   record with an `error`, so the pipeline rejects that row and the good rows continue;
 * - a bad *file* (empty, wrong encoding, a header that is not the dataset's) throws a
 *   `CsvFileError`: the whole object is quarantined. Records may already have been yielded
 *   when a late encoding error is found, so a consumer must commit nothing until the
 *   iteration ends without throwing (ingestion commits atomically at the end anyway).
 *
 * Speed: bytes are decoded a block (~64 KiB) at a time with Node's native decoders, and
 * the text is scanned with charCodeAt/indexOf; fields are slices of the block, never built
 * a character at a time.
 */
import { isUtf8 } from 'node:buffer';
import { foldHeaderName, sourceNameOf } from '../../config/curated';
import type { DatasetConfig } from '../../config/schema';

export type SourceEncoding = DatasetConfig['source']['encoding'];

export interface CsvReadOptions {
  /** @default ',' */
  readonly delimiter?: string;
  /** @default '"' */
  readonly quote?: string;
  /** @default 'utf-8' */
  readonly encoding?: SourceEncoding;
  /** Whether the first non-blank record is a header (it is checked, then not yielded). @default true */
  readonly header?: boolean;
  /**
   * The column names the header must hold, in order; with no header, the names a first record
   * must not repeat (a header where none was declared). @default no check
   */
  readonly expectedColumns?: readonly string[];
  /** Match header names ignoring case (HES writes `ADMIDATE`). @default false */
  readonly headerIgnoreCase?: boolean;
  /** With no header: the number of fields the first record must have (the declared column order's length). @default no check */
  readonly columnCount?: number;
  /**
   * A record still open after this many characters makes the whole file bad: beyond it the
   * reader could no longer promise bounded memory (typically a quote that is never closed).
   * @default 16 MiB
   */
  readonly maxRecordChars?: number;
  /**
   * The physical line the first byte is on: a byte-range chunk that starts mid-file (see
   * lambdas/ingest) passes the line its range starts on, so line numbers match a whole-file read.
   * @default 1
   */
  readonly startLine?: number;
  /**
   * The bytes continue a file from a record boundary: no byte-order mark or encoding sniff,
   * no header, and no records is not an empty file (the first chunk checked all of that).
   * @default false
   */
  readonly continuation?: boolean;
}

export type CsvRecordErrorCode = 'unterminated_quote' | 'quote_in_unquoted_field' | 'text_after_closing_quote';

export interface CsvRecordError {
  readonly code: CsvRecordErrorCode;
  readonly message: string;
}

export interface CsvRecord {
  /** The 1-based physical line the record starts on (the header, if any, is line 1). */
  readonly line: number;
  readonly fields: string[];
  /** The record's text as it arrived, without its line end: kept for the rejected file only. */
  readonly raw: string;
  /** Set when the record's quoting is malformed: reject it, do not trust its fields. */
  readonly error: CsvRecordError | undefined;
}

export type CsvFileErrorCode =
  | 'empty_file'
  | 'wrong_encoding'
  | 'encoding_mismatch'
  | 'header_mismatch'
  | 'malformed_header'
  | 'record_too_large'
  | 'column_count_mismatch'
  | 'unexpected_header';

/** What is wrong with a header. Only names from the config, or header cells of a file that does have a header, are listed. */
export interface HeaderProblem {
  readonly missing: readonly string[];
  /** Unexpected header cells, when the header shares at least one name with the dataset (otherwise the first row may be data: only counted). */
  readonly unexpected: readonly string[];
  readonly unexpectedCount: number;
  readonly duplicated: readonly string[];
  /** Same names, different order. */
  readonly outOfOrder: boolean;
  /** Every cell names a column once case is ignored, and case is matched exactly: the fix is headerMatch: case_insensitive. */
  readonly caseOnly?: boolean;
}

/** The whole file must be quarantined. The message never quotes file content beyond header names. */
export class CsvFileError extends Error {
  constructor(
    readonly code: CsvFileErrorCode,
    message: string,
    readonly header?: HeaderProblem,
  ) {
    super(message);
    this.name = 'CsvFileError';
  }
}

/** The reader options a dataset's config implies. */
export function csvOptionsFor(dataset: DatasetConfig): CsvReadOptions {
  return {
    delimiter: dataset.source.delimiter,
    quote: dataset.source.quote,
    encoding: dataset.source.encoding,
    header: dataset.source.header,
    expectedColumns: dataset.columns.map(sourceNameOf),
    headerIgnoreCase: dataset.source.headerMatch === 'case_insensitive',
    ...(dataset.source.header ? {} : { columnCount: dataset.source.columnCount ?? dataset.columns.length }),
  };
}

const LF = 10;
const CR = 13;
const BLOCK_BYTES = 64 * 1024;
const SNIFF_BYTES = 4096;
const DEFAULT_MAX_RECORD_CHARS = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Decoding: bytes -> text blocks, refusing a file that is not in the configured encoding.
// ---------------------------------------------------------------------------------------

function wrongEncoding(detail: string, encoding: SourceEncoding): CsvFileError {
  return new CsvFileError('wrong_encoding', `the file is not ${encoding} as the dataset config says: ${detail}`);
}

/** A file declared in a single-byte encoding that is really in another one: read as declared, its text would be wrong. */
function encodingMismatch(detail: string, encoding: SourceEncoding, fix: string): CsvFileError {
  return new CsvFileError('encoding_mismatch', `the dataset config says ${encoding}, but ${detail}: ${fix}`);
}

const SINGLE_BYTE: ReadonlySet<SourceEncoding> = new Set(['latin1', 'windows-1252']);

/**
 * Windows-1252's characters for bytes 0x80-0x9F (WHATWG's table: the five bytes it leaves
 * undefined stay C1 controls, which normalisation then refuses). Node's TextDecoder reads
 * this label as Latin-1, so the table is applied here.
 */
const WINDOWS_1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(b: Buffer): string {
  const text = b.toString('latin1');
  return /[\x80-\x9f]/.test(text) ? text.replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]) : text;
}

function nulShare(sample: Buffer): number {
  let nul = 0;
  for (let i = 0; i < sample.length; i++) if (sample[i] === 0) nul++;
  return sample.length === 0 ? 0 : nul / sample.length;
}

/** UTF-16 text of mostly ASCII (a CSV header) is about half NUL bytes; a stray NUL in a UTF-8 file is not. */
const UTF16_NUL_SHARE = 0.3;

/**
 * Checks the first bytes of the file against the configured encoding and returns how many
 * leading bytes are a byte-order mark to skip.
 */
function sniff(head: Buffer, encoding: SourceEncoding): number {
  const utf8Bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const utf16le = head.length >= 2 && head[0] === 0xff && head[1] === 0xfe;
  const utf16be = head.length >= 2 && head[0] === 0xfe && head[1] === 0xff;
  const nulHeavy = head.length >= 4 && nulShare(head) >= UTF16_NUL_SHARE;
  if (encoding === 'utf-16le') {
    if (utf16be) throw wrongEncoding('it starts with a UTF-16 big-endian byte-order mark', encoding);
    if (utf8Bom) throw wrongEncoding('it starts with a UTF-8 byte-order mark', encoding);
    if (utf16le) return 2;
    if (head.length >= 4 && !nulHeavy) throw wrongEncoding('it has no byte-order mark and too few NUL bytes to be UTF-16', encoding);
    return 0;
  }
  if (utf16le || utf16be) throw wrongEncoding(`it starts with a UTF-16 ${utf16le ? 'little' : 'big'}-endian byte-order mark`, encoding);
  if (nulHeavy) throw wrongEncoding('a large share of its first bytes are NUL, as in UTF-16 text', encoding);
  if (utf8Bom) {
    if (SINGLE_BYTE.has(encoding)) throw encodingMismatch('it starts with a UTF-8 byte-order mark', encoding, 'set encoding: utf-8 in the dataset config');
    return 3;
  }
  return 0;
}

/** Where the last complete UTF-8 sequence ends, so a character split across blocks waits for its tail. */
function completeUtf8End(b: Buffer): number {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const x = b[i];
    if ((x & 0xc0) === 0x80) continue; // continuation byte: look further back for the lead
    if (x < 0x80) return n;
    const need = x >= 0xf0 ? 4 : x >= 0xe0 ? 3 : 2;
    return i + need > n ? i : n;
  }
  return n;
}

/** The offset of the first byte that breaks UTF-8 (only called once a block is known to be bad). */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const x = b[i];
    const need = x < 0x80 ? 1 : x >= 0xc2 && x < 0xe0 ? 2 : x >= 0xe0 && x < 0xf0 ? 3 : x >= 0xf0 && x < 0xf5 ? 4 : 0;
    if (need === 0 || i + need > b.length) return i;
    if (need > 1 && !isUtf8(b.subarray(i, i + need))) return i;
    i += need;
  }
  return i;
}

class Decoder {
  private carry: Buffer | undefined;
  private started = false;
  private offset = 0;
  /** Single-byte encodings: the first byte above 0x7F, whether every such byte so far forms valid UTF-8, and the first C1 byte. */
  private firstHigh = -1;
  private allUtf8 = true;
  private firstC1 = -1;
  /** The start of a UTF-8 sequence cut at the end of the last block, checked with the next. */
  private utf8Tail: Buffer | undefined;

  constructor(
    private readonly encoding: SourceEncoding,
    /** A continuation chunk is not the start of the file: no byte-order mark to take off. */
    sniffed = false,
  ) {
    this.started = sniffed;
  }

  /** Decodes the next block. `final` marks the last one: nothing may be left incomplete. */
  decode(block: Buffer, final: boolean): string {
    let b = this.carry === undefined ? block : Buffer.concat([this.carry, block]);
    this.carry = undefined;
    if (!this.started) {
      this.started = true;
      const skip = sniff(b.subarray(0, SNIFF_BYTES), this.encoding);
      b = b.subarray(skip);
      this.offset += skip;
    }
    if (SINGLE_BYTE.has(this.encoding)) {
      this.watchSingleByte(b, final);
      this.offset += b.length;
      return this.encoding === 'latin1' ? b.toString('latin1') : decodeWindows1252(b);
    }
    if (this.encoding === 'utf-16le') {
      let end = b.length;
      if (end % 2 === 1) {
        if (final) throw wrongEncoding('its length is an odd number of bytes', this.encoding);
        end--;
        this.carry = Buffer.from(b.subarray(end));
      }
      this.offset += end;
      return b.toString('utf16le', 0, end);
    }
    const end = final ? b.length : completeUtf8End(b);
    if (end < b.length) this.carry = Buffer.from(b.subarray(end));
    const body = b.subarray(0, end);
    if (!isUtf8(body)) {
      throw wrongEncoding(`invalid UTF-8 at byte offset ${this.offset + firstInvalidUtf8(body)} (is it latin1 or windows-1252?)`, this.encoding);
    }
    this.offset += end;
    return body.toString('utf8');
  }

  /**
   * A file declared single-byte is refused (encoding_mismatch) at its end when its bytes above
   * 0x7F all form UTF-8 multi-byte sequences (it is UTF-8: read as declared, every accented
   * letter would become two wrong ones), or when declared latin1 it holds bytes 0x80-0x9F
   * (control characters in Latin-1, the curly quotes and dashes of Windows-1252).
   */
  private watchSingleByte(b: Buffer, final: boolean): void {
    let high = -1;
    for (let i = 0; i < b.length; i++) {
      if (b[i] < 0x80) continue;
      if (high < 0) high = i;
      if (b[i] <= 0x9f && this.firstC1 < 0) this.firstC1 = this.offset + i;
      if (this.firstC1 >= 0) break;
    }
    if (high >= 0 && this.firstHigh < 0) this.firstHigh = this.offset + high;
    if ((high >= 0 || this.utf8Tail !== undefined) && this.allUtf8) {
      // A sequence cut at the end of a block is judged with the next block.
      const whole = this.utf8Tail === undefined ? b : Buffer.concat([this.utf8Tail, b]);
      const end = final ? whole.length : completeUtf8End(whole);
      this.utf8Tail = end < whole.length ? Buffer.from(whole.subarray(end)) : undefined;
      if (!isUtf8(whole.subarray(0, end))) this.allUtf8 = false;
    }
    if (!final) return;
    if (this.firstHigh >= 0 && this.allUtf8) {
      throw encodingMismatch(
        `the file decodes as UTF-8, with multi-byte characters from byte offset ${this.firstHigh}`,
        this.encoding,
        'set encoding: utf-8 in the dataset config (or ask the supplier for the encoding it declared)',
      );
    }
    if (this.encoding === 'latin1' && this.firstC1 >= 0) {
      throw encodingMismatch(
        `byte offset ${this.firstC1} holds a byte from 0x80 to 0x9F, a control character in Latin-1 (Windows-1252 uses them for quotes, dashes and the euro sign)`,
        this.encoding,
        'set encoding: windows-1252 in the dataset config',
      );
    }
  }
}

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Text blocks of about BLOCK_BYTES each; the first is held back until the encoding can be sniffed. */
async function* decodeBlocks(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  encoding: SourceEncoding,
  continuation = false,
): AsyncGenerator<string> {
  const decoder = new Decoder(encoding, continuation);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    const buf = asBuffer(chunk);
    if (buf.length === 0) continue;
    pending.push(buf);
    pendingBytes += buf.length;
    if (pendingBytes < BLOCK_BYTES) continue;
    const block = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    yield decoder.decode(block, false);
  }
  yield decoder.decode(pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes), true);
}

// ---------------------------------------------------------------------------------------
// Scanning: text -> records.
// ---------------------------------------------------------------------------------------

const ERR_UNTERMINATED: CsvRecordError = {
  code: 'unterminated_quote',
  message: 'a quoted field is never closed before the end of the file',
};
const ERR_QUOTE_IN_UNQUOTED: CsvRecordError = {
  code: 'quote_in_unquoted_field',
  message: 'a quote character appears inside an unquoted field (quote the whole field and double the quote)',
};
const ERR_TEXT_AFTER_QUOTE: CsvRecordError = {
  code: 'text_after_closing_quote',
  message: 'text follows the closing quote of a field before the next delimiter',
};

/** Line breaks (LF, CRLF or a lone CR) inside [from, to): a quoted field can span lines. */
function countBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) count++;
    else if (c === CR && (i + 1 >= to || text.charCodeAt(i + 1) !== LF)) count++;
  }
  return count;
}

/** RFC 4180 record scanner. State between calls is only the current line number. */
export class CsvScanner {
  /** The physical line the next unconsumed text starts on. */
  line = 1;
  private readonly d: number;
  private readonly q: number;
  private readonly qs: string;
  /** The highest code among delimiter, quote, CR and LF. */
  private readonly maxSpecial: number;
  // Results of the last record() call (fields kept out of a return object to avoid an allocation per record).
  private fields: string[] = [];
  private error: CsvRecordError | undefined;
  private breaks = 0;
  private contentEnd = 0;

  constructor(delimiter = ',', quote = '"') {
    if (delimiter.length !== 1 || quote.length !== 1) throw new Error('the CSV delimiter and quote must each be one character');
    if (delimiter === quote) throw new Error('the CSV delimiter and quote must differ');
    if (/[\r\n]/.test(delimiter + quote)) throw new Error('the CSV delimiter and quote cannot be line-end characters');
    this.d = delimiter.charCodeAt(0);
    this.q = quote.charCodeAt(0);
    this.qs = quote;
    this.maxSpecial = Math.max(this.d, this.q, CR);
  }

  /**
   * Appends every complete record of `text` to `out` and returns how much of `text` was
   * consumed; the rest is the start of a record that continues in the next block. With
   * `eof`, everything is consumed. Blank lines carry no data and are skipped.
   */
  scan(text: string, eof: boolean, out: CsvRecord[]): number {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === LF) {
        i++;
        this.line++;
        continue;
      }
      if (c === CR) {
        if (i + 1 === n && !eof) break; // may be the first half of a CRLF
        i += text.charCodeAt(i + 1) === LF ? 2 : 1;
        this.line++;
        continue;
      }
      const end = this.record(text, i, eof);
      if (end < 0) break;
      out.push({ line: this.line, fields: this.fields, raw: text.slice(i, this.contentEnd), error: this.error });
      this.line += 1 + this.breaks;
      i = end;
    }
    return i;
  }

  /** Parses one record from `i`; returns the index after its line end, or -1 when it may continue past the text. */
  private record(text: string, i: number, eof: boolean): number {
    const n = text.length;
    const d = this.d;
    const q = this.q;
    const fields: string[] = [];
    let error: CsvRecordError | undefined;
    let breaks = 0;
    let c: number;
    for (;;) {
      if (i < n && text.charCodeAt(i) === q) {
        let value = '';
        let j = i + 1;
        for (;;) {
          const k = text.indexOf(this.qs, j);
          if (k === -1) {
            if (!eof) return -1;
            // Unterminated at the end of the file: keep what is there so the rejected file shows it.
            breaks += countBreaks(text, j, n);
            fields.push(value + text.slice(j));
            this.set(fields, error ?? ERR_UNTERMINATED, breaks, n);
            return n;
          }
          if (k + 1 === n && !eof) return -1; // a doubled quote may be split across blocks
          breaks += countBreaks(text, j, k);
          if (text.charCodeAt(k + 1) === q) {
            value += text.slice(j, k + 1);
            j = k + 2;
            continue;
          }
          value += text.slice(j, k);
          i = k + 1;
          break;
        }
        if (i === n && !eof) return -1;
        c = i < n ? text.charCodeAt(i) : -1;
        if (c !== d && c !== LF && c !== CR && c !== -1) {
          // `"ab"cd,`: keep the stray text in the field (nothing silently lost) and flag the record.
          error ??= ERR_TEXT_AFTER_QUOTE;
          let j = i;
          while (j < n) {
            c = text.charCodeAt(j);
            if (c === d || c === LF || c === CR) break;
            j++;
          }
          if (j === n) {
            if (!eof) return -1;
            c = -1;
          }
          value += text.slice(i, j);
          i = j;
        }
        fields.push(value);
      } else {
        let j = i;
        c = -1;
        const special = this.maxSpecial;
        while (j < n) {
          c = text.charCodeAt(j);
          // Most characters are above every special one: one comparison and on.
          if (c > special) {
            j++;
            continue;
          }
          if (c === d || c === LF || c === CR) break;
          if (c === q) error ??= ERR_QUOTE_IN_UNQUOTED;
          j++;
        }
        if (j === n) {
          if (!eof) return -1;
          c = -1;
        }
        fields.push(text.slice(i, j));
        i = j;
      }
      // Here c is the character at i: a delimiter, a line end, or -1 at the end of the file.
      if (c === d) {
        i++;
        continue;
      }
      const contentEnd = i;
      if (c === LF) i++;
      else if (c === CR) {
        if (i + 1 === n && !eof) return -1;
        i += text.charCodeAt(i + 1) === LF ? 2 : 1;
      }
      this.set(fields, error, breaks, contentEnd);
      return i;
    }
  }

  private set(fields: string[], error: CsvRecordError | undefined, breaks: number, contentEnd: number): void {
    this.fields = fields;
    this.error = error;
    this.breaks = breaks;
    this.contentEnd = contentEnd;
  }
}

// ---------------------------------------------------------------------------------------
// The header.
// ---------------------------------------------------------------------------------------

const MAX_LISTED = 20;
const MAX_NAME_CHARS = 64;

/**
 * Compares a header with the dataset's columns (their source names); undefined when it
 * matches (cells trimmed; ignoring case when asked).
 */
export function headerProblem(header: readonly string[], expected: readonly string[], ignoreCase = false): HeaderProblem | undefined {
  const fold = ignoreCase ? foldHeaderName : (h: string) => h;
  const cells = header.map((h) => h.trim());
  const folded = cells.map(fold);
  const want = expected.map(fold);
  if (cells.length === expected.length && folded.every((h, i) => h === want[i])) return undefined;
  const wantSet = new Set(want);
  const have = new Set(folded);
  const missing = expected.filter((_, i) => !have.has(want[i]));
  const unexpectedAll = cells.filter((_, i) => !wantSet.has(folded[i]));
  const seen = new Set<string>();
  const duplicated = [...new Set(cells.filter((_, i) => (seen.has(folded[i]) ? true : (seen.add(folded[i]), false))))].filter((h) => wantSet.has(fold(h)));
  // If no cell is a dataset column, the "header" may well be a row of data (a file sent
  // without its header): then its cells are personal data and are only counted. Cells that
  // name columns once case is ignored are names, not data.
  const upper = new Set(expected.map(foldHeaderName));
  const caseOnly = !ignoreCase && unexpectedAll.length > 0 && cells.every((h) => upper.has(foldHeaderName(h)));
  const looksLikeHeader = caseOnly || folded.some((h) => wantSet.has(h));
  const unexpected = looksLikeHeader ? unexpectedAll.slice(0, MAX_LISTED).map((h) => (h.length > MAX_NAME_CHARS ? `${h.slice(0, MAX_NAME_CHARS)}...` : h)) : [];
  const outOfOrder = missing.length === 0 && unexpectedAll.length === 0 && duplicated.length === 0;
  return { missing, unexpected, unexpectedCount: unexpectedAll.length, duplicated, outOfOrder, ...(caseOnly ? { caseOnly } : {}) };
}

function listed(names: readonly string[]): string {
  return `${names.slice(0, MAX_LISTED).join(', ')}${names.length > MAX_LISTED ? `, ... (${names.length} in all)` : ''}`;
}

function describeHeaderProblem(p: HeaderProblem): string {
  if (p.caseOnly) {
    return (
      "the header does not match the dataset's columns: its names differ from the columns' source names only in case " +
      `(${p.unexpectedCount} of them); set source.headerMatch: case_insensitive in the dataset config, or give each column its header name with source: NAME`
    );
  }
  const parts: string[] = [];
  if (p.missing.length > 0) parts.push(`expected column(s) missing from the header: ${listed(p.missing)}`);
  if (p.unexpectedCount > 0) {
    parts.push(
      p.unexpected.length > 0
        ? `${p.unexpectedCount} column(s) in the header that the dataset does not describe: ${p.unexpected.join(', ')}${p.unexpectedCount > p.unexpected.length ? ', ...' : ''}`
        : `none of the first line's ${p.unexpectedCount} cells names a column of this dataset: if the file has a header, give each column its header name with source: NAME; if it has none, set header: false with columnCount`,
    );
  }
  if (p.duplicated.length > 0) parts.push(`duplicated column(s): ${p.duplicated.join(', ')}`);
  if (p.outOfOrder) parts.push('the columns are all there but in a different order');
  return `the header does not match the dataset's columns: ${parts.join('; ')}`;
}

// ---------------------------------------------------------------------------------------
// The reader.
// ---------------------------------------------------------------------------------------

/**
 * With no header declared, the first record is the supplier's first row of data: it must have
 * the declared number of fields (else the columns cannot be the listed ones), and must not be
 * a header (its cells all naming columns), which would otherwise be read, and rejected, as data.
 */
function checkFirstRecord(first: CsvRecord, options: CsvReadOptions): void {
  if (first.error !== undefined) return;
  const expected = options.expectedColumns;
  if (expected !== undefined && first.fields.length > 0) {
    const names = new Set(expected.map(foldHeaderName));
    if (first.fields.every((f) => names.has(foldHeaderName(f.trim())))) {
      throw new CsvFileError(
        'unexpected_header',
        'the first line is a header (every cell names a column), but the dataset config says header: false: set header: true (and remove columnCount)',
      );
    }
  }
  if (options.columnCount !== undefined && first.fields.length !== options.columnCount) {
    throw new CsvFileError(
      'column_count_mismatch',
      `the first record has ${first.fields.length} field(s), but the dataset declares ${options.columnCount} columns in order (header: false): ` +
        "check the supplier's file layout against the dataset's column list",
    );
  }
}

/**
 * Reads CSV records in batches (one per decoded block): the fast interface for ingestion.
 * Throws `CsvFileError` when the whole file must be quarantined.
 */
export async function* readCsvBatches(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvReadOptions = {},
): AsyncGenerator<CsvRecord[]> {
  const encoding = options.encoding ?? 'utf-8';
  const continuation = options.continuation ?? false;
  const header = !continuation && (options.header ?? true);
  const maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const scanner = new CsvScanner(options.delimiter ?? ',', options.quote ?? '"');
  scanner.line = options.startLine ?? 1;
  let seenFirst = false;

  /** Takes the header off the first batch and checks it. */
  const afterHeader = (records: CsvRecord[]): CsvRecord[] => {
    if (seenFirst || records.length === 0) return records;
    seenFirst = true;
    if (!header) {
      if (continuation) return records;
      checkFirstRecord(records[0], options);
      return records;
    }
    const first = records[0];
    if (first.error !== undefined) throw new CsvFileError('malformed_header', `the header line is malformed: ${first.error.message}`);
    if (options.expectedColumns !== undefined) {
      const problem = headerProblem(first.fields, options.expectedColumns, options.headerIgnoreCase ?? false);
      if (problem !== undefined) throw new CsvFileError('header_mismatch', describeHeaderProblem(problem), problem);
    }
    return records.slice(1);
  };

  let carry = '';
  let parts: string[] = [];
  let partsChars = 0;
  // A record longer than a block is re-scanned from its start when more text arrives; waiting
  // until the text has doubled keeps that linear overall (a 1 MB field is not quadratic).
  let rescanAt = 0;
  let last: string | undefined;
  for await (const block of decodeBlocks(source, encoding, continuation)) {
    if (last !== undefined) {
      parts.push(last);
      partsChars += last.length;
    }
    last = block;
    if (carry.length + partsChars < rescanAt || parts.length === 0) continue;
    // Array.join builds one flat string; `carry + block` would build a cons string, which
    // every charCodeAt would then have to unwrap (measured: about a third slower).
    const text = parts.length === 1 && carry.length === 0 ? parts[0] : [carry, ...parts].join('');
    parts = [];
    partsChars = 0;
    const out: CsvRecord[] = [];
    const used = scanner.scan(text, false, out);
    carry = text.slice(used);
    if (carry.length > maxRecordChars) {
      throw new CsvFileError(
        'record_too_large',
        `the record starting on line ${scanner.line} runs past ${maxRecordChars} characters (is a quote never closed?)`,
      );
    }
    rescanAt = carry.length > BLOCK_BYTES ? 2 * carry.length : 0;
    const records = afterHeader(out);
    if (records.length > 0) yield records;
  }
  // The decoder's last block (flagged final) is always the last yielded: scan it with eof.
  const text = [carry, ...parts, last ?? ''].join('');
  const out: CsvRecord[] = [];
  scanner.scan(text, true, out);
  const records = afterHeader(out);
  if (!seenFirst && !continuation) throw new CsvFileError('empty_file', header ? 'the file is empty: not even a header line' : 'the file is empty: no records');
  if (records.length > 0) yield records;
}

/** The same records one at a time: convenient where speed does not matter. */
export async function* readCsv(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvReadOptions = {},
): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(source, options)) yield* batch;
}
