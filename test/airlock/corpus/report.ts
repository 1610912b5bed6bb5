/**
 * Prints the corpus figures as one JSON line (npm run airlock:corpus): the catch rate of
 * disclosive outputs and the share of safe outputs released without a reviewer's note.
 * docs/airlock.md and the README quote them.
 */
import { corpus, runEntry, summarise } from './corpus';

const summary = summarise(corpus().map((e) => runEntry(e)));
process.stdout.write(`${JSON.stringify(summary)}\n`);
