/**
 * The register on this machine: read the local audit trail (or a folder of real
 * CloudTrail files), verified first, build the register and write its three files. Used
 * by `sde register` and by `sde demo`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AIRLOCK_DIR, EVENTS_FILE } from '../../airlock/store';
import type { CloudTrailRecord } from '../../audit/cloudtrail-record';
import { describeReadResult, readTrail } from '../../audit/cloudtrail-reader';
import { AUDIT_DIR } from '../../audit/local-audit-writer';
import { readVerifiedTrail, TrailAttestation, UnverifiedTrailError } from '../../audit/verified-trail';
import type { VerifyOptions } from '../../audit/verify';
import type { SdeConfig } from '../../config/model';
import { bucketNames, workdirLayout } from '../workdir';
import { buildRegister, Register } from '../../register/model';
import { renderRegisterFiles } from '../../register/render';

export interface TrailRead {
  readonly records: CloudTrailRecord[];
  /** What was read, skipped and verified, one line each (file names and counts, never record contents). */
  readonly report: string[];
  readonly attestation: TrailAttestation;
}

export interface ReadRecordsOptions {
  /** How to check the trail (keys, published heads). @default the workdir's own audit key */
  readonly verify?: VerifyOptions;
  /** Use records that do not verify, marked so. @default false: refuse (UnverifiedTrailError) */
  readonly allowUnverified?: boolean;
}

/**
 * The verified records of a local platform: its hash-chained trail and, when the airlock
 * wrote its events to its own file instead (its default sink), those of them the trail
 * also holds. An airlock event found only in that unchained file cannot be verified: it
 * is refused, unless unverified records are allowed.
 */
export async function readLocalRecords(workdir: string, options: ReadRecordsOptions = {}): Promise<TrailRead> {
  const trail = await readVerifiedTrail(path.resolve(workdir, AUDIT_DIR), { ...options.verify, allowUnverified: options.allowUnverified });
  const eventsFile = path.resolve(workdir, AIRLOCK_DIR, EVENTS_FILE);
  if (!fs.existsSync(eventsFile)) return { records: trail.records, report: trail.lines, attestation: trail.attestation };
  const events = await readTrail(eventsFile);
  const known = new Set(trail.records.map((r) => r.eventID));
  const outside = events.records.map((r) => r.record).filter((r) => !known.has(r.eventID));
  const report = [...trail.lines, `${eventsFile}: ${describeReadResult(events).join('\n')}`];
  if (outside.length === 0) return { records: trail.records, report, attestation: trail.attestation };
  const problem = `${outside.length} airlock event${outside.length === 1 ? '' : 's'} in ${eventsFile} ${outside.length === 1 ? 'is' : 'are'} not in the hash-chained trail, so cannot be verified`;
  if (!options.allowUnverified) throw new UnverifiedTrailError(eventsFile, [problem]);
  const attestation: TrailAttestation = {
    ...trail.attestation,
    verified: false,
    records: trail.records.length + outside.length,
    problems: trail.attestation.problems + 1,
    signedHead: undefined,
    publicKey: undefined,
  };
  return { records: [...trail.records, ...outside], report: [...report, `WARNING: ${problem}; used anyway (--allow-unverified)`], attestation };
}

/** The verified records of a folder of CloudTrail files (or another platform's local trail). */
export async function readTrailFolder(location: string, options: ReadRecordsOptions = {}): Promise<TrailRead> {
  const trail = await readVerifiedTrail(path.resolve(location), { ...options.verify, allowUnverified: options.allowUnverified });
  return { records: trail.records, report: trail.lines, attestation: trail.attestation };
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

export interface LocalRegisterOptions extends ReadRecordsOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  /** A folder of real CloudTrail files (or a local trail) instead of the workdir's trail. */
  readonly trail?: string;
  /** @default <workdir>/out/register */
  readonly out?: string;
}

/** Verifies the trail, then builds and writes the register. Throws UnverifiedTrailError when the trail does not verify (unless allowed). */
export async function generateLocalRegister(options: LocalRegisterOptions): Promise<WrittenRegister & { readonly report: string[] }> {
  const read = options.trail === undefined ? await readLocalRecords(options.workdir, options) : await readTrailFolder(options.trail, options);
  const out = options.out ?? path.join(workdirLayout(options.workdir).out, 'register');
  return {
    ...writeRegisterFiles(
      buildRegister(options.config, read.records, { auditTrail: read.attestation, curatedBucket: bucketNames(options.config).curated }),
      out,
    ),
    report: read.report,
  };
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
