import { formatCsv, formatJson, formatTable, neutraliseFormula } from '../../lib/reports/format';

const result = {
  columns: ['code', 'n'],
  rows: [
    ['=HYPERLINK("x")', 12],
    ['a,b', -3],
    [null, 0],
  ],
  tables: [],
  bytesScanned: 0,
};

describe('query output formats', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['+44 20', "'+44 20"],
    ['-cmd', "'-cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['-3', '-3'],
    ['-1.5', '-1.5'],
    ['plain', 'plain'],
  ])('neutralises formula injection: %p', (input, output) => {
    expect(neutraliseFormula(input)).toBe(output);
  });

  test('CSV quotes and neutralises, with CRLF line ends', () => {
    expect(formatCsv(result)).toBe(`code,n\r\n"'=HYPERLINK(""x"")",12\r\n"a,b",-3\r\n,0\r\n`);
  });

  test('JSON is one object per row', () => {
    expect(JSON.parse(formatJson(result))).toEqual([
      { code: '=HYPERLINK("x")', n: 12 },
      { code: 'a,b', n: -3 },
      { code: null, n: 0 },
    ]);
  });

  test('the table aligns columns', () => {
    expect(formatTable(result).split('\n')).toEqual([
      'code            | n',
      '----------------+---',
      '=HYPERLINK("x") | 12',
      'a,b             | -3',
      '                | 0',
    ]);
  });
});
