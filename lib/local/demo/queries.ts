/**
 * The demo's research step: as each example project, one query its approval allows and
 * one it does not, through the same audited path as `sde query`; then the access matrix
 * the data access committee reads. The refusals show the enforcement at work, and every
 * query (allowed or refused) lands in the audit trail the register and bills read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { curatedColumns } from '../../config/curated';
import { projectAccess, projectState, type SdeConfig } from '../../config/model';
import type { ProjectConfig } from '../../config/schema';
import { queryAsProject, syncCuratedCache } from '../runners/query';
import { QueryRefused } from '../../query/sql-guard';
import { riskReport, type RiskReport } from '../../governance/disclosure-risk';
import { renderRiskText } from '../../governance/risk-render';
import { buildAccessMatrix } from '../../reports/access-matrix';
import { renderAccessMatrixHtml, renderAccessMatrixMarkdown } from '../../reports/access-matrix-render';
import { duckdbRiskRunner } from '../runners/risk';
import { workdirLayout } from '../workdir';

export interface DemoQuery {
  readonly projectId: string;
  readonly sql: string;
  /** What the query shows, in plain words. */
  readonly why: string;
}

/**
 * A query the project is approved for: the row count of an approved table (what a
 * researcher runs first), a row-filtered one where there is one, to show the filter at
 * work. None for a project that is not active.
 */
export function allowedDemoQuery(config: SdeConfig, project: ProjectConfig): DemoQuery | undefined {
  const access = projectAccess(config, project);
  const first = access.find((a) => a.rowFilter !== undefined) ?? access[0];
  if (!first) return undefined;
  const filtered = first.rowFilter === undefined ? '' : ' (only the rows its approval names)';
  return { projectId: project.id, sql: `SELECT COUNT(*) AS row_count FROM ${first.dataset.name}`, why: `count the rows of ${first.dataset.name}${filtered}` };
}

/**
 * A query beyond the approval: a curated column the project was not approved for in a
 * table it may read; else a table it may not read; else (an inactive project) any table.
 */
export function refusedDemoQuery(config: SdeConfig, project: ProjectConfig): DemoQuery {
  const access = projectAccess(config, project);
  for (const grant of access) {
    const hidden = curatedColumns(grant.dataset).find((c) => !grant.columnNames.includes(c.name));
    if (hidden)
      return {
        projectId: project.id,
        sql: `SELECT ${hidden.name} FROM ${grant.dataset.name} LIMIT 5`,
        why: `read ${grant.dataset.name}.${hidden.name}, a column outside its approval`,
      };
  }
  const approved = new Set(access.map((a) => a.dataset.name));
  const other = config.datasets.find((d) => !approved.has(d.name)) ?? config.datasets[0];
  const reason =
    access.length === 0
      ? `read ${other.name} while the project is ${projectState(project, config.today).replace('_', ' ')}`
      : `read ${other.name}, a table outside its approval`;
  return { projectId: project.id, sql: `SELECT COUNT(*) FROM ${other.name}`, why: reason };
}

export interface DemoQueryOutcome extends DemoQuery {
  readonly allowed: boolean;
  /** The first row of an allowed query's result, or the refusal message. */
  readonly answer: string;
}

export interface DemoQueriesResult {
  readonly outcomes: readonly DemoQueryOutcome[];
  readonly accessMatrixFiles: readonly string[];
  /** The approvals' re-identification risk, measured on the demo's curated data. */
  readonly risk: RiskReport;
}

export async function runDemoQueries(options: {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly log: (line: string) => void;
}): Promise<DemoQueriesResult> {
  const { config, workdir, log } = options;
  const curatedRoot = await syncCuratedCache(config, workdir);
  const outcomes: DemoQueryOutcome[] = [];
  log('Research queries, one allowed and one refused per project (each recorded in the audit trail):');
  for (const project of config.projects) {
    const queries = [allowedDemoQuery(config, project), refusedDemoQuery(config, project)].filter((q): q is DemoQuery => q !== undefined);
    for (const q of queries) {
      let outcome: DemoQueryOutcome;
      try {
        const result = await queryAsProject({ config, workdir, curatedRoot, projectId: q.projectId, sql: q.sql, maxRows: 1 });
        const first = result.rows[0] ?? [];
        outcome = { ...q, allowed: true, answer: result.columns.map((c, i) => `${c} = ${String(first[i])}`).join(', ') };
      } catch (e) {
        if (!(e instanceof QueryRefused)) throw e;
        outcome = { ...q, allowed: false, answer: e.message };
      }
      outcomes.push(outcome);
      log(`  ${q.projectId}: ${outcome.allowed ? 'allowed' : 'REFUSED'}: ${q.why}`);
      log(`      ${outcome.answer}`);
    }
  }

  const out = workdirLayout(workdir).out;
  fs.mkdirSync(out, { recursive: true });
  // The risk each approval carries, measured by the platform on the data it grants (sde risk).
  const runner = await duckdbRiskRunner(config, curatedRoot);
  let risk: RiskReport;
  try {
    const measurable = config.projects.filter((p) => ['active', 'not_started'].includes(projectState(p, config.today)));
    risk = await riskReport(config, measurable, runner, 'duckdb (local curated copy)');
  } finally {
    runner.close();
  }
  fs.writeFileSync(path.join(out, 'risk.json'), `${JSON.stringify(risk, null, 2)}\n`);
  fs.writeFileSync(path.join(out, 'risk.txt'), renderRiskText(risk));
  log(`Re-identification risk of each approval (share of people in classes under 5, the worst measure; ${path.join(out, 'risk.txt')}):`);
  for (const p of risk.projects) log(`  ${p.projectId}: ${p.gate.message}`);
  log('  (the approvals record figures measured on 50,000 synthetic people: sde demo --people 50000, then sde risk, reproduces them;');
  log('   a smaller population makes every class smaller, so a grant can cross the ceiling here that does not there)');
  const matrix = buildAccessMatrix(config, risk);
  const files = [path.join(out, 'access-matrix.md'), path.join(out, 'access-matrix.html')];
  fs.writeFileSync(files[0], renderAccessMatrixMarkdown(matrix));
  fs.writeFileSync(files[1], renderAccessMatrixHtml(matrix));
  log(`Access matrix for the data access committee: ${files.map((f) => path.resolve(f)).join(', ')}`);
  return { outcomes, accessMatrixFiles: files, risk };
}
