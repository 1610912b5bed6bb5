/** The SATRE self-assessment as Markdown (a table per pillar) and as JSON. */
import { PILLARS, type Assessment } from './satre';

const STATUS_WORDS = { met: 'met', partly: 'partly met', open: 'open' } as const;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderSatreMarkdown(platform: string, assessments: readonly Assessment[]): string {
  const count = (s: Assessment['status']) => assessments.filter((a) => a.status === s).length;
  const lines = [
    `# SATRE self-assessment: ${platform}`,
    '',
    'Requirements of the Standard Architecture for Trusted Research Environments (SATRE) that bear on this platform,',
    'paraphrased (not quoted) and numbered by pillar, each judged against the deployed configuration and the',
    'constructs in this code base.',
    '',
    `${count('met')} met, ${count('partly')} partly met, ${count('open')} open, of ${assessments.length}.`,
    '',
  ];
  for (const pillar of PILLARS) {
    const items = assessments.filter((a) => a.pillar === pillar);
    if (items.length === 0) continue;
    lines.push(`## ${PILLARS.indexOf(pillar) + 1}. ${pillar}`, '', '| # | requirement | status | evidence | open |', '| --- | --- | --- | --- | --- |');
    for (const a of items) {
      lines.push(
        `| ${a.id} | ${cell(a.requirement)} | ${STATUS_WORDS[a.status]} | ${cell(a.evidence.join('; ') || '-')} | ${cell(a.open.join('; ') || '-')} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function renderSatreJson(platform: string, assessments: readonly Assessment[]): string {
  return JSON.stringify({ platform, standard: 'SATRE (paraphrased, curated subset)', assessments }, null, 2);
}
