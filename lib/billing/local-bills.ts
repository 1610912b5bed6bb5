/**
 * `sde bill` on the local runtime: usage from the workdir's CloudTrail-format audit
 * trail, statements written as CSV and HTML. The only I/O around the pure billing code.
 *
 * The trail is verified before any record is billed (lib/audit/verified-trail.ts): a
 * bill built from a trail that does not verify is refused, or, when the caller allows it,
 * every statement carries an UNVERIFIED warning first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUDIT_DIR } from '../audit/local-audit-writer';
import { describeAttestation, readVerifiedTrail, TrailAttestation } from '../audit/verified-trail';
import type { VerifyOptions } from '../audit/verify';
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
  /** How to check the trail (keys, published heads). @default the workdir's own audit key */
  readonly verify?: VerifyOptions;
  /** Bill from a trail that does not verify, each statement marked UNVERIFIED. @default false: refuse */
  readonly allowUnverified?: boolean;
}

export interface LocalBills {
  readonly statements: readonly Statement[];
  /** Written files, the month's summary first. */
  readonly files: readonly string[];
  readonly usage: TrailUsage;
  /** What the records billed were checked against, and when. */
  readonly trail: TrailAttestation;
  /** What was read and verified, one line each (for stderr). */
  readonly trailReport: readonly string[];
}

/**
 * The charged queries in a workdir's verified audit trail (none when nothing was ever
 * audited). Throws UnverifiedTrailError when the trail does not verify, unless allowed.
 */
export async function localTrailUsage(
  config: SdeConfig,
  workdir: string,
  options: Pick<LocalBillsOptions, 'verify' | 'allowUnverified'> = {},
): Promise<{ usage: TrailUsage; trail: TrailAttestation; trailReport: string[] }> {
  const dir = path.join(path.resolve(workdir), AUDIT_DIR);
  const read = await readVerifiedTrail(dir, { ...options.verify, allowUnverified: options.allowUnverified });
  return { usage: usageFromTrail(read.records, workgroupProjects(billingInputs(config))), trail: read.attestation, trailReport: read.lines };
}

export async function writeLocalBills(options: LocalBillsOptions): Promise<LocalBills> {
  const inputs = billingInputs(options.config);
  const { usage, trail, trailReport } = await localTrailUsage(options.config, options.workdir, options);
  const built = buildStatements(inputs, options.month, usage.usage, { projectId: options.projectId });
  // A statement from unverified records says so before anything else, on every copy.
  const provenance = describeAttestation(trail);
  const statements = built.map((s) => (trail.verified ? { ...s, notes: [...s.notes, provenance] } : { ...s, warnings: [provenance, ...s.warnings] }));
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
  return { statements, files, usage, trail, trailReport };
}
