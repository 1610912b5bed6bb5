/**
 * The shape every `sde` command has, so that each one gets --help, the shared --config
 * and --workdir options, and the same error handling, by being registered once.
 */
import type { ParseArgsConfig } from 'node:util';

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
