/**
 * Numbers in any spelling: the normalisation the checks rely on, tried the way an attacker
 * would, with generated disguises of small counts, each of which must be read as the
 * number it is and must never reach a released file.
 */
import fc from 'fast-check';
import { checkOutputFile } from '../../lib/airlock/disclosure';
import { normaliseCell, readCell, textNumbers } from '../../lib/airlock/numbers';
import { DEFAULT_AIRLOCK_SETTINGS } from '../../lib/config/airlock-settings';
import { rowsOf } from './helpers';

const SETTINGS = { ...DEFAULT_AIRLOCK_SETTINGS, reviewers: ['reviewer-a', 'reviewer-b'] };

/** Zero digits of Unicode decimal digit sets (Nd): ASCII, Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai, full width, mathematical bold and monospace. */
const DIGIT_ZEROS = [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xe50, 0xff10, 0x1d7ce, 0x1d7f6];
const INVISIBLES = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u200e', '\u202a', '\ufe0f'];
const MINUSES = ['-', '\u2212', '\u2013', '\u2010', '\ufe63', '\uff0d'];
const SPACES = [' ', '\u00a0', '\u202f', '\u2009', '\u3000'];

function inDigits(text: string, zero: number): string {
  return text.replace(/\d/g, (d) => String.fromCodePoint(zero + Number(d)));
}

/** A disguise of the whole number n (possibly negative): every way below is still that number. */
const disguise = (n: number) =>
  fc
    .record({
      form: fc.constantFrom('plain', 'decimal', 'exponent', 'leading_zeros', 'plus', 'accounting', 'percent_of_nothing', 'grouped'),
      zero: fc.constantFrom(...DIGIT_ZEROS),
      invisible: fc.option(fc.constantFrom(...INVISIBLES)),
      minus: fc.constantFrom(...MINUSES),
      pad: fc.constantFrom('', ...SPACES),
      decimals: fc.integer({ min: 1, max: 4 }),
    })
    .map((d) => {
      const abs = Math.abs(n);
      let body: string;
      switch (d.form) {
        case 'decimal':
          body = `${abs}.${'0'.repeat(d.decimals)}`;
          break;
        case 'exponent':
          body = `${abs * 10}e-1`;
          break;
        case 'leading_zeros':
          body = `${'0'.repeat(d.decimals)}${abs}`;
          break;
        case 'plus':
          body = abs === 0 || n < 0 ? String(abs) : `+${abs}`;
          break;
        case 'accounting':
          // (n) is negative: only used for negative numbers.
          body = n < 0 ? `(${abs})` : String(abs);
          break;
        case 'grouped':
          body = abs >= 1000 ? abs.toLocaleString('en-GB') : String(abs);
          break;
        default:
          body = String(abs);
      }
      let text = inDigits(body, d.zero);
      if (n < 0 && d.form !== 'accounting') text = `${d.minus}${text}`;
      if (d.invisible !== null) text = `${text.slice(0, 1)}${d.invisible}${text.slice(1)}`;
      return `${d.pad}${text}${d.pad}`;
    });

describe('normalisation', () => {
  test.each([
    ['1.0', 1],
    ['3e0', 3],
    ['01', 1],
    ['1,204', 1204],
    ['1 204', 1204],
    ['1\u00a0204', 1204],
    ["1'204", 1204],
    ['-3', -3],
    ['\u22123', -3],
    ['(3)', -3],
    ['\uff13', 3],
    ['\u0663', 3],
    ['\u0663\u066b\u0665', 3.5],
    ['1,5', 1.5],
    ['1.204,5', 1204.5],
    ['£1,204.50', 1204.5],
    ['12 %', 12],
    ['0x0a', 10],
    ['.5', 0.5],
  ])('%j is the number %d', (text, value) => {
    const cell = readCell(text);
    expect(cell).toMatchObject({ kind: 'number', value });
  });

  test.each([['[c]'], ['*'], ['..'], ['[x]'], ['-']])('%j is a suppression mark', (text) => {
    expect(readCell(text).kind).toBe('suppressed');
  });

  test.each([[''], ['NA'], ['NaN'], ['null'], ['#DIV/0!'], ['inf']])('%j is a missing value', (text) => {
    expect(readCell(text).kind).toBe('missing');
  });

  test('text keeps its standalone numbers, not the digits of codes', () => {
    expect(textNumbers('includes 2 deaths aged 100+')).toEqual([2, 100]);
    expect(textNumbers('deaths:3')).toEqual([3]);
    expect(textNumbers('RAL01 E01000001')).toEqual([]);
    expect(readCell('40-44')).toMatchObject({ kind: 'text' });
  });

  test('invisible and bidirectional marks are removed, spaces folded', () => {
    expect(normaliseCell('\u202aA\u200b B\u00a0\u00a0C\u202c')).toBe('A B C');
  });

  test('property: every disguise of a whole number reads as that number', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5000, max: 5000 }).chain((n) => fc.tuple(fc.constant(n), disguise(n))),
        ([n, text]) => {
          const cell = readCell(text);
          expect(cell).toMatchObject({ kind: 'number' });
          expect(cell.kind === 'number' && cell.value).toBe(n === 0 ? 0 : n);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('a disguised small count never leaves', () => {
  test('property: one small count among large ones, in any spelling, under any column name', () => {
    const names = fc.constantFrom('n', 'deaths', 'deaths_in_group', 'year_2024', 'age', 'code', 'practice_code', 'items', '2024', 'band_total', 'group');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: SETTINGS.suppressionThreshold }).chain((small) => fc.tuple(fc.constant(small), disguise(small), disguise(-small))),
        names,
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        ([, positive, negative], column, row, useNegative) => {
          const values = ['150', '2,400', '175', '220'];
          values[row] = useNegative ? negative : positive;
          const text = `area,${column}\n${values.map((v, i) => `A${i},"${v.replace(/"/g, '""')}"`).join('\n')}\n`;
          const result = checkOutputFile({ name: 'out.csv', bytes: Buffer.from(text) }, SETTINGS);
          // Held for a reviewer, or the small cell suppressed in what would be released.
          if (result.outcome === 'refused' || result.outcome === 'review') return;
          const released = rowsOf(result.output)[row + 1][1];
          expect(released).toBe('[c]');
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('a released table carries numbers in plain digits and no invisible characters', () => {
    const result = checkOutputFile({ name: 'out.csv', bytes: Buffer.from('area,n\nA,"1,205"\nB,\uff11\uff15\uff10\nC\u200b,160\n') }, SETTINGS);
    expect(Buffer.from(result.output!).toString()).toBe('area,n\nA,1205\nB,150\nC,160\n');
  });
});
