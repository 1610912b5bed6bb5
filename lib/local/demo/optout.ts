/**
 * `sde demo`'s later opt-out: after ingestion, a few more people of the synthetic
 * population opt out; the new list (the earlier one and theirs) is applied to the curated
 * data through `sde optout apply`'s runner, and the demo prints the counts and how long it
 * took (the local figure docs/ingestion.md#later-opt-outs quotes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SdeConfig } from '../../config/model';
import { optOutColumn } from '../../config/curated';
import { csvOptionsFor, readCsvBatches } from '../../ingest/core/csv-reader';
import { isValidNhsNumber, normaliseNhsNumber } from '../../ingest/core/nhs-number';
import { readOptOutList } from '../../ingest/core/opt-out';
import { optOutTarget } from '../../optout/targets';
import type { LocalS3 } from '../s3-api/server';
import type { PopulationGeneration } from '../synthetic/population';
import type { WorkdirLayout } from '../workdir';
import { describeOutcome, runLocalOptOut } from '../runners/optout';

/** People who opt out after ingestion in the demo. */
export const LATER_OPT_OUTS = 5;

/** The first `count` NHS numbers in a generated file that are not on the list (file order: deterministic per seed). */
async function peopleNotOnList(config: SdeConfig, population: PopulationGeneration, listed: ReadonlySet<string>, count: number): Promise<string[]> {
  const out: string[] = [];
  for (const generated of population.datasets) {
    const dataset = config.datasets.find((d) => d.name === generated.dataset);
    const column = dataset === undefined || 'skipped' in optOutTarget(dataset) ? undefined : optOutColumn(dataset);
    if (dataset === undefined || column === undefined) continue;
    const at = dataset.columns.findIndex((c) => c.name === column.name);
    for await (const records of readCsvBatches(fs.createReadStream(generated.file), csvOptionsFor(dataset))) {
      for (const r of records) {
        const n = normaliseNhsNumber(r.fields[at] ?? '');
        if (n !== undefined && isValidNhsNumber(n) && !listed.has(n) && !out.includes(n)) out.push(n);
        if (out.length === count) return out;
      }
    }
  }
  return out;
}

export async function laterOptOutStep(options: {
  readonly s3: LocalS3;
  readonly config: SdeConfig;
  readonly layout: WorkdirLayout;
  readonly population: PopulationGeneration;
  readonly today: string;
  readonly log: (line: string) => void;
}): Promise<void> {
  const { log } = options;
  const earlier = await readOptOutList(fs.createReadStream(options.population.optOutFile));
  const more = await peopleNotOnList(options.config, options.population, earlier, LATER_OPT_OUTS);
  const file = path.join(path.dirname(options.population.optOutFile), 'national-data-opt-out-later.txt');
  fs.writeFileSync(file, `${[...earlier, ...more].join('\n')}\n`, { mode: 0o600 });
  const started = process.hrtime.bigint();
  const outcome = await runLocalOptOut({ config: options.config, workdir: options.layout.root, file, date: options.today, s3: options.s3 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log(`Later opt-outs: ${more.length} more people opted out after ingestion; the new list is applied to the curated data (sde optout apply):`);
  for (const line of describeOutcome(outcome)) log(`  ${line}`);
  const rows = outcome.record.datasets.reduce((s, d) => s + d.rows, 0);
  log(`  took ${seconds.toFixed(1)} s on this machine for ${rows} curated rows checked: in effect for every query from now on.`);
}
