/**
 * The monthly billing job on AWS: scheduled (EventBridge, early on the 1st), it bills the
 * month that has just ended (the Lambda handler is lambdas/billing/monthly-statements.ts;
the SDK clients are passed in, so tests drive it with recorded answers). It reads the billing inputs snapshot (lib/billing/inputs:
 * tiers, organisations, periods, budgets, workgroups; no researcher ARNs), lists each
 * project workgroup's query executions, turns them into usage (athena-usage.ts), builds
 * the statements (lib/billing/statement.ts) and writes CSV and HTML under the billing
 * prefix. Statement keys are per month and project, so a re-run replaces, never doubles.
 *
 * Athena keeps query history for 45 days: the job must run within 45 days of the end of
 * the month it bills (the schedule runs it on the 1st; a re-run by hand can pass
 * `{"month": "YYYY-MM"}`).
 *
 * Environment: BILLING_BUCKET; the JSON snapshot either bundled beside the handler
 * (BILLING_INPUTS_FILE, a file name: what BillingStack deploys, so the snapshot changes
 * only with a reviewed deployment) or as an object in that bucket (BILLING_INPUTS_KEY);
 * BILLING_PREFIX (@default `billing/`); BILLING_ACCOUNT_ID (the account whose AWS Budgets
 * hold the project budgets; without it, spend is estimated). The bucket's default KMS
 * encryption applies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchGetQueryExecutionCommand, ListQueryExecutionsCommand, type QueryExecution } from '@aws-sdk/client-athena';
import { DescribeBudgetPerformanceHistoryCommand, type BudgetPerformanceHistory } from '@aws-sdk/client-budgets';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { workgroupProjects, type BillingInputs } from './inputs';
import { monthOfDate, parseMonth, previousMonth, type BillingMonth } from './month';
import { renderStatementCsv, renderSummaryCsv } from './render-csv';
import { renderStatementHtml } from './render-html';
import { buildStatements } from './statement';
import { usageFromAthena } from './athena-usage';
import { actualSpendFor, budgetPeriod } from './budget-spend';

export interface BillingEvent {
  /** EventBridge scheduled events carry their time. */
  readonly time?: string;
  /** Bill this month instead of the previous one (a manual re-run). */
  readonly month?: string;
}

export interface BillingResult {
  readonly month: string;
  readonly keys: readonly string[];
  readonly unfinished: number;
}

type Send = { send(command: unknown): Promise<unknown> };

export interface BillingDeps {
  readonly athena: Send;
  readonly s3: Send;
  /** AWS Budgets, for each project's actual spend (with BILLING_ACCOUNT_ID). @default - the statement estimates spend from data scanned */
  readonly budgets?: Send;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The month to bill: the one named, else the month before the event's (or now). */
export function monthToBill(event: BillingEvent, now: Date): BillingMonth {
  if (event.month !== undefined) {
    const m = parseMonth(event.month);
    if (!m) throw new Error(`event.month must be YYYY-MM, not "${event.month}"`);
    return m;
  }
  return previousMonth(monthOfDate(event.time === undefined ? now : new Date(event.time)));
}

async function executionsOf(athena: Send, workGroup: string): Promise<QueryExecution[]> {
  const out: QueryExecution[] = [];
  let NextToken: string | undefined;
  do {
    const page = (await athena.send(new ListQueryExecutionsCommand({ WorkGroup: workGroup, NextToken, MaxResults: 50 }))) as {
      QueryExecutionIds?: string[];
      NextToken?: string;
    };
    const ids = page.QueryExecutionIds ?? [];
    if (ids.length > 0) {
      const batch = (await athena.send(new BatchGetQueryExecutionCommand({ QueryExecutionIds: ids }))) as { QueryExecutions?: QueryExecution[] };
      out.push(...(batch.QueryExecutions ?? []));
    }
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  return out;
}

/** A project's actual spend from its budget's history; undefined when it has no budget (e.g. not active that month). */
async function budgetSpend(budgets: Send, accountId: string, budgetName: string, month: BillingMonth): Promise<number | undefined> {
  try {
    const out = (await budgets.send(
      new DescribeBudgetPerformanceHistoryCommand({ AccountId: accountId, BudgetName: budgetName, TimePeriod: budgetPeriod(month) }),
    )) as {
      BudgetPerformanceHistory?: BudgetPerformanceHistory;
    };
    return actualSpendFor(out.BudgetPerformanceHistory, month);
  } catch (e) {
    if ((e as { name?: string }).name === 'NotFoundException') return undefined;
    throw e;
  }
}

export function createHandler(deps: BillingDeps, now: () => Date = () => new Date()) {
  return async (event: BillingEvent): Promise<BillingResult> => {
    const bucket = deps.env.BILLING_BUCKET;
    const inputsFile = deps.env.BILLING_INPUTS_FILE;
    const inputsKey = deps.env.BILLING_INPUTS_KEY;
    if (!bucket || (!inputsFile && !inputsKey)) throw new Error('BILLING_BUCKET and one of BILLING_INPUTS_FILE or BILLING_INPUTS_KEY must be set');
    const prefix = deps.env.BILLING_PREFIX ?? 'billing/';
    const month = monthToBill(event, now());

    let inputs: BillingInputs;
    if (inputsFile) {
      // A bare file name, resolved beside the bundle (__dirname is the bundle's folder at run
      // time): never a path from elsewhere.
      inputs = JSON.parse(fs.readFileSync(path.join(__dirname, path.basename(inputsFile)), 'utf8')) as BillingInputs;
    } else {
      const object = (await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: inputsKey }))) as { Body?: { transformToString(): Promise<string> } };
      if (!object.Body) throw new Error(`s3://${bucket}/${inputsKey} is empty`);
      inputs = JSON.parse(await object.Body.transformToString()) as BillingInputs;
    }

    const executions: QueryExecution[] = [];
    for (const p of inputs.projects) executions.push(...(await executionsOf(deps.athena, p.workgroup)));
    const { usage, unfinished } = usageFromAthena(executions, workgroupProjects(inputs));
    const actualSpendUsd: Record<string, number> = {};
    const accountId = deps.env.BILLING_ACCOUNT_ID;
    if (deps.budgets && accountId) {
      for (const p of inputs.projects) {
        const spend = await budgetSpend(deps.budgets, accountId, p.workgroup, month);
        if (spend !== undefined) actualSpendUsd[p.id] = spend;
      }
    }
    const statements = buildStatements(inputs, month, usage, { actualSpendUsd });

    const put = async (key: string, body: string, contentType: string) => {
      await deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
      return key;
    };
    const keys = [await put(`${prefix}${month.id}/statements.csv`, renderSummaryCsv(statements), 'text/csv; charset=utf-8')];
    for (const s of statements) {
      keys.push(await put(`${prefix}${month.id}/${s.project.id}.csv`, renderStatementCsv(s), 'text/csv; charset=utf-8'));
      keys.push(await put(`${prefix}${month.id}/${s.project.id}.html`, renderStatementHtml(s), 'text/html; charset=utf-8'));
    }
    return { month: month.id, keys, unfinished };
  };
}
