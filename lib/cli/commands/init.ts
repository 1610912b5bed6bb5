import * as fs from 'node:fs';
import * as path from 'node:path';
import { INIT_PLACEHOLDER } from '../../config/placeholders';
import { Command, UsageError } from '../command';

/** The repository's template of a region's configuration (every field explained). */
export const REGION_TEMPLATE = path.resolve(__dirname, '..', '..', '..', 'templates', 'region');

/** `north-west` -> `North West`. */
function titleOf(region: string): string {
  return region
    .split('-')
    .filter((w) => w !== '')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

function templateFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    return e.isDirectory() ? templateFiles(dir, child) : [child];
  });
}

export const initCommand: Command = {
  name: 'init',
  summary: "start a new region's configuration from a template with every field explained",
  usage: '--region NAME DIR',
  description: [
    "Writes a new region's configuration into DIR (which must not exist, or be empty): platform.yaml,",
    'one example dataset, and an example project (projects/example-project.yaml.example, not read until',
    'renamed), every field explained in a comment above it. The platform is named <NAME>-sde.',
    `Every value you must choose reads ${INIT_PLACEHOLDER}: sde validate --config DIR refuses the config,`,
    'naming each such field, until all are filled in. Then: sde preflight --config DIR (docs/deploy.md).',
    'Exit status: 0 written; 2 bad usage (a bad NAME, or DIR not empty).',
  ].join('\n'),
  options: {
    region: { type: 'string', valueName: 'NAME', description: 'the region, e.g. north-west (a-z, 0-9 and -): the platform is named <NAME>-sde' },
  },
  allowPositionals: true,
  async run({ values, positionals, out }) {
    const region = values.region as string | undefined;
    if (region === undefined) throw new UsageError('--region NAME is required, e.g. sde init --region north-west config-north-west');
    // The platform name it makes must pass the schema: 3-31 characters, a-z, 0-9 and -.
    if (!/^[a-z][a-z0-9-]{0,26}$/.test(region) || region.endsWith('-')) {
      throw new UsageError(`--region must be 1-27 characters of a-z, 0-9 and -, starting with a letter (the platform is named <NAME>-sde), not "${region}"`);
    }
    if (positionals.length !== 1) throw new UsageError('give one folder to write the configuration into, e.g. sde init --region north-west config-north-west');
    const dir = path.resolve(positionals[0]);
    if (fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0)) {
      throw new UsageError(`${dir} exists and is not an empty folder: choose a new one (sde init never overwrites a configuration)`);
    }
    const vars: Record<string, string> = { region, name: `${region}-sde`, displayName: `${titleOf(region)} Secure Data Environment` };
    const written: string[] = [];
    for (const rel of templateFiles(REGION_TEMPLATE).sort()) {
      const text = fs.readFileSync(path.join(REGION_TEMPLATE, rel), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => vars[key] ?? `{{${key}}}`);
      const target = path.join(dir, rel);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text);
      written.push(target);
    }
    const placeholders = written.filter((f) => !f.endsWith('.example')).reduce((n, f) => n + fs.readFileSync(f, 'utf8').split(INIT_PLACEHOLDER).length - 1, 0);
    out(`${vars.displayName}: configuration written to ${dir}`);
    for (const f of written) out(`  ${f}`);
    out(`Next: fill in the ${placeholders} values reading ${INIT_PLACEHOLDER} (sde validate --config ${dir} names each one),`);
    out(`replace the example dataset with yours, then sde preflight --config ${dir} and docs/deploy.md.`);
    return 0;
  },
};
