/**
 * NHS Digital's artificial HES Admitted Patient Care sample (test/fixtures/SOURCES.md),
 * ingested as delivered with config/datasets/hes_apc.yaml: no pre-processing. Every row whose
 * fields agree with each other is committed; each rejection is one HES itself would call an
 * error; and every curated row is checked against its source row by rules computed here,
 * independently of the ingestion code.
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, REPO_ROOT, TEST_TODAY } from '../helpers/config-fixture';
import { parseCsv } from '../helpers/csv';
import { KEY } from './core/datasets';
import { MemoryStore } from './helpers/memory-store';
import { readParquet } from './helpers/read-parquet';
import { BUCKETS, runBatch } from './helpers/run-batch';

const SAMPLE = path.join(REPO_ROOT, 'test/fixtures/health/hes-artificial/artificial_hes_apc_0102.csv');
const LOAD_DATE = '2026-11-22';

type Source = Record<string, string>;

/** The source rows by HES field name, trimmed as the pipeline trims padding, with their line numbers. */
function sourceRows(): { line: number; row: Source }[] {
  const [header, ...rows] = parseCsv(fs.readFileSync(SAMPLE, 'utf8')).filter((r) => r.length > 1);
  return rows.map((r, i) => ({ line: i + 2, row: Object.fromEntries(header.map((h, j) => [h, r[j].trim()])) }));
}

/** The platform's pseudonym of a record key in a scope: HMAC-SHA256 under the key, 16 bytes, base64url (docs/ingestion.md). */
function pseudonym(scope: string, value: string): string {
  return createHmac('sha256', KEY).update(`record_id\u0000${scope}\u0000${value}`, 'utf8').digest().subarray(0, 16).toString('base64url');
}

const DATE_NULLS = new Set(['1800-01-01', '1801-01-01']);
const ICD10 = /^[A-Z]\d{2}[0-9X]?$/;
const OPCS4 = /^[A-HJ-NP-Z]\d{2}\d?$/;
const DIAG = [3, 4].flatMap((n) => Array.from({ length: 20 }, (_, i) => `DIAG_${n}_${String(i + 1).padStart(2, '0')}`));
const OPERTN = [3, 4].flatMap((n) => Array.from({ length: 24 }, (_, i) => `OPERTN_${n}_${String(i + 1).padStart(2, '0')}`));

/** The birth month (from MYDOB, MMYYYY), or undefined for HES's unknown 011800/011801. */
function birthMonth(r: Source): { y: number; m: number } | undefined {
  if (r.MYDOB === '011800' || r.MYDOB === '011801') return undefined;
  return { y: Number(r.MYDOB.slice(2)), m: Number(r.MYDOB.slice(0, 2)) };
}

/**
 * The age band at admission for a birth known to the month: the fewest whole years any
 * birthday in that month (on or before the admission) gives, in 5-year bands to 90+.
 */
function expectedBand(r: Source): string | null {
  const birth = birthMonth(r);
  if (birth === undefined || DATE_NULLS.has(r.ADMIDATE)) return null;
  const at = new Date(`${r.ADMIDATE}T00:00:00Z`);
  let least = Infinity;
  for (let d = 1; d <= 31; d++) {
    const b = new Date(Date.UTC(birth.y, birth.m - 1, d));
    if (b.getUTCMonth() !== birth.m - 1 || b > at) continue;
    let age = at.getUTCFullYear() - b.getUTCFullYear();
    if (at.getUTCMonth() < b.getUTCMonth() || (at.getUTCMonth() === b.getUTCMonth() && at.getUTCDate() < b.getUTCDate())) age--;
    least = Math.min(least, age);
  }
  return least >= 90 ? '90+' : `${Math.floor(least / 5) * 5}-${Math.floor(least / 5) * 5 + 4}`;
}

/** Why HES itself would refuse a row: an admission before the birth month, or a code that is not one. */
function expectedReasons(r: Source): string[] {
  const reasons = new Set<string>();
  const birth = birthMonth(r);
  if (birth !== undefined && !DATE_NULLS.has(r.ADMIDATE) && r.ADMIDATE < `${birth.y}-${String(birth.m).padStart(2, '0')}-01`) reasons.add('date_before_birth');
  for (const c of [...DIAG, 'CAUSE_3', 'CAUSE_4']) if (r[c] !== '' && r[c] !== '-' && !ICD10.test(r[c])) reasons.add('bad_icd10');
  for (const c of ['DIAG_3_CONCAT', 'DIAG_4_CONCAT'])
    if (r[c] !== '' && r[c].split(',').some((e) => e.trim() !== '-' && !ICD10.test(e.trim()))) reasons.add('bad_icd10');
  for (const c of OPERTN) if (r[c] !== '' && r[c] !== '-' && r[c] !== '&' && !OPCS4.test(r[c])) reasons.add('bad_opcs4');
  for (const c of ['OPERTN_3_CONCAT', 'OPERTN_4_CONCAT'])
    if (r[c] !== '' && r[c].split(',').some((e) => !['-', '&'].includes(e.trim()) && !OPCS4.test(e.trim()))) reasons.add('bad_opcs4');
  return [...reasons].sort();
}

const text = (v: string) => (v === '' ? null : v);

let run: Awaited<ReturnType<typeof runBatch>>;
let store: MemoryStore;
let curated: Map<string, Record<string, unknown>>;
let parquetFile: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-hes-'));
const source = sourceRows();

beforeAll(async () => {
  const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
  const dataset = config.datasets.find((d) => d.name === 'hes_apc')!;
  store = new MemoryStore();
  const ref = { bucket: BUCKETS.landing, key: 'hes_apc/2026-11-22-artificial_hes_apc_0102.csv' };
  // The file exactly as delivered: its bytes, untouched.
  await store.put(ref, fs.readFileSync(SAMPLE));
  // Small chunks too: records split across byte ranges must give the same batch.
  run = await runBatch(store, ref, dataset, { loadDate: LOAD_DATE, chunkBytes: 256 * 1024 });
  const bytes = store.objects.get(`${BUCKETS.curated}\u0000${run.manifest.outputs[0].key}`)!;
  parquetFile = path.join(tmp, 'hes.parquet');
  fs.writeFileSync(parquetFile, bytes);
  const content = await readParquet(bytes);
  const names = content.columns.map((c) => c.name);
  curated = new Map(
    content.rows.map((r) => {
      const row = Object.fromEntries(names.map((n, i) => [n, r[i]]));
      return [row.episode_id as string, row];
    }),
  );
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the sample is committed as delivered: no file-level refusal, several chunks, every row accounted for', () => {
  expect(run.manifest.status).toBe('committed');
  expect(run.plan.chunks.length).toBeGreaterThan(1);
  expect(run.manifest.rowsRead).toBe(2075);
  expect(run.manifest.rowsRead).toBe(run.manifest.rowsWritten + run.manifest.rowsRejected + run.manifest.rowsOptedOut);
  expect(run.manifest.rowsOptedOut).toBe(0);
});

test('exactly the rows whose fields disagree are rejected, each for the reason HES would give; placeholders are never a reason', async () => {
  const expected = source.filter((s) => expectedReasons(s.row).length > 0);
  const rejectedText = run.chunks
    .flatMap((c) => (c.rejected === undefined ? [] : [store.objects.get(`${BUCKETS.quarantine}\u0000${c.rejected.key}`)!.toString('utf8')]))
    .join('');
  const rejected = parseCsv(rejectedText)
    .filter((r) => /^\d+$/.test(r[0]))
    .map((r) => ({ line: Number(r[0]), codes: r[1].split('|').sort() }));
  expect(rejected.sort((a, b) => a.line - b.line)).toEqual(expected.map((s) => ({ line: s.line, codes: expectedReasons(s.row) })));
  expect(run.manifest.rowsRejected).toBe(expected.length);
  // Mostly admissions dated before the month of birth (artificial data draws fields apart).
  expect(Object.keys(run.manifest.rejectedByReason).sort()).toEqual(['bad_icd10', 'bad_opcs4', 'date_before_birth']);
});

test('null placeholders are counted per column in the manifest, over the rows written', () => {
  const written = source.filter((s) => expectedReasons(s.row).length === 0).map((s) => s.row);
  const count = (column: string, values: string[]) => written.filter((r) => values.includes(r[column])).length;
  expect(run.manifest.nullsByColumn).toEqual(
    Object.fromEntries(
      Object.entries({
        admidate: count('ADMIDATE', [...DATE_NULLS]),
        disdate: count('DISDATE', [...DATE_NULLS]),
        elecdate: count('ELECDATE', [...DATE_NULLS]),
        epiend: count('EPIEND', [...DATE_NULLS]),
        epistart: count('EPISTART', [...DATE_NULLS]),
        mydob: count('MYDOB', ['011800', '011801']),
        admimeth: count('ADMIMETH', ['98', '99']),
        admincat: count('ADMINCAT', ['98', '99']),
        admisorc: count('ADMISORC', ['98', '99']),
        disdest: count('DISDEST', ['98', '99']),
        dismeth: count('DISMETH', ['8', '9']),
        classpat: count('CLASSPAT', ['8', '9']),
        epistat: count('EPISTAT', ['9']),
        epiorder: count('EPIORDER', ['99']),
      }).filter(([, n]) => n > 0),
    ),
  );
  expect(run.manifest.nullsByColumn?.elecdate).toBeGreaterThan(30);
});

test('every curated row holds its source row by each rule: pseudonyms, age band, months, codes unchanged', () => {
  const written = source.filter((s) => expectedReasons(s.row).length === 0);
  expect(curated.size).toBe(written.length);
  const personOf = new Map<string, string>();
  for (const { row: r } of written) {
    const c = curated.get(pseudonym('hes_apc', r.EPIKEY));
    expect(c).toBeDefined();
    const row = c!;
    // One pseudonym per supplier pseudonym, keyed in the HES scope; the supplier's never stored.
    expect(row.person_id).toBe(pseudonym('hes', r.PSEUDO_HESID));
    personOf.set(r.PSEUDO_HESID, row.person_id as string);
    const month = (v: string) => (v === '' || DATE_NULLS.has(v) ? null : v.slice(0, 7));
    const expected: Record<string, unknown> = {
      age_band_at_admission: expectedBand(r),
      admission_month: month(r.ADMIDATE),
      discharge_month: month(r.DISDATE),
      episode_start_month: month(r.EPISTART),
      episode_end_month: month(r.EPIEND),
      decided_to_admit_month: month(r.ELECDATE),
      sex: text(r.SEX),
      ethnic_category: text(r.ETHNOS),
      admission_method: ['98', '99'].includes(r.ADMIMETH) ? null : text(r.ADMIMETH),
      gp_practice_code: text(r.GPPRAC),
      main_specialty: text(r.MAINSPEF),
      lsoa_2001: text(r.LSOA01),
      diag_4_concat:
        r.DIAG_4_CONCAT === ''
          ? null
          : r.DIAG_4_CONCAT.split(',')
              .map((e) => e.trim())
              .join(','),
      opertn_4_concat:
        r.OPERTN_4_CONCAT === ''
          ? null
          : r.OPERTN_4_CONCAT.split(',')
              .map((e) => e.trim())
              .join(','),
      diag_count: r.DIAG_COUNT === '' ? null : Number(r.DIAG_COUNT),
      epidur: r.EPIDUR === '' ? null : BigInt(r.EPIDUR),
    };
    for (const c of [...DIAG, ...OPERTN]) expected[c.toLowerCase()] = text(r[c]);
    expect(Object.fromEntries(Object.keys(expected).map((k) => [k, row[k]]))).toEqual(expected);
  }
  // The link holds both ways: no two supplier pseudonyms share a platform one.
  expect(new Set(personOf.values()).size).toBe(personOf.size);
  const stored = JSON.stringify([...curated.values()], (_, v) => (typeof v === 'bigint' ? String(v) : v));
  expect(stored).not.toMatch(/TEST[A-Za-z0-9]{28}/);
  expect(stored).not.toMatch(/"513700125763"/);
});

test("'-' round-trips: a researcher filtering diag_4_02 = '-' finds every episode the supplier wrote it in", async () => {
  const written = source.filter((s) => expectedReasons(s.row).length === 0);
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    const result = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${parquetFile}') WHERE diag_4_02 = '-'`);
    const n = Number(result.getRows()[0][0]);
    expect(n).toBe(written.filter((s) => s.row.DIAG_4_02 === '-').length);
    expect(n).toBeGreaterThan(600);
    const quoted = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${parquetFile}') WHERE diag_4_02 LIKE '''%'`);
    expect(Number(quoted.getRows()[0][0])).toBe(0);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
