/**
 * The `sde` command line: parses arguments, prints help, runs one command, and turns
 * every expected failure into a clear message and an exit code (never a bare stack trace).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { CloudTrailRecord } from '../audit/cloudtrail-record';
import { LocalAuditWriter, localAuditEnv } from '../audit/local-audit-writer';
import { isCalendarDate } from '../config/model';
import { ConfigError } from '../config/problems';
import { Command, CommandContext, OptionSpec, UsageError } from './command';
import { accessMatrixCommand } from './commands/access-matrix';
import { auditCommand } from './commands/audit';
import { billCommand } from './commands/bill';
import { demoCommand } from './commands/demo';
import { governanceReportCommand } from './commands/governance-report';
import { ingestCommand } from './commands/ingest';
import { initCommand } from './commands/init';
import { optoutCommand } from './commands/optout';
import { createOutputCommand } from './commands/output';
import { preflightCommand } from './commands/preflight';
import { queryCommand } from './commands/query';
import { registerCommand } from './commands/register';
import { scrutinyReportCommand } from './commands/scrutiny-report';
import { riskCommand } from './commands/risk';
import { satreCommand } from './commands/satre';
import { synthCommand } from './commands/synth';
import { validateCommand } from './commands/validate';

/** Airlock transitions and refusals go into the same hash-chained audit trail as queries. */
const outputCommand = createOutputCommand({
  auditSink: ({ config, workdir }) => {
    const writer = LocalAuditWriter.open(workdir, localAuditEnv(config));
    return (event) => {
      // Airlock events are CloudTrail-shaped (checked against checkRecord in test/airlock).
      writer.append(event as unknown as CloudTrailRecord);
    };
  },
});

export const COMMANDS: readonly Command[] = [
  validateCommand,
  synthCommand,
  demoCommand,
  queryCommand,
  accessMatrixCommand,
  auditCommand,
  outputCommand,
  ingestCommand,
  optoutCommand,
  registerCommand,
  billCommand,
  governanceReportCommand,
  scrutinyReportCommand,
  satreCommand,
  riskCommand,
  initCommand,
  preflightCommand,
];

/**
 * A reader that stops early (`sde validate | head -1`) closes the pipe: the next write fails
 * with EPIPE. That is the reader's choice, not an error: stop quietly with the exit status
 * so far, instead of an uncaught error and its stack trace.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    else throw e;
  });
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function optionLine(name: string, spec: OptionSpec): string {
  const flag = spec.type === 'string' ? `--${name} ${spec.valueName ?? 'VALUE'}` : `--${name}`;
  const dflt = spec.default !== undefined && spec.type === 'string' ? ` (default: ${String(spec.default)})` : '';
  return `  ${flag.padEnd(28)} ${spec.description}${dflt}`;
}

/**
 * The usage line: the command's own, then every option it does not already name, so that
 * the line never leaves out an option the command takes (one written `[options]` stands
 * for all of them).
 */
export function usageLine(command: Command): string {
  const named = (name: string) => new RegExp(`--${name}(?![\\w-])`).test(command.usage);
  const rest = command.usage.includes('[options]')
    ? []
    : Object.entries(command.options)
        .filter(([name]) => !named(name))
        .map(([name, spec]) => (spec.type === 'string' ? `[--${name} ${spec.valueName ?? 'VALUE'}]` : `[--${name}]`));
  return `Usage: sde ${command.name} ${[command.usage, ...rest].join(' ')}`.trimEnd();
}

/** This package's version, from the package.json the CLI runs from. */
export function sdeVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };
  return `sde ${pkg.version} (${pkg.name}, Node.js ${process.versions.node})`;
}

export function commandHelp(command: Command): string {
  return [
    usageLine(command),
    '',
    command.description,
    '',
    'Options:',
    ...Object.entries(command.options).map(([name, spec]) => optionLine(name, spec)),
    optionLine('help', { type: 'boolean', description: 'show this help' }),
  ].join('\n');
}

export function mainHelp(): string {
  return [
    'Usage: sde <command> [options]',
    '',
    'The Secure Data Environment command line: validate the governance config, synthesize',
    'the AWS templates, and run the whole platform locally with no AWS account.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`),
    '',
    'Run `sde <command> --help` for the options of one command, `sde --version` for the version.',
  ].join('\n');
}

export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(sdeVersion());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`sde: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run \`sde --help\`.`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries(
      // Only the keys parseArgs knows: it rejects undefined values for them.
      Object.entries(command.options).map(([k, { description: _d, valueName: _v, ...spec }]) => [k, spec]),
    );
    parsed = parseArgs({
      args: [...rest],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    } as Parameters<typeof parseArgs>[0]);
  } catch (e) {
    io.err(`sde ${command.name}: ${(e as Error).message}`);
    io.err(`Run \`sde ${command.name} --help\` for the options.`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(commandHelp(command));
    return 0;
  }
  // Every --today is a real calendar day: 2026-02-30 would otherwise become 2 March.
  const today = parsed.values.today;
  if (typeof today === 'string' && !isCalendarDate(today)) {
    io.err(`sde ${command.name}: --today must be a real date written YYYY-MM-DD, not "${today}"`);
    return 2;
  }
  const ctx: CommandContext = { values: parsed.values as CommandContext['values'], positionals: parsed.positionals, out: io.out, err: io.err };
  try {
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.message);
      return 1;
    }
    if (e instanceof UsageError) {
      io.err(`sde ${command.name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
