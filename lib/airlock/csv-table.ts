/**
 * Reading an output file as a table, and writing a checked table back out.
 *
 * Only a plain, rectangular, comma-separated UTF-8 table with one header row can be
 * checked, so anything else (binary, another encoding, ragged rows, an unterminated
 * quote, no data rows) is refused rather than guessed at: a checker that guesses can
 * be steered around. Refusal reasons never quote the file's content.
 */

export interface Table {
  readonly columns: readonly string[];
  /** Data rows, each exactly `columns.length` fields. */
  readonly rows: readonly (readonly string[])[];
}

export type TableRefusalCode =
  'too_large' | 'empty' | 'binary' | 'not_utf8' | 'unterminated_quote' | 'ragged' | 'bad_header' | 'no_rows' | 'not_comma_separated';

export type ParseResult = { readonly ok: true; readonly table: Table } | { readonly ok: false; readonly code: TableRefusalCode; readonly reason: string };

const BOM = '\uFEFF';

/**
 * Parses RFC 4180 CSV (quotes doubled inside quoted fields; CRLF or LF line ends). A
 * final line end and blank lines at the end are ignored; a blank line inside is a row
 * with the wrong number of fields.
 */
export function parseCsvTable(bytes: Uint8Array, maxBytes: number): ParseResult {
  if (bytes.length > maxBytes) {
    return {
      ok: false,
      code: 'too_large',
      reason: `the file is ${bytes.length} bytes; the airlock checks files of at most ${maxBytes} bytes (a results table that large is almost certainly row-level data)`,
    };
  }
  if (bytes.length === 0) return { ok: false, code: 'empty', reason: 'the file is empty' };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    // Tab, LF and CR are the only control characters a CSV table has.
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) {
      return {
        ok: false,
        code: 'binary',
        reason: `the file holds a control byte (0x${b.toString(16).padStart(2, '0')}) at offset ${i}: it is not a text table`,
      };
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, code: 'not_utf8', reason: 'the file is not valid UTF-8 text: save the table as UTF-8 CSV' };
  }
  if (text.startsWith(BOM)) text = text.slice(BOM.length);

  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let fieldStartedQuoted = false;
  let line = 1;
  let quoteLine = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field.length > 0 || fieldStartedQuoted) {
        return {
          ok: false,
          code: 'unterminated_quote',
          reason: `line ${line}: a quote inside an unquoted field; quote the whole field and double the quotes inside it`,
        };
      }
      quoted = true;
      fieldStartedQuoted = true;
      quoteLine = line;
    } else if (c === ',') {
      record.push(field);
      field = '';
      fieldStartedQuoted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      fieldStartedQuoted = false;
      line++;
    } else {
      if (fieldStartedQuoted) {
        return { ok: false, code: 'unterminated_quote', reason: `line ${line}: text after the closing quote of a field` };
      }
      field += c;
    }
  }
  if (quoted) return { ok: false, code: 'unterminated_quote', reason: `line ${quoteLine}: a quoted field is never closed` };
  if (field.length > 0 || fieldStartedQuoted || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  // Trailing blank lines (a record of one empty field) carry nothing.
  while (records.length > 0 && records[records.length - 1].length === 1 && records[records.length - 1][0] === '') records.pop();
  if (records.length === 0) return { ok: false, code: 'empty', reason: 'the file has no header row' };

  const columns = records[0].map((c) => c.trim());
  if (columns.length === 1 && /[\t;|]/.test(records[0][0])) {
    return {
      ok: false,
      code: 'not_comma_separated',
      reason: 'the header has one column holding tabs, semicolons or bars: the airlock reads comma-separated tables only',
    };
  }
  const blank = columns.findIndex((c) => c === '');
  if (blank >= 0) return { ok: false, code: 'bad_header', reason: `header column ${blank + 1} has no name: every column needs one` };
  const seen = new Map<string, number>();
  for (let i = 0; i < columns.length; i++) {
    const key = columns[i].toLowerCase();
    if (seen.has(key)) return { ok: false, code: 'bad_header', reason: `header columns ${seen.get(key)! + 1} and ${i + 1} have the same name "${columns[i]}"` };
    seen.set(key, i);
  }
  const rows = records.slice(1);
  if (rows.length === 0) return { ok: false, code: 'no_rows', reason: 'the table has a header but no data rows' };
  for (let r = 0; r < rows.length; r++) {
    if (rows[r].length !== columns.length) {
      return {
        ok: false,
        code: 'ragged',
        reason: `data row ${r + 1} has ${rows[r].length} field${rows[r].length === 1 ? '' : 's'}; the header has ${columns.length}: the file is not a rectangular table`,
      };
    }
  }
  return { ok: true, table: { columns, rows } };
}

function quoteField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Writes a table as CSV: LF line ends, a final line end, fields quoted only when needed. */
export function formatCsvTable(table: Table): string {
  return [table.columns, ...table.rows].map((row) => row.map(quoteField).join(',')).join('\n') + '\n';
}
