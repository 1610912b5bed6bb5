/**
 * Bad input from the issue, each through the whole batch: a bad file goes whole to
 * quarantine with a machine-readable error report and nothing reaches curated; a bad row
 * is rejected with its line and reason while the good rows continue; files that are only
 * unusual (a BOM, CRLF, an odd key) are ingested as normal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { datasetSchema } from '../../lib/config/schema';
import { manifestKey } from '../../lib/ingest/layout';
import type { ErrorReport } from '../../lib/ingest/manifest';
import { csvLine, EPISODES, episodeFields } from './core/datasets';
import { parseCsv } from '../helpers/csv';
import { MemoryStore } from './helpers/memory-store';
import { BUCKETS, runBatch } from './helpers/run-batch';

const HEADER = csvLine(EPISODES.columns.map((c) => c.name));
const good = (id: string, extra: Record<string, string> = {}) => csvLine(episodeFields({ episode_id: id, ...extra }));
const file = (...lines: string[]) => `${lines.join('\n')}\n`;

async function ingest(body: Buffer | string, key = 'episodes/delivery.csv', ds = EPISODES, chunkBytes?: number) {
  const store = new MemoryStore();
  await store.put({ bucket: BUCKETS.landing, key }, typeof body === 'string' ? Buffer.from(body) : body);
  const run = await runBatch(store, { bucket: BUCKETS.landing, key }, ds, { chunkBytes });
  return { store, ...run };
}

describe('a bad file goes whole to quarantine, with a JSON error report', () => {
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(file(HEADER, good('E1')), 'utf16le')]);
  const latin1 = Buffer.from(file(HEADER, good('E1', { ward: 'Ward Bérénice' })), 'latin1');
  test.each([
    ['an empty file', Buffer.alloc(0), 'empty_file', /empty/],
    ['a header-only file', Buffer.from(`${HEADER}\n`), 'no_data_rows', /header but no data rows/],
    [
      'a header that is not the dataset’s',
      Buffer.from(file(HEADER.replace('nhs_number', 'nhs_no'), good('E1'))),
      'header_mismatch',
      /missing from the header: nhs_number; 1 column\(s\) in the header that the dataset does not describe: nhs_no/,
    ],
    ['a header in another order', Buffer.from(file(HEADER.split(',').reverse().join(','), good('E1'))), 'header_mismatch', /different order/],
    ['a UTF-16 file (the dataset says UTF-8)', utf16, 'wrong_encoding', /UTF-16 little-endian/],
    ['a Latin-1 file (the dataset says UTF-8)', latin1, 'wrong_encoding', /invalid UTF-8 at byte offset \d+/],
    [
      'a file with no header (the first row is data)',
      Buffer.from(file(good('E1'), good('E2'))),
      'header_mismatch',
      /none of the first line's 19 cells names a column of this dataset/,
    ],
  ])('%s', async (_name, body, code, message) => {
    const { store, manifest } = await ingest(body);
    expect(manifest.status).toBe('quarantined');
    expect(manifest.quarantine?.error.code).toBe(code);
    expect(manifest.quarantine?.error.message).toMatch(message);
    expect(manifest.outputs).toEqual([]);
    expect(store.keys(BUCKETS.curated)).toEqual([manifestKey('episodes', manifest.batchId)]);
    // The whole file, byte for byte, and the report beside it.
    expect(store.objects.get(`${BUCKETS.quarantine}\u0000${manifest.quarantine!.source}`)).toEqual(body);
    const report = JSON.parse(store.objects.get(`${BUCKETS.quarantine}\u0000${manifest.quarantine!.errorReport}`)!.toString()) as ErrorReport;
    expect(report).toMatchObject({
      batchId: manifest.batchId,
      dataset: 'episodes',
      error: { code },
      quarantinedAs: `s3://quarantine/${manifest.quarantine!.source}`,
    });
    expect(report.source.key).toBe('episodes/delivery.csv');
    expect(store.keys(BUCKETS.quarantine).filter((k) => k.includes('/rejected/'))).toEqual([]);
  });

  test('a wrong encoding found late, by a later chunk, still quarantines the whole file and commits nothing', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => good(`E${i}`));
    const body = Buffer.concat([Buffer.from(file(HEADER, ...rows)), Buffer.from(`${good('E99', { ward: 'Ward Bérénice' })}\n`, 'latin1')]);
    const { store, manifest, plan } = await ingest(body, 'episodes/late.csv', EPISODES, 1024);
    expect(plan.chunks.length).toBeGreaterThan(2);
    expect(manifest.status).toBe('quarantined');
    expect(manifest.quarantine?.error).toMatchObject({ code: 'wrong_encoding', chunk: plan.chunks.length - 1 });
    expect(store.keys(BUCKETS.curated)).toEqual([manifestKey('episodes', manifest.batchId)]);
  });
});

describe('bad rows are rejected with line and reason; good rows continue', () => {
  test.each([
    ['a NUL byte', good('E2', { ward: 'W\u00001' }), 'nul_byte'],
    ['a 1 MB single field', good('E2', { ward: 'x'.repeat(1024 * 1024 + 1) }), 'field_too_large'],
    ['malformed quoting (text after a closing quote)', `E2,9990000018,"Test "Patient,x`, 'text_after_closing_quote'],
    ['malformed quoting (a quote inside an unquoted field)', `E2,9990000018,Test "Patient",x`, 'quote_in_unquoted_field'],
    ['a ragged row', csvLine(episodeFields({ episode_id: 'E2' }).slice(0, 4)), 'ragged_row'],
    ['an NHS number with a wrong check digit', good('E2', { nhs_number: '999 000 0019' }), 'bad_nhs_check_digit'],
    ['a date of birth in the future', good('E2', { date_of_birth: '2030-01-01' }), 'future_date_of_birth'],
  ])('%s', async (_name, badLine, code) => {
    const { store, manifest } = await ingest(file(HEADER, good('E1'), badLine, good('E3')));
    expect(manifest).toMatchObject({ status: 'committed', rowsRead: 3, rowsWritten: 2, rowsRejected: 1 });
    expect(manifest.rejectedByReason[code as keyof typeof manifest.rejectedByReason]).toBe(1);
    const rejected = parseCsv(store.objects.get(`${BUCKETS.quarantine}\u0000${manifest.rejectedFiles[0].key}`)!.toString('utf8'));
    expect(rejected[0]).toEqual(['line', 'reason_codes', 'reasons', 'record']);
    expect(rejected[1][0]).toBe('3');
    expect(rejected[1][1].split('|')).toContain(code);
    // Reasons name columns and rules, never the value.
    expect(rejected[1][2]).not.toMatch(/9990000019|2030-01-01|xxxx|Patient/);
    // Nothing about the row in the manifest but counts.
    expect(JSON.stringify(manifest)).not.toMatch(/9990000019|2030-01-01|Patient/);
  });

  test('a record starting with a spreadsheet formula is neutralised in the rejected file too', async () => {
    const { store, manifest } = await ingest(file(HEADER, `=HYPERLINK("http://x"),bad`));
    const text = store.objects.get(`${BUCKETS.quarantine}\u0000${manifest.rejectedFiles[0].key}`)!.toString('utf8');
    expect(parseCsv(text)[1][3]).toBe(`'=HYPERLINK("http://x"),bad`);
  });
});

describe('unusual but good files are ingested', () => {
  test.each([
    ['a UTF-8 byte-order mark', `\uFEFF${file(HEADER, good('E1'), good('E2'))}`, 'episodes/bom.csv'],
    ['CRLF line ends', [HEADER, good('E1'), good('E2')].join('\r\n') + '\r\n', 'episodes/crlf.csv'],
    ['an object key with odd characters', file(HEADER, good('E1'), good('E2')), "episodes/2026-11-22 Trust's export (v2) #1 + ü & %20 ~.csv"],
    ['no final line end', `${HEADER}\n${good('E1')}\n${good('E2')}`, 'episodes/no-final-newline.csv'],
  ])('%s', async (_name, body, key) => {
    const { manifest } = await ingest(body, key);
    expect(manifest).toMatchObject({ status: 'committed', rowsRead: 2, rowsWritten: 2, rowsRejected: 0 });
    expect(manifest.source.key).toBe(key);
    expect(manifest.outputs).toHaveLength(1);
  });
});

describe('the real messy-CSV corpora are handled without a crash, and identically in chunks', () => {
  const root = path.join(__dirname, '..', 'fixtures', 'csv');
  const files = fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(csv|tsv)$/.test(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();

  test('there are corpus files to read', () => expect(files.length).toBeGreaterThan(30));

  test.each(files)('%s', async (rel) => {
    const bytes = fs.readFileSync(path.join(root, rel));
    // A dataset shaped like the file: no header (so every row is data), as many text columns as its first line.
    const firstLine = bytes.toString('latin1').split(/\r\n|\r|\n/)[0] ?? '';
    const width = Math.max(1, parseCsv(firstLine)[0]?.length ?? 1);
    const ds = datasetSchema.parse({
      name: 'corpus',
      title: 'corpus',
      description: 'a corpus file',
      supplier: 'tests',
      nationalDataOptOut: false,
      source: { header: false },
      // Free text, scrubbed: the one string domain that accepts any cell.
      columns: Array.from({ length: width }, (_, i) => ({
        name: `c${i}`,
        description: 'a column',
        type: 'string',
        format: 'free_text',
        classification: 'other',
        rule: 'scrub_free_text',
      })),
    });
    const whole = await ingest(bytes, `corpus/${path.basename(rel)}`, ds);
    // Small chunks (a few per file, at least 13 bytes) so boundaries land in awkward places.
    const split = await ingest(bytes, `corpus/${path.basename(rel)}`, ds, Math.max(13, Math.ceil(bytes.length / 5)));
    for (const run of [whole, split]) {
      expect(['committed', 'quarantined']).toContain(run.manifest.status);
      const m = run.manifest;
      expect(m.rowsRead).toBe(m.rowsWritten + m.rowsRejected + m.rowsOptedOut);
    }
    const summary = (m: typeof whole.manifest) => [m.status, m.quarantine?.error.code, m.rowsRead, m.rowsWritten, m.rowsRejected, m.rejectedByReason];
    expect(summary(split.manifest)).toEqual(summary(whole.manifest));
  });
});
