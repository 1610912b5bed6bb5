/**
 * Config problems: every one names the file, the field and what to do about it, so a
 * data access committee member reading a failed pull request check can act on it.
 */

export interface ConfigProblem {
  /** Path of the file, as the user gave it (relative to the working directory where possible). */
  readonly file: string;
  /** Dotted path to the field, e.g. `datasets.hospital_episodes.columns[2]`; empty for the whole file. */
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.field ? `${p.file}: ${p.field}` : p.file;
  return `${where}: ${p.message}\n    fix: ${p.fix}`;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  const head = `The configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:`;
  return [head, ...problems.map((p) => `  - ${formatProblem(p)}`)].join('\n');
}

/** Thrown when a config cannot be used; carries every problem found, not only the first. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
  }
}

/** Renders a zod/YAML path such as ['columns', 2, 'rule'] as `columns[2].rule`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
