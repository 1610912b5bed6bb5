/**
 * Named crash points for the crash-injection tests: `crashPoint('commit:data-published')`
 * kills the process on the spot (SIGKILL: no `finally`, no exit handler, no flush), exactly
 * as a power cut or the OOM killer would, when the tests ask for that point.
 *
 * Armed only when both `NODE_ENV=test` (jest sets it) and `SDE_CRASH_AT=<point>` are set.
 * Even armed it cannot be abused: the only thing it does is end its own process at a point
 * any crash could, which the code around every point is written to survive. Lives in the
 * ground floor so that ingestion and the audit writer share one switch.
 */

export const CRASH_POINTS = [
  'plan:before-write',
  'plan:written',
  'chunk:part-written',
  'chunk:rejected-written',
  'chunk:result-written',
  'commit:data-published',
  'commit:manifest-written',
  'audit:intent-written',
  'audit:record-written',
  'audit:chain-written',
  'audit:head-written',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Kills this process when the tests armed `point` (see the file comment); otherwise nothing. */
export function crashPoint(point: CrashPoint): void {
  if (process.env.NODE_ENV !== 'test') return;
  const armed = process.env.SDE_CRASH_AT;
  if (armed === undefined || armed !== point) return;
  // Once per armed run of a counted point: SDE_CRASH_SKIP=n lets the first n passes through.
  const skip = Number(process.env.SDE_CRASH_SKIP ?? '0');
  if (skip > 0) {
    process.env.SDE_CRASH_SKIP = String(skip - 1);
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}
