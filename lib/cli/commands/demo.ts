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
    'Generates a synthetic population for every dataset in the config (valid test-range NHS numbers,',
    'with a few percent of deliberately bad rows), starts a real S3 API on a loopback port, creates',
    "the platform's buckets and uploads each dataset to the landing bucket, then prints what it did.",
    'No real person is in the data. State is kept in --workdir.',
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
