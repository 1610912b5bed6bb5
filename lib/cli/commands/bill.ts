import { writeLocalBills } from '../../billing/local-bills';
import { parseMonth } from '../../billing/month';
import { formatMoney } from '../../billing/money';
import { describeAttestation } from '../../audit/verified-trail';
import { loadConfig } from '../../config/loader';
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

export const billCommand: Command = {
  name: 'bill',
  summary: "monthly statements per project from the workgroups' usage, priced by tier (CSV and HTML)",
  usage: '--month YYYY-MM [--project ID] [--out DIR] [--config DIR] [--workdir DIR] [--allow-unverified]',
  description: [
    'Writes a statement for each project whose approved period overlaps the month or that used the platform',
    "in it, addressed to the project's organisation: the access fee of its pricing tier (prorated by the days",
    'of the month inside the approved period) plus the data its Athena workgroup scanned (each query rounded up',
    'to a whole MB, at least 10 MB, as Athena bills) × the price per TB × the tier multiplier, rounded half-up',
    'to the penny, with one usage line per charged query. Usage comes from the local audit trail',
    '(<workdir>/audit), verified first (hash chain and signed heads, as sde audit verify): a trail that does',
    'not verify is refused, unless --allow-unverified, when every statement says UNVERIFIED first.',
    "A statement warns when the project's AWS spend reaches its monthly budget (limits.monthlyBudgetUsd)",
    'and notes 80%.',
    'Writes <out>/<month>/<project>.csv and .html, and <out>/<month>/statements.csv (all projects).',
    'Exit status: 0 written; 1 the config does not validate, or the audit trail does not verify; 2 bad usage.',
  ].join('\n'),
  options: {
    month: { type: 'string', valueName: 'YYYY-MM', description: 'the calendar month (UTC) to bill (required)' },
    project: { type: 'string', valueName: 'ID', description: 'only this project' },
    out: { type: 'string', valueName: 'DIR', description: 'where to write the statements (default: <workdir>/out/bills)' },
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    ...TODAY_OPTION,
    ...ALLOW_UNVERIFIED_OPTION,
    ...TRAIL_VERIFICATION_OPTIONS,
  },
  async run({ values, out, err }) {
    const monthText = values.month as string | undefined;
    if (monthText === undefined) throw new UsageError('say which month to bill: --month YYYY-MM');
    const month = parseMonth(monthText);
    if (!month) throw new UsageError(`--month must be a month written YYYY-MM, not "${monthText}"`);
    // Validated as of today (not the billed month): a past month is billed under today's approved config.
    const config = loadConfig(values.config as string, { today: values.today as string | undefined });
    const projectId = values.project as string | undefined;
    if (projectId !== undefined && !config.projects.some((p) => p.id === projectId)) {
      throw new UsageError(`no project "${projectId}" in ${values.config}; projects: ${config.projects.map((p) => p.id).join(', ')}`);
    }
    const verify = verifyOptionsFrom(values);
    const bills = await unlessUnverified(err, () =>
      writeLocalBills({
        config,
        workdir: values.workdir as string,
        month,
        projectId,
        outDir: values.out as string | undefined,
        verify,
        allowUnverified: values['allow-unverified'] === true,
      }),
    );
    if (bills === undefined) return 1;
    if (!bills.trail.verified) for (const line of bills.trailReport) err(line);
    out(describeAttestation(bills.trail));
    if (bills.usage.withoutBytes > 0) err(`warning: ${bills.usage.withoutBytes} queries in the trail carry no bytes scanned and are not billed`);
    if (bills.statements.length === 0) out(`No project was approved for or used the platform in ${month.id}: no statements.`);
    for (const s of bills.statements) {
      out(
        `${s.number}: ${s.organisation.name}, ${formatMoney(s.totalMinor, s.currency)} (${s.usage.length} quer${s.usage.length === 1 ? 'y' : 'ies'})${s.warnings.length > 0 ? ` - ${s.warnings.length} warning${s.warnings.length === 1 ? '' : 's'}` : ''}`,
      );
    }
    for (const f of bills.files) out(`  wrote ${f}`);
    return 0;
  },
};
