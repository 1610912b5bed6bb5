/** Shared helpers for the airlock tests: synthetic tables only. */
import { parseCsvTable } from '../../lib/airlock/csv-table';
import { DEFAULT_AIRLOCK_SETTINGS, type AirlockSettings } from '../../lib/config/airlock-settings';

/** The hand-worked examples use threshold 7 (the old default); ACRO's defaults otherwise. */
export const SETTINGS: AirlockSettings = { ...DEFAULT_AIRLOCK_SETTINGS, suppressionThreshold: 7, reviewers: ['reviewer-a', 'reviewer-b', 'reviewer-c'] };

export function csv(text: string): Buffer {
  return Buffer.from(text.replace(/^\n/, ''), 'utf8');
}

/** Parses a checked output back into rows of strings (header first). */
export function rowsOf(bytes: Uint8Array | undefined): string[][] {
  if (!bytes) throw new Error('no output');
  const parsed = parseCsvTable(bytes, Number.MAX_SAFE_INTEGER);
  if (!parsed.ok) throw new Error(parsed.reason);
  return [[...parsed.table.columns], ...parsed.table.rows.map((r) => [...r])];
}
