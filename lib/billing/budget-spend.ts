/**
 * A project's actual AWS spend for one month, from AWS Budgets' performance history
 * (DescribeBudgetPerformanceHistory of the project's budget, which ProjectWorkspace
 * names after the workgroup). Pure: takes the SDK's shape, makes no calls. This is how
 * "Budgets alarms feed the statement" on AWS: the statement compares the same figure the
 * budget's notifications fire on, instead of estimating it from data scanned.
 */
import type { BudgetPerformanceHistory } from '@aws-sdk/client-budgets';
import type { BillingMonth } from './month';

/** The month's actual spend in USD, or undefined when the history has no USD figure for it (the statement then estimates). */
export function actualSpendFor(history: BudgetPerformanceHistory | undefined, month: BillingMonth): number | undefined {
  for (const entry of history?.BudgetedAndActualAmountsList ?? []) {
    const start = entry.TimePeriod?.Start;
    if (start === undefined || new Date(start).toISOString().slice(0, 10) !== month.first) continue;
    const spend = entry.ActualAmount;
    if (spend?.Unit !== 'USD' || spend.Amount === undefined) return undefined;
    const amount = Number(spend.Amount);
    return Number.isFinite(amount) && amount >= 0 ? amount : undefined;
  }
  return undefined;
}

/** The period to ask for: the month, [first day, first day of the next month). */
export function budgetPeriod(month: BillingMonth): { Start: Date; End: Date } {
  const start = new Date(`${month.first}T00:00:00Z`);
  return { Start: start, End: new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)) };
}
