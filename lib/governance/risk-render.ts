/** The risk report (sde risk) as people read it. */
import type { RiskReport } from './disclosure-risk';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function renderRiskText(report: RiskReport): string {
  const lines: string[] = [
    `Re-identification risk of the approvals, measured ${report.measuredOn} (${report.engine})${report.ceiling !== undefined ? `; ceiling ${pct(report.ceiling)} of people in classes under 5` : ''}`,
  ];
  for (const p of report.projects) {
    lines.push('', `${p.projectId}: ${p.gate.verdict.replace(/_/g, ' ').toUpperCase()}: ${p.gate.message}`);
    for (const m of p.measures) {
      lines.push(
        `  ${pct(m.shareBelow5).padStart(6)} under 5, ${pct(m.shareBelow10).padStart(6)} under 10, of ${m.people} people: ${m.label}${m.maxRecordsPerPerson > 1 ? ` (up to ${m.maxRecordsPerPerson} records a person)` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
