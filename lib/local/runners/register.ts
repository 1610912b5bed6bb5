/**
 * The register on this machine: read the local audit trail (or a folder of real
 * CloudTrail files), build the register and write its three files. Used by
 * `sde register` and by `sde demo`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AIRLOCK_DIR, EVENTS_FILE } from '../../airlock/store';
import type { CloudTrailRecord } from '../../audit/cloudtrail-record';
import { describeReadResult, readTrail } from '../../audit/cloudtrail-reader';
import { AUDIT_DIR } from '../../audit/local-audit-writer';
import type { SdeConfig } from '../../config/model';
import { workdirLayout } from '../workdir';
import { buildRegister, Register } from '../../register/model';
import { renderRegisterFiles } from '../../register/render';

export interface TrailRead {
  readonly records: CloudTrailRecord[];
  /** What was read and skipped, one line each (file names and counts, never record contents). */
  readonly report: string[];
}

/**
 * The records of a local platform: its hash-chained trail and, when the airlock wrote its
 * events to its own file instead (its default sink), those too. `summariseActivity`
 * counts a record found in both once, by eventID.
 */
export async function readLocalRecords(workdir: string): Promise<TrailRead> {
  const sources = [path.resolve(workdir, AUDIT_DIR), path.resolve(workdir, AIRLOCK_DIR, EVENTS_FILE)].filter((p) => fs.existsSync(p));
  return readSources(sources);
}

export async function readSources(sources: readonly string[]): Promise<TrailRead> {
  const records: CloudTrailRecord[] = [];
  const report: string[] = [];
  for (const source of sources) {
    const result = await readTrail(source);
    records.push(...result.records.map((r) => r.record));
    report.push(`${source}: ${describeReadResult(result).join('\n')}`);
  }
  if (sources.length === 0) report.push('no audit records found: the register shows no use yet');
  return { records, report };
}

export interface WrittenRegister {
  readonly register: Register;
  readonly dir: string;
  readonly files: readonly string[];
}

/** Writes index.html, register.json and register.csv into `dir` (created if needed). */
export function writeRegisterFiles(register: Register, dir: string): WrittenRegister {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true });
  const files = Object.entries(renderRegisterFiles(register)).map(([name, text]) => {
    const file = path.join(abs, name);
    fs.writeFileSync(file, text);
    return file;
  });
  return { register, dir: abs, files };
}

export interface LocalRegisterOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  /** A folder (or file) of real CloudTrail records instead of the local trail. */
  readonly trail?: string;
  /** @default <workdir>/out/register */
  readonly out?: string;
}

export async function generateLocalRegister(options: LocalRegisterOptions): Promise<WrittenRegister & { readonly report: string[] }> {
  const read = options.trail === undefined ? await readLocalRecords(options.workdir) : await readSources([path.resolve(options.trail)]);
  const out = options.out ?? path.join(workdirLayout(options.workdir).out, 'register');
  return { ...writeRegisterFiles(buildRegister(options.config, read.records), out), report: read.report };
}

/**
 * The demo's last step: the register from the demo's own audit records, in the demo's
 * output folder. Runs after every other step so that it sees all they recorded.
 */
export async function writeDemoRegister(options: {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly log?: (line: string) => void;
}): Promise<WrittenRegister> {
  const written = await generateLocalRegister({ config: options.config, workdir: options.workdir });
  const used = written.register.projects.filter((p) => p.activity.months.length > 0).length;
  options.log?.(
    `Transparency register: ${written.register.projects.length} projects (${used} with recorded use) in ${written.dir}/ (index.html, register.json, register.csv)`,
  );
  return written;
}
