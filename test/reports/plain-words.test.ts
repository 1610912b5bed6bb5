import { curatedColumns, loadConfig, PARTITION_COLUMN } from '../../lib/config';
import type { DatasetConfig } from '../../lib/config';
import { buildAccessMatrix } from '../../lib/reports/access-matrix';
import { renderAccessMatrixHtml } from '../../lib/reports/access-matrix-render';
import { columnMeaning, grantedColumnMeaning, PARTITION_MEANING } from '../../lib/reports/plain-words';
import { ConfigFixture, EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const configs = [EXAMPLE_CONFIG, SECOND_CONFIG].map((dir) => loadConfig(dir, { today: TEST_TODAY }));
const datasets: DatasetConfig[] = configs.flatMap((c) => [...c.datasets]);

/** What each rule's meaning must say it did, whatever the source column is called. */
const SAYS: Record<string, RegExp> = {
  pseudonymise: /^A code in place of .+ itself is not given$/,
  age_band: /^Age in \d+-year bands .* worked out from the .+, which is not given$/,
  date_to_month: /^Month and year only .+; the day( and time are| is) not given$/,
  date_to_year: /^Year only of the .+; the day and month are not given$/,
  postcode_outward: /^Postcode district only .+; the full postcode is not given$/,
  postcode_lsoa: /^Neighbourhood only .+; the postcode is not given$/,
  scrub_free_text: /with names, numbers, dates, places and anything else that could identify someone removed$/,
};

describe('what a curated column holds, in plain words', () => {
  test('the examples the committee misread: age_band is not a date of birth, person_id is not an NHS number', () => {
    const demographics = configs[0].datasets.find((d) => d.name === 'demographics')!;
    const curated = curatedColumns(demographics);
    expect(grantedColumnMeaning(demographics, curated, 'age_band')).toBe(
      'Age in 5-year bands (such as 40-44) on the date the data were loaded, worked out from the date of birth, which is not given',
    );
    expect(grantedColumnMeaning(demographics, curated, 'person_id')).toBe(
      "A code in place of the NHS number: it links one person's records without saying who they are; the NHS number itself is not given",
    );
    expect(grantedColumnMeaning(demographics, curated, 'postcode_district')).toMatch(
      /^Postcode district only .* of the home postcode; the full postcode is not given$/,
    );
    expect(grantedColumnMeaning(demographics, curated, PARTITION_COLUMN)).toBe(PARTITION_MEANING);
    const episodes = configs[0].datasets.find((d) => d.name === 'hospital_episodes')!;
    expect(grantedColumnMeaning(episodes, curatedColumns(episodes), 'age_band_at_admission')).toMatch(
      / on the date of admission, worked out from the date of birth/,
    );
  });

  test('every transformed column of every dataset says what its rule did, and never reads as its source column', () => {
    let checked = 0;
    for (const dataset of datasets) {
      for (const column of curatedColumns(dataset)) {
        const meaning = columnMeaning(dataset, column);
        if (column.rule === 'keep') {
          expect(meaning).toBe(column.description);
          continue;
        }
        checked++;
        expect({ column: `${dataset.name}.${column.name}`, meaning, says: SAYS[column.rule].test(meaning) }).toEqual({
          column: `${dataset.name}.${column.name}`,
          meaning,
          says: true,
        });
        expect(meaning.startsWith(column.description)).toBe(column.rule === 'scrub_free_text');
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  test('generated sources: whatever a source column is called or described, the rule decides the meaning', () => {
    // Descriptions an attacker (or a careless config) might write, for every rule and type.
    const descriptions = ['NHS number of the patient', 'Date of birth', 'Full postcode', 'x', 'ODS code', "Patient's date of birth (DD/MM/YYYY)"];
    const rules = [
      ['pseudonymise', 'string', { format: 'nhs_number' }],
      ['pseudonymise', 'string', { format: 'record_id' }],
      ['age_band', 'date', { bandYears: 10 }],
      ['date_to_month', 'date', {}],
      ['date_to_month', 'timestamp', {}],
      ['date_to_year', 'date', {}],
      ['postcode_outward', 'string', { format: 'postcode' }],
      ['postcode_lsoa', 'string', { format: 'postcode', lookup: 'x.csv' }],
      ['scrub_free_text', 'string', { format: 'free_text' }],
    ] as const;
    for (const description of descriptions) {
      for (const [rule, type, extra] of rules) {
        const dataset = {
          name: 'd',
          title: 'D',
          description: 'D',
          supplier: 'S',
          columns: [{ name: 'c', description, type, rule, classification: 'quasi_identifier', required: false, ...extra }],
        } as unknown as DatasetConfig;
        const [column] = curatedColumns(dataset);
        const meaning = columnMeaning(dataset, column);
        expect({ rule, description, ok: SAYS[rule].test(meaning) }).toEqual({ rule, description, ok: true });
        if (rule === 'age_band') expect(meaning).toContain('10-year bands (such as 80-89)');
        if (rule === 'date_to_month') expect(meaning.endsWith(type === 'timestamp' ? 'day and time are not given' : 'the day is not given')).toBe(true);
      }
    }
  });
});

describe('row filters are described in words', () => {
  test('the access matrix page shows the description, never the expression', () => {
    const config = configs[0];
    const html = renderAccessMatrixHtml(buildAccessMatrix(config));
    for (const p of config.projects) {
      for (const grant of Object.values(p.datasets)) {
        if (grant.rowFilter === undefined) continue;
        expect(html).toContain(grant.rowFilterDescription);
        expect(html).not.toContain(grant.rowFilter.replace(/'/g, '&#39;'));
        expect(html).not.toContain(grant.rowFilter);
      }
    }
    expect(html).toContain('some rows only');
  });

  const validate = (change: (d: any) => void) => {
    const f = new ConfigFixture().edit('projects/ncl-winter-planning.yaml', change);
    try {
      const { validateConfigDir } = require('../../lib/config') as typeof import('../../lib/config');
      return validateConfigDir(f.dir, { today: TEST_TODAY }).problems;
    } finally {
      f.cleanup();
    }
  };

  test('a row filter without a description is refused, naming the file, the field and the fix', () => {
    const problems = validate((d) => delete d.datasets.hospital_episodes.rowFilterDescription);
    expect(problems).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/ncl-winter-planning\.yaml$/),
        field: 'datasets.hospital_episodes.rowFilterDescription',
        message: expect.stringMatching(/is missing: a row filter needs a plain-English description/),
        fix: expect.stringMatching(/add rowFilterDescription: "\.\.\."/),
      }),
    ]);
  });

  test('a description with no filter, an empty one, or one that is the expression again, is refused', () => {
    expect(validate((d) => (d.datasets.demographics.rowFilterDescription = 'women only'))).toEqual([
      expect.objectContaining({ field: 'datasets.demographics.rowFilterDescription', message: expect.stringMatching(/no rowFilter/) }),
    ]);
    expect(validate((d) => (d.datasets.hospital_episodes.rowFilterDescription = '   '))).toEqual([
      expect.objectContaining({ field: 'datasets.hospital_episodes.rowFilterDescription' }),
    ]);
    for (const sql of ["admission_method IN ('21','22')", 'gestation_weeks < 20', 'sex = 2', 'admission_method in (21, 22)', "code LIKE '02%'", 'a != b']) {
      expect(validate((d) => (d.datasets.hospital_episodes.rowFilterDescription = sql))).toEqual([
        expect.objectContaining({ field: 'datasets.hospital_episodes.rowFilterDescription', message: expect.stringMatching(/reads as an expression/) }),
      ]);
    }
  });
});
