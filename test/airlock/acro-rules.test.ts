/**
 * ACRO's rules as the airlock applies them (defaults: threshold 10, zeros and negatives to
 * review, NK n=2 k=90% failing at >= k, p-ratio 10%, residual df 10, survival 10), the
 * statistics checked against their group sizes, the formats the checker does not read,
 * and free text. Each worked example says why.
 */
import { checkOutputFile, type FileCheckInput } from '../../lib/airlock/disclosure';
import { renderFileReport } from '../../lib/airlock/report';
import { RULE_IDS, RULES } from '../../lib/airlock/rules';
import { airlockSchema, DEFAULT_AIRLOCK_SETTINGS, type AirlockSettings } from '../../lib/config/airlock-settings';
import { csv, rowsOf } from './helpers';

const SETTINGS: AirlockSettings = { ...DEFAULT_AIRLOCK_SETTINGS, reviewers: ['reviewer-a', 'reviewer-b'] };
const check = (text: string, extra: Partial<FileCheckInput> = {}, settings = SETTINGS, name = 'out.csv') =>
  checkOutputFile({ name, bytes: csv(text), ...extra }, settings);
const cell = (bytes: Uint8Array | undefined, row: number, column: string) => {
  const rows = rowsOf(bytes);
  return rows[row][rows[0].indexOf(column)];
};
const rules = (r: ReturnType<typeof check>) => r.report.findings.map((f) => `${f.rule}:${f.severity}`);

describe("ACRO's defaults in platform.yaml", () => {
  test('the schema defaults are ACRO default.yaml', () => {
    const parsed = airlockSchema.parse({ reviewers: ['a1', 'b2'] });
    expect(parsed).toMatchObject({
      suppressionThreshold: 10,
      dominance: { n: 2, k: 90 },
      pRatio: 10,
      regressionDof: 10,
      survivalThreshold: 10,
      zeros: 'review',
      negativeValues: 'review',
      missingValues: 'review',
    });
  });

  test('every rule names its source, and says where the platform is stricter', () => {
    for (const id of RULE_IDS) expect(RULES[id].source.length).toBeGreaterThan(10);
    expect(RULES.threshold.source).toMatch(/ACRO safe_threshold 10/);
    expect(RULES.nk_dominance.source).toMatch(/safe_nk_k 0.90.*>= k/);
    expect(RULES.p_ratio.source).toMatch(/safe_pratio_p 0.10/);
    expect(RULES.regression_dof.source).toMatch(/safe_dof_threshold 10/);
    expect(RULES.survival.source).toMatch(/survival_safe_threshold 10/);
    expect(RULES.zeros.source).toMatch(/zeros_are_disclosive/);
    expect(RULES.missing.stricter).toMatch(/ACRO: False/);
  });

  test('the report cites the rule of every check and finding', () => {
    const text = renderFileReport(check('area,n\nA,0\nB,150\nC,160\n').report);
    expect(text).toMatch(/zeros: .*\[ACRO zeros_are_disclosive True/);
    expect(text).toMatch(/minimum frequency \(threshold\): .*\[ACRO safe_threshold 10/);
  });
});

describe('counts', () => {
  test('threshold 10: counts 1 to 10 suppressed (ACRO fails below 10; the platform suppresses 10 too)', () => {
    const r = check('area,n\nA,10\nB,11\nC,150\nD,160\n');
    expect(cell(r.output, 1, 'n')).toBe('[c]');
  });

  test('zeros, negatives and missing values go to a reviewer; the zero is kept', () => {
    expect(rules(check('area,n\nA,0\nB,150\nC,160\n'))).toEqual(['zeros:review']);
    expect(rules(check('area,n\nA,-150\nB,150\nC,160\n'))).toEqual(['negative:review']);
    expect(rules(check('area,n\nA,NA\nB,150\nC,160\n'))).toEqual(['missing:review']);
    expect(cell(check('area,n\nA,0\nB,150\nC,160\n').output, 1, 'n')).toBe('0');
  });

  test('with zeros: release in platform.yaml, a zero needs no reviewer', () => {
    expect(check('area,n\nA,0\nB,150\nC,160\n', {}, { ...SETTINGS, zeros: 'release' }).outcome).toBe('unchanged');
  });
});

describe('statistics against their group sizes', () => {
  test.each([
    ['a mean over 4 people', 'area,patients,mean_los\nA,4,3.5\nB,150,4.5\nC,160,5.5\n', 1, 'group_size'],
    ['a median over 10 people', 'area,patients,median_age\nA,10,53.5\nB,150,40.5\nC,160,41.5\n', 1, 'group_size'],
    ['a standard deviation over 2', 'area,patients,sd_los\nA,2,0.5\nB,150,2.5\nC,160,2.25\n', 1, 'group_size'],
    ['a percentage whose numerator is 3 (2% of 150)', 'area,patients,pct_died\nA,150,2.0\nB,150,40.5\nC,160,41.25\n', 1, 'percentage_numerator'],
    ['a percentage whose complement is 3 (98% of 150)', 'area,patients,pct_alive\nA,150,98.0\nB,150,60.5\nC,160,61.25\n', 1, 'percentage_numerator'],
    ['a proportion of 0.04 of 100 people (4)', 'area,patients,prop_died\nA,100,0.04\nB,150,0.405\nC,160,0.4125\n', 1, 'percentage_numerator'],
    ['a rate per 1000 of 20 in 250 people (5)', 'area,population,rate_per_1000\nA,250,20.0\nB,1500,40.5\nC,1600,41.25\n', 1, 'percentage_numerator'],
    ['a percent sign on the value', 'area,patients,died\nA,150,2.0%\nB,150,40.5%\nC,160,41.25%\n', 1, 'percentage_numerator'],
  ])('%s is suppressed', (_name, text, row, rule) => {
    const r = check(text);
    const column = rowsOf(r.output)[0][2];
    expect(cell(r.output, row, column)).toBe('[c]');
    expect(r.report.changes.find((c) => c.row === row && c.column === column)?.rule).toBe(rule);
  });

  test("minimum and maximum are suppressed wherever they are (one person's value)", () => {
    const r = check('area,patients,max_age,youngest\nA,150,104,18\nB,160,99,19\nC,170,97,20\n');
    for (const row of [1, 2, 3]) {
      expect(cell(r.output, row, 'max_age')).toBe('[c]');
      expect(cell(r.output, row, 'youngest')).toBe('[c]');
    }
  });

  test('a statistic with no group size, 0% or 100%, or a spread of 0, goes to a reviewer', () => {
    expect(rules(check('area,mean_los\nA,3.5\nB,4.5\n'))).toContain('no_group_size:review');
    expect(rules(check('area,patients,pct_died\nA,150,0.0\nB,150,40.5\nC,160,41.25\n'))).toContain('zeros:review');
    expect(rules(check('area,patients,sd_los\nA,150,0.0\nB,150,2.5\nC,160,2.25\n'))).toContain('zeros:review');
  });

  test('a statistic whose header claims a mean but whose values are whole is checked as a count as well', () => {
    // A requester cannot escape the threshold by naming a count column "mean_...".
    const r = check('area,patients,mean_deaths\nA,150,3\nB,160,140\nC,170,150\n');
    expect(cell(r.output, 1, 'mean_deaths')).toBe('[c]');
  });
});

describe('model outputs, survival tables and histograms', () => {
  test('a regression with 6 residual degrees of freedom is disclosive; with 50 it passes; without them it goes to a reviewer', () => {
    const model = (df: string) => `term,estimate,std_error,p_value\nintercept,1.25,0.31,0.001\nage,0.042,0.011,0.02\n${df}`;
    expect(rules(check(model('df_resid,6,,\n')))).toContain('regression_dof:disclosive');
    expect(check(model('df_resid,50,,\n')).report.findings.filter((f) => f.rule === 'regression_dof')).toEqual([]);
    expect(rules(check(model('')))).toContain('regression_dof:review');
    // From the number of observations: 12 observations, 2 parameters: 10 (passes); 8: 6 (fails).
    expect(rules(check(model('nobs,8,,\n')))).toContain('regression_dof:disclosive');
  });

  test('a survival table: figures where 1 to 10 people leave the risk set are suppressed', () => {
    const r = check('time,n_at_risk,events,survival\n0,200,0,1.0\n30,195,5,0.975\n60,150,45,0.75\n90,148,2,0.74\n');
    // Steps 30 (200 -> 195: 5 left) and 90 (150 -> 148: 2 left) are suppressed; 60 (45 left) is kept.
    expect(cell(r.output, 2, 'survival')).toBe('[c]');
    expect(cell(r.output, 4, 'survival')).toBe('[c]');
    expect(cell(r.output, 3, 'survival')).toBe('0.75');
  });

  test('a survival table without the number at risk goes to a reviewer', () => {
    expect(rules(check('time,survival\n0,1.0\n30,0.975\n'))).toContain('survival:review');
  });

  test('a histogram: bins are counts, and the extreme bin edges go to a reviewer', () => {
    const r = check('bin_start,bin_end,frequency\n0,10,4\n10,20,150\n20,30,160\n');
    expect(cell(r.output, 1, 'frequency')).toBe('[c]');
    expect(rules(r)).toContain('histogram:review');
  });
});

describe('magnitudes', () => {
  test('a sum named as money without its contributions goes to a reviewer', () => {
    expect(rules(check('area,patients,total_cost_gbp\nA,150,120345.50\nB,160,98765.25\n'))).toContain('magnitude_unchecked:review');
  });

  test('NK dominance fails at exactly k (two largest make up 90%)', () => {
    const contributions = csv(
      `area,cost\n${[500, 400, 20, 20, 20, 20, 10, 10, 0, 0, 0].map((v) => `A,${v}`).join('\n')}\n${Array.from({ length: 11 }, () => 'B,100').join('\n')}\n`,
    );
    const r = check('area,cost\nA,1000\nB,1100\n', { spec: { magnitudeColumns: ['cost'] }, contributions });
    expect(r.report.changes.find((c) => c.row === 1)?.rule).toBe('nk_dominance');
  });
});

describe('formats the checker does not read', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const xlsx = Buffer.from([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]);
  const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n');
  test.each([
    ['an image', 'chart.png', png, /PNG image/],
    ['a spreadsheet', 'table.xlsx', xlsx, /zip container/],
    ['a PDF', 'report.pdf', pdf, /PDF document/],
    ['an SVG', 'chart.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><text>3</text></svg>'), /SVG image.*small number 3/],
    ['an HTML page', 'page.html', Buffer.from('<html><body><p>2 patients</p></body></html>'), /HTML page.*small number 2/],
    ['JSON', 'counts.json', Buffer.from('{"deaths": 3}'), /JSON document/],
    ['plain text', 'notes.txt', Buffer.from('Summary\nincludes 2 deaths aged 100+\n'), /text \(\.txt\).*small number 2/],
    ['a table saved with tabs', 'table.tsv', Buffer.from('area\tn\nA\t3\n'), /tab-separated/],
    ['a file with no extension', 'README', Buffer.from('two deaths\n'), /text/],
  ])('%s goes to a reviewer, released as submitted only with a note', (_name, name, bytes, what) => {
    const r = checkOutputFile({ name, bytes }, SETTINGS);
    expect(r.outcome).toBe('review');
    expect(r.report.findings).toEqual([expect.objectContaining({ rule: 'file_format', severity: 'review', message: expect.stringMatching(what) })]);
    expect(Buffer.from(r.output!).equals(bytes)).toBe(true);
  });

  test('a binary file named .csv is refused as a table, not sent to a reviewer', () => {
    expect(checkOutputFile({ name: 'out.csv', bytes: png }, SETTINGS).outcome).toBe('refused');
  });
});

describe('free text', () => {
  test.each([
    ['a sentence', 'area,n,notes\nA,150,the only patient over 100 lived in this area\nB,160,\n'],
    ['words and a number', 'area,n,notes\nA,150,3 deaths\nB,160,\n'],
    ['a number glued with a colon', 'area,n,notes\nA,150,deaths:3\nB,160,\n'],
    ['a number in words', 'area,n,notes\nA,150,two deaths\nB,160,\n'],
    ['a header that says a number', 'area,deaths (n=3)\nA,150\nB,160\n'],
    ['a header that is a sentence', 'area,of these two died in hospital\nA,150\nB,160\n'],
  ])('%s goes to a reviewer', (_name, text) => {
    expect(rules(check(text))).toContain('free_text:review');
  });

  test.each([
    ['age bands', 'age_band,n\n0-4,150\n5-9,160\n85+,170\n'],
    ['codes and months', 'practice,month,n\nRAL01,2026-03,150\nE01000001,2026-04,160\n'],
    ['diagnosis names', 'diagnosis,n\nChronic obstructive pulmonary disease,150\nAsthma,160\n'],
  ])('%s are ordinary categories', (_name, text) => {
    expect(check(text).report.findings.filter((f) => f.rule === 'free_text')).toEqual([]);
  });
});

describe('statistics recognised by their content', () => {
  test('fractions adding up to 100 are percentages whatever the header: 2.5% of 120 people is 3', () => {
    const r = check('area,patients,share_of_cases\nA,120,2.5\nB,200,47.5\nC,210,50.0\n');
    // The header says nothing; the column adds up to 100: its numerator is checked.
    const r2 = check('area,patients,value\nA,120,2.5\nB,200,47.5\nC,210,50.0\n');
    for (const x of [r, r2]) expect(x.report.changes.find((c) => c.row === 1 && c.rule === 'percentage_numerator')).toBeDefined();
  });

  test('fractions adding up to 1 are proportions', () => {
    const r = check('area,patients,value\nA,400,0.01\nB,200,0.49\nC,210,0.5\n');
    expect(r.report.changes.find((c) => c.row === 1 && c.rule === 'percentage_numerator')).toBeDefined();
  });
});

describe('counts hidden in the shape of the table or in the words around it', () => {
  test('a total 3 more than the rows it adds up hides a group of 3: the total is suppressed', () => {
    const r = check('age_band,admissions\n18-64,250\n65+,200\nTotal,453\n');
    expect(cell(r.output, 3, 'admissions')).toBe('[c]');
    const wide = check('area,F,M,total\nA,150,160,312\nB,170,180,350\n');
    expect(cell(wide.output, 1, 'total')).toBe('[c]');
    expect(cell(wide.output, 2, 'total')).toBe('350');
  });

  test('rows that repeat their categories count people by repetition', () => {
    expect(rules(check('area,flag\nBarnet,1000\nBarnet,1000\nCamden,1000\n'))).toContain('row_level:review');
  });

  test('a count dressed as a statistic (3.0001 over a large n) is checked as a count too', () => {
    const r = check('area,patients,mean_score\nA,500,3.0001\nB,500,150.0002\nC,500,160.0001\n');
    expect(cell(r.output, 1, 'mean_score')).toBe('[c]');
  });

  test('a number given as a bound (<5) goes to a reviewer', () => {
    expect(rules(check('area,deaths\nBarnet,<5\nCamden,<5\n'))).toContain('free_text:review');
  });

  test('a header that mixes words and a small number goes to a reviewer; age_0_4 style names do not', () => {
    expect(rules(check('area,deaths 3\nA,150\nB,160\n'))).toContain('free_text:review');
    expect(check('area,age_0_4,age_5_9\nA,150,160\nB,170,180\n').report.findings.filter((f) => f.rule === 'free_text')).toEqual([]);
  });

  test('the statement and the description leave in the manifest: a small number in them goes to a reviewer', () => {
    const r = check('area,n\nA,150\nB,160\n', { words: { statement: 'Admissions by area', description: 'Admissions by area; Barnet had 2 deaths' } });
    expect(r.report.findings.map((f) => f.id)).toEqual(['free_text:description']);
  });
});

describe('more disguises', () => {
  test('counts written in words go to a reviewer', () => {
    expect(rules(check('area,admissions,deaths\nBarnet,150,three\nCamden,160,twelve\n'))).toContain('free_text:review');
  });

  test('fractions the checker cannot name (a count plus noise) go to a reviewer', () => {
    expect(rules(check('area,n,deaths\nBarnet,500,3.4\nCamden,500,150.7\n'))).toContain('unknown_statistic:review');
  });

  test('a sparse table, mostly suppressed, shows which rare combinations exist: to a reviewer', () => {
    const rows = Array.from({ length: 8 }, (_, i) => `E0100000${i},${['F', 'M'][i % 2]},${i < 6 ? 1 : 150}`).join('\n');
    expect(rules(check(`lsoa,sex,n\n${rows}\n`))).toContain('row_level:review');
  });

  test('a total however it is worded: its remainder is protected', () => {
    for (const label of ['All areas', 'London total', 'Grand total', 'Everyone']) {
      const r = check(`area,admissions\nBarnet,250\nCamden,200\n${label},453\n`);
      expect(cell(r.output, 3, 'admissions')).toBe('[c]');
    }
  });
});

test('ordinary words are not numbers: marital status "Single", a procedure named "Total hip replacement"', () => {
  const r = check('marital_status,procedure,n\nSingle,Total hip replacement,150\nMarried,Knee arthroscopy,160\n');
  expect(r.report.findings).toEqual([]);
  expect(r.report.table?.totals).toEqual([]);
});
