/**
 * Usage from both sources: the local CloudTrail-format trail (written by the same event
 * builders `sde query` uses) and Athena's query metadata (the AWS billing job), and the
 * thin billing handler end to end with recording fakes in place of the SDK clients.
 */
import type { QueryExecution } from '@aws-sdk/client-athena';
import { projectQueryEvent, type LocalAuditEnv } from '../../lib/audit/local-audit-events';
import { usageFromTrail } from '../../lib/billing/usage';
import { usageFromAthena } from '../../lib/billing/athena-usage';
import { createHandler, monthToBill } from '../../lib/billing/monthly-job';
import { actualSpendFor, budgetPeriod } from '../../lib/billing/budget-spend';
import { parseMonth } from '../../lib/billing/month';
import type { BillingInputs } from '../../lib/billing/inputs';

const env: LocalAuditEnv = {
  accountId: '000000000000',
  region: 'eu-west-2',
  platformName: 'onelondon-sde',
  projectRoleName: (id) => `onelondon-sde-project-${id}`,
  projectWorkgroupName: (id) => `onelondon-sde-project-${id}`,
  userAgent: 'sde-local',
};
const projects = new Map([
  ['onelondon-sde-project-alpha', 'alpha'],
  ['onelondon-sde-project-beta', 'beta'],
]);
const projectOf = (wg: string) => projects.get(wg);

describe('usage from the local audit trail', () => {
  test('allowed queries are charged with their bytes; refused queries are not; the researcher is not named', () => {
    const records = [
      projectQueryEvent(env, {
        projectId: 'alpha',
        sessionName: 'a.researcher',
        queryString: 'SELECT 1',
        bytesScanned: 1234,
        time: new Date('2026-11-02T10:00:00Z'),
        queryExecutionId: 'qe-1',
      }),
      projectQueryEvent(env, {
        projectId: 'alpha',
        sessionName: 'a.researcher',
        queryString: 'SELECT * FROM x',
        refused: { message: 'not approved' },
        time: new Date('2026-11-02T10:01:00Z'),
      }),
      projectQueryEvent(env, {
        projectId: 'beta',
        sessionName: 'b.researcher',
        queryString: 'SELECT 2',
        bytesScanned: 0,
        time: new Date('2026-11-03T10:00:00Z'),
        queryExecutionId: 'qe-2',
      }),
      { eventTime: '2026-11-03T11:00:00Z', eventSource: 's3.amazonaws.com', eventName: 'PutObject' },
    ];
    const got = usageFromTrail(records, projectOf);
    expect(got.refused).toBe(1);
    expect(got.withoutBytes).toBe(0);
    expect(got.usage).toEqual([
      { projectId: 'alpha', workgroup: 'onelondon-sde-project-alpha', queryId: 'qe-1', time: '2026-11-02T10:00:00Z', bytesScanned: 1234 },
      { projectId: 'beta', workgroup: 'onelondon-sde-project-beta', queryId: 'qe-2', time: '2026-11-03T10:00:00Z', bytesScanned: 0 },
    ]);
    expect(JSON.stringify(got)).not.toMatch(/researcher/);
  });

  test('a real CloudTrail StartQueryExecution (no byte count) is counted, not billed as zero', () => {
    const record = {
      eventTime: '2026-11-02T10:00:00Z',
      eventSource: 'athena.amazonaws.com',
      eventName: 'StartQueryExecution',
      requestParameters: { workGroup: 'onelondon-sde-project-alpha' },
      responseElements: { queryExecutionId: 'x' },
    };
    expect(usageFromTrail([record], projectOf)).toEqual({ usage: [], withoutBytes: 1, refused: 0, failed: 0 });
  });
});

function execution(id: string, wg: string, state: string, bytes: number, submitted: string, type = 'DML'): QueryExecution {
  return {
    QueryExecutionId: id,
    WorkGroup: wg,
    StatementType: type as QueryExecution['StatementType'],
    Status: { State: state as NonNullable<QueryExecution['Status']>['State'], SubmissionDateTime: new Date(submitted) },
    Statistics: { DataScannedInBytes: bytes },
  };
}

describe('usage from Athena query metadata', () => {
  test("follows Athena's pricing: succeeded and cancelled DML charged; failed, DDL and other workgroups not", () => {
    const got = usageFromAthena(
      [
        execution('ok', 'onelondon-sde-project-alpha', 'SUCCEEDED', 5_000_000, '2026-11-02T10:00:00.123Z'),
        execution('cancelled', 'onelondon-sde-project-alpha', 'CANCELLED', 70_000_000, '2026-11-02T11:00:00Z'),
        execution('failed', 'onelondon-sde-project-alpha', 'FAILED', 9_000_000, '2026-11-02T12:00:00Z'),
        execution('ddl', 'onelondon-sde-project-beta', 'SUCCEEDED', 0, '2026-11-02T13:00:00Z', 'DDL'),
        execution('running', 'onelondon-sde-project-beta', 'RUNNING', 0, '2026-11-30T23:59:00Z'),
        execution('security', 'onelondon-sde-security', 'SUCCEEDED', 1, '2026-11-02T14:00:00Z'),
      ],
      projectOf,
    );
    expect(got.usage.map((u) => [u.queryId, u.projectId, u.bytesScanned, u.time])).toEqual([
      ['ok', 'alpha', 5_000_000, '2026-11-02T10:00:00Z'],
      ['cancelled', 'alpha', 70_000_000, '2026-11-02T11:00:00Z'],
    ]);
    expect(got.unfinished).toBe(1);
    expect(got.otherWorkgroups).toBe(1);
  });
});

describe('the billing handler', () => {
  const inputs: BillingInputs = {
    platformName: 'onelondon-sde',
    displayName: 'OneLondon SDE',
    pricing: {
      currency: 'GBP',
      awsUsdPerTbScanned: 5,
      tiers: { commercial: { label: 'Commercial', accessFeePerMonth: 2000, pricePerTbScanned: 5, multiplier: 4 } },
    },
    projects: [
      {
        id: 'alpha',
        title: 'Alpha',
        status: 'active',
        organisation: { name: 'Alpha Ltd', type: 'company', tier: 'commercial' },
        period: { start: '2026-01-01', end: '2027-12-31' },
        approvalReference: 'DAC-1',
        monthlyBudgetUsd: 100,
        workgroup: 'onelondon-sde-project-alpha',
      },
    ],
  };

  test('bills the month before the scheduled run', () => {
    expect(monthToBill({ time: '2027-01-01T02:00:00Z' }, new Date()).id).toBe('2026-12');
    expect(monthToBill({ month: '2026-07' }, new Date()).id).toBe('2026-07');
    expect(() => monthToBill({ month: 'July' }, new Date())).toThrow(/YYYY-MM/);
  });

  test('pages through the workgroup, prices the usage and writes the statements under the billing prefix', async () => {
    const puts: { Key: string; Body: string }[] = [];
    const s3 = {
      async send(command: any) {
        if (command.constructor.name === 'GetObjectCommand') return { Body: { transformToString: async () => JSON.stringify(inputs) } };
        puts.push({ Key: command.input.Key, Body: command.input.Body });
        return {};
      },
    };
    const pages: Record<string, { QueryExecutionIds: string[]; NextToken?: string }> = {
      first: { QueryExecutionIds: ['q1'], NextToken: 'second' },
      second: { QueryExecutionIds: ['q2'] },
    };
    const athena = {
      async send(command: any) {
        if (command.constructor.name === 'ListQueryExecutionsCommand') {
          expect(command.input.WorkGroup).toBe('onelondon-sde-project-alpha');
          return pages[command.input.NextToken ?? 'first'];
        }
        return {
          QueryExecutions: command.input.QueryExecutionIds.map((id: string) =>
            execution(
              id,
              'onelondon-sde-project-alpha',
              'SUCCEEDED',
              id === 'q1' ? 1_000_000_000_000 : 1,
              id === 'q1' ? '2026-11-05T10:00:00Z' : '2026-10-31T23:00:00Z',
            ),
          ),
        };
      },
    };
    const handler = createHandler({ athena, s3, env: { BILLING_BUCKET: 'b', BILLING_INPUTS_KEY: 'billing/inputs.json' } });
    const result = await handler({ time: '2026-12-01T03:00:00Z' });
    expect(result.month).toBe('2026-11');
    expect(puts.map((p) => p.Key)).toEqual(['billing/2026-11/statements.csv', 'billing/2026-11/alpha.csv', 'billing/2026-11/alpha.html']);
    // £2000 fee + 1 TB × £5 × 4 = £2020.00; the October query is not on November's statement
    expect(puts[0].Body).toMatch(/2026-11-alpha,Alpha Ltd,company,alpha,commercial,2026-11,30,1,1000000000000,2000\.00,20\.00,2020\.00,GBP,under,0/);
  });

  test("AWS Budgets' actual spend for the month feeds the budget check; a missing budget falls back to the estimate", async () => {
    const twoProjects: BillingInputs = {
      ...inputs,
      projects: [inputs.projects[0], { ...inputs.projects[0], id: 'beta', workgroup: 'onelondon-sde-project-beta' }],
    };
    const puts: { Key: string; Body: string }[] = [];
    const s3 = {
      async send(command: any) {
        if (command.constructor.name === 'GetObjectCommand') return { Body: { transformToString: async () => JSON.stringify(twoProjects) } };
        puts.push({ Key: command.input.Key, Body: command.input.Body });
        return {};
      },
    };
    const athena = { send: async () => ({ QueryExecutionIds: [] }) };
    const asked: unknown[] = [];
    const budgets = {
      async send(command: any) {
        asked.push(command.input);
        if (command.input.BudgetName === 'onelondon-sde-project-beta') throw Object.assign(new Error('no budget'), { name: 'NotFoundException' });
        return {
          BudgetPerformanceHistory: {
            BudgetedAndActualAmountsList: [
              { TimePeriod: { Start: new Date('2026-10-01T00:00:00Z') }, ActualAmount: { Amount: '999', Unit: 'USD' } },
              { TimePeriod: { Start: new Date('2026-11-01T00:00:00Z') }, ActualAmount: { Amount: '123.45', Unit: 'USD' } },
            ],
          },
        };
      },
    };
    const handler = createHandler({ athena, s3, budgets, env: { BILLING_BUCKET: 'b', BILLING_INPUTS_KEY: 'k', BILLING_ACCOUNT_ID: '111122223333' } });
    await handler({ month: '2026-11' });
    expect(asked[0]).toEqual({
      AccountId: '111122223333',
      BudgetName: 'onelondon-sde-project-alpha',
      TimePeriod: { Start: new Date('2026-11-01T00:00:00Z'), End: new Date('2026-12-01T00:00:00Z') },
    });
    const alpha = puts.find((p) => p.Key === 'billing/2026-11/alpha.csv')!.Body;
    // budget $100, actual $123.45 from AWS Budgets: reached
    expect(alpha).toMatch(/AWS spend 123\.45 USD \(AWS Budgets\) of a monthly budget of 100 USD: reached/);
    const beta = puts.find((p) => p.Key === 'billing/2026-11/beta.csv')!.Body;
    expect(beta).toMatch(/AWS spend 0\.00 USD \(estimate from data scanned\)/);
  });
});

describe('AWS Budgets spend', () => {
  const nov = parseMonth('2026-11')!;
  test('picks the month asked for, in USD only', () => {
    const entry = (start: string, amount: string, unit = 'USD') => ({ TimePeriod: { Start: new Date(start) }, ActualAmount: { Amount: amount, Unit: unit } });
    expect(actualSpendFor({ BudgetedAndActualAmountsList: [entry('2026-10-01T00:00:00Z', '5'), entry('2026-11-01T00:00:00Z', '7.5')] }, nov)).toBe(7.5);
    expect(actualSpendFor({ BudgetedAndActualAmountsList: [entry('2026-11-01T00:00:00Z', '7.5', 'GBP')] }, nov)).toBeUndefined();
    expect(actualSpendFor({ BudgetedAndActualAmountsList: [entry('2026-10-01T00:00:00Z', '5')] }, nov)).toBeUndefined();
    expect(actualSpendFor(undefined, nov)).toBeUndefined();
    expect(budgetPeriod(parseMonth('2026-12')!)).toEqual({ Start: new Date('2026-12-01T00:00:00Z'), End: new Date('2027-01-01T00:00:00Z') });
  });
});
