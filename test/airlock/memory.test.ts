/**
 * Differencing: a new table against the project's earlier releases (and the other files of
 * the request). Each disclosive pair is caught whatever the columns are called; safe pairs
 * (the same table again, a different breakdown with the same total, large differences)
 * are not.
 */
import fc from 'fast-check';
import { checkOutputFile, tableMemory } from '../../lib/airlock/disclosure';
import type { MemoryTable } from '../../lib/airlock/memory';
import { DEFAULT_AIRLOCK_SETTINGS } from '../../lib/config/airlock-settings';

const SETTINGS = { ...DEFAULT_AIRLOCK_SETTINGS, reviewers: ['reviewer-a', 'reviewer-b'] };
const remember = (text: string, name = 'earlier.csv'): MemoryTable => {
  const m = tableMemory({ name, bytes: Buffer.from(text) }, SETTINGS.maxFileBytes, `request req-20261101-00000001 file ${name} (released 2026-11-01)`);
  if (!m) throw new Error('not a table');
  return m;
};
const hits = (text: string, memory: MemoryTable[]) =>
  checkOutputFile({ name: 'new.csv', bytes: Buffer.from(text), memory }, SETTINGS).report.findings.filter((f) => f.rule === 'differencing');

describe('disclosive pairs', () => {
  test('n = 20 then n = 19, with means: the person between them', () => {
    const found = hits('cohort,patients,mean_los\nall,19,4.9\n', [remember('cohort,patients,mean_los\nall,20,5.15\n')]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'disclosive', cells: expect.arrayContaining([{ row: 1, column: 'patients' }]) });
    expect(found[0].message).toMatch(/released 2026-11-01/);
  });

  test('the same table shape with one cell differing by 3', () => {
    const before = remember('area,sex,admissions\nA,F,150\nA,M,160\nB,F,170\nB,M,180\n');
    const found = hits('area,sex,admissions\nA,F,150\nA,M,157\nB,F,170\nB,M,180\n', [before]);
    expect(found[0].cells).toContainEqual({ row: 2, column: 'admissions' });
  });

  test('a renamed count column is compared all the same', () => {
    const found = hits('area,count_of_people\nA,147\nB,160\n', [remember('area,n\nA,150\nB,160\n')]);
    expect(found).toHaveLength(1);
  });

  test('overlapping groups: a finer table whose groups sum to 4 fewer than a coarser one', () => {
    // Released: admissions by area. New: by area and sex, omitting 4 people of area A of unknown sex.
    const before = remember('area,admissions\nA,300\nB,320\n');
    const found = hits('area,sex,admissions\nA,F,148\nA,M,148\nB,F,160\nB,M,160\n', [before]);
    expect(found[0].message).toMatch(/sums to 296 against "admissions" 300/);
  });

  test('totals: the whole table 5 smaller than an earlier one (a subgroup left out)', () => {
    const found = hits('age_band,admissions\n18-64,250\n65+,200\n', [remember('sex,admissions\nF,230\nM,225\n')]);
    expect(found[0].message).toMatch(/the total of "admissions" \(450\) against the total of "admissions" \(455\)/);
  });

  test('two files of one request are compared with each other', () => {
    const first = checkOutputFile({ name: 'a.csv', bytes: Buffer.from('cohort,n,mean_age\nall,40,51.5\n') }, SETTINGS);
    const second = checkOutputFile({ name: 'b.csv', bytes: Buffer.from('cohort,n,mean_age\nall,39,51.2\n'), memory: [first.memory!] }, SETTINGS);
    expect(second.outcome).toBe('review');
    expect(second.report.findings.map((f) => f.rule)).toContain('differencing');
  });

  test('property: any count moved by 1 to the threshold, in any cell, is found', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 100, max: 900 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: SETTINGS.suppressionThreshold }),
        fc.boolean(),
        (values, at, by, down) => {
          const table = (vs: number[]) => `area,sex,n\n${['A,F', 'A,M', 'B,F', 'B,M'].map((k, i) => `${k},${vs[i]}`).join('\n')}\n`;
          const moved = values.map((v, i) => (i === at ? v + (down ? -by : by) : v));
          expect(hits(table(moved), [remember(table(values))]).length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('safe pairs', () => {
  test('the same table released again', () => {
    const text = 'area,sex,admissions\nA,F,150\nA,M,160\nB,F,170\nB,M,180\n';
    expect(hits(text, [remember(text)])).toEqual([]);
  });

  test('another breakdown of the same people (equal totals)', () => {
    expect(hits('sex,admissions\nF,320\nM,340\n', [remember('age_band,admissions\n18-64,400\n65+,260\n')])).toEqual([]);
  });

  test('a year later: differences far above the threshold', () => {
    expect(hits('area,admissions\nA,480\nB,530\n', [remember('area,admissions\nA,300\nB,320\n')])).toEqual([]);
  });

  test('nothing released before: nothing to compare', () => {
    expect(hits('area,admissions\nA,480\nB,530\n', [])).toEqual([]);
  });
});
