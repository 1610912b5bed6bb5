/**
 * What `sde synth` says after a synth: every stack, which project is in which workspace
 * stack (read back from the templates' outputs, so it reports what was synthesized, not a
 * recomputation), and the projects of the config that are not deployed, with why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectState, type SdeConfig } from '../config/model';
import { PROJECT_OUTPUT_PREFIX } from '../stacks/workspaces-stack';

export interface SynthesizedStack {
  readonly id: string;
  readonly stackName: string;
  readonly projects: readonly string[];
}

/** The stacks of a cloud assembly folder, each with the projects its outputs name. */
export function synthesizedStacks(assemblyDir: string): SynthesizedStack[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; displayName?: string; properties?: { templateFile: string; stackName?: string } }>;
  };
  return Object.entries(manifest.artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id, a]) => {
      const template = JSON.parse(fs.readFileSync(path.join(assemblyDir, a.properties!.templateFile), 'utf8')) as {
        Outputs?: Record<string, { Description?: string }>;
      };
      const projects = new Set<string>();
      for (const output of Object.values(template.Outputs ?? {})) {
        const m = output.Description?.startsWith(PROJECT_OUTPUT_PREFIX) ? /^Project ([a-z][a-z0-9-]*):/.exec(output.Description) : null;
        if (m) projects.add(m[1]);
      }
      return { id, stackName: a.properties?.stackName ?? id, projects: [...projects].sort() };
    });
}

/** The lines `sde synth` prints about the stacks and the projects. */
export function synthSummaryLines(config: SdeConfig, stacks: readonly SynthesizedStack[]): string[] {
  const where = new Map(stacks.flatMap((s) => s.projects.map((p) => [p, s] as const)));
  const width = Math.max(...stacks.map((s) => s.id.length));
  const lines = [`${stacks.length} stacks:`];
  for (const s of stacks) lines.push(`  ${s.id.padEnd(width)}  ${s.stackName}${s.projects.length > 0 ? `: ${s.projects.join(', ')}` : ''}`);
  lines.push('Projects:');
  const idWidth = Math.max(...config.projects.map((p) => p.id.length));
  for (const p of [...config.projects].sort((a, b) => a.id.localeCompare(b.id))) {
    const stack = where.get(p.id);
    const state = projectState(p, config.today);
    lines.push(
      `  ${p.id.padEnd(idWidth)}  ${
        stack
          ? `${stack.id} (${stack.stackName}); its role ARN and workgroup are that stack's outputs`
          : `not deployed: ${state === 'active' ? 'active, but in no stack (report this)' : `${state.replace('_', ' ')}, so it has no role, workgroup or grants`}`
      }`,
    );
  }
  return lines;
}
