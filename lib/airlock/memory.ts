/**
 * Memory across releases: the cells a project has released (and the other files of the
 * request being checked, and its other requests in flight), and the differencing check of
 * a new table against them.
 *
 * Two outputs that are each safe can together disclose: "n = 20, mean 51.0" and, later,
 * "n = 19, mean 52.0" give the one person's value (20 x 51 - 19 x 52 = 32); a count of 455
 * admissions and, for a subgroup, 450 give the 5 others. So each table's true (submitted)
 * cells are kept with their roles, and a new table is compared with every table in
 * memory:
 * - same shape (the same category columns): cell by cell, counts that differ by 1 to the
 *   threshold, and statistics whose group sizes differ by 1 to the threshold;
 * - overlapping groups (some category columns shared): the counts summed onto the shared
 *   categories, group by group;
 * - always: each count column's total over the table.
 * Counts are compared across every pair of count columns, whatever their names (a renamed
 * column must not escape). A hit is disclosive unless a reviewer records why not.
 *
 * Known limit: it finds differences between two tables, not every linear combination of
 * several (as secondary suppression, README "Known limits").
 */
import { normaliseCell } from './numbers';
import type { StatisticKind, TableShape } from './table-shape';

export interface MemoryRow {
  /** Category column (normalised, lower case) -> normalised value. */
  readonly coords: Readonly<Record<string, string>>;
  readonly total: boolean;
  /** Count column -> its true value. */
  readonly counts: Readonly<Record<string, number>>;
  /** Statistic column -> its kind, value and the group size it is over (when the row says). */
  readonly stats: Readonly<Record<string, { readonly kind: StatisticKind; readonly value: number; readonly n?: number }>>;
}

export interface MemoryTable {
  /** Where it comes from, for the finding: "request req-... file x.csv (released ...)". */
  readonly source: string;
  readonly categories: readonly string[];
  readonly rows: readonly MemoryRow[];
}

export interface DifferencingHit {
  readonly source: string;
  /** 1-based rows of the new table concerned, with the column. */
  readonly cells: readonly { readonly row: number; readonly column: string }[];
  readonly message: string;
}

const key = (s: string) => normaliseCell(s).toLowerCase();

/** The memory entry of a checked table: its true cells, by role. `groupSize(r)` gives a row's group size. */
export function memoryTable(shape: TableShape, source: string, groupSize: (row: number) => number | undefined): MemoryTable {
  const cats = shape.columns.filter((c) => c.role === 'category');
  const counts = shape.columns.filter((c) => shape.countColumns.includes(c.name));
  const stats = shape.columns.filter((c) => c.role === 'statistic' && c.statistic !== 'min_max');
  const totals = new Set(shape.totalRows);
  const rows = shape.cells.map((row, r): MemoryRow => {
    const n = groupSize(r);
    return {
      coords: Object.fromEntries(cats.map((c) => [key(c.name), key(shape.text[r][c.index])])),
      total: totals.has(r),
      counts: Object.fromEntries(
        counts.flatMap((c) => (row[c.index].kind === 'number' ? [[key(c.name), Math.abs((row[c.index] as { value: number }).value)]] : [])),
      ),
      stats: Object.fromEntries(
        stats.flatMap((c) => {
          const v = row[c.index];
          return v.kind === 'number' ? [[key(c.name), { kind: c.statistic ?? 'unknown', value: v.value, ...(n === undefined ? {} : { n }) }]] : [];
        }),
      ),
    };
  });
  return { source, categories: cats.map((c) => key(c.name)).sort(), rows };
}

function coordKey(row: MemoryRow, dims: readonly string[]): string {
  return JSON.stringify(dims.map((d) => row.coords[d] ?? ''));
}

function columnTotals(t: MemoryTable): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of t.rows) {
    if (row.total) continue;
    for (const [c, v] of Object.entries(row.counts)) out.set(c, (out.get(c) ?? 0) + v);
  }
  return out;
}

const small = (d: number, threshold: number) => d >= 1 && d <= threshold;
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** Every differencing hit of `current` (whose rows are 0-based positions in its table) against the tables in memory. */
export function differencingHits(current: MemoryTable, memory: readonly MemoryTable[], threshold: number): DifferencingHit[] {
  const hits: DifferencingHit[] = [];
  const allRows = current.rows.map((_, r) => r);
  for (const prior of memory) {
    const cells: { row: number; column: string }[] = [];
    const notes: string[] = [];
    const add = (rows: readonly number[], column: string, note: string) => {
      for (const row of rows) cells.push({ row: row + 1, column });
      if (notes.length < 4) notes.push(note);
    };
    const shared = current.categories.filter((c) => prior.categories.includes(c));
    const sameShape = shared.length === current.categories.length && shared.length === prior.categories.length;

    if (sameShape) {
      const byKey = new Map<string, MemoryRow[]>();
      for (const row of prior.rows) byKey.set(coordKey(row, shared), [...(byKey.get(coordKey(row, shared)) ?? []), row]);
      current.rows.forEach((row, r) => {
        for (const other of byKey.get(coordKey(row, shared)) ?? []) {
          for (const [c, v] of Object.entries(row.counts)) {
            for (const [pc, pv] of Object.entries(other.counts)) {
              if (small(Math.abs(v - pv), threshold))
                add([r], c, `row ${r + 1}: "${c}" ${fmt(v)} against "${pc}" ${fmt(pv)} (a difference of ${fmt(Math.abs(v - pv))})`);
            }
          }
          for (const [c, s] of Object.entries(row.stats)) {
            for (const [pc, ps] of Object.entries(other.stats)) {
              if (s.n === undefined || ps.n === undefined || s.kind !== ps.kind) continue;
              if (small(Math.abs(s.n - ps.n), threshold))
                add(
                  [r],
                  c,
                  `row ${r + 1}: "${c}" over ${s.n} people against "${pc}" over ${ps.n} (the values of the ${Math.abs(s.n - ps.n)} between them follow)`,
                );
            }
          }
        }
      });
    } else if (shared.length > 0) {
      const sums = (t: MemoryTable) => {
        const out = new Map<string, { rows: number[]; counts: Map<string, number> }>();
        t.rows.forEach((row, r) => {
          if (row.total) return;
          const k = coordKey(row, shared);
          const g = out.get(k) ?? { rows: [], counts: new Map<string, number>() };
          g.rows.push(r);
          for (const [c, v] of Object.entries(row.counts)) g.counts.set(c, (g.counts.get(c) ?? 0) + v);
          out.set(k, g);
        });
        return out;
      };
      const mine = sums(current);
      const theirs = sums(prior);
      for (const [k, g] of mine) {
        const p = theirs.get(k);
        if (!p) continue;
        for (const [c, v] of g.counts) {
          for (const [pc, pv] of p.counts) {
            if (small(Math.abs(v - pv), threshold))
              add(
                g.rows,
                c,
                `the group ${k} (over ${shared.join(', ')}): "${c}" sums to ${fmt(v)} against "${pc}" ${fmt(pv)} (a difference of ${fmt(Math.abs(v - pv))})`,
              );
          }
        }
      }
    }

    const mineTotals = columnTotals(current);
    const theirTotals = columnTotals(prior);
    for (const [c, v] of mineTotals) {
      for (const [pc, pv] of theirTotals) {
        if (small(Math.abs(v - pv), threshold))
          add(allRows, c, `the total of "${c}" (${fmt(v)}) against the total of "${pc}" (${fmt(pv)}): a difference of ${fmt(Math.abs(v - pv))}`);
      }
    }
    if (cells.length > 0) {
      const unique = [...new Map(cells.map((c) => [`${c.row}\u0000${c.column}`, c])).values()];
      hits.push({
        source: prior.source,
        cells: unique,
        message: `compared with ${prior.source}: ${notes.join('; ')}${unique.length > notes.length ? '; ...' : ''}. Together the two give away the few people between them`,
      });
    }
  }
  return hits;
}
