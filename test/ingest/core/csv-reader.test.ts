import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { CsvFileError, CsvReadOptions, CsvRecord, headerProblem, readCsv, readCsvBatches } from '../../../lib/ingest/core/csv-reader';
import { chunked, csvLine } from './datasets';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'csv');

async function read(input: string | Buffer, options: CsvReadOptions = { header: false }, sizes?: number[]): Promise<CsvRecord[]> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const out: CsvRecord[] = [];
  for await (const r of readCsv(chunked(bytes, sizes), options)) out.push(r);
  return out;
}

async function fileError(input: string | Buffer, options: CsvReadOptions = { header: false }, sizes?: number[]): Promise<CsvFileError> {
  try {
    await read(input, options, sizes);
  } catch (e) {
    if (e instanceof CsvFileError) return e;
    throw e;
  }
  throw new Error('expected a CsvFileError');
}

const NO_HEADER: CsvReadOptions = { header: false };

/** [fields, line, error code] per record: the shape the tables below are written in. */
const shape = (records: CsvRecord[]) => records.map((r) => [r.fields, r.line, r.error?.code ?? null]);

describe('CSV records (RFC 4180)', () => {
  // Every row names its options: jest would take a missing fourth argument for a `done` callback.
  const cases: [string, string, ReturnType<typeof shape>, CsvReadOptions][] = [
    [
      'LF line ends',
      'a,b\n1,2\n',
      [
        [['a', 'b'], 1, null],
        [['1', '2'], 2, null],
      ],
      NO_HEADER,
    ],
    [
      'CRLF line ends',
      'a,b\r\n1,2\r\n',
      [
        [['a', 'b'], 1, null],
        [['1', '2'], 2, null],
      ],
      NO_HEADER,
    ],
    [
      'CR-only line ends (old Mac)',
      'a,b\r1,2\r',
      [
        [['a', 'b'], 1, null],
        [['1', '2'], 2, null],
      ],
      NO_HEADER,
    ],
    [
      'no line end at the end of the file',
      'a,b\n1,2',
      [
        [['a', 'b'], 1, null],
        [['1', '2'], 2, null],
      ],
      NO_HEADER,
    ],
    [
      'empty fields and a trailing delimiter',
      ',,\nx,',
      [
        [['', '', ''], 1, null],
        [['x', ''], 2, null],
      ],
      NO_HEADER,
    ],
    ['a quoted delimiter', '"a,b",c\n', [[['a,b', 'c'], 1, null]], NO_HEADER],
    ['doubled quotes', '"say ""hi""",x\n', [[['say "hi"', 'x'], 1, null]], NO_HEADER],
    ['an empty quoted field', '"",x\n', [[['', 'x'], 1, null]], NO_HEADER],
    ['a quoted field at the end of the file', 'x,"y"', [[['x', 'y'], 1, null]], NO_HEADER],
    [
      'LF, CRLF and CR inside a quoted field count as lines',
      '"a\nb\r\nc\rd",1\nnext,2\n',
      [
        [['a\nb\r\nc\rd', '1'], 1, null],
        [['next', '2'], 5, null],
      ],
      NO_HEADER,
    ],
    [
      'blank lines are skipped but counted',
      'a\n\n\r\nb\n',
      [
        [['a'], 1, null],
        [['b'], 4, null],
      ],
      NO_HEADER,
    ],
    ['spaces are kept', ' a , b \n', [[[' a ', ' b '], 1, null]], NO_HEADER],
    ['semicolon delimiter', 'a;"b;c"\n', [[['a', 'b;c'], 1, null]], { header: false, delimiter: ';' }],
    ['tab delimiter', 'a\t"b\tc"\n', [[['a', 'b\tc'], 1, null]], { header: false, delimiter: '\t' }],
    ['pipe delimiter, single-quote quote', "a|'b|''c'''\n", [[['a', "b|'c'"], 1, null]], { header: false, delimiter: '|', quote: "'" }],
    [
      'a quote in an unquoted field is flagged',
      'ab"c,d\nok,1\n',
      [
        [['ab"c', 'd'], 1, 'quote_in_unquoted_field'],
        [['ok', '1'], 2, null],
      ],
      NO_HEADER,
    ],
    [
      'text after a closing quote is flagged and kept',
      '"ab"cd,e\nok,1\n',
      [
        [['abcd', 'e'], 1, 'text_after_closing_quote'],
        [['ok', '1'], 2, null],
      ],
      NO_HEADER,
    ],
    [
      'an unterminated quote at the end of the file is flagged',
      'ok,1\nx,"open\nmore',
      [
        [['ok', '1'], 1, null],
        [['x', 'open\nmore'], 2, 'unterminated_quote'],
      ],
      NO_HEADER,
    ],
    [
      'ragged rows are returned as they are (validation refuses them)',
      'a,b,c\n1,2\n1,2,3,4\n',
      [
        [['a', 'b', 'c'], 1, null],
        [['1', '2'], 2, null],
        [['1', '2', '3', '4'], 3, null],
      ],
      NO_HEADER,
    ],
    ['a NUL byte is passed on (validation refuses it)', 'a,b\u0000c\n', [[['a', 'b\u0000c'], 1, null]], NO_HEADER],
  ];

  test.each(cases)('%s', async (_name, input, expected, options) => {
    expect(shape(await read(input, options))).toEqual(expected);
  });

  test.each(cases)('%s: the same whatever the chunk boundaries', async (_name, input, expected, options) => {
    for (const sizes of [[1], [2], [3], [1, 4, 2], [7]]) {
      expect(shape(await read(input, options, sizes))).toEqual(expected);
    }
  });

  test('raw keeps the record text as it arrived, without its line end', async () => {
    const records = await read('x,"a ""q"" b"\r\ny,2');
    expect(records.map((r) => r.raw)).toEqual(['x,"a ""q"" b"', 'y,2']);
  });

  test('a 1 MB field is read whole, across many chunks, for validation to refuse', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const records = await read(`a,"${big}",c\nnext,1,2\n`, { header: false }, [65536]);
    expect(records.map((r) => [r.fields[1].length, r.line])).toEqual([
      [big.length, 1],
      [1, 2],
    ]);
  });

  test('records come in batches, one per decoded block', async () => {
    const text = Array.from({ length: 20000 }, (_, i) => `${i},row`).join('\n');
    let batches = 0;
    let rows = 0;
    for await (const batch of readCsvBatches(chunked(Buffer.from(text), [4096]), { header: false })) {
      batches++;
      rows += batch.length;
    }
    expect(rows).toBe(20000);
    expect(batches).toBeGreaterThan(1);
  });

  test('refuses a delimiter equal to the quote, or a line end', async () => {
    await expect(read('a', { delimiter: '"', quote: '"' })).rejects.toThrow(/must differ/);
    await expect(read('a', { delimiter: '\n' })).rejects.toThrow(/line-end/);
  });
});

describe('file-level problems: the whole file is quarantined', () => {
  const header = { header: true, expectedColumns: ['id', 'nhs_number', 'date_of_birth'] };

  test.each([
    ['a zero-byte file', ''],
    ['only a byte-order mark', '\uFEFF'],
    ['only line ends', '\n\r\n\n'],
  ])('%s is empty', async (_name, input) => {
    const e = await fileError(input, header);
    expect(e.code).toBe('empty_file');
  });

  test('a header-only file is valid with zero rows', async () => {
    expect(await read('id,nhs_number,date_of_birth\r\n', header)).toEqual([]);
    expect(await read('id,nhs_number,date_of_birth', header)).toEqual([]);
  });

  test('the header is checked, then not yielded; data starts on line 2', async () => {
    const records = await read(' id ,nhs_number,date_of_birth\n1,9990000018,1961-04-03\n', header);
    expect(shape(records)).toEqual([[['1', '9990000018', '1961-04-03'], 2, null]]);
  });

  test('a header with missing and unexpected columns names them', async () => {
    const e = await fileError('id,nhs_no,date_of_birth,extra\n', header);
    expect(e.code).toBe('header_mismatch');
    expect(e.header).toMatchObject({ missing: ['nhs_number'], unexpected: ['nhs_no', 'extra'], unexpectedCount: 2, outOfOrder: false });
    expect(e.message).toMatch(/missing from the header: nhs_number; 2 column\(s\) in the header that the dataset does not describe: nhs_no, extra/);
  });

  test('columns in another order are a mismatch', async () => {
    const e = await fileError('nhs_number,id,date_of_birth\n', header);
    expect(e.header?.outOfOrder).toBe(true);
    expect(e.message).toMatch(/different order/);
  });

  test('a duplicated column is named', async () => {
    const e = await fileError('id,nhs_number,nhs_number\n', header);
    expect(e.header).toMatchObject({ missing: ['date_of_birth'], duplicated: ['nhs_number'] });
  });

  test('a file sent without its header: the first row is data, so its cells are counted, never quoted', async () => {
    const e = await fileError('E1,9990000018,1961-04-03\n', header);
    expect(e.code).toBe('header_mismatch');
    expect(e.header?.unexpected).toEqual([]);
    expect(e.header?.unexpectedCount).toBe(3);
    expect(e.message).not.toMatch(/9990000018|1961/);
    expect(e.message).toMatch(/if it has none, set header: false/);
  });

  test('source names matched ignoring case when asked; otherwise the case-only difference is named with its fix', async () => {
    const expected = ['FYEAR', 'ADMIDATE', 'MYDOB'];
    const records = await read('fyear,AdmiDate,MYDOB\n0102,2001-04-03,011950\n', { header: true, expectedColumns: expected, headerIgnoreCase: true });
    expect(records.map((r) => r.fields)).toEqual([['0102', '2001-04-03', '011950']]);
    const e = await fileError('fyear,AdmiDate,MYDOB\n', { header: true, expectedColumns: expected });
    expect(e.code).toBe('header_mismatch');
    expect(e.header?.caseOnly).toBe(true);
    expect(e.message).toMatch(/only in case/);
    expect(e.message).toMatch(/headerMatch: case_insensitive/);
    // Ignoring case does not make a missing or unknown column acceptable.
    const m = await fileError('FYEAR,ADMI_DATE,MYDOB\n', { header: true, expectedColumns: expected, headerIgnoreCase: true });
    expect(m.header).toMatchObject({ missing: ['ADMIDATE'], unexpected: ['ADMI_DATE'] });
    // Only ASCII letters fold: a dotless ı or a long ſ (which upper-case to I and S) is not an I or an S.
    expect((await fileError('FYEAR,ADM\u0131DATE,MYDOB\n', { header: true, expectedColumns: expected, headerIgnoreCase: true })).code).toBe('header_mismatch');
    expect((await fileError('\u017fex\n', { header: true, expectedColumns: ['SEX'], headerIgnoreCase: true })).code).toBe('header_mismatch');
    expect(await read('sEx\n1\n', { header: true, expectedColumns: ['SEX'], headerIgnoreCase: true })).toHaveLength(1);
  });

  test('with no header, the first record must have the declared column count, and must not be a header', async () => {
    const positional: CsvReadOptions = { header: false, expectedColumns: ['id', 'nhs_number', 'date_of_birth'], columnCount: 3 };
    expect((await read('E1,9990000018,1961-04-03\n', positional)).map((r) => r.line)).toEqual([1]);
    const short = await fileError('E1,9990000018\nE2,9990000026\n', positional);
    expect(short.code).toBe('column_count_mismatch');
    expect(short.message).toMatch(/2 field\(s\).*declares 3 columns/);
    expect(short.message).not.toMatch(/9990000018/);
    const headed = await fileError('ID,nhs_number,Date_Of_Birth\nE1,9990000018,1961-04-03\n', positional);
    expect(headed.code).toBe('unexpected_header');
    expect(headed.message).toMatch(/set header: true/);
    // A continuation chunk starts mid-file: its first record is not the file's first.
    expect(await read('E1,9990000018\n', { ...positional, continuation: true })).toHaveLength(1);
  });

  test('a malformed header line', async () => {
    expect((await fileError('"id,nhs_number\n', header)).code).toBe('malformed_header');
  });

  test('a record still open beyond the limit (a quote never closed) stops the file', async () => {
    const e = await fileError(`a,"${'x'.repeat(300_000)}`, { header: false, maxRecordChars: 100_000 }, [65536]);
    expect(e.code).toBe('record_too_large');
  });
});

describe('encodings', () => {
  const opts = (encoding: CsvReadOptions['encoding']): CsvReadOptions => ({ header: true, expectedColumns: ['a', 'b'], encoding });

  test('a UTF-8 byte-order mark is stripped before the header is checked', async () => {
    expect(shape(await read('\uFEFFa,b\n1,é\n', opts('utf-8'), [1]))).toEqual([[['1', 'é'], 2, null]]);
  });

  test('multi-byte UTF-8 characters split across chunks', async () => {
    const text = 'a,b\n' + Array.from({ length: 50 }, (_, i) => `${i},Ünïcødé ✓ 𝄞 日本`).join('\n');
    for (const sizes of [[1], [2], [3], [5]]) {
      const records = await read(text, opts('utf-8'), sizes);
      expect(records).toHaveLength(50);
      expect(records.every((r) => r.fields[1] === 'Ünïcødé ✓ 𝄞 日本')).toBe(true);
    }
  });

  test.each([
    [
      'UTF-16LE with its byte-order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]),
      /UTF-16 little-endian byte-order mark/,
    ],
    ['UTF-16BE with its byte-order mark', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('a,b\n1,2\n', 'utf16le').swap16()]), /UTF-16 big-endian/],
    ['UTF-16LE without a byte-order mark (NUL-heavy)', Buffer.from('a,b\n1,2\n', 'utf16le'), /NUL/],
    ['Latin-1 bytes', Buffer.from('a,b\n1,caf\u00e9\n', 'latin1'), /invalid UTF-8 at byte offset 9/],
    ['a UTF-8 sequence cut short at the end', Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xe2, 0x9c])]), /invalid UTF-8/],
  ])('under utf-8, %s is the wrong encoding', async (_name, bytes, message) => {
    for (const sizes of [[bytes.length], [1], [3]]) {
      const e = await fileError(bytes, opts('utf-8'), sizes);
      expect(e.code).toBe('wrong_encoding');
      expect(e.message).toMatch(message);
    }
  });

  test('latin1 is decoded when configured', async () => {
    expect(shape(await read(Buffer.from('a,b\n1,caf\u00e9 \u00a9\n', 'latin1'), opts('latin1')))).toEqual([[['1', 'café ©'], 2, null]]);
  });

  test('latin1 configured but the file is UTF-8 with a byte-order mark', async () => {
    expect((await fileError(Buffer.from('\uFEFFa,b\n', 'utf8'), opts('latin1'))).code).toBe('encoding_mismatch');
  });

  test('windows-1252 is decoded when configured: curly quotes, dashes and the euro sign', async () => {
    const bytes = Buffer.from([...Buffer.from('a,b\n1,'), 0x93, 0x80, 0x35, 0x94, 0x20, 0x96, 0x20, 0xe9, 0x0a]);
    expect(shape(await read(bytes, opts('windows-1252'), [5]))).toEqual([[['1', '\u201c\u20ac5\u201d \u2013 \u00e9'], 2, null]]);
  });

  test.each(['latin1', 'windows-1252'] as const)(
    '%s configured but the file decodes as UTF-8 with multi-byte characters: encoding_mismatch',
    async (encoding) => {
      // Long enough that a two-byte character straddles a block boundary.
      const text = `a,b\n${'1,caf\u00e9 cr\u00e8me\n'.repeat(8000)}`;
      const error = await fileError(Buffer.from(text, 'utf8'), opts(encoding));
      expect(error.code).toBe('encoding_mismatch');
      expect(error.message).toMatch(/decodes as UTF-8.*set encoding: utf-8/);
    },
  );

  test('latin1 configured but the file has Windows-1252 bytes (0x80-0x9F): encoding_mismatch, not control characters in curated', async () => {
    const error = await fileError(Buffer.from([...Buffer.from('a,b\n1,'), 0x93, 0x68, 0x69, 0x94, 0xe9, 0x0a]), opts('latin1'));
    expect(error.code).toBe('encoding_mismatch');
    expect(error.message).toMatch(/set encoding: windows-1252/);
  });

  test('a real Latin-1 file (not UTF-8, no C1 bytes) is read under latin1 and windows-1252 alike', async () => {
    const bytes = Buffer.from('a,b\n1,caf\u00e9 \u00a9 \u00e8\n', 'latin1');
    for (const encoding of ['latin1', 'windows-1252'] as const)
      expect(shape(await read(bytes, opts(encoding)))).toEqual([[['1', 'caf\u00e9 \u00a9 \u00e8'], 2, null]]);
  });

  test('utf-16le is decoded when configured, with or without its byte-order mark, across odd chunk boundaries', async () => {
    const body = Buffer.from('a,b\r\n1,"é\r\n𝄞"\r\n', 'utf16le');
    for (const bytes of [Buffer.concat([Buffer.from([0xff, 0xfe]), body]), body]) {
      for (const sizes of [[bytes.length], [1], [3]]) {
        expect(shape(await read(bytes, opts('utf-16le'), sizes))).toEqual([[['1', 'é\r\n𝄞'], 2, null]]);
      }
    }
  });

  test('utf-16le configured but the file is 8-bit text', async () => {
    expect((await fileError('a,b\n1,2\n', opts('utf-16le'))).code).toBe('wrong_encoding');
  });

  test('utf-16le configured but an odd number of bytes', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le'), Buffer.from([0x41])]);
    expect((await fileError(bytes, opts('utf-16le'))).message).toMatch(/odd number of bytes/);
  });
});

describe('RFC 4180 round trip (property)', () => {
  // Cells over an alphabet rich in the characters that matter: delimiters, quotes, CR, LF.
  const cell = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', ';', '\t', '|', '"', "'", '\r', '\n', 'é', '𝄞'), maxLength: 12 });
  const table = fc
    .integer({ min: 1, max: 5 })
    .chain((width) => fc.array(fc.array(cell, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 15 }));

  /** RFC 4180 writer; a lone empty cell is written `""` so the row is not a blank line. */
  function write(rows: string[][], delimiter: string, quote: string, lineEnd: string, finalLineEnd: boolean): string {
    const lines = rows.map((r) => (r.length === 1 && r[0] === '' ? `${quote}${quote}` : csvLine(r, delimiter, quote)));
    return lines.join(lineEnd) + (finalLineEnd ? lineEnd : '');
  }

  test('random tables read back exactly, with the right line numbers, whatever the chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        table,
        fc.constantFrom(',', ';', '\t', '|'),
        fc.constantFrom('"', "'"),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }),
        async (rows, delimiter, quote, lineEnd, finalLineEnd, sizes) => {
          const text = write(rows, delimiter, quote, lineEnd, finalLineEnd);
          const records = await read(text, { header: false, delimiter, quote }, sizes);
          expect(records.map((r) => r.fields)).toEqual(rows);
          expect(records.every((r) => r.error === undefined)).toBe(true);
          // Line numbers: one more than the line breaks written before each record.
          let line = 1;
          rows.forEach((row, k) => {
            expect(records[k].line).toBe(line);
            line += 1 + row.reduce((n, c) => n + (c.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('real messy-CSV corpora (test/fixtures/csv, see SOURCES.md)', () => {
  function files(dir: string): string[] {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : /\.(csv|tsv)$/.test(e.name) ? [path.join(dir, e.name)] : []));
  }
  const all = files(FIXTURES);

  test('the corpus is there', () => {
    expect(all.length).toBeGreaterThanOrEqual(35);
  });

  test.each(all.map((f) => [path.relative(FIXTURES, f)]))('%s: read in every encoding without a crash', async (rel) => {
    const bytes = fs.readFileSync(path.join(FIXTURES, rel));
    for (const encoding of ['utf-8', 'latin1', 'utf-16le'] as const) {
      for (const sizes of [[bytes.length || 1], [7]]) {
        try {
          const records = await read(bytes, { header: false, encoding, delimiter: rel.endsWith('.tsv') ? '\t' : ',' }, sizes);
          expect(Array.isArray(records)).toBe(true);
        } catch (e) {
          // A refusal of the whole file is an answer; anything else is a crash.
          expect(e).toBeInstanceOf(CsvFileError);
        }
      }
    }
  });

  const spectrum = path.join(FIXTURES, 'csv-spectrum');
  const spectrumCases = fs
    .readdirSync(path.join(spectrum, 'csvs'))
    .map((f) => f.replace(/\.csv$/, ''))
    // Upstream quirk (SOURCES.md): its JSON does not match its CSV.
    .filter((name) => name !== 'location_coordinates');

  test.each(spectrumCases)('csv-spectrum %s matches its expected JSON', async (name) => {
    const bytes = fs.readFileSync(path.join(spectrum, 'csvs', `${name}.csv`));
    const expected = JSON.parse(fs.readFileSync(path.join(spectrum, 'json', `${name}.json`), 'utf8')) as Record<string, string>[];
    const [head, ...rows] = await read(bytes, { header: false }, [5]);
    expect(rows.map((r) => Object.fromEntries(head.fields.map((h, i) => [h, r.fields[i]])))).toEqual(expected);
  });

  const csvkit = (name: string) => fs.readFileSync(path.join(FIXTURES, 'csvkit-examples', name));

  test('csvkit: UTF-16 files are the wrong encoding under utf-8, and read under utf-16le', async () => {
    expect((await fileError(csvkit('test_utf16_little.csv'))).code).toBe('wrong_encoding');
    expect((await fileError(csvkit('test_utf16_big.csv'))).code).toBe('wrong_encoding');
    expect(shape(await read(csvkit('test_utf16_little.csv'), { header: true, encoding: 'utf-16le', expectedColumns: ['a', 'b', 'c'] }))).toEqual([
      [['1', '2', '3'], 2, null],
      [['4', '5', 'ʤ'], 3, null],
    ]);
  });

  test('csvkit: a Latin-1 file is the wrong encoding under utf-8, and read under latin1', async () => {
    expect((await fileError(csvkit('test_latin1.csv'))).code).toBe('wrong_encoding');
    const records = await read(csvkit('test_latin1.csv'), { header: true, encoding: 'latin1', expectedColumns: ['a', 'b', 'c'] });
    expect(records[1].fields).toEqual(['4', '5', '©']);
  });

  test('csvkit: BOM, CR-only lines, NUL byte, empty file, leading blank lines, real data', async () => {
    expect((await read(csvkit('test_utf8_bom.csv'), { header: true, expectedColumns: ['foo', 'bar', 'baz'] })).map((r) => r.fields)).toEqual([
      ['1', '2', '3'],
      ['4', '5', 'ʤ'],
    ]);
    expect((await read(csvkit('mac_newlines.csv'))).map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
      ['Once upon\ra time', '5', '6'],
    ]);
    expect((await read(csvkit('null_byte.csv')))[1].fields).toEqual(['\u0000', '2', '3']);
    expect((await fileError(csvkit('empty.csv'))).code).toBe('empty_file');
    expect((await read(csvkit('bad_skip_lines.csv')))[0]).toMatchObject({ line: 4, fields: ['column_a', 'column_b', 'column_c'] });
    expect(await read(csvkit('ks_1033_data.csv'), { header: false }, [4096])).toHaveLength(1576);
  });

  test('csvw: the CR-only manifest (quoted commas and quotes) reads completely', async () => {
    const records = await read(fs.readFileSync(path.join(FIXTURES, 'csvw-tests', 'manifest.csv')), { header: false }, [1000]);
    expect(records).toHaveLength(302);
    expect(records.every((r) => r.error === undefined)).toBe(true);
  });
});

describe('headerProblem', () => {
  test('undefined for an exact match, cells trimmed', () => {
    expect(headerProblem([' a', 'b '], ['a', 'b'])).toBeUndefined();
  });

  test('long unexpected names are cut', () => {
    const p = headerProblem(['a', 'x'.repeat(100)], ['a', 'b']);
    expect(p?.unexpected[0]).toHaveLength(67);
  });
});
