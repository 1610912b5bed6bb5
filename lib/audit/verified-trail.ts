/**
 * Readers verify first. Bills and the register publish figures from the audit trail, so
 * they read it through here: the trail is verified (verify.ts) before any record is used,
 * and an unverified trail is refused, with the problems, unless the caller explicitly
 * allows it, in which case what it publishes says so (the attestation below).
 *
 * What is used:
 * - a local trail that verifies: all its records;
 * - a CloudTrail folder that verifies: only the records of log files a verified digest
 *   covers; log files delivered after the newest digest are left out and counted;
 * - no trail at all in a workdir that never had an audit key: nothing, stated as such;
 * - with `allowUnverified`, whatever could be read, marked unverified.
 * Every event is counted once (dedupe.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CloudTrailRecord } from './cloudtrail-record';
import { describeReadResult, readTrail } from './cloudtrail-reader';
import { dedupeByEventId, describeDeduplication } from './dedupe';
import { plural } from './findings';
import { AUDIT_KEY_DIR, SignedHead } from './signed-heads';
import { describeVerifyReport, verifyTrail, VerifyOptions, VerifyReport } from './verify';

export type AttestationMethod = 'local-hash-chain' | 'cloudtrail-digests' | 'no-trail' | 'none';

/** What a published figure can say about the records behind it. */
export interface TrailAttestation {
  /** True only when the records used were verified. */
  readonly verified: boolean;
  /** When the records were checked (ISO 8601 UTC). */
  readonly checkedAt: string;
  readonly method: AttestationMethod;
  /** Records used (after de-duplication). */
  readonly records: number;
  /** Problems (errors) verification found; 0 when verified. */
  readonly problems: number;
  /** CloudTrail log files not yet covered by a digest, whose records were left out. */
  readonly pendingLogFiles?: number;
  /** Local trail: the latest signed head, and the public key that checks it, for anyone to keep. */
  readonly signedHead?: SignedHead;
  readonly publicKey?: string;
  /** CloudTrail: the newest digest whose signature verified. */
  readonly newestDigest?: { readonly location: string; readonly endTime: string };
}

export interface VerifiedTrail {
  readonly records: CloudTrailRecord[];
  readonly attestation: TrailAttestation;
  readonly report?: VerifyReport;
  /** What was read, skipped, de-duplicated and verified, one line each (file names and counts only). */
  readonly lines: string[];
}

const SHOWN_PROBLEMS = 20;

/** The trail did not verify and the caller did not allow unverified records: nothing may be published. */
export class UnverifiedTrailError extends Error {
  constructor(
    readonly location: string,
    readonly problems: readonly string[],
  ) {
    // A tampered trail can have thousands of problems: the first few say what happened.
    const shown = problems.slice(0, SHOWN_PROBLEMS).map((p) => `  ${p}`);
    if (problems.length > SHOWN_PROBLEMS) shown.push(`  ... and ${problems.length - SHOWN_PROBLEMS} more`);
    super(
      `${location}: the audit trail did not verify, so nothing is published from it (${plural(problems.length, 'problem')}):\n${shown.join('\n')}\nRun \`sde audit verify\` for the whole report; to publish anyway, marked as unverified, pass --allow-unverified.`,
    );
  }
}

export interface ReadVerifiedOptions extends VerifyOptions {
  /** Use records that did not verify, marked so. @default false */
  readonly allowUnverified?: boolean;
}

/** Reads `location` (a local audit folder, or a folder of CloudTrail files) after verifying it. */
export async function readVerifiedTrail(location: string, options: ReadVerifiedOptions = {}): Promise<VerifiedTrail> {
  const root = path.resolve(location);
  if (!fs.existsSync(root)) {
    // A workdir that never recorded anything has no audit key either; one that has the key had a trail.
    const everAudited = fs.existsSync(path.resolve(root, '..', AUDIT_KEY_DIR));
    if (!everAudited) {
      return {
        records: [],
        attestation: { verified: true, checkedAt: new Date().toISOString(), method: 'no-trail', records: 0, problems: 0 },
        lines: [`${location}: no audit trail: nothing has been recorded on this platform yet`],
      };
    }
    const problem = `${location} is missing, but the workdir has an audit key (${AUDIT_KEY_DIR}): the trail was deleted`;
    if (!options.allowUnverified) throw new UnverifiedTrailError(location, [problem]);
    return {
      records: [],
      attestation: { verified: false, checkedAt: new Date().toISOString(), method: 'none', records: 0, problems: 1 },
      lines: [problem],
    };
  }
  if (!fs.statSync(root).isDirectory()) {
    const problem = `${location} is a single file: it carries no hash chain or digest to be verified against (give the folder it came from)`;
    if (!options.allowUnverified) throw new UnverifiedTrailError(location, [problem]);
    const read = await readTrail(root);
    const deduped = dedupeByEventId(read.records, (r) => r.record);
    const records = deduped.items.map((r) => r.record);
    return {
      records,
      attestation: { verified: false, checkedAt: new Date().toISOString(), method: 'none', records: records.length, problems: 1 },
      lines: [
        `${location}: ${describeReadResult(read).join('\n')}`,
        ...describeDeduplication(deduped),
        `WARNING: ${problem}; used anyway (--allow-unverified)`,
      ],
    };
  }

  const report = await verifyTrail(root, options);
  const read = report.read!;
  const errors = report.findings.filter((f) => f.severity === 'error');
  if (!report.ok && !options.allowUnverified)
    throw new UnverifiedTrailError(
      location,
      errors.map((f) => `${f.kind}: ${f.message}`),
    );

  let used = read.records;
  if (report.ok && report.digests && !report.localChain) {
    const verified = report.digests.verifiedLogFiles;
    used = read.records.filter((r) => verified.has(r.file));
  }
  const deduped = dedupeByEventId(used, (r) => r.record);
  const records = deduped.items.map((r) => r.record);
  const method: AttestationMethod = report.localChain ? 'local-hash-chain' : report.digests ? 'cloudtrail-digests' : 'none';
  const chain = report.localChain;
  const attestation: TrailAttestation = {
    verified: report.ok,
    checkedAt: report.checkedAt,
    method,
    records: records.length,
    problems: errors.length,
    ...(report.digests ? { pendingLogFiles: report.digests.pendingLogFiles.size } : {}),
    ...(report.ok && chain?.latestSignedHead && chain.key ? { signedHead: chain.latestSignedHead, publicKey: chain.key.publicKeyPem } : {}),
    ...(report.ok && report.digests?.newestAuthenticated ? { newestDigest: report.digests.newestAuthenticated } : {}),
  };
  const lines = [
    `${location}: ${describeReadResult(read).join('\n')}`,
    ...describeDeduplication(deduped),
    ...(report.ok
      ? [`verified (${method}): ${plural(records.length, 'record')} used`]
      : [
          `WARNING: using ${plural(records.length, 'record')} that did NOT verify (--allow-unverified): what is published is marked unverified`,
          ...describeVerifyReport(report),
        ]),
  ];
  return { records, attestation, report, lines };
}

/** A one-line statement of an attestation, for bills and pages. */
export function describeAttestation(a: TrailAttestation): string {
  if (a.method === 'no-trail') return 'No audit trail exists yet: nothing has been recorded.';
  const when = `${a.checkedAt.slice(0, 10)} at ${a.checkedAt.slice(11, 16)} UTC`;
  if (!a.verified) {
    return `UNVERIFIED: built from ${plural(a.records, 'audit record')} that did not verify when checked on ${when} (${plural(a.problems, 'problem')}); the figures may be incomplete or altered.`;
  }
  const how =
    a.method === 'local-hash-chain'
      ? `the hash chain and its signed head${a.signedHead ? ` (entry ${a.signedHead.seq}, signed ${a.signedHead.signedAt})` : ''}`
      : `CloudTrail's signed digests${a.newestDigest ? ` (newest ending ${a.newestDigest.endTime})` : ''}`;
  return `Built from ${plural(a.records, 'audit record')} verified on ${when} against ${how}.`;
}
