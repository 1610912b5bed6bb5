/**
 * Cell suppression on a table seen as a grid of cells, each placed by its coordinates
 * (the category values, and the count column when there are several). A "line" is every
 * cell that shares all coordinates but one: the cells whose sum is a row or column
 * total, whether or not the table prints that total.
 *
 * Secondary suppression: when a line holds exactly one suppressed cell, anyone who knows
 * the line's total (printed in the table, published elsewhere, or the sum of a margin)
 * can subtract the others and recover it. So another cell of that line is suppressed
 * too, and the lines are scanned again until none holds exactly one suppressed cell.
 * Each pass suppresses at least one more cell, so it ends. The result protects against
 * recovery from any single line total; it is the classic hypercube-free heuristic, not an
 * optimal (least-loss) pattern, and it does not defend against every multi-line linear
 * attack: reviewers see every suppression in the report.
 */

export interface GridCell {
  /** Coordinates: one value per dimension. */
  readonly coords: readonly string[];
  /** The cell's number; null for a blank cell (unknown: never chosen to protect another). */
  readonly value: number | null;
  /** A margin (total) cell: chosen as a complement only when nothing else is left. */
  readonly isTotal: boolean;
}

export interface SecondaryStep {
  /** The cell suppressed in this step (index into the cells). */
  readonly cell: number;
  /** The suppressed cell it protects, alone in its line until now. */
  readonly protects: number;
  /** The dimension along which the line runs. */
  readonly dimension: number;
}

export interface SecondaryResult {
  readonly suppressed: ReadonlySet<number>;
  readonly steps: readonly SecondaryStep[];
  /** Suppressed cells alone in a line with no other cell that could be suppressed. */
  readonly unprotectable: readonly number[];
}

/** Counts from 1 to the threshold are disclosive; zero is kept (it identifies nobody by itself). */
export function isPrimarySuppressed(value: number, threshold: number): boolean {
  return value >= 1 && value <= threshold;
}

/** Rounds a whole number to the nearest multiple of base, halves up (integer arithmetic, no float drift). */
export function roundToBase(value: number, base: number): number {
  if (base <= 1) return value;
  return Math.floor((2 * value + base) / (2 * base)) * base;
}

/** Every line (cell indexes) of two or more cells, dimension by dimension, in a stable order. */
export function gridLines(cells: readonly GridCell[]): { readonly dimension: number; readonly members: readonly number[] }[] {
  const dims = cells.reduce((m, c) => Math.max(m, c.coords.length), 0);
  const lines: { dimension: number; members: number[] }[] = [];
  for (let d = 0; d < dims; d++) {
    const groups = new Map<string, number[]>();
    cells.forEach((cell, i) => {
      const key = JSON.stringify(cell.coords.filter((_, j) => j !== d));
      const group = groups.get(key);
      if (group) group.push(i);
      else groups.set(key, [i]);
    });
    for (const members of groups.values()) if (members.length >= 2) lines.push({ dimension: d, members });
  }
  return lines;
}

/**
 * The one suppressed cell a line exposes, or undefined. A line exposes a suppressed cell
 * when every other member is known: a blank (unknown) member protects it as another
 * suppressed cell would, since the line total then gives only their sum.
 */
function exposedIn(cells: readonly GridCell[], members: readonly number[], suppressed: ReadonlySet<number>): number | undefined {
  const unknown = members.filter((m) => suppressed.has(m) || cells[m].value === null);
  return unknown.length === 1 && suppressed.has(unknown[0]) ? unknown[0] : undefined;
}

/** Lines exposing a suppressed cell: each is a cell recoverable from a total. */
export function exposedLines(
  cells: readonly GridCell[],
  suppressed: ReadonlySet<number>,
): { readonly dimension: number; readonly members: readonly number[] }[] {
  return gridLines(cells).filter((line) => exposedIn(cells, line.members, suppressed) !== undefined);
}

/**
 * The cheapest protector in a line: an ordinary cell before a total, a non-zero cell
 * before a zero (a suppressed zero next to a small count is easily guessed), then the
 * smallest value (least information lost), then the first in the table.
 */
function chooseComplement(cells: readonly GridCell[], members: readonly number[], suppressed: ReadonlySet<number>): number | undefined {
  const candidates = members.filter((m) => !suppressed.has(m) && cells[m].value !== null);
  candidates.sort((a, b) => {
    const ca = cells[a];
    const cb = cells[b];
    if (ca.isTotal !== cb.isTotal) return ca.isTotal ? 1 : -1;
    if ((ca.value === 0) !== (cb.value === 0)) return ca.value === 0 ? 1 : -1;
    if (ca.value !== cb.value) return ca.value! - cb.value!;
    return a - b;
  });
  return candidates[0];
}

export function secondarySuppression(cells: readonly GridCell[], primary: ReadonlySet<number>): SecondaryResult {
  const suppressed = new Set(primary);
  const steps: SecondaryStep[] = [];
  const lines = gridLines(cells);
  for (;;) {
    let changed = false;
    for (const line of lines) {
      const exposed = exposedIn(cells, line.members, suppressed);
      if (exposed === undefined) continue;
      const complement = chooseComplement(cells, line.members, suppressed);
      if (complement === undefined) continue;
      suppressed.add(complement);
      steps.push({ cell: complement, protects: exposed, dimension: line.dimension });
      changed = true;
    }
    if (!changed) break;
  }
  // Whatever is still alone in a line had no cell left to protect it.
  const unprotectable = new Set(
    lines.flatMap((line) => {
      const exposed = exposedIn(cells, line.members, suppressed);
      return exposed === undefined ? [] : [exposed];
    }),
  );
  return { suppressed, steps, unprotectable: [...unprotectable].sort((a, b) => a - b) };
}
