/**
 * Calendar months for billing, in UTC (CloudTrail and Athena times are UTC, and periods
 * in the config are judged in UTC), so a query at 00:30 BST on the 1st belongs to the
 * month it was in by UTC: the same rule the audit trail uses.
 */

export interface BillingMonth {
  /** YYYY-MM */
  readonly id: string;
  /** First day, YYYY-MM-DD. */
  readonly first: string;
  /** Last day, YYYY-MM-DD. */
  readonly last: string;
  readonly days: number;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Parses YYYY-MM, or returns undefined when it is not a month. */
export function parseMonth(text: string): BillingMonth | undefined {
  const m = MONTH.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { id: text, first: `${text}-01`, last: `${text}-${String(days).padStart(2, '0')}`, days };
}

/** The month before `month` (a monthly job bills the month that has just ended). */
export function previousMonth(month: BillingMonth): BillingMonth {
  const [y, m] = month.id.split('-').map(Number);
  const prev = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  return parseMonth(prev)!;
}

/** The month of a Date, in UTC. */
export function monthOfDate(date: Date): BillingMonth {
  return parseMonth(date.toISOString().slice(0, 7))!;
}

const dayNumber = (isoDate: string) => Date.UTC(Number(isoDate.slice(0, 4)), Number(isoDate.slice(5, 7)) - 1, Number(isoDate.slice(8, 10))) / 86_400_000;

/** Days of `month` inside the inclusive period [start, end]: 0 when they do not overlap. */
export function daysActive(month: BillingMonth, start: string, end: string): number {
  const from = start > month.first ? start : month.first;
  const to = end < month.last ? end : month.last;
  return to < from ? 0 : dayNumber(to) - dayNumber(from) + 1;
}
