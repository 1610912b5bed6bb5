// Reads Parquet files with hyparquet (a pure-JavaScript reader, independent of DuckDB) and
// prints {rows, rowGroups, digest} over all of them: a second reader that finds every
// column chunk by the footer's offsets, as Athena's does. A child process, because
// hyparquet is ESM-only and the test runner loads CommonJS.
//   node hyparquet-read.mjs FILE...
import { createHash } from 'node:crypto';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const text = (v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));
let rows = 0;
let rowGroups = 0;
const lines = [];
for (const file of process.argv.slice(2)) {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const objects = await parquetReadObjects({ file: buffer, metadata, compressors });
  rows += objects.length;
  rowGroups += metadata.row_groups.length;
  for (const r of objects)
    lines.push(
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, text(r[k])]),
      ),
    );
}
// Sorted, so the digest does not depend on the order the files or row groups were read in.
const digest = createHash('sha256').update(lines.sort().join('\n')).digest('hex');
process.stdout.write(`${JSON.stringify({ rows, rowGroups, digest })}\n`);
