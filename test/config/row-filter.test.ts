import { parseRowFilter, rowFilterColumns, rowFilterSql, RowFilterSyntaxError } from '../../lib/config/row-filter';

describe('row filters', () => {
  test.each([
    ["admission_method IN ('21','22','23')", "admission_method IN ('21', '22', '23')", ['admission_method']],
    ["bnf_code LIKE '0208%'", "bnf_code LIKE '0208%'", ['bnf_code']],
    ['gestation_weeks < 20', 'gestation_weeks < 20', ['gestation_weeks']],
    ["sex = '2' and not (age_band = '90+' or age_band is null)", "(sex = '2' AND (NOT (age_band = '90+' OR age_band IS NULL)))", ['sex', 'age_band']],
    ['length_of_stay between 1 and 30', 'length_of_stay BETWEEN 1 AND 30', ['length_of_stay']],
    ["provider_code not in ('RAL')", "provider_code NOT IN ('RAL')", ['provider_code']],
    ["name <> 'O''Brien'", "name <> 'O''Brien'", ['name']],
    ['value != -1.5', 'value <> -1.5', ['value']],
    ['smoking_at_booking = TRUE', 'smoking_at_booking = TRUE', ['smoking_at_booking']],
    ['a = 1 OR b = 2 AND c = 3', '(a = 1 OR (b = 2 AND c = 3))', ['a', 'b', 'c']],
  ])('%s', (text, canonical, columns) => {
    const expr = parseRowFilter(text);
    expect(rowFilterSql(expr)).toBe(canonical);
    expect(rowFilterColumns(expr)).toEqual(columns);
    // The canonical form parses back to itself.
    expect(rowFilterSql(parseRowFilter(rowFilterSql(expr)))).toBe(canonical);
  });

  test.each([
    ["admission_method IN ('21'", /expected "\)"/],
    ["bnf_code LIKE 0208", /LIKE needs a quoted pattern/],
    ["x = 'unterminated", /unterminated string/],
    ['x = 1; DROP TABLE t', /unexpected character ";"/],
    ['x = y', /expected a value/],
    ['1 = 1', /expected a column name/],
    ['upper(x) = 1', /expected a comparison/],
    ["x = 1 AND", /expected a column name/],
    ['', /expected a column name/],
  ])('refuses %p', (text, message) => {
    expect(() => parseRowFilter(text)).toThrow(RowFilterSyntaxError);
    expect(() => parseRowFilter(text)).toThrow(message);
  });
});
