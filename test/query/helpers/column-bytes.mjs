// Prints {column: compressed bytes} summed over the column chunks of the given Parquet
// files, read by hyparquet (independent of DuckDB): what Athena reads for a column.
// A child process, because hyparquet is ESM-only and the test runner loads CommonJS.
//   node column-bytes.mjs FILE...
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';

const bytes = {};
for (const file of process.argv.slice(2)) {
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const name = chunk.meta_data.path_in_schema.join('.');
      bytes[name] = (bytes[name] ?? 0) + Number(chunk.meta_data.total_compressed_size);
    }
  }
}
process.stdout.write(`${JSON.stringify(bytes)}\n`);
