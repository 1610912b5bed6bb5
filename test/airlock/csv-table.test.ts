import { formatCsvTable, parseCsvTable } from '../../lib/airlock/csv-table';

const parse = (text: string | Buffer, max = 1000) => parseCsvTable(typeof text === 'string' ? Buffer.from(text) : text, max);

describe('parseCsvTable reads a plain table', () => {
  test.each([
    ['LF line ends', 'a,b\n1,2\n3,4\n'],
    ['CRLF line ends', 'a,b\r\n1,2\r\n3,4\r\n'],
    ['no final line end', 'a,b\n1,2\n3,4'],
    ['a UTF-8 byte order mark', '\uFEFFa,b\n1,2\n3,4\n'],
    ['trailing blank lines', 'a,b\n1,2\n3,4\n\n\n'],
  ])('%s', (_name, text) => {
    expect(parse(text)).toEqual({
      ok: true,
      table: {
        columns: ['a', 'b'],
        rows: [
          ['1', '2'],
          ['3', '4'],
        ],
      },
    });
  });

  test('quoted fields with commas, quotes and line breaks', () => {
    const result = parse('name,n\n"Barnet, North",12\n"say ""hi""",3\n"two\nlines",9\n');
    expect(result).toEqual({
      ok: true,
      table: {
        columns: ['name', 'n'],
        rows: [
          ['Barnet, North', '12'],
          ['say "hi"', '3'],
          ['two\nlines', '9'],
        ],
      },
    });
  });

  test('round trip through formatCsvTable', () => {
    const table = {
      columns: ['area', 'n'],
      rows: [
        ['Barnet, North', '[c]'],
        ['say "hi"', '10'],
        [' padded', '0'],
      ],
    };
    expect(parse(formatCsvTable(table))).toEqual({ ok: true, table });
  });
});

describe('parseCsvTable refuses what is not a table', () => {
  test.each([
    ['too_large', 'a,b\n1,2\n', 5],
    ['empty', '', 1000],
    ['empty', '\n\n', 1000],
    ['binary', Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0x00, 0x01, 0x0a]), 1000],
    ['not_utf8', Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0xff, 0xfe, 0x2c, 0x31, 0x0a]), 1000],
    ['ragged', 'a,b\n1,2\n3\n', 1000],
    ['ragged', 'a,b\n1,2\n\n3,4\n', 1000],
    ['ragged', 'a,b\n1,2,3\n', 1000],
    ['unterminated_quote', 'a,b\n"1,2\n', 1000],
    ['unterminated_quote', 'a,b\n1"x,2\n', 1000],
    ['unterminated_quote', 'a,b\n"1"x,2\n', 1000],
    ['bad_header', 'a,,c\n1,2,3\n', 1000],
    ['bad_header', 'a,A\n1,2\n', 1000],
    ['no_rows', 'a,b\n', 1000],
    ['not_comma_separated', 'a\tb\n1\t2\n', 1000],
  ] as const)('%s', (code, text, max) => {
    const result = parse(text as string | Buffer, max);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.reason.length).toBeGreaterThan(10);
    }
  });

  test('a refusal never quotes the content', () => {
    const result = parse('nhs,b\n"9990000018,2\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toContain('9990000018');
  });
});
