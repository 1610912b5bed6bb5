/**
 * `sde risk`: the re-identification risk of each approval, measured by the platform on the
 * curated data the project is granted (lib/governance/disclosure-risk.ts), judged against
 * platform.yaml's disclosureRisk ceiling and the risk acceptance each approval records.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { projectState } from '../../config/model';
import type { SdeConfig } from '../../config/model';
import { projectRiskQuery, riskReport, type RiskQueryRunner, type RiskReport } from '../../governance/disclosure-risk';
import { renderRiskText } from '../../governance/risk-render';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError, WORKDIR_OPTION } from '../command';

export const riskCommand: Command = {
  name: 'risk',
  summary: "measure each approval's re-identification risk on the data it grants (k-anonymity)",
  usage: '[--project ID] [--format text|json] [--out FILE] [--athena-workgroup NAME] [--show-sql] [--config DIR] [--workdir DIR]',
  description: [
    'For each project (or --project ID), over the curated data its approval grants (its datasets, columns and row',
    'filter): the share of people in equivalence classes of fewer than 5 and fewer than 10 people over the granted',
    "quasi-identifiers; where the grant includes the pseudonym, also over each person's trajectory of them, within",
    'a dataset and linked across datasets. The worst measure is judged against platform.yaml disclosureRisk.ceiling:',
    'above it, the approval must record a risk acceptance (approval.riskAcceptance) covering the measured figure.',
    'Locally it runs in DuckDB over the curated Parquet (after syncing it from the local S3 API); with',
    '--athena-workgroup NAME the same SQL runs in Athena, as the platform (run it with a platform role, never a',
    "project's). --format json --out FILE writes the report sde access-matrix --risk FILE shows.",
    'Exit status: 0 when every approval is within its ceiling or accepted; 1 when one is over it without an',
    'acceptance covering the measured figure.',
  ].join('\n'),
  options: {
    project: { type: 'string', valueName: 'ID', description: 'only this project (default: every project active or not yet started)' },
    format: { type: 'string', default: 'text', valueName: 'text|json', description: 'output format' },
    out: { type: 'string', valueName: 'FILE', description: 'write the report to a file instead of standard output' },
    'athena-workgroup': { type: 'string', valueName: 'NAME', description: "on AWS: run the query in Athena in this (the platform's) workgroup" },
    'show-sql': { type: 'boolean', description: "print each project's query instead of running it" },
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    ...TODAY_OPTION,
  },
  async run({ values, out, err }) {
    const format = values.format as string;
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);
    // The risk gate needs the figures this command measures: load the config without it.
    const config = loadConfig(values.config as string, { today: values.today as string | undefined, riskGate: false });
    const only = values.project as string | undefined;
    if (only !== undefined && !config.projects.some((p) => p.id === only)) throw new UsageError(`there is no project "${only}" in the config`);
    const projects = config.projects.filter((p) => (only !== undefined ? p.id === only : ['active', 'not_started'].includes(projectState(p, config.today))));
    if (values['show-sql'] === true) {
      for (const p of projects) out(`-- ${p.id}\n${projectRiskQuery(config, p)?.sql ?? '-- no quasi-identifier granted: nothing to measure'};\n`);
      return 0;
    }
    const workgroup = values['athena-workgroup'] as string | undefined;
    const { runner, engine, close } = await openRunner(config, values.workdir as string, workgroup);
    let result: RiskReport;
    try {
      result = await riskReport(config, projects, runner, engine, (id) => err(`measuring ${id} ...`));
    } finally {
      close();
    }
    const text = format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : renderRiskText(result);
    const file = values.out as string | undefined;
    if (file === undefined) out(text.trimEnd());
    else {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      fs.writeFileSync(file, text);
      out(`Risk report written to ${file}`);
    }
    const over = result.projects.filter((p) => p.gate.verdict === 'over_ceiling');
    for (const p of over) err(`${p.projectId}: ${p.gate.message}`);
    return over.length > 0 ? 1 : 0;
  },
};

async function openRunner(
  config: SdeConfig,
  workdir: string,
  workgroup: string | undefined,
): Promise<{ runner: RiskQueryRunner; engine: string; close: () => void }> {
  if (workgroup !== undefined) {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { AthenaClient } = await import('@aws-sdk/client-athena');
    const { athenaRiskRunner } = await import('../../governance/athena-risk');
    const region = config.platform.aws.region;
    const athena = new AthenaClient(region ? { region } : {});
    return { runner: athenaRiskRunner({ athena, workgroup }), engine: `athena (workgroup ${workgroup})`, close: () => athena.destroy() };
  }
  // Loaded on use: DuckDB and the S3 server are heavy.
  const { localRiskRunner } = require('../../local/runners/risk') as typeof import('../../local/runners/risk');
  const runner = await localRiskRunner(config, path.resolve(workdir));
  return { runner, engine: 'duckdb (local curated copy)', close: () => runner.close() };
}
