/**
 * The airlock part of `sde demo` (issue 7): one output released through both reviewers,
 * and refusals of the kinds the issue names, on synthetic aggregate tables. lib/local/demo/demo.ts
 * can call `runAirlockDemo` after the platform is up; it needs only the config and workdir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SdeConfig } from '../../config/model';
import { projectState } from '../../config/model';
import type { AuditSink } from '../../airlock/audit-events';
import { AirlockService } from '../../airlock/airlock-service';
import { AIRLOCK_DIR } from '../../airlock/store';
import type { AirlockSettings } from '../../config/airlock-settings';

/** Reviewer names the demo uses when platform.yaml names fewer than two. */
export const DEMO_REVIEWERS = ['demo-reviewer-1', 'demo-reviewer-2'] as const;

/** A synthetic aggregate output: admissions by age band and sex, with one small cell. */
const DEMO_TABLE = ['age_band,sex,admissions', '0-17,F,4', '0-17,M,12', '18-64,F,230', '18-64,M,198', '65+,F,311', '65+,M,287', ''].join('\n');
/** A synthetic listing: a pseudonym column makes it row-level output. */
const DEMO_LISTING = ['person_pseudonym,age_band', `${'ab'.repeat(32)},18-64`, `${'cd'.repeat(32)},65+`, ''].join('\n');

export interface AirlockDemoResult {
  readonly releasedRequestId?: string;
  readonly manifestPath?: string;
  readonly verified: boolean;
  /** Each refusal the demo provoked, as the user was told. */
  readonly refusals: readonly string[];
}

export async function runAirlockDemo(options: {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly settings?: AirlockSettings;
  readonly sink?: AuditSink;
  readonly out?: (line: string) => void;
}): Promise<AirlockDemoResult> {
  const out = options.out ?? (() => undefined);
  const project = options.config.projects.find((p) => projectState(p, options.config.today) === 'active');
  if (!project) {
    out('airlock: no active project in the config; nothing to release');
    return { verified: false, refusals: [] };
  }
  const airlock0 = new AirlockService({ config: options.config, workdir: options.workdir, settings: options.settings, sink: options.sink });
  const requester = project.researchers[0].id;
  // The demo's requester is also a reviewer (as a researcher may be for other projects), to
  // show that being on the list never lets anyone review their own request.
  const reviewers = [...(airlock0.settings.reviewers.length >= 2 ? airlock0.settings.reviewers : DEMO_REVIEWERS), requester];
  const airlock = new AirlockService({ config: options.config, workdir: options.workdir, settings: { ...airlock0.settings, reviewers }, sink: options.sink });
  const inputs = path.join(path.resolve(options.workdir), AIRLOCK_DIR, 'demo-inputs');
  fs.mkdirSync(inputs, { recursive: true, mode: 0o700 });
  const table = path.join(inputs, 'admissions-by-age-and-sex.csv');
  const listing = path.join(inputs, 'listing.csv');
  fs.writeFileSync(table, DEMO_TABLE, { mode: 0o600 });
  fs.writeFileSync(listing, DEMO_LISTING, { mode: 0o600 });
  const refusals: string[] = [];
  const note = (what: string, outcome: { ok: boolean; refusal?: { message: string } } | { ok: false; refusal: { message: string } }) => {
    if (!outcome.ok && 'refusal' in outcome && outcome.refusal) {
      refusals.push(`${what}: ${outcome.refusal.message}`);
      out(`airlock: refused as expected (${what}): ${outcome.refusal.message}`);
    }
  };

  const req = await airlock.request({
    projectId: project.id,
    files: [{ path: table }],
    statement: 'Synthetic admissions by age band and sex (demo)',
    requester,
  });
  if (!req.ok) throw new Error(`the demo request was refused: ${req.refusal.message}`);
  const id = req.value.id;
  out(`airlock: ${project.id} asked to release ${path.basename(table)} (request ${id})`);
  const checked = await airlock.check(id);
  if (!checked.ok) throw new Error(`the demo check was refused: ${checked.refusal.message}`);
  const report = checked.value.reports[0];
  out(`airlock: checked: ${report.outcome}, ${report.changes.length} cell(s) changed (report in ${airlock.store.reportPath(id, report.file, 'txt')})`);
  note('the requester reviewing their own request', await airlock.review(id, requester, 'approve'));
  const first = await airlock.review(id, reviewers[0], 'approve');
  if (!first.ok) throw new Error(`the demo approval was refused: ${first.refusal.message}`);
  note('a second approval by the same reviewer', await airlock.review(id, reviewers[0], 'approve'));
  const second = await airlock.review(id, reviewers[1], 'approve');
  if (!second.ok) throw new Error(`the demo approval was refused: ${second.refusal.message}`);
  const released = await airlock.release(id);
  if (!released.ok) throw new Error(`the demo release was refused: ${released.refusal.message}`);
  const verified = airlock.verify(released.value.manifestPath).ok;
  out(`airlock: released ${id} after two reviewers; manifest ${released.value.manifestPath} (${verified ? 'verified' : 'NOT verified'})`);

  const bad = await airlock.request({ projectId: project.id, files: [{ path: listing }], statement: 'A listing (demo: must be refused)', requester });
  if (bad.ok) {
    const c = await airlock.check(bad.value.id);
    if (c.ok && c.value.request.state === 'returned') {
      refusals.push(`row-level output: ${c.value.request.decision?.reason ?? ''}`);
      out(`airlock: returned as expected (row-level output): ${c.value.reports[0].refusals[0]?.reason ?? ''}`);
    }
  }
  return { releasedRequestId: id, manifestPath: released.value.manifestPath, verified, refusals };
}
