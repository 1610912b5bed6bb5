import { compileRowValidator, MAX_FIELD_BYTES, RowValidation, validateRow } from '../../../lib/ingest/core/validate-row';
import { dataset, EPISODES, episodeFields, LOAD_DATE, testNhsNumber } from './datasets';

const validate = compileRowValidator(EPISODES, { loadDate: LOAD_DATE });
const col = (name: string) => EPISODES.columns.findIndex((c) => c.name === name);

function problems(result: RowValidation) {
  return result.ok ? [] : result.problems.map((p) => [p.code, p.column ?? null]);
}

function typed(overrides: Record<string, string>, name: string) {
  const result = validate(episodeFields(overrides), 2);
  if (!result.ok) throw new Error(`expected a valid row, got ${JSON.stringify(result.problems)}`);
  return result.row[col(name)];
}

describe('a good row', () => {
  test('is typed column by column (a dropped column is not read: null)', () => {
    const result = validate(episodeFields(), 2);
    expect(result).toEqual({
      ok: true,
      row: [
        'E000000001',
        testNhsNumber(1),
        null,
        '1961-04-03',
        'SE5 8AF',
        'E01000001',
        'F83001',
        '2026-01-15',
        '2026-01-20',
        '2026-01-15T08:30:00.000Z',
        true,
        5,
        1234.5,
        'I10X',
        'W371',
        '38341003',
        '0208020Z0AAAAAA',
        'Ward 5',
        'Reviewed in clinic.',
      ],
    });
  });

  test('validateRow is the same as the compiled validator', () => {
    expect(validateRow(EPISODES, episodeFields(), 2, { loadDate: LOAD_DATE })).toEqual(validate(episodeFields(), 2));
  });
});

describe('accepted values, normalised', () => {
  test.each([
    ['nhs_number', '999 000 0018', '9990000018'],
    ['nhs_number', '999-000-0018', '9990000018'],
    ['nhs_number', ' 9990000018 ', '9990000018'],
    ['postcode', 'se58af', 'SE5 8AF'],
    ['postcode', '  SW1A   1AA ', 'SW1A 1AA'],
    ['postcode', 'W1A 0AX', 'W1A 0AX'],
    ['postcode', 'EC1V 9LB', 'EC1V 9LB'],
    ['lsoa_code', 'W01000123', 'W01000123'],
    ['gp_practice_code', 'f83001', 'F83001'],
    ['gp_practice_code', 'RAL', 'RAL'],
    ['primary_diagnosis', 'E11.9', 'E11.9'],
    ['primary_diagnosis', 'C509', 'C509'],
    ['primary_diagnosis', 'G01XD', 'G01XD'],
    ['primary_procedure', 'w37.1', 'W37.1'],
    ['primary_procedure', 'H01', 'H01'],
    ['snomed_code', '195967001', '195967001'],
    ['snomed_code', '1322781000000102', '1322781000000102'],
    ['snomed_code', '138875005', '138875005'],
    ['bnf_code', '02', '02'],
    ['bnf_code', '0208', '0208'],
    ['bnf_code', '0208020', '0208020'],
    ['bnf_code', '0208020Z0', '0208020Z0'],
    ['bnf_code', '0208020z0aaaaaa', '0208020Z0AAAAAA'],
    ['emergency', 'true', true],
    ['emergency', 'FALSE', false],
    ['emergency', '1', true],
    ['emergency', '0', false],
    ['emergency', 'y', true],
    ['emergency', 'N', false],
    ['length_of_stay', '0', 0],
    ['length_of_stay', '10000', 10000],
    ['length_of_stay', '+7', 7],
    ['length_of_stay', ' 12 ', 12],
    ['cost', '.5', 0.5],
    ['cost', '1.25e2', 125],
    ['cost', '3.', 3],
    ['arrival_time', '2026-01-15 08:30', '2026-01-15T08:30:00.000Z'],
    // Typed as written (the local date and time, and the offset): years and months come from it.
    ['arrival_time', '2026-01-15T08:30:15.1234+01:00', '2026-01-15T08:30:15.123+01:00'],
    ['arrival_time', '2026-01-15T08:30:15-0530', '2026-01-15T08:30:15.000-05:30'],
    ['arrival_time', '2026-01-01T00:30:00+01:00', '2026-01-01T00:30:00.000+01:00'],
    ['date_of_birth', '2026-11-22', '2026-11-22'],
    ['date_of_birth', '1890-01-01', '1890-01-01'],
    ['date_of_birth', '2000-02-29', '2000-02-29'],
    ['discharge_date', '2026-11-23', '2026-11-23'],
    ['discharge_date', '1900-01-01', '1900-01-01'],
    ['notes', '  spaced  ', '  spaced  '],
    ['ward', '  Ward 5 ', 'Ward 5'],
    ['ward', 'WARD 5', 'Ward 5'],
    ['ward', 'amu', 'AMU'],
    // One normalisation before every check: compatibility forms, invisible characters, other scripts' digits.
    ['nhs_number', '\uff19\uff19\uff19\uff10\uff10\uff10\uff10\uff10\uff11\uff18', '9990000018'],
    ['nhs_number', '999\u200b000\u200b0018', '9990000018'],
    ['nhs_number', '\u0669\u0669\u0669\u0660\u0660\u0660\u0660\u0660\u0661\u0668', '9990000018'],
    ['length_of_stay', '\u0967\u0968', 12],
    ['date_of_birth', '\uFEFF1961-04-03', '1961-04-03'],
    ['primary_diagnosis', 'I10\u00adX', 'I10X'],
    ['notes', 'line one\nline two', 'line one\nline two'],
  ] as const)('%s %j -> %j', (name, value, expected) => {
    const overrides: Record<string, string> = { [name]: value };
    if (name === 'date_of_birth') overrides.admission_date = '2026-11-22';
    expect(typed(overrides, name)).toEqual(expected);
  });

  test.each(['discharge_date', 'arrival_time', 'emergency', 'length_of_stay', 'cost', 'postcode', 'notes', 'ward'])('an empty optional %s is null', (name) => {
    expect(typed({ [name]: '' }, name)).toBeNull();
    expect(typed({ [name]: '   ' }, name)).toBeNull();
  });
});

describe('refused values: a code and the column, never the value', () => {
  test.each([
    ['nhs_number', '9990000019', 'bad_nhs_check_digit'],
    ['nhs_number', '999 000 0019', 'bad_nhs_check_digit'],
    ['nhs_number', '999000001', 'bad_nhs_number'],
    ['nhs_number', '99900000181', 'bad_nhs_number'],
    ['nhs_number', '999/000/0018', 'bad_nhs_number'],
    ['nhs_number', '', 'missing_required'],
    ['nhs_number', '   ', 'missing_required'],
    ['episode_id', '', 'missing_required'],
    ['date_of_birth', '2026-11-23', 'future_date_of_birth'],
    ['date_of_birth', '1889-12-31', 'date_of_birth_too_early'],
    ['date_of_birth', '1961-02-29', 'unparseable_date'],
    ['date_of_birth', '03/04/1961', 'unparseable_date'],
    ['date_of_birth', '1961-4-3', 'unparseable_date'],
    ['date_of_birth', '1961-04-03T00:00', 'unparseable_date'],
    ['date_of_birth', '1961\u000704-03', 'control_character'],
    ['ward', 'Ward\u00855', 'control_character'],
    ['notes', 'bell\u0007', 'control_character'],
    ['primary_diagnosis', 'I10\u009dX', 'control_character'],
    ['admission_date', '2026-11-24', 'date_in_future'],
    ['admission_date', '1899-12-31', 'date_too_early'],
    ['admission_date', '2021-13-45', 'unparseable_date'],
    ['admission_date', '2021-02-31', 'unparseable_date'],
    ['admission_date', '1950-01-01', 'date_before_birth'],
    ['arrival_time', '2026-01-15T24:00:00Z', 'unparseable_timestamp'],
    ['arrival_time', '2026-01-15', 'unparseable_timestamp'],
    ['arrival_time', '2026-01-15T08:30:00+15:00', 'unparseable_timestamp'],
    ['arrival_time', '2030-01-15T08:30:00Z', 'date_in_future'],
    ['emergency', 'maybe', 'not_boolean'],
    ['emergency', 'constructor', 'not_boolean'],
    ['length_of_stay', '1.5', 'not_integer'],
    ['length_of_stay', 'abc', 'non_numeric'],
    ['length_of_stay', '99999999999999999999', 'integer_out_of_range'],
    ['length_of_stay', '-3', 'out_of_range'],
    ['length_of_stay', '10001', 'out_of_range'],
    ['length_of_stay', '9434765919', 'out_of_range'],
    ['cost', '-0.01', 'out_of_range'],
    ['cost', '943476.5919', 'identifier_in_text'],
    ['cost', '196104.03', 'identifier_in_text'],
    ['cost', '1,5', 'non_numeric'],
    ['cost', 'NaN', 'non_numeric'],
    ['cost', 'Infinity', 'non_numeric'],
    ['cost', '1e999', 'non_numeric'],
    ['postcode', 'SE5 8A', 'bad_postcode'],
    ['postcode', 'QE5 8AF', 'bad_postcode'],
    ['postcode', 'SE5 8AC', 'bad_postcode'],
    ['lsoa_code', 'E02000001', 'bad_lsoa'],
    ['lsoa_code', 'E0100001', 'bad_lsoa'],
    ['gp_practice_code', 'F83-001', 'bad_ods_code'],
    ['gp_practice_code', 'F830012', 'bad_ods_code'],
    ['primary_diagnosis', '110X', 'bad_icd10'],
    ['primary_procedure', 'I371', 'bad_opcs4'],
    ['snomed_code', '12345', 'bad_snomed'],
    ['snomed_code', '0123456', 'bad_snomed'],
    ['snomed_code', '38341004', 'bad_snomed'],
    ['snomed_code', '123456789012345678', 'bad_snomed'],
    // A description id (partition 01), not a concept.
    ['snomed_code', '1234567014', 'bad_snomed'],
    ['bnf_code', '029434765919000', 'bad_bnf'],
    ['bnf_code', '020', 'bad_bnf'],
    ['bnf_code', '0208020Z0AAAAAAA', 'bad_bnf'],
    ['ward', 'a\u0000b', 'nul_byte'],
    ['length_of_stay', '1\u00002', 'nul_byte'],
    ['length_of_stay', '\u000012', 'nul_byte'],
    ['admission_date', '2026-01-15\u0000', 'nul_byte'],
    ['nhs_number', '\u00009990000018', 'nul_byte'],
    ['notes', 'note\u0000', 'nul_byte'],
    ['notes', 'x'.repeat(MAX_FIELD_BYTES + 1), 'field_too_large'],
    ['notes', 'é'.repeat(MAX_FIELD_BYTES / 2 + 1), 'field_too_large'],
  ] as const)('%s %j: %s', (name, value, code) => {
    const result = validate(episodeFields({ [name]: value }), 7);
    expect(problems(result)).toEqual([[code, name]]);
    expect(result.ok ? undefined : result.line).toBe(7);
    const text = JSON.stringify(result);
    if (value.trim().length >= 3) expect(text).not.toContain(value.trim().slice(0, 64));
  });

  test('a field of exactly 1 MB is accepted', () => {
    expect(validate(episodeFields({ notes: 'x'.repeat(MAX_FIELD_BYTES) }), 2).ok).toBe(true);
  });

  test('every problem of a row is reported', () => {
    const result = validate(episodeFields({ nhs_number: '9990000019', date_of_birth: '2030-01-01', cost: 'x', postcode: 'nope' }), 3);
    expect(problems(result)).toEqual([
      ['bad_nhs_check_digit', 'nhs_number'],
      ['future_date_of_birth', 'date_of_birth'],
      ['bad_postcode', 'postcode'],
      ['non_numeric', 'cost'],
    ]);
  });

  test('no message ever holds the value, identifier or not', () => {
    const values = { nhs_number: '943 476 5919', date_of_birth: '2031-07-09', postcode: 'ZZ99 9ZZ', ward: 'Ward\u00009', cost: 'twelve pounds' };
    const result = validate(episodeFields(values), 3);
    const text = JSON.stringify(result);
    for (const v of ['943', '4765919', '2031', 'ZZ99', 'twelve', 'Ward']) expect(text).not.toContain(v);
  });

  test.each([
    [['a', 'b'], 'the record has 2 fields; the dataset has 19 columns'],
    [[...episodeFields(), 'extra'], 'the record has 20 fields; the dataset has 19 columns'],
    [[''], 'the record has 1 field; the dataset has 19 columns'],
  ])('a ragged row (%#) is refused as a whole', (fields, message) => {
    expect(validate(fields, 4)).toEqual({ ok: false, line: 4, problems: [{ code: 'ragged_row', message }] });
  });
});

describe('a code list kept in clear accepts its codes and nothing else', () => {
  test.each([
    ['an NHS number', 'Ward 9434765919'],
    ['an NHS number, spaced', '943 476 5919'],
    ['a date', 'seen 03/04/1961'],
    ['a written date', 'born 3 April 1961'],
    ['a postcode', 'Ward SE5 8AF'],
    ['an e-mail address', 'ward5@example.nhs.uk'],
    ['a national phone number', '020 7946 0000'],
    ['full-width digits', '\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19'],
    ['a code with text glued on', 'Ward 5x'],
  ])('%s', (_what, value) => {
    const result = validate(episodeFields({ ward: value }), 4);
    expect(problems(result)).toEqual([['not_in_code_list', 'ward']]);
    expect(JSON.stringify(result)).not.toContain(value);
  });

  test('only a kept column is checked against identifiers: a dropped one may hold anything', () => {
    expect(validate(episodeFields({ patient_name: 'SE5 8AF 9434765919' }), 2).ok).toBe(true);
  });
});

describe('a supplier record key (format record_id)', () => {
  const KEYED = dataset('keyed', [{ name: 'event_id', type: 'string', required: true, format: 'record_id', classification: 'other', rule: 'keep' }]);
  const check = compileRowValidator(KEYED, { loadDate: LOAD_DATE });

  test.each(['E000000001', 'HES-2025-000001', 'ADM.000123.01', 'a.b_c-d', 'K12-3456789', '99999999', 'x9434765918'])('keeps %j', (value) => {
    expect(check([value], 2)).toMatchObject({ ok: true, row: [value] });
  });

  test.each([
    ['a valid NHS number', '9434765919'],
    ['a valid NHS number inside a key', 'EP-9434765919'],
    ['a valid NHS number in the 3-3-4 layout', 'x943-476-5919'],
    ['spaces', 'EP 0042'],
    ['65 characters', 'a'.repeat(65)],
    ['a leading hyphen (a spreadsheet formula)', '-1+1'],
    ['a quote', "EP'1"],
    ['ten of its digits passing Modulus 11', '100000000123'],
    ['an NHS number with a digit after it', '94347659190'],
    ['an NHS number read through separators', 'EP-943.476.5919'],
    ['an NHS number read through letters', 'E943A476B5919'],
    ['an NHS number in words', 'ninefourthreefoursevensixfivenineonenine'],
    ['an NHS number in other digits', 'EP-\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669'],
    ['a compact date', 'ADM19610403'],
    ['a date with separators', 'ADM-1961-04-03'],
    ['a date with a month name', 'P03APR1961'],
    ['a postcode run together', 'SE58AF-01'],
    ['a phone number', 'T02079460000'],
    ['an e-mail address written out', 'ward.at.example.dot.com'],
  ])('refuses %s', (_what, value) => {
    const result = check([value], 3);
    expect(problems(result)).toEqual([['bad_record_id', 'event_id']]);
    expect(JSON.stringify(result)).not.toContain(value);
  });

  test('ten digits that fail the Modulus 11 check are a key, not an NHS number', () => {
    expect(check(['9434765918'], 2).ok).toBe(true);
  });

  test('the digits are read after normalisation: a zero-width space cannot split them', () => {
    expect(problems(check(['EP-943\u200b476\u200b5919'], 2))).toEqual([['bad_record_id', 'event_id']]);
  });
});

describe('rules imply formats', () => {
  const implied = dataset('implied', [
    { name: 'nhs', type: 'string', classification: 'direct_identifier', rule: 'pseudonymise' },
    { name: 'pc', type: 'string', classification: 'quasi_identifier', rule: 'postcode_outward' },
    { name: 'dob', type: 'date', classification: 'quasi_identifier', rule: 'age_band' },
  ]);
  const check = compileRowValidator(implied, { loadDate: LOAD_DATE });

  test('a pseudonymised column is checked as an NHS number, a postcode rule as a postcode, even without format:', () => {
    expect(problems(check(['12345', 'not a postcode', '1961-04-03'], 2))).toEqual([
      ['bad_nhs_number', 'nhs'],
      ['bad_postcode', 'pc'],
    ]);
  });

  test('an age-banded column is a date of birth: a future one is refused', () => {
    expect(problems(check([testNhsNumber(3), 'SE5 8AF', '2027-01-01'], 2))).toEqual([['future_date_of_birth', 'dob']]);
  });

  test('a date column named like a date of birth is judged as one', () => {
    const ds = dataset('named', [{ name: 'patient_dob', type: 'date', classification: 'quasi_identifier', rule: 'date_to_year' }]);
    expect(problems(compileRowValidator(ds, { loadDate: LOAD_DATE })(['1889-01-01'], 2))).toEqual([['date_of_birth_too_early', 'patient_dob']]);
  });
});

describe('compiling', () => {
  test('refuses a load date that is not a date', () => {
    expect(() => compileRowValidator(EPISODES, { loadDate: '22/11/2026' })).toThrow(/load date/);
  });

  test('refuses an age band measured at a column that does not exist', () => {
    const ds = { ...EPISODES, columns: EPISODES.columns.map((c) => (c.name === 'date_of_birth' ? { ...c, ageAt: 'nope' } : c)) };
    expect(() => compileRowValidator(ds, { loadDate: LOAD_DATE })).toThrow(/"nope", which is not a column/);
  });
});
