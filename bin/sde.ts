#!/usr/bin/env node
// `sde`: the platform's command line. All logic lives in lib/cli; this only runs it.
import { runCli } from '../lib/cli/cli';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sde: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
