/**
 * What a project is approved to see, worked out independently of the query engine under
 * test, and a check that finds anything else in a piece of output. Curated test data is
 * written with markers (writeCuratedParquet `markers`): every text value reads
 * `<dataset>.<column>.<row>`, so any output naming a column or a row the approval leaves
 * out is found, however the query dressed it (upper case, inside a list, a JSON string,
 * an error message).
 */
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { projectAccess, type SdeConfig } from '../../lib/config';

export interface ApprovedTable {
  readonly columns: ReadonlySet<string>;
  /** Row numbers the approval's filter keeps. */
  readonly rows: ReadonlySet<number>;
}

export interface Approval {
  readonly projectId: string;
  readonly datasets: readonly string[];
  readonly tables: ReadonlyMap<string, ApprovedTable>;
}

/** The approval of `projectId` over the marked curated data under `curatedRoot`. */
export async function approvalOf(config: SdeConfig, projectId: string, curatedRoot: string): Promise<Approval> {
  const project = config.projects.find((p) => p.id === projectId)!;
  const duck = await DuckDBInstance.create(':memory:');
  const connection = await duck.connect();
  const tables = new Map<string, ApprovedTable>();
  try {
    for (const grant of projectAccess(config, project)) {
      const glob = path.join(curatedRoot, grant.dataset.name, '**', '*.parquet').replace(/'/g, "''");
      const where = grant.rowFilter === undefined ? '' : ` WHERE ${grant.rowFilter}`;
      // Every marked text column carries the row number: read it from the first one.
      const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${glob}', hive_partitioning = true)${where}`);
      const rows = new Set<number>();
      for (const row of reader.getRowObjectsJson()) {
        for (const value of Object.values(row)) {
          const m = typeof value === 'string' ? /\.(\d+)$/.exec(value) : null;
          if (m) rows.add(Number(m[1]));
        }
      }
      tables.set(grant.dataset.name, { columns: new Set(grant.columnNames), rows });
    }
  } finally {
    connection.closeSync();
    duck.closeSync();
  }
  return { projectId, datasets: config.datasets.map((d) => d.name), tables };
}

/** Every marker in `text` that names a column or a row outside the approval. */
export function unapprovedMarkers(text: string, approval: Approval): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`\\b(${approval.datasets.join('|')})\\.([a-z0-9_]+)\\.(\\d+)`, 'gi');
  for (const m of text.matchAll(pattern)) {
    const table = approval.tables.get(m[1].toLowerCase());
    if (!table || !table.columns.has(m[2].toLowerCase()) || !table.rows.has(Number(m[3]))) found.push(m[0]);
  }
  return found;
}

/** Any text that must never come out of a session: another table's data, a file's content, a path. */
export function leaksIn(text: string, approval: Approval, secrets: readonly string[]): string[] {
  return [...unapprovedMarkers(text, approval), ...secrets.filter((s) => text.includes(s))];
}
