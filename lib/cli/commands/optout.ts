import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { Command, CONFIG_OPTION, UsageError, WORKDIR_OPTION } from '../command';

export const optoutCommand: Command = {
  name: 'optout',
  summary: 'apply a new national data opt-out list to data already ingested (removes the people on it from curated)',
  usage: 'apply --opt-out FILE [--date YYYY-MM-DD] [--override] [--config DIR] [--workdir DIR]',
  description: [
    'sde optout apply runs the same plan, rewrite and finish steps as the opt-out state machine on AWS,',
    'against the local S3 API: the pseudonyms of the people on the list are made with the platform key,',
    "each committed batch's pseudonym index finds the batches holding them, and each such batch object is",
    'replaced, in one write, by the same rows without theirs; its manifest then records the rows removed and',
    "the list's SHA-256 and date. Datasets the platform does not apply the opt-out to are skipped, and the",
    'output says why. A list that would remove more than platform.yaml nationalDataOptOut.maxRemovedShare',
    'of a dataset is refused, with nothing changed, unless --override is given. Running the same list again',
    'changes nothing; a run that was cut off is finished by running it again. The list then becomes the',
    "workdir's list for later ingestion. Only counts are printed and recorded (the audit trail, the register).",
    'Exit status: 0 when applied (or applied already), 2 when refused or on a usage error.',
  ].join('\n'),
  options: {
    'opt-out': { type: 'string', valueName: 'FILE', description: 'the new national data opt-out list, one NHS number per line' },
    date: { type: 'string', valueName: 'YYYY-MM-DD', description: "the list's date (default: the file's modification date)" },
    override: { type: 'boolean', description: 'apply a list that removes more than the configured share of a dataset' },
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
  },
  allowPositionals: true,
  async run({ values, positionals, out, err }) {
    if (positionals[0] !== 'apply' || positionals.length !== 1) throw new UsageError('say what to do: sde optout apply --opt-out FILE');
    const file = values['opt-out'] as string | undefined;
    if (!file) throw new UsageError('--opt-out FILE is required');
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UsageError(`--opt-out ${file}: no such file`);
    const date = values.date as string | undefined;
    if (date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UsageError(`--date must be written YYYY-MM-DD, not "${date}"`);
    const config = loadConfig(values.config as string);
    // Loaded on use: the local runtime pulls in the S3 server, the SDK and DuckDB.
    const { runLocalOptOut, describeOutcome } = require('../../local/runners/optout') as typeof import('../../local/runners/optout');
    const { OptOutRefused } = require('../../optout/apply') as typeof import('../../optout/apply');
    const { OptOutListError } = require('../../ingest/core/opt-out') as typeof import('../../ingest/core/opt-out');
    try {
      const outcome = await runLocalOptOut({
        config,
        workdir: path.resolve(values.workdir as string),
        file: path.resolve(file),
        date,
        override: values.override === true,
        onBatch: (b, i, n) =>
          err(`  batch ${i + 1} of ${n}: ${b.dataset} ${b.batchId}, ${b.rowsRemoved} rows removed${b.status === 'already-applied' ? ' (earlier)' : ''}`),
      });
      for (const line of describeOutcome(outcome)) out(line);
      return 0;
    } catch (e) {
      if (e instanceof OptOutRefused) throw new UsageError(`${file}: ${e.message}`);
      if (e instanceof OptOutListError) throw new UsageError(`${file}: ${e.message}`);
      throw e;
    }
  },
};
