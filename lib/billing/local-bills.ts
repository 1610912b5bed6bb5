/**
 * `sde bill` on the local runtime: usage from the workdir's CloudTrail-format audit
 * trail, statements written as CSV and HTML. The only I/O around the pure billing code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTrail } from '../audit/cloudtrail-reader';
import { AUDIT_DIR } from '../audit/local-audit-writer';
import type { SdeConfig } from '../config/model';
import { billingInputs, workgroupProjects } from './inputs';
import type { BillingMonth } from './month';
import { renderStatementCsv, renderSummaryCsv } from './render-csv';
import { renderStatementHtml } from './render-html';
import { buildStatements, type Statement } from './statement';
import { usageFromTrail, type TrailUsage } from './usage';

export interface LocalBillsOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly month: BillingMonth;
  /** Only this project's statement (produced even with nothing to charge). */
  readonly projectId?: string;
  /** @default <workdir>/out/bills */
  readonly outDir?: string;
}

export interface LocalBills {
  readonly statements: readonly Statement[];
  /** Written files, the month's summary first. */
  readonly files: readonly string[];
  readonly usage: TrailUsage;
  /** Audit files or records that could not be read (they may hold unbilled usage). */
  readonly unreadable: number;
}

/** The charged queries in a workdir's audit trail (none when nothing was ever audited). */
export async function localTrailUsage(config: SdeConfig, workdir: string): Promise<{ usage: TrailUsage; unreadable: number }> {
  const dir = path.join(path.resolve(workdir), AUDIT_DIR);
  if (!fs.existsSync(dir)) return { usage: { usage: [], withoutBytes: 0, refused: 0 }, unreadable: 0 };
  const read = await readTrail(dir);
  return {
    usage: usageFromTrail(
      read.records.map((r) => r.record),
      workgroupProjects(billingInputs(config)),
    ),
    unreadable: read.filesSkipped + read.recordsSkipped,
  };
}

export async function writeLocalBills(options: LocalBillsOptions): Promise<LocalBills> {
  const inputs = billingInputs(options.config);
  const { usage, unreadable } = await localTrailUsage(options.config, options.workdir);
  const statements = buildStatements(inputs, options.month, usage.usage, { projectId: options.projectId });
  const dir = path.join(path.resolve(options.outDir ?? path.join(options.workdir, 'out', 'bills')), options.month.id);
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  if (options.projectId === undefined) {
    const summary = path.join(dir, 'statements.csv');
    fs.writeFileSync(summary, renderSummaryCsv(statements));
    files.push(summary);
  }
  for (const s of statements) {
    const base = path.join(dir, s.project.id);
    fs.writeFileSync(`${base}.csv`, renderStatementCsv(s));
    fs.writeFileSync(`${base}.html`, renderStatementHtml(s));
    files.push(`${base}.csv`, `${base}.html`);
  }
  return { statements, files, usage, unreadable };
}
