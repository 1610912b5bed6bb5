/**
 * The typed, validated model of one deployment's configuration: what every consumer reads.
 */
import { ConfigError } from './problems';
import { parseRowFilter, rowFilterSql } from './row-filter';
import type { DatasetConfig, PlatformConfig, ProjectConfig } from './schema';

/** A parsed file together with where it came from, so later checks can name the file. */
export type Sourced<T> = T & { readonly file: string };

export interface SdeConfig {
  /** Absolute path of the configuration directory. */
  readonly dir: string;
  readonly platform: Sourced<PlatformConfig>;
  readonly datasets: readonly Sourced<DatasetConfig>[];
  readonly projects: readonly Sourced<ProjectConfig>[];
  /** The date (YYYY-MM-DD, UTC) the config was validated against: periods are judged on it. */
  readonly today: string;
}

export type ProjectState = 'active' | 'expired' | 'not_started' | 'suspended';

/**
 * Where a project stands on a given day. Only an `active` project receives grants; the
 * others stay in the config (and on the public register) with no access.
 */
export function projectState(project: ProjectConfig, today: string): ProjectState {
  if (project.status === 'suspended') return 'suspended';
  if (project.status === 'expired' || project.period.end < today) return 'expired';
  if (project.period.start > today) return 'not_started';
  return 'active';
}

/**
 * The approval's period as the instants AWS compares `aws:CurrentTime` with: from the
 * start (00:00 UTC) of its first day up to, not including, the start of the day after its
 * last, the same days `projectState` counts as active.
 */
export function approvalWindow(project: Pick<ProjectConfig, 'period'>): { readonly from: string; readonly until: string } {
  const next = new Date(`${project.period.end}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return { from: `${project.period.start}T00:00:00Z`, until: next.toISOString().replace('.000Z', 'Z') };
}

/** Projects still marked active whose approved period has ended: they receive nothing, and their file should say expired. */
export function lapsedProjects(config: SdeConfig): Sourced<ProjectConfig>[] {
  return config.projects.filter((p) => p.status === 'active' && p.period.end < config.today);
}

/** The projects that receive grants today. */
export function grantedProjects(config: SdeConfig): Sourced<ProjectConfig>[] {
  return config.projects.filter((p) => projectState(p, config.today) === 'active');
}

export function datasetByName(config: SdeConfig, name: string): Sourced<DatasetConfig> {
  const found = config.datasets.find((d) => d.name === name);
  if (!found) throw new Error(`unknown dataset "${name}" (the config validation should have refused this)`);
  return found;
}

export interface ProjectTableAccess {
  readonly dataset: Sourced<DatasetConfig>;
  /** Approved curated column names, sorted. */
  readonly columnNames: readonly string[];
  /** The approved row filter in canonical form (see row-filter.ts), if any. */
  readonly rowFilter?: string;
}

/**
 * The tables and exact columns a project may read: the single model that both the Lake
 * Formation grants and the local query engine are compiled from. Empty unless active.
 */
export function projectAccess(config: SdeConfig, project: ProjectConfig): ProjectTableAccess[] {
  if (projectState(project, config.today) !== 'active') return [];
  return Object.entries(project.datasets)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, grant]) => {
      const dataset = datasetByName(config, name);
      const rowFilter = grant.rowFilter === undefined ? undefined : rowFilterSql(parseRowFilter(grant.rowFilter));
      return { dataset, columnNames: [...grant.columns].sort(), rowFilter };
    });
}

/**
 * Whether `text` is a real calendar date written YYYY-MM-DD: 2026-02-30 is not (Date would
 * silently roll it over to 2 March and judge every approval period on the wrong day).
 */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Today's date in UTC as YYYY-MM-DD. SDE_TODAY pins it (tests, and rehearsing a future date). */
export function todayUtc(): string {
  const pinned = process.env.SDE_TODAY;
  if (pinned === undefined || pinned === '') return new Date().toISOString().slice(0, 10);
  if (!isCalendarDate(pinned)) {
    throw new ConfigError([
      {
        file: 'SDE_TODAY (environment variable)',
        field: '',
        message: `"${pinned}" is not a real date written YYYY-MM-DD`,
        fix: 'set SDE_TODAY to a calendar date such as 2026-11-22, or unset it to use today',
      },
    ]);
  }
  return pinned;
}
