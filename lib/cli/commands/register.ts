import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { generateLocalRegister } from '../../local/runners/register';
import {
  ALLOW_UNVERIFIED_OPTION,
  Command,
  CONFIG_OPTION,
  TODAY_OPTION,
  TRAIL_VERIFICATION_OPTIONS,
  unlessUnverified,
  UsageError,
  verifyOptionsFrom,
  WORKDIR_OPTION,
} from '../command';

export const registerCommand: Command = {
  name: 'register',
  summary: 'write the public transparency register (HTML, JSON, CSV) from the config and the audit trail',
  usage: '[--out DIR] [--config DIR] [--workdir DIR] [--trail DIR] [--public-keys FILE] [--allow-unverified]',
  description: [
    'For every project in the config: the organisation and its type, the purpose in plain English, the',
    'legal basis, the approval (committee, date, reference, citizen members present), the period and',
    'status, the kinds of data approved, and its use per month from the audit trail (queries run and',
    'refused, data scanned, outputs released through the airlock, first and last use).',
    'Never: researcher names or ARNs, pseudonyms, query text, row values, or any count from 1 to the',
    'airlock\'s suppressionThreshold (shown as "fewer than N").',
    '',
    'Reads the local trail (<workdir>/audit, and <workdir>/airlock/events.jsonl if present), or a',
    'folder of real CloudTrail files with --trail DIR (with --public-keys for the digest signatures).',
    'The trail is verified first, as sde audit verify does: a trail that does not verify is refused,',
    'unless --allow-unverified, when every page and file says the figures are UNVERIFIED. The register',
    'says when its records were last verified and, for the local trail, publishes its latest signed head.',
    'Writes index.html, register.json and register.csv.',
    'Exit status: 0 written; 1 the config does not validate, or the audit trail does not verify; 2 bad usage.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    ...TODAY_OPTION,
    out: { type: 'string', valueName: 'DIR', description: 'folder to write the register into (default: <workdir>/out/register)' },
    trail: { type: 'string', valueName: 'DIR', description: 'folder of CloudTrail records (default: the local trail in the workdir)' },
    ...ALLOW_UNVERIFIED_OPTION,
    ...TRAIL_VERIFICATION_OPTIONS,
  },
  async run({ values, out, err }) {
    const trail = values.trail as string | undefined;
    if (trail !== undefined && !fs.existsSync(trail))
      throw new UsageError(`--trail ${trail}: no such file or folder (give the folder holding the CloudTrail files)`);
    const config = loadConfig(values.config as string, { today: values.today as string | undefined });
    const verify = verifyOptionsFrom(values);
    const written = await unlessUnverified(err, () =>
      generateLocalRegister({
        config,
        workdir: values.workdir as string,
        trail,
        out: values.out as string | undefined,
        verify,
        allowUnverified: values['allow-unverified'] === true,
      }),
    );
    if (written === undefined) return 1;
    for (const line of written.report) err(line);
    for (const file of written.files) {
      const rel = path.relative(process.cwd(), file);
      out(`wrote ${rel.startsWith('..') ? file : rel}`);
    }
    return 0;
  },
};
