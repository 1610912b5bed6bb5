/**
 * Synth benchmark: generates configs of 10, 100 and 1,000 projects over 50 tables and
 * synthesizes each with every compliance gate on, printing one JSON line per size:
 *
 *   npm run bench:synth                      # 10, 100, 1000
 *   npm run bench:synth -- 50 200            # other sizes
 *   npm run bench:synth -- --shards 96 1000  # a fixed shard count instead of the default rule
 *
 * Each size runs in its own process, so one size's warm JIT or heap does not flatter the next.
 * `seconds` is createApp + synth (constructs, cdk-nag, cfn-guard, CloudFormation validate);
 * loading the config is reported apart as `config_seconds`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp } from '../lib/app';
import { grantedProjects, loadConfig } from '../lib/config';
import { DEFAULT_WORKSPACE_SHARDS, WORKSPACE_SHARDS_CONTEXT } from '../lib/stacks/workspace-sharding';
import { GENERATED_TODAY, writeGeneratedConfig } from './generate-config';

const TABLES = 50;

/**
 * The shard count a deployment of this size would choose: the default, or more once the
 * portfolio needs it (about 12 projects a shard keeps the fullest shard well under 500
 * resources with these projects' 1-5 tables each).
 */
export function shardsFor(projects: number): number {
  return Math.max(DEFAULT_WORKSPACE_SHARDS, Math.ceil(projects / 12));
}

interface Result {
  projects: number;
  active_projects: number;
  tables: number;
  shards: number;
  stacks: number;
  max_resources_per_stack: number;
  max_template_bytes: number;
  total_resources: number;
  config_seconds: number;
  seconds: number;
  seconds_per_project: number;
  cpu_seconds: number;
  cpu_seconds_per_project: number;
}

/**
 * CPU seconds used by this process and the children it has waited for (cfn-guard runs as
 * a child), from /proc/self/stat: unlike wall time, it does not grow when other work
 * shares the machine, so sizes measured on a busy machine still compare.
 */
function cpuSeconds(): number {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime are fields 14-17 of stat(5); the slice starts at field 3.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

function runOne(projects: number, shards: number): Result {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-bench-'));
  try {
    const configDir = writeGeneratedConfig({ dir: path.join(work, 'config'), projects, tables: TABLES, today: GENERATED_TODAY });
    const c0 = process.hrtime.bigint();
    const config = loadConfig(configDir, { today: GENERATED_TODAY });
    const configSeconds = Number(process.hrtime.bigint() - c0) / 1e9;

    const t0 = process.hrtime.bigint();
    const cpu0 = cpuSeconds();
    const props = { outdir: path.join(work, 'cdk.out'), context: { [WORKSPACE_SHARDS_CONTEXT]: shards } };
    // Exactly the app's gates (lib/compliance/gates.ts), as `cdk synth` runs them.
    const { app } = createApp(config, props);
    const assembly = app.synth(); // throws on any unacknowledged finding
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds() - cpu0;

    const templates = assembly.stacks.map((s) => {
      const file = path.join(assembly.directory, s.templateFile);
      return { bytes: fs.statSync(file).size, resources: Object.keys(s.template.Resources ?? {}).length };
    });
    return {
      projects,
      active_projects: grantedProjects(config).length,
      tables: TABLES,
      shards,
      stacks: templates.length,
      max_resources_per_stack: Math.max(...templates.map((t) => t.resources)),
      max_template_bytes: Math.max(...templates.map((t) => t.bytes)),
      total_resources: templates.reduce((n, t) => n + t.resources, 0),
      config_seconds: round(configSeconds),
      seconds: round(seconds),
      seconds_per_project: round(seconds / projects, 4),
      cpu_seconds: round(cpu),
      cpu_seconds_per_project: round(cpu / projects, 4),
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

function main(argv: string[]): number {
  const args = [...argv];
  const shardsAt = args.indexOf('--shards');
  const fixedShards = shardsAt >= 0 ? Number(args.splice(shardsAt, 2)[1]) : undefined;
  const one = args.indexOf('--one');
  if (one >= 0) {
    const projects = Number(args[one + 1]);
    process.stdout.write(`${JSON.stringify(runOne(projects, fixedShards ?? shardsFor(projects)))}\n`);
    return 0;
  }
  const sizes = args.length > 0 ? args.map(Number) : [10, 100, 1000];
  for (const projects of sizes) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, __filename, '--one', String(projects), ...(fixedShards ? ['--shards', String(fixedShards)] : [])],
      { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (child.status !== 0) {
      process.stderr.write(`synth of ${projects} projects failed (exit ${child.status})\n`);
      return 1;
    }
    process.stdout.write(child.stdout);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
