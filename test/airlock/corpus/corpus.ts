/**
 * A corpus of research outputs, disclosive and safe, to measure the airlock as a whole: the
 * share of disclosive outputs it catches (target: all of them) and the share of safe
 * outputs it releases without a reviewer's note (the cost of being strict).
 *
 * Most entries are generated from families with a seeded generator (names, values, positions
 * and spellings vary), the rest are hand-written cases that stand for a kind of output
 * (file formats, models, survival tables). Every table is synthetic.
 *
 * "Caught" means no disclosive value leaves without a person's decision: the file is
 * refused or held for a reviewer, or every disclosive cell is suppressed in what would be
 * released. "Released without review" means the outcome is unchanged or changed (checked
 * and fixed automatically), with no finding for a reviewer.
 */
import { checkOutputFile, tableMemory, type FileCheckResult } from '../../../lib/airlock/disclosure';
import type { MemoryTable } from '../../../lib/airlock/memory';
import { parseCsvTable } from '../../../lib/airlock/csv-table';
import { DEFAULT_AIRLOCK_SETTINGS, type AirlockSettings } from '../../../lib/config/airlock-settings';
import type { TableSpec } from '../../../lib/airlock/table-shape';

export const CORPUS_SETTINGS: AirlockSettings = { ...DEFAULT_AIRLOCK_SETTINGS, reviewers: ['reviewer-a', 'reviewer-b'] };

export interface CorpusEntry {
  readonly id: string;
  readonly family: string;
  readonly kind: 'disclosive' | 'safe';
  readonly name: string;
  readonly bytes: Buffer;
  readonly spec?: TableSpec;
  readonly contributions?: Buffer;
  /** Earlier releases of the project (CSV texts): differencing. */
  readonly released?: readonly string[];
  /** For a disclosive table: the cells (1-based data row, column) that must not leave. */
  readonly cells?: readonly (readonly [number, string])[];
}

/** mulberry32: a seeded generator, so the corpus is the same on every run. */
class Seeded {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
}

const csv = (text: string) => Buffer.from(text, 'utf8');
const AREAS = ['Barnet', 'Camden', 'Enfield', 'Haringey', 'Islington'];
const AGE_BANDS = ['0-17', '18-39', '40-64', '65-79', '80+'];
const COUNT_NAMES = [
  'n',
  'patients',
  'deaths',
  'deaths_in_group',
  'admissions_year_2024',
  'year_2023',
  'code',
  'practice_code',
  'age',
  'group',
  'band_total',
  'items',
  '2024',
  'id',
];

/** Ways to write a small count that an older checker read as a category or missed. */
const DISGUISES: readonly ((n: number) => string)[] = [
  (n) => `${n}.0`,
  (n) => `${n}e0`,
  (n) => `0${n}`,
  (n) => `-${n}`,
  (n) => `\u2212${n}`,
  (n) => String(n).replace(/\d/g, (d) => String.fromCodePoint(0xff10 + Number(d))),
  (n) => String(n).replace(/\d/g, (d) => String.fromCodePoint(0x660 + Number(d))),
  (n) => `\u200b${n}`,
  (n) => `(${n})`,
  (n) => `${n * 10}e-1`,
  (n) => `+${n}`,
  (n) => `${n}.00`,
];

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [header.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

function disclosive(): CorpusEntry[] {
  const g = new Seeded(18);
  const out: CorpusEntry[] = [];
  const add = (e: Omit<CorpusEntry, 'kind' | 'id'>) => out.push({ ...e, kind: 'disclosive', id: `D${String(out.length + 1).padStart(3, '0')}` });

  // Small counts under any column name, at any position.
  for (let i = 0; i < 12; i++) {
    const column = COUNT_NAMES[i % COUNT_NAMES.length];
    const small = g.int(1, 10);
    const at = g.int(0, 4);
    const values = AREAS.map(() => g.int(40, 900));
    values[at] = small;
    add({
      family: 'small count, any column name',
      name: 'counts.csv',
      bytes: csv(
        table(
          ['area', column],
          AREAS.map((a, r) => [a, values[r]]),
        ),
      ),
      cells: [[at + 1, column]],
    });
  }
  // Small counts in disguise.
  DISGUISES.forEach((d, i) => {
    const small = g.int(1, 10);
    const at = g.int(0, 4);
    const values: (string | number)[] = AREAS.map(() => g.int(40, 900));
    values[at] = d(small);
    add({
      family: 'small count in disguise',
      name: 'counts.csv',
      bytes: csv(
        table(
          ['area', COUNT_NAMES[(i * 5) % COUNT_NAMES.length]],
          AREAS.map((a, r) => [a, values[r]]),
        ),
      ),
      cells: [[at + 1, COUNT_NAMES[(i * 5) % COUNT_NAMES.length]]],
    });
  });
  // A thousands separator elsewhere in the column.
  add({ family: 'small count in disguise', name: 'counts.csv', bytes: csv('area,n\nBarnet,3\nCamden,"1,204"\nEnfield,"2,310"\n'), cells: [[1, 'n']] });
  // Two-way table with a small cell (age band x sex).
  for (let i = 0; i < 4; i++) {
    const rows = AGE_BANDS.flatMap((b) => ['F', 'M'].map((s) => [b, s, g.int(30, 400)] as (string | number)[]));
    const at = g.int(0, rows.length - 1);
    rows[at][2] = g.int(1, 10);
    add({
      family: 'small cell in a two-way table',
      name: 'by-age-sex.csv',
      bytes: csv(table(['age_band', 'sex', 'admissions'], rows)),
      cells: [[at + 1, 'admissions']],
    });
  }
  // Statistics over small groups, the group size named like a category or plainly.
  const statHeaders = ['mean_los', 'median_age', 'sd_cost', 'avg_stay', 'mean value'];
  const nHeaders = ['patients', 'n', 'group_size', 'n_in_group', 'cohort_count'];
  for (let i = 0; i < 5; i++) {
    const n = g.int(1, 10);
    add({
      family: 'statistic over a small group',
      name: 'stats.csv',
      bytes: csv(
        table(
          ['area', nHeaders[i], statHeaders[i]],
          [
            ['Barnet', n, (g.int(10, 90) / 10).toFixed(1)],
            ['Camden', g.int(100, 500), '4.2'],
            ['Enfield', g.int(100, 500), '5.1'],
          ],
        ),
      ),
      cells: [[1, statHeaders[i]]],
    });
  }
  // Percentages: of a small group, a small numerator, a small complement, a rate.
  add({
    family: 'percentage of few people',
    name: 'pct.csv',
    bytes: csv('area,patients,pct_died\nBarnet,4,25.0\nCamden,200,10.5\nEnfield,210,11.0\n'),
    cells: [[1, 'pct_died']],
  });
  add({
    family: 'percentage of few people',
    name: 'pct.csv',
    bytes: csv('area,patients,pct_died\nBarnet,150,2.0\nCamden,200,10.5\nEnfield,210,11.5\n'),
    cells: [[1, 'pct_died']],
  });
  add({
    family: 'percentage of few people',
    name: 'pct.csv',
    bytes: csv('area,patients,pct_alive\nBarnet,150,98.0\nCamden,200,60.5\nEnfield,210,61.5\n'),
    cells: [[1, 'pct_alive']],
  });
  add({
    family: 'percentage of few people',
    name: 'pct.csv',
    bytes: csv('area,population,rate_per_1000\nBarnet,400,10.0\nCamden,2000,40.5\nEnfield,2100,41.5\n'),
    cells: [[1, 'rate_per_1000']],
  });
  add({ family: 'percentage of few people', name: 'pct.csv', bytes: csv('area,died\nBarnet,25.0%\nCamden,10.5%\n') });
  // Minimum and maximum.
  for (const h of ['max_age', 'oldest_patient', 'min_los', 'longest stay (days)']) {
    add({ family: 'minimum or maximum', name: 'extremes.csv', bytes: csv(table(['group', 'patients', h], [['all', 450, g.int(60, 110)]])), cells: [[1, h]] });
  }
  // Free text and words.
  for (const text of [
    'includes 2 deaths aged 100+',
    'one patient, a man in his nineties',
    'deaths:3',
    'n=4 (all female)',
    'the only case was in Barnet last March',
  ]) {
    add({
      family: 'free text',
      name: 'notes.csv',
      bytes: csv(
        table(
          ['area', 'patients', 'notes'],
          [
            ['Barnet', 150, text],
            ['Camden', 160, ''],
          ],
        ),
      ),
    });
  }
  add({ family: 'free text', name: 'header.csv', bytes: csv('area,deaths (n=3 in Barnet)\nBarnet,150\nCamden,160\n') });
  // Files the checker does not read.
  add({ family: 'another format', name: 'note.txt', bytes: csv('Summary of the cohort\nincludes 2 deaths aged 100+\n') });
  add({
    family: 'another format',
    name: 'chart.svg',
    bytes: csv("<svg xmlns='http://www.w3.org/2000/svg'>\n<rect height='3'/>\n<text x='5'>deaths: 3</text>\n</svg>\n"),
  });
  add({ family: 'another format', name: 'table.html', bytes: csv('<html><body><table><tr><td>Barnet</td><td>3</td></tr></table></body></html>') });
  add({ family: 'another format', name: 'counts.json', bytes: csv('{"Barnet": 3, "Camden": 150}') });
  add({
    family: 'another format',
    name: 'chart.png',
    bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
  });
  add({ family: 'another format', name: 'table.xlsx', bytes: Buffer.from([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0]) });
  add({ family: 'another format', name: 'report.pdf', bytes: csv('%PDF-1.7\n1 0 obj <<>> endobj\n') });
  add({ family: 'another format', name: 'counts.tsv', bytes: csv('area\tn\nBarnet\t3\n') });
  // Differencing against earlier releases.
  add({ family: 'differencing', name: 'los.csv', bytes: csv('cohort,patients,mean_los\nall,19,4.9\n'), released: ['cohort,patients,mean_los\nall,20,5.15\n'] });
  add({ family: 'differencing', name: 'adm.csv', bytes: csv('age_band,admissions\n18-64,250\n65+,200\n'), released: ['sex,admissions\nF,230\nM,225\n'] });
  add({
    family: 'differencing',
    name: 'adm.csv',
    bytes: csv('area,sex,admissions\nA,F,150\nA,M,157\nB,F,170\nB,M,180\n'),
    released: ['area,sex,admissions\nA,F,150\nA,M,160\nB,F,170\nB,M,180\n'],
  });
  add({ family: 'differencing', name: 'adm.csv', bytes: csv('area,count_of_people\nA,147\nB,160\n'), released: ['area,n\nA,150\nB,160\n'] });
  add({
    family: 'differencing',
    name: 'adm.csv',
    bytes: csv('area,sex,admissions\nA,F,148\nA,M,148\nB,F,160\nB,M,160\n'),
    released: ['area,admissions\nA,300\nB,320\n'],
  });
  // Models, survival, histograms.
  add({
    family: 'model output',
    name: 'model.csv',
    bytes: csv('term,estimate,std_error,p_value\nintercept,1.25,0.31,0.001\nage,0.042,0.011,0.02\ndf_resid,6,,\n'),
  });
  add({ family: 'model output', name: 'model.csv', bytes: csv('term,coef,se\nintercept,1.25,0.31\nage,0.042,0.011\n') });
  add({
    family: 'survival table',
    name: 'km.csv',
    bytes: csv('time,n_at_risk,events,survival\n0,200,0,1.0\n30,195,5,0.975\n60,150,45,0.75\n'),
    cells: [[2, 'survival']],
  });
  add({ family: 'survival table', name: 'km.csv', bytes: csv('time,survival\n0,1.0\n30,0.975\n60,0.75\n') });
  add({ family: 'histogram', name: 'hist.csv', bytes: csv('bin_start,bin_end,frequency\n0,10,4\n10,20,150\n20,30,160\n'), cells: [[1, 'frequency']] });
  // Magnitudes.
  add({
    family: 'dominated magnitude',
    name: 'cost.csv',
    bytes: csv('area,cost\nA,1000\nB,900\nC,900\n'),
    spec: { magnitudeColumns: ['cost'] },
    contributions: csv(
      `area,cost\n${[...[500, 390, 30, 20, 20, 20, 10, 10].map((v) => `A,${v}`), ...[800, 50, 10, 10, 10, 10, 5, 5].map((v) => `B,${v}`), ...Array.from({ length: 9 }, () => 'C,100')].join('\n')}\n`,
    ),
    cells: [[2, 'cost']],
  });
  add({ family: 'dominated magnitude', name: 'cost.csv', bytes: csv('area,patients,total_cost_gbp\nA,150,120345.50\nB,160,98765.25\n') });
  // Zeros and negatives.
  add({ family: 'zero or negative', name: 'zeros.csv', bytes: csv('area,hiv_positive\nBarnet,0\nCamden,150\nEnfield,160\n') });
  add({ family: 'zero or negative', name: 'neg.csv', bytes: csv('area,net_change\nBarnet,-150\nCamden,150\nEnfield,160\n') });
  // A requester's label naming the other column.
  add({
    family: 'requester label',
    name: 'labels.csv',
    bytes: csv('area,admissions,deaths\nA,150,2\nB,160,3\nC,170,140\n'),
    spec: { countColumns: ['admissions'] },
    cells: [
      [1, 'deaths'],
      [2, 'deaths'],
    ],
  });
  add({
    family: 'requester label',
    name: 'labels.csv',
    bytes: csv('area,items,other\nA,150,2\nB,160,145\n'),
    spec: { magnitudeColumns: ['items'] },
    cells: [[1, 'other']],
  });
  // Row-level output.
  add({ family: 'row-level', name: 'listing.csv', bytes: csv(`person,age_band\n${'ab'.repeat(32)},40-64\n${'cd'.repeat(32)},65-79\n`) });
  add({ family: 'row-level', name: 'listing.csv', bytes: csv('ref,n\n9990000018,12\n') });
  add({ family: 'row-level', name: 'listing.csv', bytes: csv('postcode,n\nN1 9GU,40\n') });
  add({ family: 'row-level', name: 'listing.csv', bytes: csv('date_of_birth,n\n1990-01-01,40\n') });
  add({
    family: 'row-level',
    name: 'listing.csv',
    bytes: csv(`ref,diagnosis\n${Array.from({ length: 25 }, (_, i) => `R${i},${i % 3 ? 'asthma' : 'copd'}`).join('\n')}\n`),
  });
  // Counts hidden in the table's shape.
  add({ family: 'hidden in the shape', name: 'totals.csv', bytes: csv('age_band,admissions\n18-64,250\n65+,200\nTotal,453\n'), cells: [[3, 'admissions']] });
  add({ family: 'hidden in the shape', name: 'totals.csv', bytes: csv('area,F,M,total\nA,150,160,312\nB,170,180,350\n'), cells: [[1, 'total']] });
  add({ family: 'hidden in the shape', name: 'repeated.csv', bytes: csv('area,flag\nBarnet,1000\nBarnet,1000\nCamden,1000\n') });
  add({
    family: 'hidden in the shape',
    name: 'dressed.csv',
    bytes: csv('area,patients,mean_score\nA,500,3.0001\nB,500,150.0002\nC,500,160.0001\n'),
    cells: [[1, 'mean_score']],
  });
  add({ family: 'hidden in the shape', name: 'bounds.csv', bytes: csv('area,deaths\nBarnet,<5\nCamden,<5\n') });
  add({
    family: 'hidden in the shape',
    name: 'distribution.csv',
    bytes: csv('area,patients,value\nA,120,2.5\nB,200,47.5\nC,210,50.0\n'),
    cells: [[1, 'value']],
  });
  add({ family: 'hidden in the shape', name: 'words.csv', bytes: csv('area,admissions,deaths\nBarnet,150,three\nCamden,160,twelve\n') });
  add({ family: 'hidden in the shape', name: 'noise.csv', bytes: csv('area,n,deaths\nBarnet,500,3.4\nCamden,500,150.7\n') });
  add({
    family: 'hidden in the shape',
    name: 'all-areas.csv',
    bytes: csv('area,admissions\nBarnet,250\nCamden,200\nAll areas,453\n'),
    cells: [[3, 'admissions']],
  });
  add({
    family: 'hidden in the shape',
    name: 'sparse.csv',
    bytes: csv(`lsoa,sex,n\n${Array.from({ length: 8 }, (_, i) => `E0100000${i},${['F', 'M'][i % 2]},${i < 6 ? 1 : 150}`).join('\n')}\n`),
  });
  // Wide tables with year columns.
  add({
    family: 'columns named by year',
    name: 'wide.csv',
    bytes: csv('region,2023,2024\nA,1,2\nB,3,1\nC,150,160\n'),
    cells: [
      [1, '2023'],
      [1, '2024'],
      [2, '2023'],
      [2, '2024'],
    ],
  });
  add({
    family: 'columns named by year',
    name: 'wide.csv',
    bytes: csv('region,year_2023,year_2024\nA,1,2\nB,3,1\nC,150,160\n'),
    cells: [
      [1, 'year_2023'],
      [1, 'year_2024'],
      [2, 'year_2023'],
      [2, 'year_2024'],
    ],
  });
  return out;
}

function safe(): CorpusEntry[] {
  const g = new Seeded(2026);
  const out: CorpusEntry[] = [];
  const add = (e: Omit<CorpusEntry, 'kind' | 'id'>) => out.push({ ...e, kind: 'safe', id: `S${String(out.length + 1).padStart(3, '0')}` });
  // Counts by age band and sex, every cell well above the threshold (as sde query makes them).
  for (let i = 0; i < 8; i++) {
    add({
      family: 'counts',
      name: 'by-age-sex.csv',
      bytes: csv(
        table(
          ['age_band', 'sex', 'admissions'],
          AGE_BANDS.flatMap((b) => ['F', 'M'].map((s) => [b, s, g.int(40, 900)])),
        ),
      ),
    });
  }
  // Counts by month, written as months.
  for (let i = 0; i < 3; i++) {
    add({
      family: 'counts',
      name: 'by-month.csv',
      bytes: csv(
        table(
          ['admission_month', 'episodes'],
          ['2026-01', '2026-02', '2026-03', '2026-04'].map((m) => [m, g.int(200, 2000)]),
        ),
      ),
    });
  }
  // With margins.
  for (let i = 0; i < 3; i++) {
    const rows = AREAS.map((a) => [a, g.int(50, 400), g.int(50, 400)]);
    const withTotals = rows.map((r) => [...r, (r[1] as number) + (r[2] as number)]);
    const total = ['Total', ...[1, 2, 3].map((c) => withTotals.reduce((s, r) => s + (r[c] as number), 0))];
    add({ family: 'counts with totals', name: 'totals.csv', bytes: csv(table(['area', 'F', 'M', 'total'], [...withTotals, total])) });
  }
  // Small cells, suppressed automatically (the checked table is safe).
  for (let i = 0; i < 3; i++) {
    const rows = AGE_BANDS.flatMap((b) => ['F', 'M'].map((s) => [b, s, g.int(30, 400)] as (string | number)[]));
    rows[g.int(0, rows.length - 1)][2] = g.int(1, 10);
    add({ family: 'counts with a small cell', name: 'by-age-sex.csv', bytes: csv(table(['age_band', 'sex', 'admissions'], rows)) });
  }
  // Means and percentages over large groups.
  for (let i = 0; i < 3; i++) {
    add({
      family: 'statistics over large groups',
      name: 'los.csv',
      bytes: csv(
        table(
          ['area', 'patients', 'mean_los'],
          AREAS.map((a) => [a, g.int(120, 900), (g.int(20, 90) / 10).toFixed(1)]),
        ),
      ),
    });
    add({
      family: 'statistics over large groups',
      name: 'pct.csv',
      bytes: csv(
        table(
          ['area', 'patients', 'pct_readmitted'],
          AREAS.map((a) => [a, g.int(300, 900), (g.int(50, 300) / 10).toFixed(1)]),
        ),
      ),
    });
  }
  // A magnitude with its contributions, not dominated.
  add({
    family: 'magnitude with contributions',
    name: 'cost.csv',
    bytes: csv('area,cost\nA,1100\nB,1100\n'),
    spec: { magnitudeColumns: ['cost'] },
    contributions: csv(`area,cost\n${[...Array.from({ length: 11 }, () => 'A,100'), ...Array.from({ length: 11 }, () => 'B,100')].join('\n')}\n`),
  });
  // A model with enough residual degrees of freedom.
  add({
    family: 'model output',
    name: 'model.csv',
    bytes: csv('term,estimate,std_error,p_value\nintercept,1.25,0.31,0.001\nage,0.042,0.011,0.02\ndf_resid,1250,,\n'),
  });
  // A survival table whose steps are all large.
  add({ family: 'survival table', name: 'km.csv', bytes: csv('time,n_at_risk,events,survival\n0,2000,0,1.0\n30,1900,100,0.95\n60,1700,200,0.85\n') });
  // Released again unchanged; another breakdown with the same total.
  const earlier = 'area,sex,admissions\nA,F,150\nA,M,160\nB,F,170\nB,M,180\n';
  add({ family: 'again after a release', name: 'adm.csv', bytes: csv(earlier), released: [earlier] });
  add({
    family: 'again after a release',
    name: 'adm.csv',
    bytes: csv('sex,admissions\nF,320\nM,340\n'),
    released: ['age_band,admissions\n18-64,400\n65+,260\n'],
  });
  // Safe, but the checker cannot know: numeric categories, a structural zero, a chart.
  add({ family: 'numbers that are categories', name: 'by-year.csv', bytes: csv('year,admissions\n2024,1500\n2025,1620\n2026,1710\n') });
  add({ family: 'numbers that are categories', name: 'by-bnf.csv', bytes: csv('bnf_chapter,items\n0208,1500\n0601,2620\n') });
  add({ family: 'structural zero', name: 'zero.csv', bytes: csv('area,maternity_admissions_men\nBarnet,0\nCamden,0\n') });
  add({ family: 'a chart', name: 'chart.png', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]) });
  return out;
}

export function corpus(): CorpusEntry[] {
  return [...disclosive(), ...safe()];
}

export interface EntryResult {
  readonly entry: CorpusEntry;
  readonly outcome: FileCheckResult['outcome'];
  readonly caught?: boolean;
  /** Every listed disclosive cell suppressed by the checks themselves (no reviewer needed to catch it). */
  readonly suppressed?: boolean;
  readonly autoReleased?: boolean;
}

function releasedCell(result: FileCheckResult, row: number, column: string): string | undefined {
  if (!result.output) return undefined;
  const parsed = parseCsvTable(result.output, Number.MAX_SAFE_INTEGER);
  if (!parsed.ok) return undefined;
  const c = parsed.table.columns.indexOf(column);
  return c < 0 ? undefined : parsed.table.rows[row - 1]?.[c];
}

export function runEntry(entry: CorpusEntry, settings: AirlockSettings = CORPUS_SETTINGS): EntryResult {
  const memory: MemoryTable[] = (entry.released ?? []).map((text, i) =>
    tableMemory({ name: `released-${i}.csv`, bytes: csv(text) }, settings.maxFileBytes, `release ${i + 1}`)!,
  );
  const result = checkOutputFile(
    {
      name: entry.name,
      bytes: entry.bytes,
      ...(entry.spec ? { spec: entry.spec } : {}),
      ...(entry.contributions ? { contributions: entry.contributions } : {}),
      memory,
    },
    settings,
  );
  const held = result.outcome === 'refused' || result.outcome === 'review';
  if (entry.kind === 'disclosive') {
    const suppressed = entry.cells !== undefined && entry.cells.every(([r, c]) => releasedCell(result, r, c) === '[c]');
    return { entry, outcome: result.outcome, caught: held || suppressed, suppressed };
  }
  return { entry, outcome: result.outcome, autoReleased: result.outcome === 'unchanged' || result.outcome === 'changed' };
}

export interface CorpusSummary {
  readonly disclosive: number;
  readonly caught: number;
  readonly catchRate: number;
  readonly safe: number;
  readonly releasedWithoutReview: number;
  readonly safeReleasedWithoutReviewShare: number;
  /** Of the disclosive tables with known cells, those whose cells the checks suppressed themselves. */
  readonly withCells: number;
  readonly suppressedAutomatically: number;
  readonly missed: readonly string[];
  readonly safeHeld: readonly string[];
}

export function summarise(results: readonly EntryResult[]): CorpusSummary {
  const d = results.filter((r) => r.entry.kind === 'disclosive');
  const s = results.filter((r) => r.entry.kind === 'safe');
  const caught = d.filter((r) => r.caught).length;
  const auto = s.filter((r) => r.autoReleased).length;
  return {
    disclosive: d.length,
    caught,
    catchRate: caught / d.length,
    safe: s.length,
    releasedWithoutReview: auto,
    safeReleasedWithoutReviewShare: auto / s.length,
    withCells: d.filter((r) => r.entry.cells !== undefined).length,
    suppressedAutomatically: d.filter((r) => r.suppressed).length,
    missed: d.filter((r) => !r.caught).map((r) => `${r.entry.id} ${r.entry.family}`),
    safeHeld: s.filter((r) => !r.autoReleased).map((r) => `${r.entry.id} ${r.entry.family} (${r.outcome})`),
  };
}
