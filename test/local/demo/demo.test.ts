import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadConfig } from '../../../lib/config';
import { DemoResult, runDemo } from '../../../lib/local/demo/demo';
import { startLocalS3 } from '../../../lib/local/s3-api/server';
import { bucketNames } from '../../../lib/local/workdir';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { parseCsv } from '../../helpers/csv';
import { quarterOf, type ScrutinyReport } from '../../../lib/governance/scrutiny';
import type { Register } from '../../../lib/register/model';

const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-demo-'));
afterAll(() => fs.rmSync(workdir, { recursive: true, force: true }));
const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });

describe('sde demo', () => {
  const lines: string[] = [];
  let result: DemoResult;
  beforeAll(async () => {
    result = await runDemo({ config, workdir, people: 150, seed: 11, log: (l) => lines.push(l) });
  });

  test('delivers every dataset to the landing bucket, under <dataset>/<date>-synthetic-<seed>.csv', () => {
    expect(result.landed.map((l) => l.key).sort()).toEqual(config.datasets.map((d) => `${d.name}/${TEST_TODAY}-synthetic-11.csv`).sort());
    expect(result.landed.every((l) => l.bucket === 'onelondon-sde-landing')).toBe(true);
    expect(result.buckets).toEqual(bucketNames(config));
    expect(result.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('says what it did: people, rows, planted bad rows by kind, bytes, the endpoint and where the files are', () => {
    const text = lines.join('\n');
    expect(text).toMatch(/150 people \(seed 11\); NHS numbers from the 999 test range/);
    for (const d of result.population.datasets) {
      expect(text).toContain(`${d.rows} rows, ${d.badRowCount} deliberately bad`);
      expect(text).toContain(`${d.bytes} bytes`);
    }
    expect(text).toMatch(/\d+ bad_nhs_check_digit/);
    expect(text).toContain(`national data opt-out list: ${result.population.optOutCount} people`);
    expect(text).toContain(`Local S3 API on ${result.endpoint} (loopback only), objects stored in ${result.layout.s3}`);
    expect(text).toContain('Delivered 5 files to s3://onelondon-sde-landing/');
    expect(text).toContain(`files in ${path.join(result.layout.generated, 'seed-11')}`);
  });

  test('applies a later opt-out list after ingestion and prints the counts', () => {
    const text = lines.join('\n');
    expect(text).toMatch(/Later opt-outs: 5 more people opted out after ingestion/);
    expect(text).toMatch(/Applied opt-out list [0-9a-f]{16}\.\.\. \(dated 2026-11-22, \d+ entries\): 5 people's records removed, \d+ rows from \d+ batch(es)?/);
    expect(text).toMatch(/took \d+\.\d s on this machine for \d+ curated rows checked/);
  });

  test('every file it names is given by its absolute path, so it can be opened from any folder', () => {
    const text = lines.join('\n');
    expect(text).toContain(`national data opt-out list: ${result.population.optOutCount} people (${result.population.optOutFile})`);
    expect(text).toContain(
      `Access matrix for the data access committee: ${path.join(result.layout.out, 'access-matrix.md')}, ${path.join(result.layout.out, 'access-matrix.html')}`,
    );
    expect(text).toContain(path.join(result.layout.out, 'risk.txt'));
    // Any other path-like word that names a file of the workdir (not an S3 key) is absolute too.
    const named = [...text.matchAll(/(?:^|[\s(])([\w./-]*\/[\w.-]+\.(?:html|md|txt|json|csv|key))\b/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(2);
    for (const file of named) expect({ file, absolute: path.isAbsolute(file) }).toEqual({ file, absolute: true });
  });

  test('the objects are really in the local store, row for row: a fresh server on the same workdir serves them', async () => {
    const s3 = await startLocalS3({ directory: result.layout.s3 });
    try {
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: result.buckets.landing }));
      expect(listed.Contents?.map((c) => [c.Key, c.Size]).sort()).toEqual(result.landed.map((l) => [l.key, l.bytes]).sort());
      for (const landed of result.landed) {
        const got = await s3.client.send(new GetObjectCommand({ Bucket: result.buckets.landing, Key: landed.key }));
        const body = await got.Body!.transformToString();
        const generated = result.population.datasets.find((d) => d.dataset === landed.dataset)!;
        expect(body).toBe(fs.readFileSync(generated.file, 'utf8'));
        expect(landed.bytes).toBe(generated.bytes);
        expect(parseCsv(body).length - 1).toBe(generated.rows);
      }
      // Every zone's bucket exists; ingestion has filled curated (Parquet + manifests) and
      // quarantine (rejected rows): what is in them is tested in test/ingest.
      const keys: Record<string, string[]> = {};
      for (const [zone, bucket] of Object.entries(result.buckets)) {
        const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
        keys[zone] = (page.Contents ?? []).map((c) => c.Key!);
      }
      expect(keys.landing).toHaveLength(5);
      expect(keys.curated.filter((k) => /^[a-z_]+\/load_date=[\d-]+\/[0-9a-f]{24}\.parquet$/.test(k))).toHaveLength(5);
      // A manifest per batch, and the record that its content was delivered (duplicate deliveries).
      expect(keys.curated.filter((k) => k.startsWith('_manifests/') && !k.startsWith('_manifests/_deliveries/'))).toHaveLength(5);
      expect(keys.curated.filter((k) => k.startsWith('_manifests/_deliveries/'))).toHaveLength(5);
      expect(keys.quarantine.every((k) => /\/rejected\/chunk-\d{5}\.csv$/.test(k))).toBe(true);
      expect([keys.results, keys.accessLogs]).toEqual([[], []]);
    } finally {
      await s3.stop();
    }
  });

  test("writes the scrutiny report for the demo's quarter, holding the register's and the bills' figures", () => {
    const now = new Date().toISOString().slice(0, 10);
    const quarter = quarterOf(now > TEST_TODAY ? now : TEST_TODAY);
    const report = JSON.parse(fs.readFileSync(path.join(result.layout.out, 'scrutiny', `scrutiny-${quarter.id}.json`), 'utf8')) as ScrutinyReport;
    expect(fs.readFileSync(path.join(result.layout.out, 'scrutiny', `scrutiny-${quarter.id}.html`), 'utf8')).toContain(
      '<h1>Report to the scrutiny committee: ',
    );
    expect(lines.join('\n')).toMatch(new RegExp(`Scrutiny report for ${quarter.id}: `));
    // Use: the register's months of the quarter, project by project (the register ran first, over the same trail).
    const register = JSON.parse(fs.readFileSync(path.join(result.layout.out, 'register', 'register.json'), 'utf8')) as Register;
    const months = new Set(quarter.months.map((m) => m.id));
    for (const p of register.projects) {
      const m = p.activity.months.filter((x) => months.has(x.month));
      const s = report.byProject.find((x) => x.id === p.id);
      if (m.length === 0) {
        expect(s).toBeUndefined();
        continue;
      }
      const withheld = m.filter((x) => !('count' in x.queries)).length;
      const shown = m.reduce((n, x) => n + ('count' in x.queries ? x.queries.count : 0), 0);
      expect(s!.queries).toEqual(
        withheld === 0 ? { count: shown } : { atLeast: shown, withheldMonths: withheld, fewerThan: register.disclosure.threshold + 1 },
      );
      expect(s!.dataScanned.bytes).toBe(m.reduce((n, x) => n + (x.dataScannedBytes ?? 0), 0));
    }
    expect(report.byProject.length).toBeGreaterThan(0);
    // Charges: this month's bills, as the demo wrote them, tier by tier.
    const month = new Date().toISOString().slice(0, 7);
    const rows = parseCsv(fs.readFileSync(path.join(result.layout.out, 'bills', month, 'statements.csv'), 'utf8')).filter((r) => r.length > 1);
    const head = rows[0];
    for (const t of report.byTier) {
      const billed = rows
        .slice(1)
        .filter((r) => r[head.indexOf('tier')] === t.tier)
        .reduce((n, r) => n + Math.round(Number(r[head.indexOf('total')]) * 100), 0);
      expect(t.charges.months.find((m) => m.month === month)?.totalMinor).toBe(billed);
    }
  });

  test('keeps local secrets private to the owner', () => {
    expect(fs.statSync(path.join(result.layout.keys, 'pseudonym.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(result.layout.root).mode & 0o777).toBe(0o700);
    expect(fs.statSync(result.layout.s3).mode & 0o777).toBe(0o700);
  });

  test('runs again on the same workdir, replacing its delivery with identical bytes', async () => {
    const again = await runDemo({ config, workdir, people: 150, seed: 11, log: () => undefined });
    expect(again.landed).toEqual(result.landed);
    expect(again.population.datasets.map((d) => d.bytes)).toEqual(result.population.datasets.map((d) => d.bytes));
  });
});
