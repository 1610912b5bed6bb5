/**
 * The re-identification risk of an approval, measured on the curated data the project is
 * granted, not guessed from column names: the share of people who sit in an equivalence
 * class of fewer than 5 (and fewer than 10) people over the quasi-identifiers the grant
 * names (k-anonymity), and, where the grant includes the pseudonym (so a person's records
 * link), over the person's whole trajectory of quasi-identifiers, within a dataset and
 * across the datasets whose pseudonyms the grant includes.
 *
 * One SQL query per project, run by the platform (never the project's role): on AWS in
 * Athena (athena-risk.ts), locally in DuckDB over the curated Parquet
 * (lib/local/runners/risk.ts). The text is the same for both: it reads
 * `"<database>"."<table>"`, and its only non-standard function, `array_join`, is Athena's,
 * which the local runner defines in DuckDB.
 *
 * A person is "in a class of fewer than k" when any of their records is: an attacker who
 * knows one event of a person (an admission month, an area, an age band) singles out that
 * record, and through the pseudonym every other record of theirs.
 */
import { curatedColumns } from '../config/curated';
import { projectState, type SdeConfig, type Sourced } from '../config/model';
import { curatedDatabaseName } from '../config/naming';
import { parseRowFilter, rowFilterSql } from '../config/row-filter';
import type { ProjectConfig } from '../config/schema';

export type RiskMeasureKind = 'quasi_identifiers' | 'trajectory' | 'linked';

export interface RiskMeasureSpec {
  /** Stable id within the project's query: m1, m2, ... */
  readonly id: string;
  readonly kind: RiskMeasureKind;
  readonly label: string;
  readonly datasets: readonly string[];
  readonly columns: readonly string[];
}

export interface RiskMeasure extends RiskMeasureSpec {
  readonly people: number;
  readonly below5: number;
  readonly below10: number;
  readonly shareBelow5: number;
  readonly shareBelow10: number;
  /** The most records one person has in it: above 1, the grant holds repeated events. */
  readonly maxRecordsPerPerson: number;
}

export interface ProjectRisk {
  readonly projectId: string;
  readonly measures: readonly RiskMeasure[];
  /** The measure with the highest share below 5 (ties: below 10), or undefined when nothing was measurable. */
  readonly worst?: RiskMeasure;
}

export interface RiskQuery {
  readonly projectId: string;
  readonly sql: string;
  readonly measures: readonly RiskMeasureSpec[];
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

interface DatasetPart {
  readonly dataset: string;
  readonly table: string;
  readonly qis: readonly string[];
  readonly person: string | undefined;
  readonly personGranted: boolean;
  readonly where: string;
}

function datasetParts(config: SdeConfig, project: ProjectConfig): DatasetPart[] {
  const database = curatedDatabaseName(config);
  return Object.entries(project.datasets)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([name, grant]) => {
      const dataset = config.datasets.find((d) => d.name === name);
      if (!dataset) return [];
      const curated = curatedColumns(dataset);
      const qis = curated.filter((c) => c.curatedClass === 'quasi_identifier' && grant.columns.includes(c.name)).map((c) => c.name);
      const person = curated.find((c) => c.curatedClass === 'pseudonym')?.name;
      const filter = grant.rowFilter === undefined ? undefined : rowFilterSql(parseRowFilter(grant.rowFilter));
      const conditions = [...(person ? [`${quote(person)} IS NOT NULL`] : []), ...(filter ? [filter] : [])];
      return [
        {
          dataset: name,
          table: `${quote(database)}.${quote(name)}`,
          qis: [...qis].sort(),
          person,
          personGranted: person !== undefined && grant.columns.includes(person),
          where: conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '',
        },
      ];
    });
}

/** One quasi-identifier tuple as text: NULL is its own value, and the separator cannot be confused with one. */
function tupleExpr(columns: readonly string[]): string {
  if (columns.length === 0) return "''";
  return columns.map((c) => `coalesce(CAST(${quote(c)} AS VARCHAR), '\u2205')`).join(` || '\u241f' || `);
}

function shares(id: string, from: string): string {
  return `${id} AS (SELECT count(*) AS people, sum(CASE WHEN k < 5 THEN 1 ELSE 0 END) AS below_5, sum(CASE WHEN k < 10 THEN 1 ELSE 0 END) AS below_10, max(records) AS max_records FROM ${from})`;
}

/**
 * The risk query of one project, or undefined when its grant names no quasi-identifier
 * (nothing to measure: every person is in one class).
 */
export function projectRiskQuery(config: SdeConfig, project: Sourced<ProjectConfig> | ProjectConfig): RiskQuery | undefined {
  const parts = datasetParts(config, project);
  const ctes: string[] = [];
  const measures: RiskMeasureSpec[] = [];
  const profiles: { dataset: string; cte: string }[] = [];
  let n = 0;
  for (const p of parts) {
    if (p.qis.length === 0) continue;
    // Without a pseudonym every record is its own person.
    const person = p.person ? quote(p.person) : quote('__record');
    const source = p.person ? `${p.table}${p.where}` : `(SELECT row_number() OVER () AS ${quote('__record')}, * FROM ${p.table}${p.where}) s`;
    const qcols = p.qis.map(quote).join(', ');
    const id = `m${++n}`;
    // Each person's distinct tuples; a class is the people sharing a tuple; a person's k is their smallest class.
    ctes.push(
      `${id}_rows AS (SELECT ${person} AS person, ${qcols}, count(*) AS records FROM ${source} GROUP BY ${person}, ${qcols})`,
      `${id}_k AS (SELECT person, count(*) OVER (PARTITION BY ${qcols}) AS k, records FROM ${id}_rows)`,
      shares(id, `(SELECT person, min(k) AS k, sum(records) AS records FROM ${id}_k GROUP BY person) t`),
    );
    measures.push({ id, kind: 'quasi_identifiers', label: `${p.dataset}: ${p.qis.join(', ')}`, datasets: [p.dataset], columns: p.qis });
    if (p.personGranted) {
      const tid = `m${++n}`;
      // The person's trajectory: every record's tuple, in order (a multiset), as one value.
      ctes.push(
        `${tid}_profiles AS (SELECT ${quote(p.person!)} AS person, array_join(array_agg(${tupleExpr(p.qis)} ORDER BY ${tupleExpr(p.qis)}), '\u241e') AS profile, count(*) AS records FROM ${p.table}${p.where} GROUP BY ${quote(p.person!)})`,
        `${tid}_k AS (SELECT person, count(*) OVER (PARTITION BY profile) AS k, records FROM ${tid}_profiles)`,
        shares(tid, `${tid}_k`),
      );
      measures.push({
        id: tid,
        kind: 'trajectory',
        label: `${p.dataset}: ${p.qis.join(', ')} and the pseudonym's trajectory`,
        datasets: [p.dataset],
        columns: p.qis,
      });
      profiles.push({ dataset: p.dataset, cte: `${tid}_profiles` });
    }
  }
  if (profiles.length >= 2) {
    const lid = `m${n + 1}`;
    const union = profiles.map((x) => `SELECT person, ${literal(`${x.dataset}:`)} || profile AS part, records FROM ${x.cte}`).join(' UNION ALL ');
    ctes.push(
      `${lid}_profiles AS (SELECT person, array_join(array_agg(part ORDER BY part), '\u241d') AS profile, sum(records) AS records FROM (${union}) u GROUP BY person)`,
      `${lid}_k AS (SELECT person, count(*) OVER (PARTITION BY profile) AS k, records FROM ${lid}_profiles)`,
      shares(lid, `${lid}_k`),
    );
    const datasets = profiles.map((x) => x.dataset);
    const columns = parts.filter((p) => datasets.includes(p.dataset)).flatMap((p) => p.qis.map((q) => `${p.dataset}.${q}`));
    measures.push({ id: lid, kind: 'linked', label: `${datasets.join(' + ')} linked by the pseudonym: every trajectory together`, datasets, columns });
  }
  if (measures.length === 0) return undefined;
  const select = measures.map((m) => `SELECT ${literal(m.id)} AS measure, people, below_5, below_10, max_records FROM ${m.id}`).join('\nUNION ALL\n');
  return { projectId: project.id, sql: `WITH\n${ctes.join(',\n')}\n${select}`, measures };
}

const asNumber = (v: unknown) => (v === null || v === undefined || v === '' ? 0 : Number(v));

/** The measures from the query's rows (one per measure: measure, people, below_5, below_10, max_records). */
export function projectRiskFromRows(query: RiskQuery, rows: readonly Readonly<Record<string, unknown>>[]): ProjectRisk {
  const byId = new Map(rows.map((r) => [String(r.measure), r]));
  const measures = query.measures.map((m): RiskMeasure => {
    const r = byId.get(m.id);
    if (!r) throw new Error(`the risk query of ${query.projectId} returned no row for measure ${m.id} (${m.label})`);
    const people = asNumber(r.people);
    const below5 = asNumber(r.below_5);
    const below10 = asNumber(r.below_10);
    return {
      ...m,
      people,
      below5,
      below10,
      shareBelow5: people === 0 ? 0 : below5 / people,
      shareBelow10: people === 0 ? 0 : below10 / people,
      maxRecordsPerPerson: asNumber(r.max_records),
    };
  });
  const worst = [...measures].sort((a, b) => b.shareBelow5 - a.shareBelow5 || b.shareBelow10 - a.shareBelow10)[0];
  return { projectId: query.projectId, measures, ...(worst ? { worst } : {}) };
}

/** What runs a risk query and returns its rows (DuckDB locally, Athena on AWS). */
export interface RiskQueryRunner {
  run(sql: string): Promise<Record<string, unknown>[]>;
}

export async function measureProjectRisk(config: SdeConfig, project: Sourced<ProjectConfig> | ProjectConfig, runner: RiskQueryRunner): Promise<ProjectRisk> {
  const query = projectRiskQuery(config, project);
  if (!query) return { projectId: project.id, measures: [] };
  return projectRiskFromRows(query, await runner.run(query.sql));
}

/** not_held: over the ceiling, but the approval has no access (expired or suspended), so the gate does not apply. */
export type RiskVerdict = 'within_ceiling' | 'accepted' | 'over_ceiling' | 'not_held' | 'not_measured';

export interface RiskGate {
  readonly projectId: string;
  readonly verdict: RiskVerdict;
  /** The measured share below 5 (the worst measure). */
  readonly measured?: number;
  /** What the approval records (approval.disclosureRisk.shareBelow5), if anything. */
  readonly recorded?: number;
  readonly ceiling: number;
  readonly message: string;
}

/** A measured risk judged against platform.yaml's ceiling and the project's recorded acceptance. */
export function judgeRisk(config: SdeConfig, project: ProjectConfig, risk: ProjectRisk): RiskGate {
  const ceiling = config.platform.disclosureRisk?.ceiling ?? 1;
  const recorded = project.approval.disclosureRisk?.shareBelow5;
  const accepted = project.approval.riskAcceptance?.acceptedShareBelow5;
  const base = { projectId: project.id, ceiling, ...(recorded === undefined ? {} : { recorded }) };
  if (!risk.worst) return { ...base, verdict: 'not_measured', message: 'the grant names no quasi-identifier: nothing to measure' };
  const measured = risk.worst.shareBelow5;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const drift = recorded !== undefined && measured > recorded + 0.005 ? `; the approval records ${pct(recorded)}: record the new figure` : '';
  if (measured <= ceiling)
    return { ...base, verdict: 'within_ceiling', measured, message: `${pct(measured)} of people in classes under 5 (ceiling ${pct(ceiling)})${drift}` };
  if (accepted !== undefined && measured <= accepted + 1e-9)
    return {
      ...base,
      verdict: 'accepted',
      measured,
      message: `${pct(measured)} of people in classes under 5, over the ceiling of ${pct(ceiling)}, accepted up to ${pct(accepted)} (${project.approval.riskAcceptance!.reference})${drift}`,
    };
  const state = projectState(project, config.today);
  if (state !== 'active' && state !== 'not_started')
    return {
      ...base,
      verdict: 'not_held',
      measured,
      message: `${pct(measured)} of people in classes under 5, over the ceiling of ${pct(ceiling)}; the project is ${state}, so it is not held to the gate`,
    };
  return {
    ...base,
    verdict: 'over_ceiling',
    measured,
    message: `${pct(measured)} of people in classes under 5 (${risk.worst.label}), over the ceiling of ${pct(ceiling)}${
      accepted === undefined ? ' with no risk acceptance in the approval' : `, beyond the ${pct(accepted)} the approval accepts`
    }${drift}`,
  };
}

/** What `sde risk --format json` writes, and `sde access-matrix --risk FILE` reads. */
export interface RiskReport {
  readonly type: 'sde-disclosure-risk';
  readonly measuredOn: string;
  /** Where it was measured: the local curated copy, or Athena (workgroup). */
  readonly engine: string;
  readonly ceiling?: number;
  readonly projects: readonly (ProjectRisk & { readonly gate: RiskGate })[];
}

/** Measures each project and judges it: the report `sde risk` prints and the access matrix shows. */
export async function riskReport(
  config: SdeConfig,
  projects: readonly (Sourced<ProjectConfig> | ProjectConfig)[],
  runner: RiskQueryRunner,
  engine: string,
  progress: (projectId: string) => void = () => undefined,
): Promise<RiskReport> {
  const measured: RiskReport['projects'][number][] = [];
  for (const p of projects) {
    progress(p.id);
    const risk = await measureProjectRisk(config, p, runner);
    measured.push({ ...risk, gate: judgeRisk(config, p, risk) });
  }
  return {
    type: 'sde-disclosure-risk',
    measuredOn: config.today,
    engine,
    ...(config.platform.disclosureRisk ? { ceiling: config.platform.disclosureRisk.ceiling } : {}),
    projects: measured,
  };
}

/** Reads a risk report written by `sde risk --format json`, or says what is wrong with it. */
export function parseRiskReport(text: string, where: string): RiskReport {
  let r: RiskReport;
  try {
    r = JSON.parse(text) as RiskReport;
  } catch {
    throw new Error(`${where} is not JSON: write it with sde risk --format json --out FILE`);
  }
  if (r?.type !== 'sde-disclosure-risk' || !Array.isArray(r.projects)) throw new Error(`${where} is not a risk report of sde risk --format json`);
  return r;
}
