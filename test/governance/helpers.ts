/** Example config files held in memory, changed as data: the two sides of a governance diff. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { validateConfigFiles } from '../../lib/config/loader';
import type { SdeConfig } from '../../lib/config/model';
import { formatProblems } from '../../lib/config/problems';
import { EXAMPLE_CONFIG } from '../helpers/config-fixture';

export function exampleFiles(dir: string = EXAMPLE_CONFIG): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (/\.ya?ml$/.test(entry.name)) files.set(child, fs.readFileSync(path.join(dir, child), 'utf8'));
    }
  };
  walk('');
  return files;
}

/** A copy of `files` with one YAML file changed as plain data. */
export function edit(files: ReadonlyMap<string, string>, rel: string, change: (doc: any) => void): Map<string, string> {
  const doc = parse(files.get(rel)!);
  change(doc);
  return new Map(files).set(rel, stringify(doc));
}

export function load(files: ReadonlyMap<string, string>, today: string, label = 'config'): SdeConfig {
  const { config, problems } = validateConfigFiles(files, label, { today });
  if (!config) throw new Error(formatProblems(problems));
  return config;
}
