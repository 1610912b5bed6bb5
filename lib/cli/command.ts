/**
 * The shape every `sde` command has, so that each one gets --help, the shared --config
 * and --workdir options, and the same error handling, by being registered once.
 */
import type { ParseArgsConfig } from 'node:util';
import type { VerifyOptions } from '../audit/verify';
import { UnverifiedTrailError } from '../audit/verified-trail';
import { loadVerifyInputs, VerifyInputError } from '../audit/verify-inputs';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { readonly description: string; readonly valueName?: string };

export interface CommandContext {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: readonly string[];
  /** Lines for the user (stdout). */
  readonly out: (line: string) => void;
  /** Problems and warnings (stderr). */
  readonly err: (line: string) => void;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage after `sde NAME`, e.g. `[--config DIR]`. */
  readonly usage: string;
  /** Longer help: what it does, what it writes, exit codes. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly allowPositionals?: boolean;
  /** Returns the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Options every local command takes. */
export const CONFIG_OPTION: Record<string, OptionSpec> = {
  config: { type: 'string', default: 'config', valueName: 'DIR', description: 'configuration directory (platform.yaml, datasets/, projects/)' },
};

export const WORKDIR_OPTION: Record<string, OptionSpec> = {
  workdir: {
    type: 'string',
    default: '.sde',
    valueName: 'DIR',
    description: 'where the local runtime keeps its state; use one per local platform to run several side by side',
  },
};

export const TODAY_OPTION: Record<string, OptionSpec> = {
  today: { type: 'string', valueName: 'YYYY-MM-DD', description: 'judge approval periods as of this date (default: today, UTC)' },
};

/** An error the user can fix by changing what they typed: shown without a stack trace. */
export class UsageError extends Error {}

/** How a command checks the audit trail it reads (sde audit verify, sde bill, sde register). */
export const TRAIL_VERIFICATION_OPTIONS: Record<string, OptionSpec> = {
  'public-keys': {
    type: 'string',
    multiple: true,
    valueName: 'FILE',
    description: 'CloudTrail public keys, as `aws cloudtrail list-public-keys` prints them, to check digest signatures with; repeat for several regions',
  },
  'audit-key': {
    type: 'string',
    valueName: 'FILE',
    description: "the local audit key's public half (PEM) to check the signed heads with (default: the workdir's own key, keys/audit/)",
  },
  published: {
    type: 'string',
    multiple: true,
    valueName: 'FILE',
    description: 'a register.json published earlier: the trail must still hold the signed head it published (and its key); repeat for several',
  },
};

export const ALLOW_UNVERIFIED_OPTION: Record<string, OptionSpec> = {
  'allow-unverified': {
    type: 'boolean',
    description: 'publish from audit records that do not verify, marked UNVERIFIED on every page and file (default: refuse, exit 1)',
  },
};

/** The verification inputs named on the command line, read and checked. */
export function verifyOptionsFrom(values: CommandContext['values']): VerifyOptions {
  try {
    return loadVerifyInputs({
      publicKeys: values['public-keys'] as string[] | undefined,
      auditKey: values['audit-key'] as string | undefined,
      published: values.published as string[] | undefined,
    });
  } catch (e) {
    if (e instanceof VerifyInputError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Runs a reader that verifies the audit trail first (bills, the register). A trail that
 * does not verify is a finding, not a crash: its problems go to stderr and the result is
 * undefined (the command exits 1).
 */
export async function unlessUnverified<T>(err: (line: string) => void, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof UnverifiedTrailError)) throw e;
    err(e.message);
    return undefined;
  }
}
