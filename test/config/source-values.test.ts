/**
 * The dataset settings for files as suppliers deliver them: header names, date formats,
 * placeholders, column groups, record keys' scopes, and an opt-out applied by the supplier.
 * Each refusal is a config that would fail every row at ingest or let a value past its domain.
 */
import { validateConfigDir } from '../../lib/config';
import { expandColumnGroups } from '../../lib/config/schema';
import { ConfigFixture, TEST_TODAY } from '../helpers/config-fixture';

const fixtures: ConfigFixture[] = [];
afterAll(() => fixtures.forEach((f) => f.cleanup()));

const BASE = {
  name: 'supplied',
  title: 'Supplied',
  description: 'A supplier file as delivered',
  supplier: 'tests',
  personKey: 'hesid',
  nationalDataOptOut: true,
  optOut: { appliedBy: 'supplier', statement: 'Supplier release note 4.2: opted-out people removed' },
  columns: [
    { name: 'hesid', source: 'PSEUDO_HESID', description: 'pseudonym', type: 'string', format: 'record_id', classification: 'direct_identifier', rule: 'pseudonymise', scope: 'hes' },
    { name: 'mydob', source: 'MYDOB', description: 'birth month', type: 'date', dateFormat: 'MMYYYY', nulls: ['011801'], classification: 'quasi_identifier', rule: 'age_band', ageAt: 'admidate' },
    { name: 'admidate', source: 'ADMIDATE', description: 'admission', type: 'date', classification: 'quasi_identifier', rule: 'date_to_month' },
    { name: 'diag_4_{01..03}', source: 'DIAG_4_{01..03}', description: 'diagnosis {01..03}', type: 'string', format: 'icd10', placeholders: ['-'], classification: 'sensitive', rule: 'keep' },
  ],
};

type Dataset = typeof BASE & Record<string, unknown>;

function problemsWith(change: (d: Dataset) => void) {
  const d = structuredClone(BASE) as Dataset;
  change(d);
  const f = new ConfigFixture().write('datasets/supplied.yaml', JSON.stringify(d));
  fixtures.push(f);
  return validateConfigDir(f.dir, { today: TEST_TODAY });
}

const fieldsOf = (r: ReturnType<typeof problemsWith>) => r.problems.map((p) => `${p.field}: ${p.message}`);

test('the example dataset is valid, and its group expands to one column per number, zero-padded as written', () => {
  const r = problemsWith(() => undefined);
  expect(r.problems).toEqual([]);
  const ds = r.config!.datasets.find((d) => d.name === 'supplied')!;
  expect(ds.columns.filter((c) => c.name.startsWith('diag_4_')).map((c) => [c.name, c.source, c.description])).toEqual([
    ['diag_4_01', 'DIAG_4_01', 'diagnosis 01'],
    ['diag_4_02', 'DIAG_4_02', 'diagnosis 02'],
    ['diag_4_03', 'DIAG_4_03', 'diagnosis 03'],
  ]);
});

test('column groups: reversed or oversized ranges are not expanded (and the braces are refused as a name)', () => {
  expect(expandColumnGroups([{ name: 'x_{3..1}' }])).toEqual([{ name: 'x_{3..1}' }]);
  expect(expandColumnGroups([{ name: 'x_{1..999}' }])).toEqual([{ name: 'x_{1..999}' }]);
  expect((expandColumnGroups([{ name: 'x_{8..10}' }]) as { name: string }[]).map((c) => c.name)).toEqual(['x_8', 'x_9', 'x_10']);
  const r = problemsWith((d) => (d.columns[3].name = 'diag_{9..1}'));
  expect(fieldsOf(r)).toContain('columns[3].name: has the column group {9..1}, which must count up and stand for at most 200 columns, such as {01..20}');
  const big = problemsWith((d) => (d.columns[3].name = 'diag_{1..500}'));
  expect(fieldsOf(big).some((p) => /column group \{1\.\.500\}/.test(p))).toBe(true);
});

test.each<[string, (d: Dataset) => void, RegExp]>([
  ['a date format on a string', (d) => Object.assign(d.columns[3], { dateFormat: 'YYYYMMDD' }), /dateFormat: applies to date columns only/],
  ['a month-precision date kept whole', (d) => Object.assign(d.columns[1], { rule: 'keep', ageAt: undefined }), /holds a month .* no date can be stored/],
  ['an age measured at a month', (d) => Object.assign(d.columns[2], { dateFormat: 'YYYY-MM' }), /ageAt: names "admidate", which holds a month/],
  ['a value both null and kept', (d) => Object.assign(d.columns[3], { nulls: ['-'] }), /placeholders: lists "-", which nulls lists too/],
  ['placeholders on a column with no format', (d) => Object.assign(d.columns[2], { placeholders: ['-'] }), /placeholders: applies only to a string column with a format/],
  ['placeholders on a pseudonymised key', (d) => Object.assign(d.columns[0], { placeholders: ['-'] }), /placeholders: applies only to a column kept in clear/],
  ['a scope on a kept column', (d) => Object.assign(d.columns[3], { scope: 'hes' }), /scope: applies only to a record key that is pseudonymised/],
  ['two columns reading one header name', (d) => Object.assign(d.columns[2], { source: 'MYDOB' }), /all read the header column "MYDOB"/],
  [
    'two columns reading one name once case is ignored',
    (d) => {
      d.source = { headerMatch: 'case_insensitive' };
      Object.assign(d.columns[2], { source: 'mydob' });
    },
    /ignoring case/,
  ],
  ['no header and no column count', (d) => (d.source = { header: false }), /source.columnCount: is missing/],
  ['a column count that is not the columns listed', (d) => (d.source = { header: false, columnCount: 5 }), /source.columnCount: is 5, but 6 columns/],
  ['a column count with a header', (d) => (d.source = { columnCount: 6 }), /columnCount: applies only with header: false/],
  ['an opt-out applied by the supplier with no statement', (d) => delete (d.optOut as Record<string, unknown>).statement, /optOut.statement: is missing/],
  ['a statement with the platform applying the opt-out', (d) => ((d as Record<string, unknown>).optOut = { statement: 'x' }), /optOut.statement: applies only with appliedBy: supplier/],
  ['person-level rows with no opt-out at all', (d) => ((d.nationalDataOptOut = false), delete (d as Record<string, unknown>).optOut), /nationalDataOptOut: is false, but the dataset holds person-level rows/],
  ['a placeholder holding a control character', (d) => Object.assign(d.columns[3], { placeholders: ['-\u0007'] }), /control characters/],
])('refused: %s', (_name, change, message) => {
  const r = problemsWith(change);
  expect(fieldsOf(r).filter((p) => message.test(p))).not.toEqual([]);
});

test('a positional file with its count stated is valid', () => {
  expect(problemsWith((d) => (d.source = { header: false, columnCount: 6 })).problems).toEqual([]);
});
