/**
 * The files `verify` and the readers take from the user, read and checked with errors
 * that name the file and the fix: CloudTrail public keys, the local audit public key, and
 * heads published earlier.
 */
import * as fs from 'node:fs';
import { CloudTrailPublicKey, parsePublicKeys } from './cloudtrail-digest';
import { readPublishedHead, trustedKeyFromPem } from './signed-heads';
import type { VerifyOptions } from './verify';

export interface VerifyInputFiles {
  /** Outputs of `aws cloudtrail list-public-keys` (one per region, say). */
  readonly publicKeys?: readonly string[];
  /** A PEM public key: the local audit key's public half. */
  readonly auditKey?: string;
  /** register.json files published earlier (their auditTrail: a signed head, or CloudTrail's newest digest). */
  readonly published?: readonly string[];
}

/** A problem with a file the user named: show it without a stack trace. */
export class VerifyInputError extends Error {}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new VerifyInputError(`${file}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function readPublicKeysFile(file: string): CloudTrailPublicKey[] {
  let json: unknown;
  try {
    json = JSON.parse(readText(file, 'CloudTrail public keys'));
  } catch (e) {
    if (e instanceof VerifyInputError) throw e;
    throw new VerifyInputError(`${file}: not JSON; save the output of \`aws cloudtrail list-public-keys --output json\``);
  }
  try {
    return parsePublicKeys(json, file);
  } catch (e) {
    throw new VerifyInputError((e as Error).message);
  }
}

export function loadVerifyInputs(files: VerifyInputFiles): VerifyOptions {
  try {
    return {
      publicKeys: files.publicKeys === undefined ? undefined : files.publicKeys.flatMap(readPublicKeysFile),
      auditKey: files.auditKey === undefined ? undefined : trustedKeyFromPem(readText(files.auditKey, 'audit public key'), files.auditKey),
      published: (files.published ?? []).map((file) => ({ ...readPublishedHead(file), source: file })),
    };
  } catch (e) {
    if (e instanceof VerifyInputError) throw e;
    throw new VerifyInputError((e as Error).message);
  }
}
