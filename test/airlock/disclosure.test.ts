/**
 * Worked examples, each computed by hand in the comments, and properties over random
 * tables. Threshold 7 (counts 1..7 suppressed), base 5, dominance (2, 90) unless stated.
 */
import fc from 'fast-check';
import { checkOutputFile } from '../../lib/airlock/disclosure';
import { renderFileReport } from '../../lib/airlock/report';
import { classifyTable } from '../../lib/airlock/table-shape';
import { parseCsvTable } from '../../lib/airlock/csv-table';
import { csv, rowsOf, SETTINGS } from './helpers';

const check = (text: string, extra: Partial<Parameters<typeof checkOutputFile>[0]> = {}, settings = SETTINGS) =>
  checkOutputFile({ name: 'out.csv', bytes: csv(text), ...extra }, settings);

describe('worked examples', () => {
  test('secondary suppression with a totals row and column (wide table)', () => {
    // Primary: A/F = 5 (1..7). Lines: each column over area (incl. Total) and each row
    // across F, M, total.
    // Pass 1: column F {A/F*, B/F 22, C/F 18, T 45}: one suppressed -> smallest ordinary
    //   non-zero cell: C/F 18. Row A {A/F*, A/M 30, A/total 35}: prefer the ordinary cell
    //   over the total -> A/M 30. Row C {C/F*, C/M 26, C/total 44} -> C/M 26.
    // Pass 2: column F has A/F, C/F; column M has A/M, C/M; rows A and C two each: done.
    // Rounding to 5: 22->20, 41->40, 63->65, 44->45, 45->45, 97->95, 142->140, 35->35.
    const result = check(`
area,F,M,total
A,5,30,35
B,22,41,63
C,18,26,44
Total,45,97,142
`);
    expect(result.outcome).toBe('changed');
    expect(rowsOf(result.output)).toEqual([
      ['area', 'F', 'M', 'total'],
      ['A', '[c]', '[c]', '35'],
      ['B', '20', '40', '65'],
      ['C', '[c]', '[c]', '45'],
      ['Total', '45', '95', '140'],
    ]);
    const suppressions = result.report.changes.filter((c) => c.action === 'suppressed').map((c) => [c.row, c.column, c.rule, c.from]);
    expect(suppressions).toEqual([
      [1, 'F', 'threshold', '5'],
      [1, 'M', 'secondary', '30'],
      [3, 'F', 'secondary', '18'],
      [3, 'M', 'secondary', '26'],
    ]);
    expect(result.report.table?.totals).toEqual(['column "total" is a total column (by its name)', 'data row 4 is a total row (labelled in "area")']);
  });

  test('a one-way table: zero kept, the smallest non-zero cell protects the small one', () => {
    // 4 -> [c] (primary). The column total would give it away: complement = 123 (the
    // only non-zero other cell; the zero is kept as zero). 0 rounds to 0.
    const result = check(`
age_band,patients
0-17,4
18-64,123
65+,0
`);
    expect(rowsOf(result.output)).toEqual([
      ['age_band', 'patients'],
      ['0-17', '[c]'],
      ['18-64', '[c]'],
      ['65+', '0'],
    ]);
  });

  test('a long two-way table where primary suppression alone protects (no secondary)', () => {
    // 3, 5, 2, 6 are all 1..7 and form a 2x2 block: every line holds 0 or 2 of them.
    // Rounding: 40 -> 40, 52 -> 50.
    const result = check(`
area,sex,count
A,F,3
A,M,5
B,F,2
B,M,6
C,F,40
C,M,52
`);
    expect(rowsOf(result.output).slice(1)).toEqual([
      ['A', 'F', '[c]'],
      ['A', 'M', '[c]'],
      ['B', 'F', '[c]'],
      ['B', 'M', '[c]'],
      ['C', 'F', '40'],
      ['C', 'M', '50'],
    ]);
    expect(result.report.checks.find((c) => c.id === 'secondary')?.outcome).toBe('passed');
  });

  test('a long two-way table that needs secondary suppression', () => {
    // Primary: A/F 3, A/M 5. Line sex=F {A/F*, B/F 20, C/F 12} -> C/F 12; line sex=M
    // {A/M*, B/M 30, C/M 9} -> C/M 9. Lines area=A and area=C then hold two each.
    const result = check(`
area,sex,count
A,F,3
A,M,5
B,F,20
B,M,30
C,F,12
C,M,9
`);
    expect(
      rowsOf(result.output)
        .slice(1)
        .map((r) => r[2]),
    ).toEqual(['[c]', '[c]', '20', '30', '[c]', '[c]']);
  });

  test('a table that needs nothing is released byte for byte', () => {
    const text = 'area,patients\nA,20\nB,35\n';
    const result = check(text);
    expect(result.outcome).toBe('unchanged');
    expect(Buffer.from(result.output!).toString()).toBe(text);
    expect(result.report.output?.sha256).toBe(result.report.input.sha256);
  });

  test('a count that rounding would carry into 1..threshold is suppressed (threshold 7, base 6)', () => {
    // 8 rounds to 6 with base 6, and 6 is in 1..7: suppressed. 10 rounds to 12.
    const settings = { ...SETTINGS, roundingBase: 6 };
    expect(rowsOf(check('total_patients\n8\n', {}, settings).output)).toEqual([['total_patients'], ['[c]']]);
    expect(rowsOf(check('total_patients\n10\n', {}, settings).output)).toEqual([['total_patients'], ['12']]);
  });

  test('statistics in a row with a suppressed count are suppressed with it', () => {
    // A: 5 -> [c]; complement in the column: C 64 (smaller than B 120). mean_age of row A
    // goes as a mean over 5 people (group size), of row C as linked to its suppressed count.
    const result = check(`
area,patients,mean_age
A,5,41.2
B,120,38.5
C,64,40.1
`);
    expect(rowsOf(result.output).slice(1)).toEqual([
      ['A', '[c]', '[c]'],
      ['B', '120', '38.5'],
      ['C', '[c]', '[c]'],
    ]);
    expect(result.report.changes.filter((c) => c.column === 'mean_age').map((c) => [c.row, c.rule])).toEqual([
      [1, 'group_size'],
      [3, 'linked'],
    ]);
    expect(result.outcome).toBe('changed');
  });

  test('a magnitude table: dominance, then secondary suppression', () => {
    // A: 8 contributors, top two 500+390 = 89% of 1000: under 90%, safe; the others are
    // 110, 22% of the largest: p-ratio safe. B: 8 contributors, top two 800+50 = 94.4% of
    // 900: sensitive -> [c]. C: 9 contributors of 100: top two 22%, safe. Column line
    // {A, B*, C}: complement C (900 < 1000). The sums are whole: checked as counts too.
    const contributions = [
      ...[500, 390, 30, 20, 20, 20, 10, 10].map((v) => `A,${v}`),
      ...[800, 50, 10, 10, 10, 10, 5, 5].map((v) => `B,${v}`),
      ...Array.from({ length: 9 }, () => 'C,100'),
    ].join('\n');
    const result = check('area,cost\nA,1000\nB,900\nC,900\n', { spec: { magnitudeColumns: ['cost'] }, contributions: csv(`area,cost\n${contributions}\n`) });
    expect(result.outcome).toBe('changed');
    expect(rowsOf(result.output).slice(1)).toEqual([
      ['A', '1000'],
      ['B', '[c]'],
      ['C', '[c]'],
    ]);
    expect(result.report.changes.map((c) => [c.row, c.rule])).toEqual([
      [2, 'nk_dominance'],
      [3, 'secondary'],
    ]);
  });

  test('a magnitude table with a total row: the total takes every contribution', () => {
    // A: 8 x 10 = 80 (top two 25%). B: 600 + 7 x 10 = 670, top two 610/670 = 91% > 90: [c].
    // Total: 750 over 16 contributors, top two 610/750 = 81%: safe. Line {A, B*, Total}: the
    // ordinary cell A is chosen before the total.
    const contributions = [...Array.from({ length: 8 }, () => 'A,10'), 'B,600', ...Array.from({ length: 7 }, () => 'B,10')].join('\n');
    const result = check('area,cost\nA,80\nB,670\nTotal,750\n', { spec: { magnitudeColumns: ['cost'] }, contributions: csv(`area,cost\n${contributions}\n`) });
    expect(rowsOf(result.output).slice(1)).toEqual([
      ['A', '[c]'],
      ['B', '[c]'],
      ['Total', '750'],
    ]);
  });

  test('a magnitude table with too few contributors in a cell', () => {
    const contributions = [
      ...Array.from({ length: 8 }, () => 'A,10'),
      ...Array.from({ length: 3 }, () => 'B,10'),
      ...Array.from({ length: 8 }, () => 'C,20'),
    ].join('\n');
    const result = check('area,cost\nA,80\nB,30\nC,160\n', { spec: { magnitudeColumns: ['cost'] }, contributions: csv(`area,cost\n${contributions}\n`) });
    expect(result.report.changes.map((c) => [c.row, c.rule])).toEqual([
      [1, 'secondary'],
      [2, 'magnitude_contributors'],
    ]);
  });

  test('the text report says what was checked, changed and why', () => {
    const text = renderFileReport(check('age_band,patients\n0-17,4\n18-64,123\n65+,0\n').report);
    expect(text).toMatch(/minimum frequency \(threshold\): 1 count from 1 to 7 suppressed/);
    expect(text).toMatch(/row 1, patients: 4 -> \[c\] \(minimum frequency \(threshold\): a count from 1 to 7\)/);
    expect(text).toMatch(
      /row 2, patients: 123 -> \[c\] \(secondary suppression: otherwise the suppressed cell in row 1, patients could be worked out from the total over "age_band"\)/,
    );
    // The zero is left to a reviewer (ACRO zeros_are_disclosive), and every rule cites its source.
    expect(text).toMatch(/zeros:patients \(REVIEW, zeros\)/);
    expect(text).toMatch(/ACRO safe_threshold 10/);
  });
});

describe('refusals', () => {
  test.each([
    ['not a table (ragged)', 'a,b\n1\n', 'file_format'],
    ['binary', '\u0000\u0001', 'file_format'],
    ['empty', '', 'file_format'],
    ['a pseudonym column', `person,n\n${'c'.repeat(64)},12\n`, 'row_level'],
    ['an NHS number', 'ref,n\n9990000018,12\n', 'row_level'],
    ['a full postcode', 'postcode,n\nN1 9GU,40\n', 'row_level'],
    ['dates of birth', 'date_of_birth,n\n1990-01-01,40\n', 'row_level'],
  ])('%s', (_name, text, check_) => {
    const result = check(text);
    expect(result.outcome).toBe('refused');
    expect(result.output).toBeUndefined();
    expect(result.report.refusals[0].check).toBe(check_);
    expect(result.report.changes).toEqual([]);
  });

  test('a file over the size limit', () => {
    const result = check('a,n\nx,12\n', {}, { ...SETTINGS, maxFileBytes: 5 });
    expect(result.report.refusals[0]).toMatchObject({ check: 'file_format', rule: 'too_large' });
  });

  test('one row per person', () => {
    const rows = Array.from({ length: 25 }, (_, i) => `R${i},${i % 3 === 0 ? 'asthma' : 'copd'}`).join('\n');
    expect(check(`ref,diagnosis\n${rows}\n`).report.refusals).toEqual([expect.objectContaining({ check: 'row_level', rule: 'row_per_person', column: 'ref' })]);
  });

  test('labels naming a column the table does not have', () => {
    expect(check('area,n\nA,12\n', { spec: { countColumns: ['patients'] } }).report.refusals[0].reason).toMatch(
      /names count column "patients", which the table does not have/,
    );
  });

  test('a magnitude table without contributions goes to a reviewer; contributions that do not add up are refused', () => {
    const unchecked = check('area,cost\nA,1000\n', { spec: { magnitudeColumns: ['cost'] } });
    expect(unchecked.outcome).toBe('review');
    expect(unchecked.report.findings.map((f) => f.rule)).toContain('magnitude_unchecked');
    const bad = check('area,cost\nA,1000\n', { spec: { magnitudeColumns: ['cost'] }, contributions: csv('area,cost\nA,999\n') });
    expect(bad.report.refusals[0].reason).toMatch(/do not add up/);
  });
});

describe('column roles', () => {
  const shape = (text: string, spec = {}) => {
    const parsed = parseCsvTable(csv(text), 1e6);
    if (!parsed.ok) throw new Error(parsed.reason);
    return classifyTable(parsed.table, spec);
  };

  test('every numeric column is a count, whatever its name or leading zeros; names only flag it for a reviewer', () => {
    const s = shape('year,bnf_code,practice_code,age,items,n,rate\n2026,0208,01234,40,12,3,0.5\n2025,0209,01235,41,15,4,0.25\n');
    expect(s.countColumns).toEqual(['year', 'bnf_code', 'practice_code', 'age', 'items', 'n']);
    expect(s.categoryColumns).toEqual([]);
    expect(s.statisticColumns).toEqual(['rate']);
    expect(s.columns.filter((c) => c.looksCategorical).map((c) => c.name)).toEqual(['year', 'bnf_code', 'practice_code', 'age']);
  });

  test("the requester's labels only add checks: unnamed numeric columns stay counts", () => {
    const s = shape('ward_number,items,other\n1,12,5\n2,15,6\n', { countColumns: ['items'] });
    expect(s.countColumns).toEqual(['ward_number', 'items', 'other']);
    expect(s.categoryColumns).toEqual([]);
  });

  test("a reviewer's classification decides a column's role", () => {
    const s = classifyTable((parseCsvTable(csv('year,n\n2025,40\n2026,45\n'), 1e6) as { ok: true; table: Parameters<typeof classifyTable>[0] }).table, {}, [
      { column: 'year', role: 'category', reviewer: 'reviewer-a', time: '2026-11-22T09:00:00Z', reason: 'calendar year of admission' },
    ]);
    expect(s.categoryColumns).toEqual(['year']);
    expect(s.countColumns).toEqual(['n']);
    expect(s.columns[0]).toMatchObject({ decidedBy: 'reviewer' });
  });

  test('totals found by label, by name and by sum', () => {
    expect(shape('area,n\nA,3\nB,4\nAll,7\n').totalRows).toEqual([2]);
    expect(shape('area,n\nA,3\nB,4\nLondon,7\n').totalRows).toEqual([2]);
    expect(shape('area,f,m,x\nA,1,2,3\nB,4,5,9\n').totalColumns).toEqual(['x']);
    expect(shape('area,f,m,all_total\nA,1,2,9\n').totalColumns).toEqual(['all_total']);
  });
});

describe('properties over random frequency tables', () => {
  const table = fc.record({
    rows: fc.integer({ min: 1, max: 6 }),
    cols: fc.integer({ min: 1, max: 5 }),
    values: fc.array(fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 400 })), { minLength: 30, maxLength: 30 }),
    totals: fc.boolean(),
    threshold: fc.integer({ min: 1, max: 15 }),
    base: fc.integer({ min: 1, max: 12 }),
  });

  /** A wide table: area x columns c0..cN, optionally with a total column and a Total row. */
  function build(t: { rows: number; cols: number; values: number[]; totals: boolean }): { text: string; grid: number[][] } {
    const grid = Array.from({ length: t.rows }, (_, r) => Array.from({ length: t.cols }, (_, c) => t.values[r * t.cols + c]));
    if (t.totals) {
      for (const row of grid) row.push(row.reduce((a, b) => a + b, 0));
      grid.push(grid[0].map((_, c) => grid.reduce((a, row) => a + row[c], 0)));
    }
    const header = ['area', ...Array.from({ length: t.cols }, (_, c) => `c${c}`), ...(t.totals ? ['total'] : [])];
    const names = grid.map((_, r) => (t.totals && r === grid.length - 1 ? 'Total' : `area${r}`));
    return { text: [header.join(','), ...grid.map((row, r) => [names[r], ...row].join(','))].join('\n') + '\n', grid };
  }

  test('no released count is in 1..threshold, every released count is a multiple of the base, and no row or column has exactly one suppressed cell', () => {
    fc.assert(
      fc.property(table, (t) => {
        const { text } = build(t);
        const settings = { ...SETTINGS, suppressionThreshold: t.threshold, roundingBase: t.base };
        const result = checkOutputFile({ name: 't.csv', bytes: Buffer.from(text) }, settings);
        expect(result.outcome).not.toBe('refused');
        const out = rowsOf(result.output)
          .slice(1)
          .map((r) => r.slice(1));
        for (const row of out) {
          for (const v of row) {
            if (v === '[c]') continue;
            const n = Number(v);
            expect(Number.isInteger(n)).toBe(true);
            expect(n >= 1 && n <= t.threshold).toBe(false);
            expect(n % t.base).toBe(0);
          }
        }
        const width = out[0].length;
        // With one count column the only lines are the column; otherwise rows and columns.
        if (width > 1) for (const row of out) expect(row.filter((v) => v === '[c]').length).not.toBe(1);
        if (out.length > 1) for (let c = 0; c < width; c++) expect(out.filter((row) => row[c] === '[c]').length).not.toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  test('every suppression and rounding is listed in the report, cell by cell', () => {
    fc.assert(
      fc.property(table, (t) => {
        const { text, grid } = build(t);
        const result = checkOutputFile({ name: 't.csv', bytes: Buffer.from(text) }, { ...SETTINGS, suppressionThreshold: t.threshold, roundingBase: t.base });
        const out = rowsOf(result.output);
        const header = out[0];
        const listed = new Map(result.report.changes.map((c) => [`${c.row}/${c.column}`, c]));
        out.slice(1).forEach((row, r) =>
          row.slice(1).forEach((v, c) => {
            const original = String(grid[r][c]);
            const change = listed.get(`${r + 1}/${header[c + 1]}`);
            if (v === original) expect(change).toBeUndefined();
            else expect(change).toMatchObject({ from: original, to: v });
          }),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('spreadsheet formulas in a released table', () => {
  test('a cell or header a spreadsheet would run gets a leading quote', () => {
    const result = check('=group,patients\n=HYPERLINK(x),20\n-,35\n@SUM(A1),40\n');
    expect([result.outcome, result.report.refusals]).toEqual(['changed', []]);
    expect(rowsOf(result.output)).toEqual([
      ["'=group", 'patients'],
      ["'=HYPERLINK(x)", '20'],
      ["'-", '35'],
      ["'@SUM(A1)", '40'],
    ]);
  });
});
