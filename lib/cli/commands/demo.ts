import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { Command, CONFIG_OPTION, WORKDIR_OPTION, UsageError } from '../command';

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number, not "${raw}"`);
  return n;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the platform locally on a synthetic population (no AWS account needed)',
  usage: '[--config DIR] [--workdir DIR] [--people N] [--seed N]',
  description: [
    'Runs the whole platform on this machine, with no AWS account, on a synthetic population:',
    '  1. generates every dataset in the config (seeded; valid NHS numbers from the 999 test range, never',
    '     issued to anyone; a few percent of deliberately bad rows of known kinds; a national data opt-out list);',
    "  2. starts a real S3 API on a loopback port and creates the platform's buckets;",
    '  3. delivers each dataset to the landing bucket as a supplier would;',
    '  4. ingests every file into curated Parquet through the same code the Lambda functions run, honouring',
    '     the opt-outs (bad rows go to quarantine with a reason), and prints the manifest totals;',
    "  5. as each example project, runs one query its approval allows and one it refuses, measures each approval's",
    '     re-identification risk (sde risk) and writes the access matrix for the data access committee;',
    '  6. sends one output through the airlock (disclosure checks, two reviewers, a signed release) and returns one;',
    '  7. summarises the hash-chained, signed audit trail and checks that it verifies;',
    "  8. writes the public transparency register, this month's bills and the governance report.",
    'Everything is kept in --workdir (created 0700); every file it writes is printed with its full path.',
    'Then query as a project (sde query), review outputs (sde output) or search the trail (sde audit) there.',
    'Exit status: 0 done; 1 the config does not validate; 2 bad usage.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    people: { type: 'string', default: '2000', valueName: 'N', description: 'number of synthetic people' },
    seed: { type: 'string', default: '42', valueName: 'N', description: 'random seed (same seed, same data)' },
  },
  async run({ values, out }) {
    const people = positiveInt('people', values.people as string);
    const seed = positiveInt('seed', values.seed as string);
    const config = loadConfig(values.config as string);
    // Loaded on use: the local runtime pulls in the S3 server and SDK, which validate does not need.
    const { runDemo } = require('../../local/demo/demo') as typeof import('../../local/demo/demo');
    await runDemo({ config, workdir: path.resolve(values.workdir as string), people, seed, log: out });
    return 0;
  },
};
