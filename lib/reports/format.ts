/** Formats query results for the terminal, for spreadsheets (CSV) and for programs (JSON). */
import type { QueryResult } from '../query/project-session';

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with
 * a quote: results leave the platform as CSV, and must not execute on the reader's machine.
 */
export function neutraliseFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell) ? `'${cell}` : cell;
}

function csvCell(value: unknown): string {
  const cell = neutraliseFormula(text(value));
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export function formatCsv(result: QueryResult): string {
  return [result.columns.map(csvCell).join(','), ...result.rows.map((r) => r.map(csvCell).join(','))].join('\r\n') + '\r\n';
}

export function formatJson(result: QueryResult): string {
  return JSON.stringify(
    result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i]]))),
    null,
    2,
  );
}

export function formatTable(result: QueryResult, maxWidth = 40): string {
  const cells = [result.columns.map(text), ...result.rows.map((r) => r.map(text))].map((row) =>
    row.map((c) => (c.length > maxWidth ? `${c.slice(0, maxWidth - 1)}…` : c)),
  );
  const widths = result.columns.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]))
      .join(' | ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.slice(1).map(line)].join('\n');
}
