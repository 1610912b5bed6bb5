import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { Command, CONFIG_OPTION } from '../command';

/** The repository root, where cdk.json and the pinned CDK CLI live. */
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export const synthCommand: Command = {
  name: 'synth',
  summary: 'validate a config and synthesize its CloudFormation templates (runs every compliance gate)',
  usage: '[--config DIR] [--output DIR]',
  description: [
    'Validates the config, then runs `cdk synth` with it. Synthesis runs the AwsSolutions, HIPAA Security',
    'and NIST 800-53 R5 packs (cdk-nag) and the Control Tower proactive controls (cfn-guard); any',
    'unacknowledged finding fails it. Works offline, with no AWS credentials.',
    'Exit status: 0 on success, 1 on a config problem or a compliance finding.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    output: { type: 'string', default: 'cdk.out', valueName: 'DIR', description: 'where to write the cloud assembly' },
  },
  async run({ values, out }) {
    const configDir = path.resolve(values.config as string);
    // Validate here first: the same messages as `sde validate`, without CDK's framing. A
    // project past its end date is deployed with no access (bin/app.ts), never refused.
    loadConfig(configDir, { lapsedProjects: 'revoke' });
    const cdk = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
    const args = ['synth', '--quiet', '--context', `config=${configDir}`, '--output', path.resolve(values.output as string)];
    out(`Synthesizing ${configDir} (compliance gates on) ...`);
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(cdk, args, { cwd: REPO_ROOT, stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code === 0) out(`Templates written to ${path.resolve(values.output as string)}; no unacknowledged compliance findings.`);
    return code === 0 ? 0 : 1;
  },
};
