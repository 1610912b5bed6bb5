import { isFullPostcode, isValidNhsNumber, looksLikePseudonym, rowLevelFindings } from '../../lib/airlock/identifiers';

// 999 000 001 8: weights 10..2 on 9,9,9,0,0,0,0,0,1 give 90+81+72+2 = 245; 245 mod 11 = 3;
// 11 - 3 = 8, the check digit. (999 numbers are the synthetic range, never issued.)
const VALID_NHS = '9990000018';

describe('identifier shapes', () => {
  test.each([
    [VALID_NHS, true],
    ['999 000 0018', true],
    ['999-000-0018', true],
    ['9990000017', false], // wrong check digit
    ['9990000000', false], // 9,9,9 -> 243 mod 11 = 1 -> 10: never a valid check digit
    ['999000001', false],
    ['12345', false],
  ])('NHS number %s -> %s', (value, expected) => expect(isValidNhsNumber(value)).toBe(expected));

  test.each([
    ['a'.repeat(64), true],
    ['0123456789ABCDEF'.repeat(4), true],
    ['a'.repeat(63), false],
    ['g'.repeat(64), false],
    ['Xq3_9bZ-0aQk7LmN2pR8sT', true],
    ['aB3dE6gH9jK2mN5pQ8sT1v', true],
    ['MentalHealthSupportAbc', false],
    ['Xq3_9bZ-0aQk7LmN2pR8s', false],
  ])('pseudonym %s -> %s', (value, expected) => expect(looksLikePseudonym(value)).toBe(expected));

  test.each([
    ['SW1A 1AA', true],
    ['sw1a1aa', true],
    ['N1 9GU', true],
    ['EC1A  1BB', true],
    ['SW1A', false],
    ['N1', false],
    ['E01000001', false], // an LSOA code is fine
  ])('full postcode %s -> %s', (value, expected) => expect(isFullPostcode(value)).toBe(expected));
});

describe('rowLevelFindings', () => {
  const table = (columns: string[], rows: string[][]) => ({ columns, rows });
  const none = { aggregateColumns: ['n'], minRows: 20 };

  test('an aggregate table with safe categories has no findings', () => {
    expect(
      rowLevelFindings(
        table(
          ['lsoa', 'age_band', 'n'],
          [
            ['E01000001', '18-64', '12'],
            ['E01000002', '65+', '9'],
          ],
        ),
        none,
      ),
    ).toEqual([]);
  });

  test.each([
    ['pseudonym', ['pid', 'n'], [['b'.repeat(64), '1']]],
    [
      'nhs_number',
      ['ref', 'n'],
      [
        ['x', '3'],
        [VALID_NHS, '1'],
      ],
    ],
    ['postcode', ['where', 'n'], [['SW1A 1AA', '1']]],
    ['date_of_birth', ['date_of_birth', 'n'], [['1990-01-01', '1']]],
    ['date_of_birth', ['dob', 'n'], [['01/02/1990', '1']]],
    ['identifier_column', ['nhs_number_pseudonym', 'n'], [['x', '1']]],
    ['identifier_column', ['person_id', 'n'], [['17', '1']]],
  ])('%s is refused, naming the column and never the value', (rule, columns, rows) => {
    const findings = rowLevelFindings(table(columns, rows), none);
    expect(findings.map((f) => f.rule)).toContain(rule);
    for (const f of findings) {
      expect(f.reason).toContain(`"${columns[0]}"`);
      for (const row of rows) expect(f.reason).not.toContain(row[0].length > 3 ? row[0] : '\u0000');
    }
  });

  test('one row per person: no counts, many rows, a column different in every row', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [`R${String(i).padStart(3, '0')}`, i % 2 === 0 ? 'asthma' : 'copd']);
    const findings = rowLevelFindings(table(['ref', 'diagnosis'], rows), { aggregateColumns: [], minRows: 20 });
    expect(findings).toEqual([expect.objectContaining({ rule: 'row_per_person', column: 'ref' })]);
    // One row fewer than the threshold, or a count column present: not a listing.
    expect(rowLevelFindings(table(['ref', 'diagnosis'], rows.slice(1)), { aggregateColumns: [], minRows: 20 })).toEqual([]);
    expect(rowLevelFindings(table(['ref', 'diagnosis'], rows), { aggregateColumns: ['n'], minRows: 20 })).toEqual([]);
  });

  test('a date that is not a date of birth is fine', () => {
    expect(rowLevelFindings(table(['admission_date', 'n'], [['2026-01-01', '12']]), none)).toEqual([]);
  });
});
