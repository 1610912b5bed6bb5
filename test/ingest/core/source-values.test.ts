/**
 * How suppliers write values: date formats (to the day or the month), null placeholders,
 * kept placeholders in code columns and lists, record keys that are pseudonymised, and
 * dropped columns that are not read. Random inputs where a rule has a general statement.
 */
import fc from 'fast-check';
import { ageBand, compileDeidPlan } from '../../../lib/ingest/core/deidentify';
import { ageInYears, ageInYearsFromMonth, daysInMonth, parseDateAs } from '../../../lib/ingest/core/iso-date';
import { createPipeline, processRecords } from '../../../lib/ingest/core/pipeline';
import { compileRowValidator, type RowValidation } from '../../../lib/ingest/core/validate-row';
import { dataset, KEY, LOAD_DATE } from './datasets';

const two = (n: number) => String(n).padStart(2, '0');
const four = (n: number) => String(n).padStart(4, '0');
const day = fc.record({ y: fc.integer({ min: 1, max: 9999 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 31 }) });

describe('date formats', () => {
  test('every day format reads the same calendar day; impossible days are refused in every format', () => {
    fc.assert(
      fc.property(day, ({ y, m, d }) => {
        const real = d <= daysInMonth(y, m);
        const iso = `${four(y)}-${two(m)}-${two(d)}`;
        for (const [format, written] of [
          ['YYYY-MM-DD', iso],
          ['DD/MM/YYYY', `${two(d)}/${two(m)}/${four(y)}`],
          ['YYYYMMDD', `${four(y)}${two(m)}${two(d)}`],
        ] as const) {
          expect(parseDateAs(format, written)).toBe(real ? iso : undefined);
        }
        expect(parseDateAs('MMYYYY', `${two(m)}${four(y)}`)).toBe(`${four(y)}-${two(m)}`);
        expect(parseDateAs('YYYY-MM', `${four(y)}-${two(m)}`)).toBe(`${four(y)}-${two(m)}`);
      }),
    );
  });

  test.each([
    ['MMYYYY', ['132001', '002001', '12001', '0120011', '01-2001', ' 12001']],
    ['YYYY-MM', ['2001-13', '2001-00', '200101', '2001-1']],
    ['DD/MM/YYYY', ['2001-04-03', '3/4/2001', '03-04-2001', '29/02/2001']],
    ['YYYYMMDD', ['2001043', '20010229', '2001-04-03', '20011301']],
  ])('%s refuses what is not one', (format, values) => {
    for (const v of values) expect(parseDateAs(format, v)).toBeUndefined();
  });
});

describe('age from a birth known to the month', () => {
  test('is the age every birthday in the month would give, or the lower one within the birth month', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1900, max: 2030 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 120 * 366 }), (by, bm, offset) => {
        const first = Date.UTC(by, bm - 1, 1);
        const at = new Date(first + offset * 86_400_000).toISOString().slice(0, 10);
        const month = `${four(by)}-${two(bm)}`;
        // Brute force: every day of the birth month on or before `at`.
        const ages: number[] = [];
        for (let d = 1; d <= daysInMonth(by, bm); d++) {
          const birth = `${month}-${two(d)}`;
          if (birth <= at) ages.push(ageInYears(birth, at));
        }
        const got = ageInYearsFromMonth(month, at);
        // The years certainly completed: the least age over the birthdays still possible by `at`.
        expect(got).toBe(Math.min(...ages));
        expect(got).toBeLessThanOrEqual(Math.max(...ages));
        expect(Math.max(...ages) - got).toBeLessThanOrEqual(1);
      }),
    );
  });

  test('bands: the band is never one the person cannot have reached', () => {
    expect(ageBand('1950-05', '2000-04-30')).toBe('45-49');
    expect(ageBand('1950-05', '2000-05-01')).toBe('45-49');
    expect(ageBand('1950-05', '2000-05-31')).toBe('50-54');
    expect(ageBand('1950-05', '2000-06-01')).toBe('50-54');
    expect(ageBand('2001-09', '2001-09-01')).toBe('0-4');
    expect(ageInYearsFromMonth('2001-09', '2001-08-31')).toBeLessThan(0);
    expect(() => ageBand('2001-09', '2001-08-31')).toThrow(/before the date of birth/);
  });
});

const hes = dataset(
  'hes',
  [
    {
      name: 'hesid',
      source: 'PSEUDO_HESID',
      type: 'string',
      format: 'record_id',
      classification: 'direct_identifier',
      rule: 'pseudonymise',
      as: 'person_id',
      scope: 'hes',
    },
    { name: 'epikey', source: 'EPIKEY', type: 'string', format: 'record_id', classification: 'other', rule: 'pseudonymise', as: 'episode_id' },
    {
      name: 'mydob',
      source: 'MYDOB',
      type: 'date',
      dateFormat: 'MMYYYY',
      nulls: ['011800', '011801'],
      classification: 'quasi_identifier',
      rule: 'age_band',
      ageAt: 'admidate',
    },
    {
      name: 'admidate',
      source: 'ADMIDATE',
      type: 'date',
      required: true,
      nulls: ['1800-01-01', '1801-01-01'],
      classification: 'quasi_identifier',
      rule: 'drop',
    },
    { name: 'elecdate', source: 'ELECDATE', type: 'date', classification: 'quasi_identifier', rule: 'drop' },
    { name: 'diag_4_02', source: 'DIAG_4_02', type: 'string', format: 'icd10', placeholders: ['-'], classification: 'sensitive', rule: 'keep' },
    { name: 'opertn', source: 'OPERTN_4_01', type: 'string', format: 'opcs4', nulls: ['-', '&'], classification: 'sensitive', rule: 'keep' },
    {
      name: 'concat',
      source: 'DIAG_4_CONCAT',
      type: 'string',
      format: { list: 'icd10', separator: ',' },
      placeholders: ['-'],
      classification: 'sensitive',
      rule: 'keep',
    },
    { name: 'lsoa', source: 'LSOA01', type: 'string', format: 'lsoa', placeholders: ['Z99999999'], classification: 'quasi_identifier', rule: 'keep' },
  ],
  { personKey: 'hesid', nationalDataOptOut: true, optOut: { appliedBy: 'supplier', statement: 'tests: applied upstream' } },
);
const validate = compileRowValidator(hes, { loadDate: LOAD_DATE });
const row = (o: Partial<Record<string, string>> = {}) => [
  o.hesid ?? 'TESTWn4Rt4ww00zIOJ8rYBMf5fgC4tvI',
  o.epikey ?? '513700125763',
  o.mydob ?? '051939',
  o.admidate ?? '2001-09-27',
  o.elecdate ?? '2001-09-27',
  o.diag ?? 'Z370',
  o.opertn ?? 'W371',
  o.concat ?? 'F321,Z370',
  o.lsoa ?? 'E01031043',
];
const ok = (r: RowValidation) => {
  if (!r.ok) throw new Error(`refused: ${r.problems.map((p) => p.code).join(', ')}`);
  return r;
};

describe('a HES-like row', () => {
  test('placeholders: nulls become null (reported by position); kept ones stay as written, in lists too', () => {
    const r = ok(validate(row({ mydob: '011801', opertn: '&', diag: '-', concat: '-  ,Z942', lsoa: 'Z99999999', elecdate: '1801-01-01' }), 2));
    expect(r.row).toEqual([
      'TESTWn4Rt4ww00zIOJ8rYBMf5fgC4tvI',
      '513700125763',
      null,
      '2001-09-27',
      null, // dropped and used by nothing: not read at all
      '-',
      null,
      '-,Z942',
      'Z99999999',
    ]);
    expect(r.nulled).toEqual([2, 6]);
  });

  test('a placeholder is matched whole: near misses are still checked against the format', () => {
    for (const [column, value, code] of [
      ['diag', '--', 'bad_icd10'],
      ['diag', '-I10', 'bad_icd10'],
      ['concat', 'F321,--', 'bad_icd10'],
      ['concat', 'F321,,Z370', 'bad_icd10'],
      ['lsoa', 'Z9999999', 'bad_lsoa'],
      ['mydob', '011802', 'date_of_birth_too_early'],
      ['mydob', '1939-05', 'unparseable_date'],
      ['opertn', 'I10', 'bad_opcs4'],
    ] as const) {
      const r = validate(row({ [column]: value }), 2);
      expect(r.ok ? [] : r.problems.map((p) => p.code)).toEqual([code]);
    }
  });

  test('a placeholder that reads as an identifier is never kept, whatever the config says', () => {
    // Each would pass its column's shape as a placeholder: only the identifier guard stops it.
    const unsafe = dataset('unsafe', [
      { name: 'gp', type: 'string', format: 'ods_code', placeholders: ['&', 'N11AA'], classification: 'quasi_identifier', rule: 'keep' },
      { name: 'key', type: 'string', format: 'record_id', placeholders: ['9434765919'], classification: 'other', rule: 'keep' },
    ]);
    const check = compileRowValidator(unsafe, { loadDate: LOAD_DATE });
    expect(check(['&', 'K1'], 2).ok).toBe(true);
    const codes = (fields: string[]) => {
      const r = check(fields, 2);
      return r.ok ? [] : r.problems.map((p) => p.code);
    };
    expect(codes(['N11AA', 'K1'])).toEqual(['bad_ods_code']);
    expect(codes(['&', '9434765919'])).toEqual(['bad_record_id']);
  });

  test('a required column that holds a null placeholder is missing, not null', () => {
    const r = validate(row({ admidate: '1801-01-01' }), 2);
    expect(r.ok ? [] : r.problems.map((p) => p.code)).toEqual(['missing_required']);
  });

  test('a dropped column is read when another rule uses it (the age reference), and not otherwise', () => {
    const r = validate(row({ admidate: 'not a date', elecdate: 'not a date either' }), 2);
    expect(r.ok ? [] : r.problems.map((p) => `${p.column}:${p.code}`)).toEqual(['admidate:unparseable_date']);
    const before = validate(row({ mydob: '102001', admidate: '2001-09-30' }), 2);
    expect(before.ok ? [] : before.problems.map((p) => p.code)).toEqual(['date_before_birth']);
  });

  test('record keys that are pseudonymised may hold any digits (an episode key whose digits pass Modulus 11)', () => {
    // 9434765919 passes the NHS number check: kept in clear it is refused, pseudonymised it is not.
    expect(ok(validate(row({ epikey: '9434765919' }), 2)).row[1]).toBe('9434765919');
    const kept = dataset('kept', [{ name: 'epikey', type: 'string', format: 'record_id', classification: 'other', rule: 'keep' }]);
    const r = compileRowValidator(kept, { loadDate: LOAD_DATE })(['9434765919'], 2);
    expect(r.ok ? [] : r.problems.map((p) => p.code)).toEqual(['bad_record_id']);
    // Shape still matters: a space or a formula is not a key.
    for (const bad of ['94347 65919', '=1+1', 'x'.repeat(65)]) expect(validate(row({ epikey: bad }), 2).ok).toBe(false);
  });

  test('de-identified: the age band from the birth month at admission; one pseudonym per key, keyed in its scope', () => {
    const plan = compileDeidPlan(hes, { key: KEY, loadDate: LOAD_DATE });
    const a = plan(ok(validate(row(), 2)).row);
    const b = plan(ok(validate(row({ epikey: '300148622328' }), 3)).row);
    expect(a).toMatchObject({ mydob_age_band: '60-64', diag_4_02: 'Z370', concat: 'F321,Z370', lsoa: 'E01031043' });
    expect(a.person_id).toBe(b.person_id);
    expect(a.episode_id).not.toBe(b.episode_id);
    expect(a.person_id).not.toContain('TEST');
    // Another dataset in the same scope gives the same person the same pseudonym; another scope does not.
    const other = (scope: string) =>
      dataset('hes_ae', [{ name: 'hesid', type: 'string', format: 'record_id', classification: 'direct_identifier', rule: 'pseudonymise', scope }]);
    const pseudonymIn = (scope: string) =>
      compileDeidPlan(other(scope), { key: KEY, loadDate: LOAD_DATE })(['TESTWn4Rt4ww00zIOJ8rYBMf5fgC4tvI']).hesid_pseudonym;
    expect(pseudonymIn('hes')).toBe(a.person_id);
    expect(pseudonymIn('hes_ae')).not.toBe(a.person_id);
  });

  test('the pipeline counts null placeholders per column on rows written, and refuses an opt-out list the supplier already applied', () => {
    const pipeline = createPipeline(hes, { key: KEY, loadDate: LOAD_DATE });
    const written: unknown[] = [];
    const counts = processRecords(
      pipeline,
      [row({ mydob: '011801' }), row({ opertn: '-' }), row({ opertn: '&', mydob: '011800' }), row({ diag: 'bad' })].map((fields, i) => ({
        line: i + 2,
        fields,
        raw: '',
        error: undefined,
      })),
      { curated: (r) => written.push(r), rejected: () => undefined },
    );
    expect(counts).toMatchObject({ rowsRead: 4, rowsWritten: 3, rowsRejected: 1, nullsByColumn: { mydob: 2, opertn: 2 } });
    expect(() => createPipeline(hes, { key: KEY, loadDate: LOAD_DATE, optOut: new Set(['9434765919']) })).toThrow(/supplier applied the national data opt-out/);
    const none = dataset('none', [{ name: 'x', type: 'string', format: 'icd10', classification: 'sensitive', rule: 'keep' }]);
    expect(() => createPipeline(none, { key: KEY, loadDate: LOAD_DATE, optOut: new Set() })).toThrow(/does not apply the national data opt-out/);
  });
});
