/**
 * Later opt-outs: how to find the batches that hold people on a new list, and how fast a
 * batch is rewritten without them (not part of the test suite; the measurement behind the
 * choice of a per-batch pseudonym index, and the "how soon" figures of docs/ingestion.md):
 *
 *   npm run bench:optout [-- --batches N --rows N]
 *
 * Writes N synthetic curated batches (zstd Parquet shaped like hospital episodes: a 22
 * character pseudonym, about four rows per person, eight other columns) with DuckDB, and a
 * list of newly opted-out people (a few hundred, most of them in the data). Then, in the same
 * run, each with the platform's own functions:
 *   - scan: every batch's person column matched against the list by DuckDB (the reference);
 *   - index: every batch's pseudonym index (lib/optout/pseudonym-index.ts) read and matched;
 *   - build: the indexes built (once per batch; what a scan costs when there is no index);
 *   - rewrite: each batch holding a listed person rewritten without them (rows per second).
 * Prints one JSON line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { rowsPerPerson, withoutPeople } from '../lib/optout/parquet-filter';
import { decodeIndex, encodeIndex, matchIndex, sortedPseudonyms } from '../lib/optout/pseudonym-index';

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const PSEUDONYM = (x: string) => `replace(replace(rtrim(to_base64(unhex(md5(${x}))), '='), '+', '-'), '/', '_')`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { batches: { type: 'string', default: '12' }, rows: { type: 'string', default: '250000' } } });
  const batches = Number(values.batches);
  const rowsPerBatch = Number(values.rows);
  const peoplePerBatch = Math.round(rowsPerBatch / 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optout-bench-'));
  try {
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    const files: string[] = [];
    for (let b = 0; b < batches; b++) {
      const file = path.join(dir, `batch-${b}.parquet`);
      // People overlap across batches (the same region, deliveries over time): person ids drawn from a pool twice a batch's size.
      await c.run(
        `COPY (SELECT 'E' || lpad((${b} * ${rowsPerBatch} + i)::VARCHAR, 9, '0') AS episode_id, ` +
          `${PSEUDONYM(`(hash(i, ${b}) % ${peoplePerBatch * 2})::VARCHAR`)} AS person_id, ` +
          `(20 + hash(i) % 70)::INTEGER AS age, ['1','2','9'][(1 + hash(i, 1) % 3)::BIGINT] AS sex, 'E0' || lpad((hash(i, 2) % 5000)::VARCHAR, 7, '0') AS lsoa_code, ` +
          `DATE '2025-01-01' + (hash(i, 3) % 365)::INTEGER AS admission_month, ['I10X','E119','J449','K359'][(1 + hash(i, 4) % 4)::BIGINT] AS primary_diagnosis, ` +
          `(hash(i, 5) % 30)::INTEGER AS length_of_stay, hash(i, 6) % 2 = 0 AS emergency, (hash(i, 7) % 100000) / 100.0 AS cost ` +
          `FROM range(${rowsPerBatch}) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
      );
      files.push(file);
    }
    // The new list: 300 people of the pool (most in some batch) and 100 strangers.
    const listRows = await c.runAndReadAll(
      `SELECT ${PSEUDONYM('(hash(j, 99) % ' + peoplePerBatch * 2 + ')::VARCHAR')} FROM range(300) t(j) UNION SELECT ${PSEUDONYM("'stranger' || j")} FROM range(100) t(j)`,
    );
    const list = new Set(listRows.getRows().map((r) => String(r[0])));

    // Build: once per batch, and the cost of a scan without an index.
    let t = process.hrtime.bigint();
    const indexFiles: string[] = [];
    for (const [i, f] of files.entries()) {
      const counts = await rowsPerPerson(f, 'person_id');
      const idx = path.join(dir, `batch-${i}.idx`);
      fs.writeFileSync(idx, encodeIndex(`etag-${i}`, 'person_id', counts.rows, counts.people));
      indexFiles.push(idx);
    }
    const buildMs = ms(t);

    // Reference: a DuckDB scan of every batch's person column against the list.
    await c.run('CREATE TABLE list (p VARCHAR PRIMARY KEY)');
    const appender = await c.createAppender('list');
    for (const p of list) {
      appender.appendVarchar(p);
      appender.endRow();
    }
    appender.closeSync();
    t = process.hrtime.bigint();
    const scanRows: number[] = [];
    for (const f of files)
      scanRows.push(Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${f}') WHERE person_id IN (SELECT p FROM list)`)).getRows()[0][0]));
    const scanMs = ms(t);

    // The index: read and match each batch's index.
    t = process.hrtime.bigint();
    const wanted = sortedPseudonyms(list);
    const indexRows = indexFiles.map((f) => matchIndex(decodeIndex(fs.readFileSync(f)), wanted).rows);
    const indexMs = ms(t);
    if (JSON.stringify(indexRows) !== JSON.stringify(scanRows)) throw new Error(`the index found ${indexRows.join(',')} rows, the scan ${scanRows.join(',')}`);

    // Rewrite every affected batch.
    t = process.hrtime.bigint();
    let rowsRewritten = 0;
    let rowsRemoved = 0;
    for (const [i, f] of files.entries()) {
      if (indexRows[i] === 0) continue;
      const r = await withoutPeople(f, path.join(dir, `rewritten-${i}.parquet`), 'person_id', list);
      rowsRewritten += r.rowsBefore;
      rowsRemoved += r.rowsBefore - r.rowsAfter;
    }
    const rewriteMs = ms(t);
    c.closeSync();

    const bytes = (fs_: string[]) => fs_.reduce((s, f) => s + fs.statSync(f).size, 0);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'optout',
        batches,
        rowsPerBatch,
        listEntries: list.size,
        rowsToRemove: rowsRemoved,
        batchBytes: bytes(files),
        indexBytes: bytes(indexFiles),
        scanMs: Math.round(scanMs),
        indexMs: Math.round(indexMs),
        scanOverIndex: Number((scanMs / indexMs).toFixed(1)),
        buildMs: Math.round(buildMs),
        rewriteMs: Math.round(rewriteMs),
        rewriteRowsPerSecond: Math.round(rowsRewritten / (rewriteMs / 1000)),
      })}\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
