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
import { ColumnFormat, datasetSchema, DatasetConfig, platformSchema, projectSchema, vocabularySchema } from './schema';
import { displayPath, parseConfigText, readConfigFile } from './yaml-file';
import type { z } from 'zod';

export interface LoadOptions {
  /** Judge approval periods on this date (YYYY-MM-DD). @default today in UTC (or SDE_TODAY) */
  readonly today?: string;
  /**
   * A project still marked active after its period ended: 'refuse' it (`sde validate`, so
   * the config says what is true), or 'revoke' (a deployment: the project is treated as
   * expired, so the deployment that removes its role and grants is never blocked; AWS has
   * already refused its access since the end date). @default 'refuse'
   */
  readonly lapsedProjects?: 'refuse' | 'revoke';
  /**
   * Leave out the disclosure-risk gate (approvals above the ceiling without an acceptance):
   * `sde risk` measures the figures that gate needs, so it must load a config that lacks them.
   * @default true
   */
  readonly riskGate?: boolean;
  /**
   * Leave out the requirement of a benefit statement (and of a commercial user's sharing
   * terms): only for a past revision read for comparison (lib/governance/git-config.ts),
   * written before the rule existed. @default true
   */
  readonly benefitGate?: boolean;
  /**
   * How the user named the configuration directory, for the fix when it is not one:
   * `cdk synth` takes `--context config=DIR`, not the `sde` flag. @default '--config DIR'
   */
  readonly configFlag?: string;
}

const YAML_FILE = /\.ya?ml$/;

/**
 * Where config files come from: a directory on disk, or the files of a git revision held
 * in memory (lib/governance/git-config.ts). Both go through the same schema and checks.
 */
interface ConfigSource {
  /** SdeConfig.dir: the absolute directory, or a label such as `config@HEAD~3`. */
  readonly dir: string;
  /** How a file is named in problems. */
  display(rel: string): string;
  exists(rel: string): boolean;
  /** YAML files directly in a folder, sorted, as relative paths. */
  yamlFiles(relDir: string): string[];
  read<S extends z.ZodType>(rel: string, schema: S, problems: ConfigProblem[]): z.infer<S> | undefined;
}

function dirSource(abs: string): ConfigSource {
  return {
    dir: abs,
    display: (rel) => displayPath(path.join(abs, rel)),
    exists: (rel) => fs.existsSync(path.join(abs, rel)),
    yamlFiles: (relDir) => {
      const dir = path.join(abs, relDir);
      if (!fs.existsSync(dir)) return [];
      return fs
        .readdirSync(dir)
        .filter((f) => YAML_FILE.test(f))
        .sort()
        .map((f) => `${relDir}/${f}`);
    },
    read: (rel, schema, problems) => readConfigFile(path.join(abs, rel), schema, problems),
  };
}

/** Files by path relative to the config directory (`platform.yaml`, `projects/x.yaml`), e.g. read from git. */
function memorySource(files: ReadonlyMap<string, string>, label: string): ConfigSource {
  return {
    dir: label,
    display: (rel) => `${label}/${rel}`,
    exists: (rel) => files.has(rel),
    yamlFiles: (relDir) =>
      [...files.keys()].filter((f) => f.startsWith(`${relDir}/`) && !f.slice(relDir.length + 1).includes('/') && YAML_FILE.test(f)).sort(),
    read: (rel, schema, problems) => parseConfigText(`${label}/${rel}`, files.get(rel) ?? '', schema, problems),
  };
}

function readAll<S extends z.ZodType>(source: ConfigSource, files: string[], schema: S, problems: ConfigProblem[]): Sourced<z.infer<S>>[] {
  const out: Sourced<z.infer<S>>[] = [];
  for (const file of files) {
    const value = source.read(file, schema, problems);
    if (value !== undefined) out.push({ ...(value as object), file: source.display(file) } as Sourced<z.infer<S>>);
  }
  return out;
}

function validateSource(source: ConfigSource, options: LoadOptions): { config?: SdeConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const platformRel = ['platform.yaml', 'platform.yml'].find((f) => source.exists(f));
  if (!platformRel) {
    problems.push({
      file: source.display('platform.yaml'),
      field: '',
      message: 'is missing',
      fix: 'create platform.yaml (copy config/platform.yaml and change it for your deployment)',
    });
  }
  const datasetFiles = source.yamlFiles('datasets');
  if (datasetFiles.length === 0) {
    problems.push({
      file: source.display('datasets'),
      field: '',
      message: 'holds no dataset (*.yaml)',
      fix: 'describe at least one dataset in datasets/NAME.yaml (see config/datasets/ for examples)',
    });
  }
  const platform = platformRel ? source.read(platformRel, platformSchema, problems) : undefined;
  const datasets = readAll(source, datasetFiles, datasetSchema, problems);
  for (const dataset of datasets) resolveVocabularies(source, dataset, problems);
  const projects = readAll(source, source.yamlFiles('projects'), projectSchema, problems);
  const today = options.today ?? todayUtc();

  if (platform)
    problems.push(...checkConfig(platform, datasets, projects, today, { lapsedProjects: options.lapsedProjects ?? 'refuse', riskGate: options.riskGate ?? true, benefitGate: options.benefitGate ?? true }));
  // Grouped by file (stable, so each file's problems keep their order) for easy reading.
  problems.sort((a, b) => a.file.localeCompare(b.file));
  if (problems.length > 0 || !platform || !platformRel) return { problems };
  return {
    config: { dir: source.dir, platform: { ...platform, file: source.display(platformRel) }, datasets, projects, today },
    problems,
  };
}

/**
 * Fills each vocabulary format's `codes` from its file under the config directory, so the
 * model (and the config bundled for the ingestion functions) carries the code list itself.
 * A file read once is shared by every column naming it.
 */
function resolveVocabularies(source: ConfigSource, dataset: Sourced<DatasetConfig>, problems: ConfigProblem[]): void {
  const cache = new Map<string, string[] | undefined>();
  const resolve = (format: ColumnFormat, field: string): ColumnFormat => {
    if (typeof format !== 'object') return format;
    if ('list' in format) return { ...format, list: resolve(format.list, `${field}.list`) as typeof format.list };
    if (!('vocabulary' in format)) return format;
    if (format.codes !== undefined) {
      problems.push({ file: dataset.file, field, message: 'names a vocabulary file and lists codes', fix: 'give either codes: [...] or vocabulary: FILE, not both' });
      return format;
    }
    let codes = cache.get(format.vocabulary);
    if (!cache.has(format.vocabulary)) {
      if (!source.exists(format.vocabulary)) {
        problems.push({
          file: dataset.file,
          field: `${field}.vocabulary`,
          message: `names ${source.display(format.vocabulary)}, which does not exist`,
          fix: 'create the vocabulary file (title, source, codes: [...]) or correct the path; it is relative to the config directory',
        });
      } else {
        const vocabulary = source.read(format.vocabulary, vocabularySchema, problems);
        codes = vocabulary?.codes.map((c) => (typeof c === 'string' ? c : c.code));
        const seen = new Set<string>();
        for (const c of codes ?? []) {
          if (seen.has(c)) problems.push({ file: source.display(format.vocabulary), field: 'codes', message: `code "${c}" is listed twice`, fix: 'list each code once' });
          seen.add(c);
        }
      }
      cache.set(format.vocabulary, codes);
    }
    return codes === undefined ? format : { vocabulary: format.vocabulary, codes };
  };
  dataset.columns.forEach((column, i) => {
    if (column.format !== undefined) (column as { format?: ColumnFormat }).format = resolve(column.format, `columns[${i}] (${column.name}).format`);
  });
}

/** Validates a configuration directory; returns the model (if usable) and every problem. */
export function validateConfigDir(dir: string, options: LoadOptions = {}): { config?: SdeConfig; problems: ConfigProblem[] } {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    return {
      problems: [
        {
          file: displayPath(abs),
          field: '',
          message: 'is not a configuration directory',
          fix: `pass ${options.configFlag ?? '--config DIR'} naming a folder holding platform.yaml, datasets/ and projects/ (see config/ for an example, or start one with sde init --region NAME DIR)`,
        },
      ],
    };
  }
  return validateSource(dirSource(abs), options);
}

/**
 * Validates config files held in memory (paths relative to the config directory, with
 * `/`), e.g. a git revision's; `label` names them in problems and becomes `config.dir`.
 */
export function validateConfigFiles(files: ReadonlyMap<string, string>, label: string, options: LoadOptions = {}): { config?: SdeConfig; problems: ConfigProblem[] } {
  return validateSource(memorySource(files, label), options);
}

/** Loads a configuration directory or throws a ConfigError naming every problem. */
export function loadConfig(dir: string, options: LoadOptions = {}): SdeConfig {
  const { config, problems } = validateConfigDir(dir, options);
  if (!config) throw new ConfigError(problems);
  return config;
}
