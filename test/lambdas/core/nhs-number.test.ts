import * as fs from 'node:fs';
import * as path from 'node:path';
import { isValidNhsNumber, nhsCheckDigit, nhsNumberFromBase, normaliseNhsNumber } from '../../../lambdas/core/nhs-number';

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

  test('the nine published test numbers (UTF-8 BOM, CRLF file) are valid', () => {
    const numbers = fs.readFileSync(path.join(fixtures, 'testdata-9-valid-nhs-numbers.csv'), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter(Boolean);
    expect(numbers).toHaveLength(9);
    expect(numbers.every(isValidNhsNumber)).toBe(true);
  });

  test('builds a valid number from nine digits, or none when the check would be 10', () => {
    expect(nhsNumberFromBase('987654321')).toBe('9876543210');
    expect(nhsNumberFromBase('000000006')).toBeUndefined();
    expect(nhsNumberFromBase('999000001')).toBe('9990000018');
  });

  test('a wrong check digit, spaces and hyphens', () => {
    expect(isValidNhsNumber('987 654 3210')).toBe(true);
    expect(isValidNhsNumber('987-654-3210')).toBe(true);
    expect(isValidNhsNumber('9876543211')).toBe(false);
    expect(isValidNhsNumber('98765432101')).toBe(false);
    expect(isValidNhsNumber('987654321O')).toBe(false);
  });
});
