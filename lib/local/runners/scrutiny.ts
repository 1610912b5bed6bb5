/**
 * The scrutiny report on this machine: the verified local trail (as the register reads it),
 * the bills of the quarter's months built from it (as `sde bill` builds them), and the
 * config, into `scrutiny-YYYY-Qn.html` and `.json`. Used by `sde scrutiny-report` and the demo.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { billingInputs, workgroupProjects } from '../../billing/inputs';
import { buildStatements } from '../../billing/statement';
import { usageFromTrail } from '../../billing/usage';
import type { SdeConfig } from '../../config/model';
import { buildScrutinyReport, monthsBegun, type Quarter, type ScrutinyReport } from '../../governance/scrutiny';
import { renderScrutinyHtml, renderScrutinyJson } from '../../governance/scrutiny-render';
import { workdirLayout } from '../workdir';
import { readLocalRecords, type ReadRecordsOptions } from './register';

export interface LocalScrutinyOptions extends ReadRecordsOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly quarter: Quarter;
  /** @default <workdir>/out/scrutiny */
  readonly out?: string;
  /** The day the report is built on. @default the config's today */
  readonly today?: string;
}

export interface WrittenScrutinyReport {
  readonly report: ScrutinyReport;
  readonly files: readonly string[];
  /** What was read and verified, one line each. */
  readonly trailReport: readonly string[];
}

/** Verifies the trail (refusing one that does not verify, unless allowed), then builds and writes the report. */
export async function generateLocalScrutinyReport(options: LocalScrutinyOptions): Promise<WrittenScrutinyReport> {
  const { config, quarter } = options;
  const read = await readLocalRecords(options.workdir, options);
  const inputs = billingInputs(config);
  const usage = usageFromTrail(read.records, workgroupProjects(inputs)).usage;
  const statements = monthsBegun(quarter, options.today ?? config.today).flatMap((month) => buildStatements(inputs, month, usage));
  const report = buildScrutinyReport({ config, quarter, records: read.records, auditTrail: read.attestation, statements, today: options.today });
  const dir = path.resolve(options.out ?? path.join(workdirLayout(options.workdir).out, 'scrutiny'));
  fs.mkdirSync(dir, { recursive: true });
  const html = path.join(dir, `scrutiny-${quarter.id}.html`);
  const json = path.join(dir, `scrutiny-${quarter.id}.json`);
  fs.writeFileSync(html, renderScrutinyHtml(report));
  fs.writeFileSync(json, renderScrutinyJson(report));
  return { report, files: [html, json], trailReport: read.report };
}
