/**
 * The governance config as it was at a git revision: the files are read with `git
 * ls-tree` / `git show` (no checkout, the working tree is never touched) and validated by
 * the same loader and schema as today's, judged on the day of that commit (a project that
 * was active then must not be refused for having expired since).
 *
 * git is run with execFile (no shell) and the revision is checked before use: a value
 * starting with `-` would otherwise be read as an option.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { validateConfigFiles } from '../config/loader';
import type { SdeConfig } from '../config/model';
import { ConfigError } from '../config/problems';

/** Something about git or the revision the user can fix: shown as a plain message. */
export class GitConfigError extends Error {}

export interface Revision {
  /** As the user gave it, e.g. HEAD~3, v1.2, a commit hash. */
  readonly ref: string;
  readonly commit: string;
  /** Committer date, YYYY-MM-DD (UTC). */
  readonly date: string;
}

export interface ConfigAtRevision extends Revision {
  /** Files by path relative to the config directory (`projects/x.yaml`). */
  readonly files: ReadonlyMap<string, string>;
}

function git(cwd: string, args: readonly string[]): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new GitConfigError('git is not installed (or not on PATH): install git to compare config revisions');
    throw Object.assign(new Error((err.stderr ?? err.message).trim()), { gitFailed: true });
  }
}

/** The repository root and the config directory's path inside it (`config/`, or '' at the root). */
export function gitLocation(configDir: string): { root: string; prefix: string } {
  const abs = path.resolve(configDir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new GitConfigError(`${configDir} is not a directory`);
  try {
    const root = git(abs, ['rev-parse', '--show-toplevel']).trim();
    const prefix = git(abs, ['rev-parse', '--show-prefix']).trim();
    return { root, prefix };
  } catch (e) {
    if (e instanceof GitConfigError) throw e;
    throw new GitConfigError(
      `${configDir} is not inside a git repository, so there is no history to compare with (run git init and commit the config, or use a config folder in a git checkout)`,
    );
  }
}

/** Resolves a revision to a commit, or explains why it cannot. */
export function resolveRevision(configDir: string, ref: string): Revision {
  if (ref.trim() === '' || ref.startsWith('-') || /[\s\0]/.test(ref)) {
    throw new GitConfigError(`"${ref}" is not a git revision (give a commit, a tag, a branch or HEAD~N)`);
  }
  const { root } = gitLocation(configDir);
  let commit: string;
  try {
    commit = git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).trim();
  } catch {
    throw new GitConfigError(`git revision "${ref}" is not known in ${root} (check the name with git log --oneline; a shallow clone may lack older commits)`);
  }
  const date = git(root, ['show', '-s', '--format=%cI', commit]).trim();
  return { ref, commit, date: new Date(date).toISOString().slice(0, 10) };
}

/** The config directory's files at a revision (empty when the folder did not exist then). */
export function readConfigAtRevision(configDir: string, ref: string): ConfigAtRevision {
  const revision = resolveRevision(configDir, ref);
  const { root, prefix } = gitLocation(configDir);
  const listing = git(root, ['ls-tree', '-r', '-z', '--full-name', '--name-only', revision.commit, '--', prefix === '' ? '.' : prefix]);
  const files = new Map<string, string>();
  for (const full of listing.split('\0').filter((f) => f !== '' && /\.ya?ml$/.test(f))) {
    files.set(full.slice(prefix.length), git(root, ['show', `${revision.commit}:${full}`]));
  }
  return { ...revision, files };
}

/** The config at a revision, validated as of that commit's date; throws ConfigError naming the revision. */
export function loadConfigAtRevision(configDir: string, ref: string): { config: SdeConfig; revision: Revision } {
  const at = readConfigAtRevision(configDir, ref);
  const label = `${path.basename(path.resolve(configDir))}@${ref}`;
  if (at.files.size === 0)
    throw new GitConfigError(`${label}: the config folder holds no YAML files at ${ref} (${at.commit.slice(0, 12)}); choose a later revision`);
  // The past is compared, not enforced: a revision from before projects stated their benefit still reads.
  const { config, problems } = validateConfigFiles(withRequirementsAddedLater(at.files), label, { today: at.date, benefitGate: false });
  if (!config) throw new ConfigError(problems);
  const { files: _files, ...revision } = at;
  return { config, revision };
}

/** Said in place of a field a past revision could not have had: the comparison shows it as such. */
export const NOT_STATED_IN_REVISION = 'not stated in this revision (the field was added to the configuration later)';

/**
 * Fills the fields today's schema requires that were added after a revision was written, so
 * the past can still be compared: the register's opt-out and contact text, and a row
 * filter's plain-words description. Only values that are absent are filled (a value that is
 * present is validated as written), and only for this comparison, never for a deployment.
 */
export function withRequirementsAddedLater(files: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  const out = new Map(files);
  for (const [file, text] of files) {
    const doc = parseDocument(text);
    if (doc.errors.length > 0 || !isMap(doc.contents)) continue;
    let changed = false;
    const fill = (at: readonly (string | number)[], value: unknown) => {
      if (doc.hasIn(at)) return;
      doc.setIn(at, value);
      changed = true;
    };
    if (/^platform\.ya?ml$/.test(file)) {
      fill(['register', 'optOut'], { text: NOT_STATED_IN_REVISION });
      fill(['register', 'contact'], { name: NOT_STATED_IN_REVISION, url: 'https://not-stated.invalid/' });
    } else if (file.startsWith('projects/')) {
      const datasets = doc.get('datasets');
      if (isMap(datasets)) {
        for (const item of datasets.items) {
          if (isMap(item.value) && item.value.has('rowFilter'))
            fill(['datasets', String((item.key as { value?: unknown })?.value ?? item.key), 'rowFilterDescription'], NOT_STATED_IN_REVISION);
        }
      }
    }
    if (changed) out.set(file, doc.toString());
  }
  return out;
}

/** A revision to compare with when none is given: N commits back, or the first commit if there are fewer. */
export function defaultBaseRevision(configDir: string, commitsBack: number): string {
  const { root } = gitLocation(configDir);
  let count: number;
  try {
    count = Number(git(root, ['rev-list', '--count', 'HEAD']).trim());
  } catch {
    throw new GitConfigError('the repository has no commits yet: commit the config first');
  }
  if (count > commitsBack) return `HEAD~${commitsBack}`;
  const roots = git(root, ['rev-list', '--max-parents=0', 'HEAD']).trim().split('\n');
  return roots[roots.length - 1];
}
