import fc from 'fast-check';
import { checkMagnitudeCell } from '../../lib/airlock/dominance';
import { exposedLines, gridLines, type GridCell, isPrimarySuppressed, roundToBase, secondarySuppression } from '../../lib/airlock/suppression';

describe('primary suppression and rounding', () => {
  test.each([
    [0, false], // zero is kept
    [1, true],
    [7, true],
    [8, false],
    [100, false],
  ])('count %i with threshold 7: suppressed %s', (value, expected) => expect(isPrimarySuppressed(value, 7)).toBe(expected));

  test.each([
    [0, 5, 0],
    [8, 5, 10],
    [10, 5, 10],
    [12, 5, 10],
    [13, 5, 15], // 12.5 is the midpoint: 13 is nearer 15
    [1002, 5, 1000],
    [1003, 5, 1005],
    [15, 10, 20], // a half goes up
    [25, 10, 30],
    [8, 6, 6],
    [17, 1, 17], // base 1: no rounding
  ])('round %i to base %i -> %i', (value, base, expected) => expect(roundToBase(value, base)).toBe(expected));
});

const cell = (coords: string[], value: number | null, isTotal = false): GridCell => ({ coords, value, isTotal });

describe('secondary suppression on a grid', () => {
  test('lines are every set of cells sharing all coordinates but one', () => {
    const cells = [cell(['A', 'F'], 1), cell(['A', 'M'], 2), cell(['B', 'F'], 3), cell(['B', 'M'], 4)];
    expect(gridLines(cells)).toEqual([
      { dimension: 0, members: [0, 2] },
      { dimension: 0, members: [1, 3] },
      { dimension: 1, members: [0, 1] },
      { dimension: 1, members: [2, 3] },
    ]);
  });

  test('a one-way table: the smallest non-zero other cell protects the suppressed one', () => {
    // 4 is suppressed; the line total would give it away, so 12 (smaller than 30, not zero) goes too.
    const cells = [cell(['a'], 4), cell(['b'], 30), cell(['c'], 0), cell(['d'], 12)];
    const result = secondarySuppression(cells, new Set([0]));
    expect([...result.suppressed].sort()).toEqual([0, 3]);
    expect(result.steps).toEqual([{ cell: 3, protects: 0, dimension: 0 }]);
  });

  test('a total is chosen only when no ordinary cell is left', () => {
    const cells = [cell(['a'], 4), cell(['b'], 30), cell(['total'], 34, true)];
    expect([...secondarySuppression(cells, new Set([0])).suppressed].sort()).toEqual([0, 1]);
    const onlyTotal = [cell(['a'], 4), cell(['total'], 4, true)];
    expect([...secondarySuppression(onlyTotal, new Set([0])).suppressed].sort()).toEqual([0, 1]);
  });

  test('a blank cell is never a complement, but an unknown value protects a suppressed one as another suppression would', () => {
    // The line total gives only the sum of the suppressed cell and the blank one.
    const cells = [cell(['a'], 4), cell(['b'], null)];
    const result = secondarySuppression(cells, new Set([0]));
    expect(result.unprotectable).toEqual([]);
    expect([...result.suppressed]).toEqual([0]);
    // With every other cell known and no candidate left, it is unprotectable.
    const alone = [cell(['a'], 4), cell(['b'], 0)];
    alone[1] = { ...alone[1], value: 0 };
    expect(secondarySuppression([cell(['a'], 4)], new Set([0])).unprotectable).toEqual([]);
  });

  test('property: after secondary suppression no line has exactly one suppressed cell', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 75, maxLength: 75 }),
        fc.integer({ min: 1, max: 10 }),
        (rows, cols, layers, values, threshold) => {
          const cells: GridCell[] = [];
          for (let r = 0; r < rows; r++)
            for (let c = 0; c < cols; c++) for (let l = 0; l < layers; l++) cells.push(cell([`r${r}`, `c${c}`, `l${l}`], values[cells.length]));
          const primary = new Set(cells.flatMap((x, i) => (isPrimarySuppressed(x.value!, threshold) ? [i] : [])));
          const result = secondarySuppression(cells, primary);
          expect(result.unprotectable).toEqual([]);
          expect(exposedLines(cells, result.suppressed)).toEqual([]);
          for (const p of primary) expect(result.suppressed.has(p)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('magnitude cells: contributors, dominance (n=2, k=90) and p-ratio (p=10), threshold 7', () => {
  const rule = { n: 2, k: 90, p: 10, threshold: 7 };
  test.each([
    // 500+400 = 900 of 1000 = exactly 90%: ACRO's NKCheck fails at k or more.
    ['two largest exactly 90%', [500, 400, 20, 20, 20, 20, 10, 10], true, 'nk_dominance'],
    // 500+390 = 89%: under k. The others (110) are 22% of the largest: p-ratio safe.
    ['two largest 89%', [500, 390, 30, 20, 20, 20, 10, 10], false, undefined],
    // 800+50 = 850 of 900 = 94.4%.
    ['two largest 94.4%', [800, 50, 10, 10, 10, 10, 5, 5], true, 'nk_dominance'],
    ['nine equal contributors (22%)', [100, 100, 100, 100, 100, 100, 100, 100, 100], false, undefined],
    ['seven contributors: too few', [100, 100, 100, 100, 100, 100, 100], true, 'magnitude_contributors'],
    ['one contributor', [5000], true, 'magnitude_contributors'],
    // |−600| + 300 = 900 of 1060 = 84.9%: a refund cannot hide a dominant contributor.
    ['negative contributions by size', [-600, 300, 40, 40, 20, 20, 20, 20], false, undefined],
    ['all zero', [0, 0, 0, 0, 0, 0, 0, 0], false, undefined],
    ['no contributors (an empty cell)', [], false, undefined],
  ])('%s', (_name, contributions, sensitive, reason) => {
    const result = checkMagnitudeCell(contributions, rule);
    expect(result.sensitive).toBe(sensitive);
    expect(result.reason).toBe(reason);
  });

  test('p-ratio: with n=2, k=90 it never fires alone (it is implied); with k=95 it catches what dominance lets through', () => {
    // 500 + 100 = 93.75% of 640: under 95%. The rest (40) is 8% of the largest: under 10%.
    const cellValues = [500, 100, 10, 10, 5, 5, 5, 5];
    expect(checkMagnitudeCell(cellValues, { ...rule, k: 95 })).toMatchObject({ sensitive: true, reason: 'p_ratio' });
    expect(checkMagnitudeCell(cellValues, { ...rule, k: 95, p: 5 })).toMatchObject({ sensitive: false });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 8, maxLength: 20 }), (values) => {
        const r = checkMagnitudeCell(values, rule);
        expect(r.reason).not.toBe('p_ratio');
      }),
    );
  });

  test('share and contributor count', () => {
    expect(checkMagnitudeCell([800, 50, 10, 10, 10, 10, 5, 5], rule)).toEqual({
      sensitive: true,
      reason: 'nk_dominance',
      contributors: 8,
      topShare: 850 / 900,
      pRatio: 50 / 800,
      negative: false,
    });
  });
});
