import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { curatedColumns } from '../../../lib/config/curated';
import {
  ageBand,
  compileDeidPlan,
  dateToMonth,
  dateToYear,
  keepValue,
  neutraliseFormula,
  postcodeLsoa,
  postcodeOutward,
  pseudonymise,
  pseudonymiseRecordId,
} from '../../../lib/ingest/core/deidentify';
import { compileRowValidator } from '../../../lib/ingest/core/validate-row';
import { dataset, EPISODES, episodeFields, KEY, LOAD_DATE, OTHER_KEY, testNhsNumber } from './datasets';

describe('pseudonymise', () => {
  const nhs = testNhsNumber(1);

  test('is HMAC-SHA256 of the normalised NHS number under the key, truncated to 128 bits, as 22 characters of base64url', () => {
    expect(pseudonymise(KEY, nhs)).toBe(createHmac('sha256', KEY).update(nhs).digest().subarray(0, 16).toString('base64url'));
    expect(pseudonymise(KEY, nhs)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  test('a record key is pseudonymised in its scope (the dataset): never equal to an NHS number pseudonym, nor across scopes', () => {
    expect(pseudonymiseRecordId(KEY, 'council_a', 'C000123')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(pseudonymiseRecordId(KEY, 'council_a', 'C000123')).not.toBe(pseudonymiseRecordId(KEY, 'council_b', 'C000123'));
    expect(pseudonymiseRecordId(KEY, 'council_a', nhs)).not.toBe(pseudonymise(KEY, nhs));
  });

  test('the written form does not matter: spaces and hyphens are normalised away', () => {
    const spaced = `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`;
    const hyphens = `${nhs.slice(0, 3)}-${nhs.slice(3, 6)}-${nhs.slice(6)}`;
    expect(pseudonymise(KEY, spaced)).toBe(pseudonymise(KEY, nhs));
    expect(pseudonymise(KEY, hyphens)).toBe(pseudonymise(KEY, nhs));
  });

  test('refuses a short key, and never puts the key or the value in the error', () => {
    const shortKey = Buffer.from('secret-key-material');
    expect(() => pseudonymise(shortKey, nhs)).toThrow('the pseudonymisation key must be at least 32 bytes');
    try {
      pseudonymise(KEY, 'NHS 943 476 5919 x');
    } catch (e) {
      expect((e as Error).message).not.toMatch(/943|5919/);
      return;
    }
    throw new Error('expected a refusal');
  });

  const nhsNumbers = fc.integer({ min: 0, max: 999_999 }).map(testNhsNumber);
  const keys = fc.uint8Array({ minLength: 32, maxLength: 64 }).map((a) => Buffer.from(a));

  test('property: stable for the same key and number', () => {
    fc.assert(
      fc.property(keys, nhsNumbers, (key, n) => {
        expect(pseudonymise(Buffer.from(key), n)).toBe(pseudonymise(key, n));
      }),
    );
  });

  test('property: differs under another key', () => {
    fc.assert(
      fc.property(keys, keys, nhsNumbers, (a, b, n) => {
        fc.pre(!a.equals(b));
        expect(pseudonymise(a, n)).not.toBe(pseudonymise(b, n));
      }),
    );
  });

  test('property: different people get different pseudonyms', () => {
    fc.assert(
      fc.property(nhsNumbers, nhsNumbers, (a, b) => {
        fc.pre(a !== b);
        expect(pseudonymise(KEY, a)).not.toBe(pseudonymise(KEY, b));
      }),
    );
  });
});

describe('dates', () => {
  test.each([
    ['2026-01-15', 2026, '2026-01'],
    ['1999-12-31', 1999, '1999-12'],
    ['2026-01-15T08:30:00.000Z', 2026, '2026-01'],
  ])('%s -> year %d, month %s', (date, year, month) => {
    expect(dateToYear(date)).toBe(year);
    expect(dateToMonth(date)).toBe(month);
  });
});

describe('age bands', () => {
  test.each([
    ['2026-11-22', '2026-11-22', 5, '0-4'],
    ['2022-11-23', '2026-11-22', 5, '0-4'],
    ['2021-11-22', '2026-11-22', 5, '5-9'],
    ['1961-04-03', '2026-04-02', 5, '60-64'],
    ['1961-04-03', '2026-04-03', 5, '65-69'],
    ['1936-11-23', '2026-11-22', 5, '85-89'],
    ['1936-11-22', '2026-11-22', 5, '90+'],
    ['1890-01-01', '2026-11-22', 5, '90+'],
    // Born on 29 February: a year older on 1 March in common years.
    ['2000-02-29', '2021-02-28', 5, '20-24'],
    ['2004-02-29', '2025-02-28', 1, '20-20'],
    ['2004-02-29', '2025-03-01', 1, '21-21'],
    ['2004-02-29', '2024-02-29', 1, '20-20'],
    ['1950-06-01', '2026-11-22', 10, '70-79'],
    ['1940-06-01', '2026-11-22', 10, '80-89'],
    ['1950-06-01', '2026-11-22', 7, '70-76'],
    ['1940-06-01', '2026-11-22', 7, '84-89'],
    ['1936-06-01', '2026-11-22', 7, '90+'],
  ])('born %s, on %s, %d-year bands: %s', (birth, at, width, band) => {
    expect(ageBand(birth, at, width)).toBe(band);
  });

  test('a reference date before the birth is refused', () => {
    expect(() => ageBand('2020-06-02', '2020-06-01')).toThrow(/before the date of birth/);
  });

  test('the default band is 5 years', () => {
    expect(ageBand('2000-01-01', '2026-11-22')).toBe('25-29');
  });
});

describe('postcodes', () => {
  test.each([
    ['SE5 8AF', 'SE5'],
    ['se58af', 'SE5'],
    ['  SW1A   1AA ', 'SW1A'],
    ['W1A 0AX', 'W1A'],
    ['M1 1AE', 'M1'],
    ['B33 8TH', 'B33'],
    ['CR2 6XH', 'CR2'],
    ['DN55 1PT', 'DN55'],
    ['GIR 0AA', 'GIR'],
    ['SE5 8A', undefined],
    ['not a postcode', undefined],
    ['', undefined],
  ])('outward code of %j is %j', (postcode, outward) => {
    expect(postcodeOutward(postcode)).toBe(outward);
  });

  const lookup = new Map([['SE5 8AF', 'E01003968']]);
  test.each([
    ['SE5 8AF', 'E01003968'],
    ['se5  8af', 'E01003968'],
    ['SE5 8AG', null],
    ['rubbish', null],
  ])('LSOA of %j is %j', (postcode, lsoa) => {
    expect(postcodeLsoa(postcode, lookup)).toBe(lsoa);
  });
});

describe('formula injection', () => {
  test.each([
    ['=HYPERLINK("http://x")', `'=HYPERLINK("http://x")`],
    ['+1+1', `'+1+1`],
    ['-2+3', `'-2+3`],
    ['@SUM(A1)', `'@SUM(A1)`],
    ['\t=1', `'\t=1`],
    ['\r=1', `'\r=1`],
    ['plain', 'plain'],
    ['a=b', 'a=b'],
    ['', ''],
    [`'=already`, `'=already`],
  ])('%j -> %j', (value, out) => {
    expect(neutraliseFormula(value)).toBe(out);
  });

  test('keep stores every value as validated: text is not rewritten (exports neutralise formulas)', () => {
    expect(keepValue('=cmd')).toBe('=cmd');
    expect(keepValue('-')).toBe('-');
    expect(keepValue(-5)).toBe(-5);
    expect(keepValue(false)).toBe(false);
    expect(keepValue(null)).toBeNull();
  });
});

describe('the compiled plan', () => {
  const validate = compileRowValidator(EPISODES, { loadDate: LOAD_DATE });
  const plan = compileDeidPlan(EPISODES, { key: KEY, loadDate: LOAD_DATE });
  const curate = (overrides: Record<string, string> = {}) => {
    const result = validate(episodeFields(overrides), 2);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return plan(result.row);
  };

  test('produces exactly the curated columns, in curatedColumns() order', () => {
    expect(Object.keys(curate())).toEqual(curatedColumns(EPISODES).map((c) => c.name));
    expect(plan.columns).toEqual(curatedColumns(EPISODES));
  });

  test('applies each rule', () => {
    expect(curate({ notes: 'Seen with DOB 03/04/1961, call 020 7946 0123' })).toEqual({
      episode_id: 'E000000001',
      person_id: pseudonymise(KEY, testNhsNumber(1)),
      age_band: '60-64',
      postcode_district: 'SE5',
      lsoa_code: 'E01000001',
      gp_practice_code: 'F83001',
      admission_month: '2026-01',
      discharge_year: 2026,
      arrival_time: '2026-01-15T08:30:00.000Z',
      emergency: true,
      length_of_stay: 5,
      cost: 1234.5,
      primary_diagnosis: 'I10X',
      primary_procedure: 'W371',
      snomed_code: '38341003',
      bnf_code: '0208020Z0AAAAAA',
      ward: 'Ward 5',
      notes: 'Seen with DOB [DATE], call [PHONE]',
    });
  });

  test('empty optional values stay null', () => {
    const row = curate({ postcode: '', discharge_date: '', notes: '', ward: '' });
    expect([row.postcode_district, row.discharge_year, row.notes, row.ward]).toEqual([null, null, null, null]);
  });

  test('scrubbed free text is stored as scrubbed, not rewritten against spreadsheets', () => {
    expect(curate({ notes: '@cmd' })).toMatchObject({ notes: '@cmd' });
  });

  test('a timestamp kept in clear is stored as its instant; its year and month are the ones written', () => {
    const row = curate({ arrival_time: '2026-01-01T00:30:00+01:00' });
    expect(row.arrival_time).toBe('2025-12-31T23:30:00.000Z');
    const ds = dataset('stamped', [
      { name: 'seen_at', type: 'timestamp', classification: 'quasi_identifier', rule: 'date_to_year', as: 'seen_year' },
      { name: 'seen_at2', type: 'timestamp', classification: 'quasi_identifier', rule: 'date_to_month', as: 'seen_month' },
    ]);
    const v = compileRowValidator(ds, { loadDate: LOAD_DATE })(['2025-01-01T00:30:00+01:00', '2025-01-01T00:30:00+01:00'], 2);
    if (!v.ok) throw new Error('bad row');
    expect(compileDeidPlan(ds, { key: KEY, loadDate: LOAD_DATE })(v.row)).toEqual({ seen_year: 2025, seen_month: '2025-01' });
  });

  test('the age is measured at the ageAt column, or at the load date without one', () => {
    expect(curate({ date_of_birth: '2000-06-01', admission_date: '2005-05-31' }).age_band).toBe('0-4');
    const atLoad = dataset('at_load', [{ name: 'dob', type: 'date', classification: 'quasi_identifier', rule: 'age_band' }]);
    expect(compileDeidPlan(atLoad, { key: KEY, loadDate: '2026-11-22' })(['2021-11-22'])).toEqual({ dob_age_band: '5-9' });
    expect(compileDeidPlan(atLoad, { key: KEY, loadDate: '2026-11-21' })(['2021-11-22'])).toEqual({ dob_age_band: '0-4' });
  });

  test('pseudonyms are cached per plan, and the cache does not change them', () => {
    const small = compileDeidPlan(EPISODES, { key: KEY, loadDate: LOAD_DATE, pseudonymCacheSize: 2 });
    const rows = [1, 2, 3, 1, 2, 3, 4, 1].map((i) => {
      const r = validate(episodeFields({ nhs_number: testNhsNumber(i) }), 2);
      if (!r.ok) throw new Error('bad row');
      return small(r.row).person_id;
    });
    expect(rows).toEqual([1, 2, 3, 1, 2, 3, 4, 1].map((i) => pseudonymise(KEY, testNhsNumber(i))));
  });

  test('postcode_lsoa looks the postcode up, null when absent', () => {
    const ds = dataset('lsoa', [{ name: 'postcode', type: 'string', classification: 'quasi_identifier', rule: 'postcode_lsoa', lookup: 'pc.csv' }]);
    const withLookup = compileDeidPlan(ds, { key: KEY, loadDate: LOAD_DATE, lookups: new Map([['pc.csv', new Map([['SE5 8AF', 'E01003968']])]]) });
    expect(withLookup(['SE5 8AF'])).toEqual({ postcode_lsoa: 'E01003968' });
    expect(withLookup(['SW1A 1AA'])).toEqual({ postcode_lsoa: null });
    expect(() => compileDeidPlan(ds, { key: KEY, loadDate: LOAD_DATE })).toThrow(/needs its lookup pc.csv/);
  });

  test.each([
    [
      'keep on a direct identifier',
      { name: 'nhs', type: 'string', classification: 'direct_identifier', rule: 'keep' },
      /direct identifier and must be dropped or pseudonymised/,
    ],
    ['date_to_year on a direct identifier', { name: 'dob', type: 'date', classification: 'direct_identifier', rule: 'date_to_year' }, /direct identifier/],
    [
      'free text kept in clear',
      { name: 'notes', type: 'string', format: 'free_text', classification: 'sensitive', rule: 'keep' },
      /free text and must be dropped or scrubbed/,
    ],
  ])('refuses %s, whatever the config validation said', (_name, column, message) => {
    expect(() => compileDeidPlan(dataset('bad', [column as never]), { key: KEY, loadDate: LOAD_DATE })).toThrow(message);
  });

  test('refuses a short key and a bad load date', () => {
    expect(() => compileDeidPlan(EPISODES, { key: Buffer.alloc(16), loadDate: LOAD_DATE })).toThrow(/at least 32 bytes/);
    expect(() => compileDeidPlan(EPISODES, { key: KEY, loadDate: '2026-13-01' })).toThrow(/load date/);
  });

  test('the same row gives the same curated row; another key changes only the pseudonym', () => {
    const other = compileDeidPlan(EPISODES, { key: OTHER_KEY, loadDate: LOAD_DATE });
    const result = validate(episodeFields(), 2);
    if (!result.ok) throw new Error('bad row');
    const a = plan(result.row);
    const b = other(result.row);
    expect(plan(result.row)).toEqual(a);
    expect(b.person_id).not.toBe(a.person_id);
    expect({ ...b, person_id: 'x' }).toEqual({ ...a, person_id: 'x' });
  });
});
