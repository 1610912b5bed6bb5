import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { parseQuarter } from '../../governance/scrutiny';
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

export const scrutinyReportCommand: Command = {
  name: 'scrutiny-report',
  summary: "a quarter's plain-English report for an elected scrutiny body, from the config, the audit trail and the bills",
  usage: '--quarter YYYY-Qn [--out DIR] [--config DIR] [--workdir DIR] [--today YYYY-MM-DD] [--allow-unverified]',
  description: [
    'For the quarter (Q1 is January to March): projects approved, extended and ended, with the citizen',
    'members present; data use and charges by tier (use from the audit trail, charges from the bills of',
    'each month, as sde bill builds them); the national data opt-out and the loads it was applied to;',
    'outputs released; outcomes and outcome reports made, and reports overdue; security alarms raised',
    '(counts only). Built only from the config, the verified audit trail and the bills; counts from 1 to',
    'the airlock\'s suppressionThreshold read "fewer than N", as on the register, and are never totalled.',
    'The trail is verified first: one that does not verify is refused, unless --allow-unverified.',
    'Writes scrutiny-YYYY-Qn.html (readable at 320 px, no scripts) and scrutiny-YYYY-Qn.json.',
    'Exit status: 0 written; 1 the config does not validate, or the audit trail does not verify; 2 bad usage.',
  ].join('\n'),
  options: {
    quarter: { type: 'string', valueName: 'YYYY-Qn', description: 'the quarter to report, e.g. 2026-Q4 (required)' },
    out: { type: 'string', valueName: 'DIR', description: 'folder to write into (default: <workdir>/out/scrutiny)' },
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    ...TODAY_OPTION,
    ...ALLOW_UNVERIFIED_OPTION,
    ...TRAIL_VERIFICATION_OPTIONS,
  },
  async run({ values, out, err }) {
    const text = values.quarter as string | undefined;
    if (text === undefined) throw new UsageError('say which quarter: --quarter YYYY-Qn (e.g. 2026-Q4; Q1 is January to March)');
    const quarter = parseQuarter(text);
    if (quarter === undefined) throw new UsageError(`--quarter ${text}: write the quarter as YYYY-Qn, e.g. 2026-Q4 (Q1 is January to March)`);
    const config = loadConfig(values.config as string, { today: values.today as string | undefined });
    if (quarter.first > config.today) throw new UsageError(`--quarter ${text}: the quarter has not begun (today is ${config.today})`);
    // Loaded on use: the runner reads the trail and the billing code, which --help does not need.
    const { generateLocalScrutinyReport } = require('../../local/runners/scrutiny') as typeof import('../../local/runners/scrutiny');
    const written = await unlessUnverified(err, () =>
      generateLocalScrutinyReport({
        config,
        workdir: values.workdir as string,
        quarter,
        out: values.out as string | undefined,
        verify: verifyOptionsFrom(values),
        allowUnverified: values['allow-unverified'] === true,
      }),
    );
    if (written === undefined) return 1;
    for (const line of written.trailReport) err(line);
    for (const file of written.files) {
      const rel = path.relative(process.cwd(), file);
      out(`wrote ${rel.startsWith('..') ? file : rel}`);
    }
    return 0;
  },
};
