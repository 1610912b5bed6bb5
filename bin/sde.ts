#!/usr/bin/env node
// `sde`: the platform's command line. All logic lives in lib/cli; this only runs it.
import { exitQuietlyOnClosedPipe, runCli } from '../lib/cli/cli';

exitQuietlyOnClosedPipe(process.stdout);
exitQuietlyOnClosedPipe(process.stderr);

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sde: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
