import { loadConfig } from '../../config/loader';
import { assessSatre } from '../../governance/satre';
import { detectCapabilities } from '../../governance/satre-capabilities';
import { renderSatreJson, renderSatreMarkdown } from '../../governance/satre-render';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError } from '../command';

export const satreCommand: Command = {
  name: 'satre',
  summary: 'SATRE self-assessment: which requirements the configuration meets, with evidence and what is open',
  usage: '[--format md|json] [--config DIR]',
  description: [
    'Judges a curated list of SATRE requirements (Standard Architecture for Trusted Research Environments,',
    'paraphrased and numbered by pillar: information governance, computing technology, data management,',
    'supporting capabilities) against the loaded config and the constructs this code base deploys, and prints',
    'each as met, partly met or open, with the evidence (the construct, the setting or the report) and what',
    'remains open. Exit status: 0 printed; 1 the config does not validate; 2 bad usage.',
  ].join('\n'),
  options: {
    format: { type: 'string', default: 'md', valueName: 'md|json', description: 'output format' },
    ...CONFIG_OPTION,
    ...TODAY_OPTION,
  },
  async run({ values, out }) {
    const format = values.format as string;
    if (format !== 'md' && format !== 'json') throw new UsageError(`--format must be md or json, not "${format}"`);
    const config = loadConfig(values.config as string, { today: values.today as string | undefined });
    const assessments = assessSatre(config, detectCapabilities());
    out(
      (format === 'json' ? renderSatreJson(config.platform.displayName, assessments) : renderSatreMarkdown(config.platform.displayName, assessments)).trimEnd(),
    );
    return 0;
  },
};
