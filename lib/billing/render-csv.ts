/**
 * Statements as CSV, for the organisations' finance teams and spreadsheets. Every cell
 * goes through the same formula neutralisation as query results (lib/reports/format.ts):
 * organisation names and project titles come from config files edited by many hands,
 * and a cell starting with `=` must never run on the reader's machine.
 */
import { neutraliseFormula } from '../reports/format';
import { formatDecimal } from './money';
import type { Statement } from './statement';

function cell(value: string | number | undefined): string {
  const text = neutraliseFormula(value === undefined ? '' : String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const row = (cells: readonly (string | number | undefined)[]) => cells.map(cell).join(',');

export const STATEMENT_CSV_COLUMNS = [
  'statement',
  'organisation',
  'project',
  'month',
  'line',
  'description',
  'query_id',
  'time',
  'bytes_scanned',
  'bytes_billed',
  'amount',
  'currency',
] as const;

/**
 * One statement: a row per charge (with its basis), per charged query, the total, the
 * budget check, and each warning and note. One table with a `line` column, so it sorts
 * and filters in a spreadsheet without losing which line is which.
 */
export function renderStatementCsv(s: Statement): string {
  const head = [s.number, s.organisation.name, s.project.id, s.month.id];
  const money = (minor: number) => formatDecimal(minor, s.currency);
  const rows = [
    row(STATEMENT_CSV_COLUMNS),
    ...s.charges.map((c) => row([...head, 'charge', `${c.description}: ${c.basis}`, '', '', '', '', money(c.amountMinor), s.currency])),
    ...s.usage.map((u) => row([...head, 'usage', 'query', u.queryId, u.time, u.bytesScanned, u.bytesBilled, '', ''])),
    row([...head, 'total', `Total for ${s.month.id}`, '', '', s.totalBytesScanned, s.totalBytesBilled, money(s.totalMinor), s.currency]),
    row([
      ...head,
      'budget',
      `AWS spend ${formatDecimal(s.budget.spendUsdCents, 'USD')} USD (${s.budget.source}) of a monthly budget of ${s.budget.limitUsd} USD: ${s.budget.level}`,
      '',
      '',
      '',
      '',
      '',
      '',
    ]),
    ...s.warnings.map((w) => row([...head, 'warning', w, '', '', '', '', '', ''])),
    ...s.notes.map((n) => row([...head, 'note', n, '', '', '', '', '', ''])),
  ];
  return rows.join('\r\n') + '\r\n';
}

/** A month's statements in one table, one row each: what finance reconciles. */
export function renderSummaryCsv(statements: readonly Statement[]): string {
  const rows = [
    row([
      'statement',
      'organisation',
      'organisation_type',
      'project',
      'tier',
      'month',
      'days_active',
      'queries',
      'bytes_billed',
      'access_fee',
      'data_scanned',
      'total',
      'currency',
      'budget',
      'warnings',
    ]),
    ...statements.map((s) => {
      const amount = (kind: string) =>
        formatDecimal(
          s.charges.filter((c) => c.kind === kind).reduce((n, c) => n + c.amountMinor, 0),
          s.currency,
        );
      return row([
        s.number,
        s.organisation.name,
        s.organisation.type,
        s.project.id,
        s.tier.id,
        s.month.id,
        s.daysActive,
        s.usage.length,
        s.totalBytesBilled,
        amount('access_fee'),
        amount('data_scanned'),
        formatDecimal(s.totalMinor, s.currency),
        s.currency,
        s.budget.level,
        s.warnings.length,
      ]);
    }),
  ];
  return rows.join('\r\n') + '\r\n';
}
