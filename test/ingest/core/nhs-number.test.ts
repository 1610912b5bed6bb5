import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { isTestRangeNhsNumber, isValidNhsNumber, nhsCheckDigit, nhsNumberFromBase, normaliseNhsNumber } from '../../../lib/ingest/core/nhs-number';

// Test vectors from uk-fci/nhs-number (MIT); see test/fixtures/SOURCES.md.
const fixtures = path.join(__dirname, '..', '..', 'fixtures', 'health', 'nhs-number');
const cases = JSON.parse(fs.readFileSync(path.join(fixtures, 'nhs_number_cases.json'), 'utf8'));

describe('NHS number Modulus 11', () => {
  test.each(cases.calculate_checksum as { identifier: string; checksum: number | null }[])('check digit of $identifier', ({ identifier, checksum }) => {
    expect(nhsCheckDigit(identifier)).toBe(checksum === null || checksum === 10 ? undefined : checksum);
  });

  test.each(cases.standardise as { input: string; output: string }[])('normalises "$input"', ({ input, output }) => {
    expect(normaliseNhsNumber(input)).toBe(output === '' ? undefined : output);
  });

  test.each(cases.is_valid as { input: string; valid: boolean; note?: string }[])('validity of $input', ({ input, valid, note }) => {
    // The reference also refuses Scottish CHI numbers with impossible dates; the check digit alone cannot.
    const expected = note?.includes('impossible date') ? true : valid;
    expect(isValidNhsNumber(String(input))).toBe(expected);
  });

  test('the nine published test numbers (UTF-8 BOM, CRLF file) are valid, and in the 999 test range', () => {
    const numbers = fs
      .readFileSync(path.join(fixtures, 'testdata-9-valid-nhs-numbers.csv'), 'utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .filter(Boolean);
    expect(numbers).toHaveLength(9);
    expect(numbers.every(isValidNhsNumber)).toBe(true);
    expect(numbers.every(isTestRangeNhsNumber)).toBe(true);
  });

  test.each([
    ['987654321', '9876543210'],
    ['400000063', '4000000632'],
    ['999000001', '9990000018'],
    ['999000009', '9990000093'],
    ['000000006', undefined],
    ['99900001', undefined],
    ['99900000a', undefined],
  ])('builds %s into %s (none when the check would be 10, or the input is not nine digits)', (base, expected) => {
    expect(nhsNumberFromBase(base)).toBe(expected);
  });

  test('a wrong check digit, spaces and hyphens', () => {
    expect(isValidNhsNumber('987 654 3210')).toBe(true);
    expect(isValidNhsNumber('987-654-3210')).toBe(true);
    expect(isValidNhsNumber('9876543211')).toBe(false);
    expect(isValidNhsNumber('98765432101')).toBe(false);
    expect(isValidNhsNumber('987654321O')).toBe(false);
    expect(isValidNhsNumber('９８７６５４３２１０')).toBe(false); // full-width digits are not digits here
  });

  test('the 999 test range: valid and starting 999, nothing else', () => {
    expect(isTestRangeNhsNumber('999 000 0018')).toBe(true);
    expect(isTestRangeNhsNumber('9990000019')).toBe(false); // wrong check digit
    expect(isTestRangeNhsNumber('9876543210')).toBe(false); // valid, but outside the range
    expect(isTestRangeNhsNumber('4000000632')).toBe(false);
  });

  test('for any nine digits: the built number is valid, and every other last digit is not', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), (base) => {
        const built = nhsNumberFromBase(base);
        const valid = [...'0123456789'].filter((d) => isValidNhsNumber(`${base}${d}`));
        expect(valid).toEqual(built === undefined ? [] : [built[9]]);
      }),
      { numRuns: 500 },
    );
  });
});
