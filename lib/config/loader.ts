/**
 * Loads a configuration directory (platform.yaml, datasets/*.yaml, projects/*.yaml),
 * validates every file and every cross-file rule, and returns the typed model, or
 * throws one ConfigError listing every problem found.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkConfig } from './checks';
import { SdeConfig, Sourced, todayUtc } from './model';
import { ConfigError, ConfigProblem } from './problems';
import { datasetSchema, platformSchema, projectSchema } from './schema';
import { displayPath, readConfigFile } from './yaml-file';
import type { z } from 'zod';

export interface LoadOptions {
  /** Judge approval periods on this date (YYYY-MM-DD). @default today in UTC (or SDE_TODAY) */
  readonly today?: string;
}

const YAML_FILE = /\.ya?ml$/;

function yamlFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => YAML_FILE.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

function readAll<S extends z.ZodType>(files: string[], schema: S, problems: ConfigProblem[]): Sourced<z.infer<S>>[] {
  const out: Sourced<z.infer<S>>[] = [];
  for (const file of files) {
    const value = readConfigFile(file, schema, problems);
    if (value !== undefined) out.push({ ...(value as object), file: displayPath(file) } as Sourced<z.infer<S>>);
  }
  return out;
}

/** Validates a configuration directory; returns the model (if usable) and every problem. */
export function validateConfigDir(dir: string, options: LoadOptions = {}): { config?: SdeConfig; problems: ConfigProblem[] } {
  const abs = path.resolve(dir);
  const problems: ConfigProblem[] = [];
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    problems.push({
      file: displayPath(abs),
      field: '',
      message: 'is not a configuration directory',
      fix: 'pass --config DIR naming a folder holding platform.yaml, datasets/ and projects/ (see config/ for an example)',
    });
    return { problems };
  }
  const platformFile = ['platform.yaml', 'platform.yml'].map((f) => path.join(abs, f)).find((f) => fs.existsSync(f));
  if (!platformFile) {
    problems.push({
      file: displayPath(path.join(abs, 'platform.yaml')),
      field: '',
      message: 'is missing',
      fix: 'create platform.yaml (copy config/platform.yaml and change it for your deployment)',
    });
  }
  const datasetFiles = yamlFilesIn(path.join(abs, 'datasets'));
  if (datasetFiles.length === 0) {
    problems.push({
      file: displayPath(path.join(abs, 'datasets')),
      field: '',
      message: 'holds no dataset (*.yaml)',
      fix: 'describe at least one dataset in datasets/NAME.yaml (see config/datasets/ for examples)',
    });
  }
  const platform = platformFile ? readConfigFile(platformFile, platformSchema, problems) : undefined;
  const datasets = readAll(datasetFiles, datasetSchema, problems);
  const projects = readAll(yamlFilesIn(path.join(abs, 'projects')), projectSchema, problems);
  const today = options.today ?? todayUtc();

  if (platform) problems.push(...checkConfig(platform, datasets, projects, today));
  // Grouped by file (stable, so each file's problems keep their order) for easy reading.
  problems.sort((a, b) => a.file.localeCompare(b.file));
  if (problems.length > 0 || !platform || !platformFile) return { problems };
  return {
    config: { dir: abs, platform: { ...platform, file: displayPath(platformFile) }, datasets, projects, today },
    problems,
  };
}

/** Loads a configuration directory or throws a ConfigError naming every problem. */
export function loadConfig(dir: string, options: LoadOptions = {}): SdeConfig {
  const { config, problems } = validateConfigDir(dir, options);
  if (!config) throw new ConfigError(problems);
  return config;
}
