import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { Command, CONFIG_OPTION, UsageError, WORKDIR_OPTION } from '../command';

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'ingest one CSV file locally: validate, apply opt-outs, de-identify, write curated Parquet',
  usage: '--dataset NAME --file PATH [--chunk-size BYTES] [--opt-out FILE] [--config DIR] [--workdir DIR]',
  description: [
    'Delivers the file to the local landing bucket as a supplier would (<dataset>/<date>-<file name>), then',
    'runs the same plan, chunk and commit steps as the ingestion Lambdas against the local S3 API: each row',
    'is validated against the dataset config, rows of people on the national data opt-out list are removed',
    '(counted, never listed), each column is de-identified by its rule, and the result is committed as',
    'Parquet (zstd) under the curated bucket, <dataset>/load_date=<date>/. Bad rows go to the quarantine',
    'bucket with their line number and reason; a bad file (empty, wrong header or encoding) goes there whole',
    'with a JSON error report. Prints the batch manifest as JSON. Ingesting the same file again changes',
    'nothing. The pseudonymisation key and the opt-out list are taken from --workdir (`sde demo` installs',
    'the synthetic list; --opt-out names another).',
    'Exit status: 0 when the batch is committed, by this run or by an earlier or concurrent run of the same',
    'file (then "Already ingested (batch ...): nothing changed." on stderr, and the manifest that stands is',
    'printed); 1 when the file was quarantined; 3 when every row was lost to a platform fault (nothing is',
    'committed: report it); 75 when the landed file changed or a read of it was cut short while it was',
    'ingested (nothing was committed: run it again). A run killed part way is finished by running it again.',
  ].join('\n'),
  options: {
    dataset: { type: 'string', valueName: 'NAME', description: 'the dataset the file belongs to (config/datasets/NAME.yaml)' },
    file: { type: 'string', valueName: 'PATH', description: 'the CSV file to ingest' },
    'chunk-size': { type: 'string', valueName: 'BYTES', description: 'split the file into byte-range chunks of about this size (default: 134217728, 128 MiB)' },
    'opt-out': { type: 'string', valueName: 'FILE', description: "national data opt-out list, one NHS number per line (default: the workdir's)" },
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
  },
  async run({ values, out, err }) {
    const name = values.dataset as string | undefined;
    const file = values.file as string | undefined;
    if (!name) throw new UsageError('--dataset NAME is required');
    if (!file) throw new UsageError('--file PATH is required');
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UsageError(`--file ${file}: no such file`);
    let chunkBytes: number | undefined;
    if (values['chunk-size'] !== undefined) {
      chunkBytes = Number(values['chunk-size']);
      if (!Number.isInteger(chunkBytes) || chunkBytes < 1)
        throw new UsageError(`--chunk-size must be a positive whole number of bytes, not "${String(values['chunk-size'])}"`);
    }
    const optOutFile = values['opt-out'] as string | undefined;
    if (optOutFile !== undefined && !fs.existsSync(optOutFile)) throw new UsageError(`--opt-out ${optOutFile}: no such file`);
    const config = loadConfig(values.config as string);
    if (!config.datasets.some((d) => d.name === name)) {
      throw new UsageError(`--dataset: there is no dataset "${name}" in ${config.dir}; datasets: ${config.datasets.map((d) => d.name).join(', ')}`);
    }
    // Loaded on use: the local runtime pulls in the S3 server, the SDK and DuckDB.
    const { runLocalIngest, MissingOptOutList, MissingLookup, LandingNameTooLong, OptOutNotApplicable } =
      require('../../local/runners/ingest') as typeof import('../../local/runners/ingest');
    const { LookupFileError } = require('../../ingest/core/lsoa-lookup') as typeof import('../../ingest/core/lsoa-lookup');
    const { OptOutListError } = require('../../ingest/core/opt-out') as typeof import('../../ingest/core/opt-out');
    const { LandedObjectReadError, PlatformFaultError } = require('../../ingest/batch') as typeof import('../../ingest/batch');
    try {
      const result = await runLocalIngest({
        config,
        workdir: path.resolve(values.workdir as string),
        dataset: name,
        file: path.resolve(file),
        chunkBytes,
        optOutFile,
        progress: true,
      });
      out(JSON.stringify(result.manifest, null, 2));
      const m = result.manifest;
      if (result.alreadyCommitted) err(`Already ingested (batch ${m.batchId}): nothing changed.`);
      if (m.status === 'quarantined') {
        err(`Quarantined: ${m.quarantine?.error.message} (s3://${m.quarantine?.bucket}/${m.quarantine?.errorReport})`);
        return 1;
      }
      return 0;
    } catch (e) {
      if (
        e instanceof MissingOptOutList ||
        e instanceof OptOutNotApplicable ||
        e instanceof MissingLookup ||
        e instanceof LookupFileError ||
        e instanceof LandingNameTooLong
      )
        throw new UsageError(e.message);
      if (e instanceof OptOutListError) throw new UsageError(`${optOutFile ?? 'the opt-out list'}: ${e.message}`);
      if (e instanceof PlatformFaultError) {
        err(`Failed: ${e.message}`);
        return 3;
      }
      if (e instanceof LandedObjectReadError) {
        // EX_TEMPFAIL: nothing is wrong with the file or the command; the same run again succeeds.
        err(`sde ingest: ${e.message}`);
        return 75;
      }
      throw e;
    }
  },
};
