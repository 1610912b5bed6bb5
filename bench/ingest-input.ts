/** The benchmarks' synthetic hospital-episodes file, generated once per scale under .sde/bench/. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../lib/config';
import { generatePopulation } from '../lib/local/synthetic';

export const REPO = path.resolve(__dirname, '..');
export const DATASET = 'hospital_episodes';
export const TODAY = '2026-11-22';
const SEED = 7;

/** The 999 test range has about 909,000 valid NHS numbers: larger files give each person more episodes. */
const MAX_PEOPLE = 900_000;
const BASE_PEOPLE = 340_000;

/** The folder holding `<DATASET>.csv` (about 1,019,000 rows at scale 1) and its opt-out list. */
export async function ensureBenchInput(scale: number): Promise<string> {
  const people = Math.min(MAX_PEOPLE, Math.round(BASE_PEOPLE * scale));
  const eventsPerPerson = (3 * BASE_PEOPLE * scale) / people;
  const dir = path.join(REPO, '.sde', 'bench', `${DATASET}-x${scale}-${SEED}`);
  if (!fs.existsSync(path.join(dir, `${DATASET}.csv`))) {
    const config = loadConfig(path.join(REPO, 'config'), { today: TODAY });
    process.stderr.write(`generating ${DATASET} for ${people} synthetic people in ${dir} ...\n`);
    await generatePopulation({ config: { ...config, datasets: config.datasets.filter((d) => d.name === DATASET) }, outDir: dir, people, seed: SEED, eventsPerPerson });
  }
  return dir;
}
