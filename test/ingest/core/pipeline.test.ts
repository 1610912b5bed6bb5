import { platformAppliesOptOut } from '../../../lib/config/curated';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../../lib/config';
import type { DatasetConfig } from '../../../lib/config/schema';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { CsvFileError, csvOptionsFor, readCsvBatches } from '../../../lib/ingest/core/csv-reader';
import { CuratedRow, pseudonymise } from '../../../lib/ingest/core/deidentify';
import { isValidNhsNumber } from '../../../lib/ingest/core/nhs-number';
import {
  addCounts,
  createPipeline,
  emptyCounts,
  PipelineCounts,
  PipelineOptions,
  processRecords,
  RejectedRow,
  runPipeline,
} from '../../../lib/ingest/core/pipeline';
import { chunked, csvLine, dataset, EPISODES, episodeFields, KEY, LOAD_DATE, testNhsNumber } from './datasets';

interface Run {
  curated: CuratedRow[];
  rejected: RejectedRow[];
  counts: PipelineCounts;
}

const HEADER = csvLine(EPISODES.columns.map((c) => c.name));

async function ingest(text: string | Buffer, options: Partial<PipelineOptions> = {}, ds: DatasetConfig = EPISODES, sizes?: number[]): Promise<Run> {
  const pipeline = createPipeline(ds, { key: KEY, loadDate: LOAD_DATE, optOut: new Set(), ...options });
  const curated: CuratedRow[] = [];
  const rejected: RejectedRow[] = [];
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const counts = await runPipeline(pipeline, readCsvBatches(chunked(bytes, sizes), csvOptionsFor(ds)), {
    curated: (r) => curated.push(r),
    rejected: (r) => rejected.push(r),
  });
  return { curated, rejected, counts };
}

const file = (rows: string[][], lineEnd = '\n') => [HEADER, ...rows.map((r) => csvLine(r))].join(lineEnd) + lineEnd;

describe('one batch through the pipeline', () => {
  test('good rows reach curated, bad rows the rejected sink, opted-out rows neither', async () => {
    const optedOut = testNhsNumber(3);
    const run = await ingest(
      file([
        episodeFields({ episode_id: 'E1' }),
        episodeFields({ episode_id: 'E2', nhs_number: '9990000019' }),
        episodeFields({ episode_id: 'E3', nhs_number: optedOut }),
        episodeFields({ episode_id: 'E4', date_of_birth: '2030-01-01', cost: 'x' }),
        episodeFields({ episode_id: 'E5' }),
      ]),
      { optOut: new Set([optedOut]) },
    );
    expect(run.curated.map((r) => r.episode_id)).toEqual(['E1', 'E5']);
    expect(run.rejected.map((r) => [r.line, r.reasons.map((x) => x.code)])).toEqual([
      [3, ['bad_nhs_check_digit']],
      [5, ['future_date_of_birth', 'non_numeric']],
    ]);
    expect(run.counts).toEqual({
      rowsRead: 5,
      rowsWritten: 2,
      rowsRejected: 2,
      rowsOptedOut: 1,
      rowsWithoutNhsNumber: 0,
      rejectedByReason: { bad_nhs_check_digit: 1, future_date_of_birth: 1, non_numeric: 1 },
    });
  });

  test('the rejected row keeps the raw line for the data team; its reasons never hold a value', async () => {
    const bad = episodeFields({ nhs_number: '943 476 5919', date_of_birth: '2031-07-09' });
    const run = await ingest(file([bad]));
    expect(run.rejected).toHaveLength(1);
    expect(run.rejected[0].raw).toBe(csvLine(bad));
    const reasons = JSON.stringify(run.rejected[0].reasons);
    expect(reasons).not.toMatch(/943|5919|2031/);
  });

  test('counts add up across batches and chunks', () => {
    const a: PipelineCounts = { rowsRead: 3, rowsWritten: 1, rowsRejected: 1, rowsOptedOut: 1, rowsWithoutNhsNumber: 1, rejectedByReason: { ragged_row: 1 } };
    const b: PipelineCounts = {
      rowsRead: 2,
      rowsWritten: 1,
      rowsRejected: 1,
      rowsOptedOut: 0,
      rowsWithoutNhsNumber: 0,
      rejectedByReason: { ragged_row: 1, nul_byte: 1 },
    };
    expect(addCounts(a, b)).toEqual({
      rowsRead: 5,
      rowsWritten: 2,
      rowsRejected: 2,
      rowsOptedOut: 1,
      rowsWithoutNhsNumber: 1,
      rejectedByReason: { ragged_row: 2, nul_byte: 1 },
    });
    expect(addCounts(emptyCounts(), a)).toEqual(a);
  });

  test('processRecords adds to the counts it is given', () => {
    const pipeline = createPipeline(EPISODES, { key: KEY, loadDate: LOAD_DATE, optOut: new Set() });
    const counts = emptyCounts();
    const sinks = { curated: () => undefined, rejected: () => undefined };
    const record = (line: number) => ({ line, fields: episodeFields(), raw: '', error: undefined });
    processRecords(pipeline, [record(2), record(3)], sinks, counts);
    processRecords(pipeline, [record(4)], sinks, counts);
    expect(counts.rowsWritten).toBe(3);
  });
});

describe('bad input from the issue: each gives a clear reason, no good row is lost', () => {
  const good = (id: string) => episodeFields({ episode_id: id });

  test.each([
    [
      'malformed quoting (a quote inside a field)',
      `${csvLine(good('G1'))}\nE2,${'9990000018'},"Test "Patient,x\n`,
      ['quote_in_unquoted_field', 'text_after_closing_quote'],
    ],
    ['a ragged row', `${csvLine(good('G1'))}\n${csvLine(good('E2').slice(0, 5))}\n`, ['ragged_row']],
    [
      'an NHS number with a wrong check digit',
      `${csvLine(good('G1'))}\n${csvLine(episodeFields({ episode_id: 'E2', nhs_number: '999 000 0019' }))}\n`,
      ['bad_nhs_check_digit'],
    ],
    [
      'a date of birth in the future',
      `${csvLine(good('G1'))}\n${csvLine(episodeFields({ episode_id: 'E2', date_of_birth: '2027-01-01' }))}\n`,
      ['future_date_of_birth'],
    ],
    ['a NUL byte', `${csvLine(good('G1'))}\n${csvLine(episodeFields({ episode_id: 'E2', ward: 'W\u00001' }))}\n`, ['nul_byte']],
    [
      'a 1 MB single field',
      `${csvLine(good('G1'))}\n${csvLine(episodeFields({ episode_id: 'E2', notes: 'x'.repeat(1024 * 1024 + 1) }))}\n`,
      ['field_too_large'],
    ],
    ['an unterminated quote at the end', `${csvLine(good('G1'))}\nE2,"never closed`, ['unterminated_quote']],
  ])('%s', async (_name, body, codes) => {
    const run = await ingest(`${HEADER}\n${body}`, {}, EPISODES, [4096]);
    expect(run.curated.map((r) => r.episode_id)).toEqual(['G1']);
    expect(run.rejected).toHaveLength(1);
    expect(codes).toContain(run.rejected[0].reasons[0].code);
    expect(run.rejected[0].line).toBe(3);
  });

  test('an NHS number with spaces, a BOM and CRLF line ends are all fine', async () => {
    const nhs = testNhsNumber(5);
    const text = `\uFEFF${file([episodeFields({ nhs_number: `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}` })], '\r\n')}`;
    const run = await ingest(text, {}, EPISODES, [3]);
    expect(run.rejected).toEqual([]);
    expect(run.curated[0].person_id).toBe(pseudonymise(KEY, nhs));
  });

  test('curated text is stored as normalised, not rewritten against spreadsheets (exports neutralise formulas)', async () => {
    const run = await ingest(file([episodeFields({ notes: '\u200b=HYPERLINK("http://x")' }), episodeFields({ notes: '@cmd|x' })]));
    expect(run.curated.map((r) => r.notes)).toEqual(['=HYPERLINK("http://x")', '@cmd|x']);
  });

  test('a formula is not a record key nor a code: such a row is refused', async () => {
    const run = await ingest(file([episodeFields({ episode_id: '=HYPERLINK("http://x")' }), episodeFields({ ward: '\u200b+SUM(A1)' })]));
    expect(run.rejected.map((r) => r.reasons.map((x) => x.code))).toEqual([['bad_record_id'], ['not_in_code_list']]);
  });

  test.each([
    ['an empty file', '', 'empty_file'],
    ['a header that does not match the schema', 'episode_id,nhs\n', 'header_mismatch'],
    ['a UTF-16 file', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(file([episodeFields()]), 'utf16le')]), 'wrong_encoding'],
    ['a Latin-1 file', Buffer.from(file([episodeFields({ notes: 'caf\u00e9' })]), 'latin1'), 'wrong_encoding'],
  ])('%s quarantines the whole file', async (_name, input, code) => {
    await expect(ingest(input)).rejects.toMatchObject({ code });
    await expect(ingest(input)).rejects.toBeInstanceOf(CsvFileError);
  });

  test('a header-only file is a batch of zero rows', async () => {
    expect((await ingest(`${HEADER}\r\n`)).counts).toEqual(emptyCounts());
  });

  test('a Latin-1 file is read when the dataset says latin1', async () => {
    const latin = { ...EPISODES, source: { ...EPISODES.source, encoding: 'latin1' as const } };
    const run = await ingest(Buffer.from(file([episodeFields({ notes: 'caf\u00e9' })]), 'latin1'), {}, latin);
    expect(run.curated[0].notes).toBe('café');
  });
});

describe('properties over random batches', () => {
  const person = fc.record({
    nhs: fc.integer({ min: 0, max: 999_999 }).map(testNhsNumber),
    dob: fc
      .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2025-12-31T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
    postcode: fc
      .tuple(
        fc.constantFrom('SE5', 'N1', 'NW10', 'E14', 'SW1A', 'EC1V', 'W1A'),
        fc.integer({ min: 0, max: 9 }),
        fc.constantFrom(...'ABDEFGHJLNPQRSTUWXYZ'),
        fc.constantFrom(...'ABDEFGHJLNPQRSTUWXYZ'),
      )
      .map(([o, d, a, b]) => `${o} ${d}${a}${b}`),
  });
  /** How a row is spoiled, if at all. */
  const spoil = fc.constantFrom('none', 'none', 'none', 'check_digit', 'future_dob', 'ragged', 'bad_date', 'nul', 'quote');
  const noteWords = fc.constantFrom('seen', 'DOB', 'NHS', 'lives', 'call', 'review', 'x2', '5mg', ',');

  interface Row {
    p: { nhs: string; dob: string; postcode: string };
    kind: string;
    notes: string;
  }
  const rows = fc.array(
    fc
      .record({ p: person, kind: spoil, words: fc.array(noteWords, { maxLength: 6 }), form: fc.integer({ min: 0, max: 3 }) })
      .map(({ p, kind, words, form }) => {
        // The clinician's note repeats the person's identifiers in one of several ways.
        const [y, m, d] = p.dob.split('-');
        const id = [
          `${p.nhs.slice(0, 3)} ${p.nhs.slice(3, 6)} ${p.nhs.slice(6)}`,
          `${d}/${m}/${y}`,
          p.postcode.toLowerCase().replace(' ', ''),
          `${p.nhs} ${p.dob} ${p.postcode}`,
        ][form];
        return { p, kind, notes: [...words, id, ...words].join(' ') } as Row;
      }),
    { minLength: 1, maxLength: 25 },
  );

  function fieldsOf(row: Row, i: number): string[] {
    const f = episodeFields({
      episode_id: `E${i}`,
      nhs_number: row.p.nhs,
      date_of_birth: row.p.dob,
      postcode: row.p.postcode,
      admission_date: '2026-01-15',
      notes: row.notes,
    });
    const at = (name: string) => EPISODES.columns.findIndex((c) => c.name === name);
    switch (row.kind) {
      case 'check_digit':
        f[at('nhs_number')] = `${row.p.nhs.slice(0, 9)}${(Number(row.p.nhs[9]) + 1) % 10}`;
        break;
      case 'future_dob':
        f[at('date_of_birth')] = '2027-03-01';
        break;
      case 'ragged':
        f.pop();
        break;
      case 'bad_date':
        f[at('admission_date')] = '2026-02-30';
        break;
      case 'nul':
        f[at('ward')] = 'a\u0000';
        break;
    }
    return f;
  }

  function text(rs: Row[]): string {
    const lines = rs.map((r, i) => {
      const line = csvLine(fieldsOf(r, i));
      // Malformed quoting: a quote in an unquoted field.
      return r.kind === 'quote' ? line.replace(`E${i},`, `E"${i},`) : line;
    });
    return `${HEADER}\n${lines.join('\n')}\n`;
  }

  const isGood = (r: Row) => r.kind === 'none' && r.p.dob <= '2026-01-15';
  const chunkSizes = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 });

  test('no valid NHS number, full date of birth or full postcode ever reaches curated', async () => {
    await fc.assert(
      fc.asyncProperty(rows, chunkSizes, async (rs, sizes) => {
        const run = await ingest(text(rs), {}, EPISODES, sizes);
        const leaks: string[] = [];
        for (const row of run.curated) {
          for (const [name, value] of Object.entries(row)) {
            // The pseudonym is hex: a run of its digits can pass Modulus 11 by chance without being anyone's number.
            if (typeof value !== 'string' || name === 'person_id') continue;
            const compact = value.replace(/[\s-]/g, '').toUpperCase();
            for (const r of rs) {
              if (compact.includes(r.p.nhs)) leaks.push(`${name}: NHS number`);
              if (value.includes(r.p.dob)) leaks.push(`${name}: date of birth`);
              if (compact.includes(r.p.postcode.replace(' ', ''))) leaks.push(`${name}: postcode`);
            }
            for (let i = 0; i + 10 <= compact.length; i++) {
              if (isValidNhsNumber(compact.slice(i, i + 10))) leaks.push(`${name}: a valid NHS number`);
            }
          }
        }
        expect(leaks).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  test('nothing lost, nothing bad let through: every row is written, rejected or opted out, exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(rows, chunkSizes, fc.integer({ min: 0, max: 3 }), async (rs, sizes, optOutEvery) => {
        const optOut = new Set(rs.filter((_, i) => optOutEvery > 0 && i % (optOutEvery + 1) === 0).map((r) => r.p.nhs));
        const run = await ingest(text(rs), { optOut }, EPISODES, sizes);
        const expectedWritten = rs.map((r, i) => ({ r, i })).filter(({ r }) => isGood(r) && !optOut.has(r.p.nhs));
        expect(run.curated.map((c) => c.episode_id)).toEqual(expectedWritten.map(({ i }) => `E${i}`));
        expect(run.rejected.map((r) => r.line)).toEqual(
          rs
            .map((r, i) => ({ r, i }))
            .filter(({ r }) => !isGood(r))
            .map(({ i }) => i + 2),
        );
        expect(run.counts.rowsRead).toBe(rs.length);
        expect(run.counts.rowsWritten + run.counts.rowsRejected + run.counts.rowsOptedOut).toBe(rs.length);
        expect(run.counts.rowsOptedOut).toBe(rs.filter((r) => isGood(r) && optOut.has(r.p.nhs)).length);
      }),
      { numRuns: 150 },
    );
  });

  test('no opted-out person appears in curated, under their pseudonym or otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(rows, fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }), async (rs, out) => {
        const optOut = new Set(rs.filter((_, i) => out[i]).map((r) => r.p.nhs));
        const run = await ingest(text(rs), { optOut });
        const forbidden = new Set([...optOut].map((n) => pseudonymise(KEY, n)));
        for (const row of run.curated) expect(forbidden.has(row.person_id as string)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('creating a pipeline fails closed', () => {
  test('a dataset that applies the opt-out needs the list', () => {
    expect(() => createPipeline(EPISODES, { key: KEY, loadDate: LOAD_DATE })).toThrow(/pass the opt-out list/);
  });

  test('and an NHS number column to match it on', () => {
    const ds = { ...EPISODES, personKey: undefined };
    expect(() => createPipeline(ds, { key: KEY, loadDate: LOAD_DATE, optOut: new Set() })).toThrow(/names no NHS number column/);
  });

  test('which must be an NHS number', () => {
    const ds = { ...EPISODES, personKey: 'episode_id', optOut: { nhsNumber: 'episode_id' } };
    expect(() => createPipeline(ds, { key: KEY, loadDate: LOAD_DATE, optOut: new Set() })).toThrow(/must be a string column with format nhs_number/);
  });

  test('a row without a person key cannot have the opt-out applied, so it is rejected', async () => {
    const ds = dataset(
      'optional_key',
      [
        { name: 'nhs_number', type: 'string', format: 'nhs_number', classification: 'direct_identifier', rule: 'pseudonymise' },
        { name: 'value', type: 'integer', min: 0, max: 9, classification: 'other', rule: 'keep' },
      ],
      { personKey: 'nhs_number', nationalDataOptOut: true },
    );
    const run = await ingest(`nhs_number,value\n,1\n${testNhsNumber(1)},2\n`, {}, ds);
    expect(run.rejected.map((r) => [r.line, r.reasons[0].code])).toEqual([[2, 'no_nhs_number_for_opt_out']]);
    expect(run.curated).toEqual([{ nhs_number_pseudonym: pseudonymise(KEY, testNhsNumber(1)), value: 2 }]);
  });

  test('a dataset keyed on a record id keeps rows without an NHS number when it says so, counted; the opt-out still applies where there is one', async () => {
    const ds = dataset(
      'client_keyed',
      [
        { name: 'client_id', type: 'string', required: true, format: 'record_id', classification: 'direct_identifier', rule: 'pseudonymise', as: 'person_id' },
        { name: 'nhs_number', type: 'string', format: 'nhs_number', classification: 'direct_identifier', rule: 'drop' },
        { name: 'value', type: 'integer', min: 0, max: 9, classification: 'other', rule: 'keep' },
      ],
      { personKey: 'client_id', nationalDataOptOut: true, optOut: { nhsNumber: 'nhs_number', withoutNhsNumber: 'keep' } },
    );
    const out = testNhsNumber(5);
    const run = await ingest(`client_id,nhs_number,value\nC1,,1\nC2,${testNhsNumber(1)},2\nC3,${out},3\nC1,,4\n`, { optOut: new Set([out]) }, ds);
    expect(run.counts).toMatchObject({ rowsRead: 4, rowsWritten: 3, rowsOptedOut: 1, rowsWithoutNhsNumber: 2, rowsRejected: 0 });
    const ids = run.curated.map((r) => r.person_id as string);
    expect(ids[0]).toBe(ids[2]);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids.every((p) => /^[A-Za-z0-9_-]{22}$/.test(p) && !p.includes('C1'))).toBe(true);
    // The same client id pseudonymised under another dataset's name is another person.
    const other = await ingest(`client_id,nhs_number,value\nC1,,1\n`, { optOut: new Set() }, { ...ds, name: 'other_council' });
    expect(other.curated[0].person_id).not.toBe(ids[0]);
    // Rejecting instead.
    const strict = await ingest(
      `client_id,nhs_number,value\nC1,,1\n`,
      { optOut: new Set() },
      { ...ds, optOut: { nhsNumber: 'nhs_number', withoutNhsNumber: 'reject' } },
    );
    expect(strict.rejected.map((r) => r.reasons.map((x) => x.code))).toEqual([['no_nhs_number_for_opt_out']]);
  });

  test('a dataset without the opt-out needs no list', async () => {
    const ds = dataset('no_opt_out', [{ name: 'value', type: 'integer', min: 0, max: 9, classification: 'other', rule: 'keep' }]);
    const run = await ingest('value\n1\n', { optOut: undefined }, ds);
    expect(run.curated).toEqual([{ value: 1 }]);
  });
});

describe('the example deployment', () => {
  const dir = path.join(__dirname, '..', '..', '..', 'config', 'datasets');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
  test.each(files)('%s compiles into a pipeline', (name) => {
    const ds = config.datasets.find((d) => d.file.endsWith(name))!;
    // The list where the platform applies the opt-out; none where the supplier did (hes_apc), which refuses one.
    const optOut = platformAppliesOptOut(ds) ? new Set<string>() : undefined;
    expect(() => createPipeline(ds, { key: KEY, loadDate: LOAD_DATE, optOut })).not.toThrow();
  });

  test('a postcode_lsoa column without its lookup loaded cannot compile (the runners load it first, or stop with a clear error)', () => {
    const ds = dataset('lsoa', [
      { name: 'pc', type: 'string', format: 'postcode', classification: 'quasi_identifier', rule: 'postcode_lsoa', lookup: 'pc.csv' },
    ]);
    expect(() => createPipeline(ds, { key: KEY, loadDate: LOAD_DATE })).toThrow(/needs its lookup pc.csv/);
    expect(() => createPipeline(ds, { key: KEY, loadDate: LOAD_DATE, lookups: new Map([['pc.csv', new Map()]]) })).not.toThrow();
  });
});
