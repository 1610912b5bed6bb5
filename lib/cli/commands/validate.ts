import { formatProblem } from '../../config/problems';
import { projectState } from '../../config/model';
import { validateConfigDir } from '../../config/loader';
import { documentationAccountWarnings } from '../../config/placeholders';
import type { ConfigProblem } from '../../config/problems';
import { approvalChangeProblems } from '../../governance/approval-changes';
import { GitConfigError, loadConfigAtRevision } from '../../governance/git-config';
import { codesHoldingIdentifiers, placeholdersHoldingIdentifiers } from '../../ingest/core/formats';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError } from '../command';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check the governance config and list every problem',
  usage: '[--config DIR] [--today YYYY-MM-DD] [--since REF] [--format text|json]',
  description: [
    'Reads platform.yaml, datasets/*.yaml and projects/*.yaml and checks every file and every',
    'rule between them: unknown keys, grants of columns that do not exist after de-identification,',
    'direct identifiers kept or granted, missing approvals, periods that have ended, duplicates.',
    'With --since REF (a git revision, e.g. origin/main in a pull request check), projects that are new or',
    'extended since REF must also carry an approval recorded for that change, naming the citizen members',
    'present when platform.yaml requires citizen members.',
    "It warns (without failing) on every field naming one of AWS's documentation account ids (111122223333,",
    '123456789012, 444455556666 and the like), which the example config uses: replace them before deploying.',
    'Exit status: 0 if the config is valid, 1 if it has problems (each printed with file, field and fix).',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...TODAY_OPTION,
    format: { type: 'string', default: 'text', valueName: 'text|json', description: 'output format' },
    since: { type: 'string', valueName: 'REF', description: 'also check the approvals of projects new or extended since this git revision' },
  },
  async run({ values, out, err }) {
    const today = values.today as string | undefined;
    if (today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new UsageError(`--today must be YYYY-MM-DD, not "${today}"`);
    const format = values.format as string;
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);
    const validated = validateConfigDir(values.config as string, { today });
    const problems: ConfigProblem[] = [...validated.problems];
    // A code list entry that itself reads as an identifier is never accepted at ingestion (a fail-safe there); say so here.
    for (const dataset of validated.config?.datasets ?? []) {
      dataset.columns.forEach((column, i) => {
        const bad = column.format === undefined ? [] : codesHoldingIdentifiers(column.format);
        if (bad.length > 0) {
          problems.push({
            file: dataset.file,
            field: `columns[${i}] (${column.name}).format`,
            message: `${bad.length} of its codes read as an identifier (an NHS number, date, postcode, phone number or e-mail address), so no value is accepted as them`,
            fix: 'correct or remove those codes in the code list or vocabulary file',
          });
        }
        const placeholders = placeholdersHoldingIdentifiers(column.placeholders);
        if (placeholders.length > 0) {
          problems.push({
            file: dataset.file,
            field: `columns[${i}] (${column.name}).placeholders`,
            message: `${placeholders.length} of its placeholders read as an identifier (an NHS number, date, postcode, phone number or e-mail address), so no value is kept as them`,
            fix: 'remove those placeholders (list them under nulls if the supplier means "not known")',
          });
        }
      });
    }
    const since = values.since as string | undefined;
    if (validated.config && since !== undefined) {
      try {
        problems.push(...approvalChangeProblems(loadConfigAtRevision(values.config as string, since).config, validated.config));
      } catch (e) {
        if (e instanceof GitConfigError) throw new UsageError(e.message);
        throw e;
      }
    }
    const config = problems.length === 0 ? validated.config : undefined;
    const warnings = validated.config ? documentationAccountWarnings(validated.config) : [];

    if (format === 'json') {
      out(JSON.stringify({ valid: problems.length === 0, problems, warnings }, null, 2));
      return problems.length === 0 ? 0 : 1;
    }
    if (!config) {
      err(`${values.config}: ${problems.length} problem${problems.length === 1 ? '' : 's'} found`);
      for (const p of problems) err(`  - ${formatProblem(p)}`);
      return 1;
    }
    const states = config.projects.map((p) => projectState(p, config.today));
    const count = (s: string) => states.filter((x) => x === s).length;
    out(`${values.config}: valid (${config.platform.displayName})`);
    out(`  datasets: ${config.datasets.length} (${config.datasets.map((d) => d.name).join(', ')})`);
    out(
      `  projects: ${config.projects.length} (${count('active')} active, ${count('expired')} expired, ${count('not_started')} not yet started, ${count('suspended')} suspended, as of ${config.today})`,
    );
    if (warnings.length > 0) {
      // One line per field; the fix once: the list can be long for a config copied from the example.
      err(
        `warning: ${warnings.length} field${warnings.length === 1 ? ' names' : 's name'} an AWS documentation account id (an example: no real principal is in it); replace each with your own account before deploying (sde preflight checks it):`,
      );
      for (const w of warnings) err(`  ${w.file}: ${w.field} (${/account ([\d, ]+),/.exec(w.message)?.[1] ?? ''})`);
    }
    return 0;
  },
};
