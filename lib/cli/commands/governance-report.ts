import { GitConfigError } from '../../governance/git-config';
import { buildGovernanceReport, writeGovernanceReport } from '../../governance/write-report';
import { renderGovernanceMarkdown } from '../../governance/report-render';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError } from '../command';

export const governanceReportCommand: Command = {
  name: 'governance-report',
  summary: "what changed in the governance config since a git revision, for the citizens' advisory group",
  usage: '--since REF [--out DIR] [--config DIR] [--today YYYY-MM-DD]',
  description: [
    'Compares the config directory now (the working tree) with the same directory at a git revision',
    '(a commit, tag, branch or HEAD~N), both read and validated by the same loader, and says in plain',
    'English what changed: projects approved, extended, expired or removed; columns and row filters each',
    'project may see; datasets, de-identification rules and the national data opt-out; prices; governance',
    'rules; and approvals of new or extended projects that do not name the citizen members present.',
    'Prints Markdown, or with --out DIR writes governance-report.md and governance-report.html there.',
    'Exit status: 0 done; 1 a config (now or at REF) does not validate; 2 bad usage, not a git repository or REF unknown.',
  ].join('\n'),
  options: {
    since: { type: 'string', valueName: 'REF', description: 'the git revision to compare with (required)' },
    out: { type: 'string', valueName: 'DIR', description: 'write governance-report.md and .html into this folder' },
    ...CONFIG_OPTION,
    ...TODAY_OPTION,
  },
  async run({ values, out }) {
    const since = values.since as string | undefined;
    if (since === undefined) throw new UsageError('say which revision to compare with: --since REF (e.g. HEAD~5, a tag or a commit)');
    let diff;
    try {
      diff = buildGovernanceReport({ configDir: values.config as string, since, today: values.today as string | undefined });
    } catch (e) {
      if (e instanceof GitConfigError) throw new UsageError(e.message);
      throw e;
    }
    const dir = values.out as string | undefined;
    if (dir === undefined) {
      out(renderGovernanceMarkdown(diff).trimEnd());
      return 0;
    }
    for (const file of writeGovernanceReport(diff, dir)) out(`Governance report written to ${file}`);
    out(`${diff.changes.length} change${diff.changes.length === 1 ? '' : 's'} since ${diff.before.label}.`);
    return 0;
  },
};
