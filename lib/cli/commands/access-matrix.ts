import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { parseRiskReport } from '../../governance/disclosure-risk';
import { buildAccessMatrix } from '../../reports/access-matrix';
import { renderAccessMatrixHtml, renderAccessMatrixMarkdown } from '../../reports/access-matrix-render';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError } from '../command';

export const accessMatrixCommand: Command = {
  name: 'access-matrix',
  summary: 'show which project may read which columns, for the data access committee',
  usage: '[--config DIR] [--format md|html] [--out FILE] [--risk FILE]',
  description: [
    'For every project: organisation, tier, purpose, period and status (active, expired, not yet started),',
    'and for each dataset the columns it may read, with pseudonyms and quasi-identifiers marked. It is',
    "built from the same model as the Lake Formation grants, so it shows what is enforced. Each approval's",
    're-identification risk is shown as the approval records it, or as measured with --risk FILE (the JSON',
    'report of sde risk --format json --out FILE).',
    'Prints Markdown, or writes an HTML page for lay committee members with --format html --out FILE.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...TODAY_OPTION,
    format: { type: 'string', default: 'md', valueName: 'md|html', description: 'output format' },
    out: { type: 'string', valueName: 'FILE', description: 'write to a file instead of standard output' },
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
    const file = values.out as string | undefined;
    if (file === undefined) {
      out(text.trimEnd());
    } else {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      fs.writeFileSync(file, text);
      out(`Access matrix written to ${file}`);
    }
    return 0;
  },
};
