import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { COMPLIANCE_GATE_NAMES } from '../../compliance/gates';
import { loadConfig } from '../../config/loader';
import { Command, CONFIG_OPTION } from '../command';
import { synthesizedStacks, synthSummaryLines } from '../synth-summary';

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
    'Then it says that the four gates passed, lists every stack, and says which project is in which',
    'workspace stack (whose outputs hold its role ARN and workgroup) and why any project is not deployed.',
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
    const config = loadConfig(configDir, { lapsedProjects: 'revoke' });
    const cdk = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
    const args = ['synth', '--quiet', '--context', `config=${configDir}`, '--output', path.resolve(values.output as string)];
    out(`Synthesizing ${configDir} (compliance gates on) ...`);
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(cdk, args, { cwd: REPO_ROOT, stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) return 1;
    const output = path.resolve(values.output as string);
    out(`Templates written to ${output}.`);
    // The app adds every gate on every synth (bin/app.ts); a finding would have failed it above.
    out(`Compliance gates: all ${COMPLIANCE_GATE_NAMES.length} passed with 0 unacknowledged findings: ${COMPLIANCE_GATE_NAMES.join(', ')}.`);
    for (const line of synthSummaryLines(config, synthesizedStacks(output))) out(line);
    return 0;
  },
};
