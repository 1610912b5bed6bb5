import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { parseRiskReport } from '../../governance/disclosure-risk';
import { buildAccessMatrix } from '../../reports/access-matrix';
import { renderAccessMatrixHtml, renderAccessMatrixMarkdown } from '../../reports/access-matrix-render';
import { workdirLayout } from '../../local/workdir';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError, WORKDIR_OPTION } from '../command';

export const accessMatrixCommand: Command = {
  name: 'access-matrix',
  summary: 'show which project may read which columns, for the data access committee',
  usage: '[--config DIR] [--format md|html] [--out FILE] [--risk FILE] [--workdir DIR]',
  description: [
    'For every project: organisation, tier, purpose, period and status (active, expired, not yet started),',
    'and for each dataset the columns it may read, with pseudonyms and quasi-identifiers marked. It is',
    "built from the same model as the Lake Formation grants, so it shows what is enforced. Each approval's",
    're-identification risk is shown as the approval records it, or as measured with --risk FILE (the JSON',
    'report of sde risk --format json --out FILE).',
    'Prints Markdown (or writes it to --out FILE); with --format html, writes a page for lay committee',
    'members to --out FILE, by default <workdir>/out/access-matrix.html (never into the repository).',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...TODAY_OPTION,
    ...WORKDIR_OPTION,
    format: { type: 'string', default: 'md', valueName: 'md|html', description: 'output format' },
    out: {
      type: 'string',
      valueName: 'FILE',
      description: 'write to this file (default: Markdown to standard output; HTML to <workdir>/out/access-matrix.html)',
    },
    risk: { type: 'string', valueName: 'FILE', description: 'the measured risk: a report of sde risk --format json' },
  },
  async run({ values, out }) {
    const format = values.format as string;
    if (format !== 'md' && format !== 'html') throw new UsageError(`--format must be md or html, not "${format}"`);
    const riskFile = values.risk as string | undefined;
    let risk;
    if (riskFile !== undefined) {
      if (!fs.existsSync(riskFile)) throw new UsageError(`--risk ${riskFile} does not exist: write it with sde risk --format json --out ${riskFile}`);
      try {
        risk = parseRiskReport(fs.readFileSync(riskFile, 'utf8'), riskFile);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const matrix = buildAccessMatrix(loadConfig(values.config as string, { today: values.today as string | undefined }), risk);
    const text = format === 'html' ? renderAccessMatrixHtml(matrix) : renderAccessMatrixMarkdown(matrix);
    // A page is for a browser, not a terminal: it goes to the workdir unless --out says where.
    const given = values.out as string | undefined;
    const file = given ?? (format === 'html' ? path.join(workdirLayout(values.workdir as string).out, 'access-matrix.html') : undefined);
    if (file === undefined) {
      out(text.trimEnd());
    } else {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      fs.writeFileSync(file, text);
      out(`Access matrix written to ${path.resolve(file)}`);
    }
    return 0;
  },
};
