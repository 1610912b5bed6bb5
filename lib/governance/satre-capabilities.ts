/**
 * Which of SATRE's evidencing capabilities this code base has. A construct counts when
 * its module is present; a stack counts only when lib/app.ts also creates it, because a
 * stack that is not in the app is not deployed and must not be claimed as evidence.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Capability } from './satre';

/** The module (relative to the repository root, without extension) and, for stacks, the class lib/app.ts must use. */
const WHERE: Record<Capability, { module: string; appUses?: string }> = {
  secureBucket: { module: 'lib/constructs/storage/secure-bucket' },
  platformKey: { module: 'lib/constructs/storage/platform-key' },
  lakeFormationGrants: { module: 'lib/constructs/workspace/lake-formation-grants' },
  projectWorkspace: { module: 'lib/constructs/workspace/project-workspace' },
  auditStack: { module: 'lib/stacks/audit-stack', appUses: 'AuditStack' },
  securityAlarms: { module: 'lib/constructs/audit/security-alarms' },
  airlockStack: { module: 'lib/stacks/airlock-stack', appUses: 'AirlockStack' },
  analysisWorkspace: { module: 'lib/stacks/analysis-workspace-stack', appUses: 'AnalysisWorkspaceStack' },
  ingestion: { module: 'lib/ingest/core/pipeline' },
  ingestionStack: { module: 'lib/stacks/ingestion-stack', appUses: 'IngestionStack' },
  register: { module: 'lib/register/render' },
  registerStack: { module: 'lib/stacks/register-stack', appUses: 'RegisterStack' },
  billing: { module: 'lib/billing/statement' },
  billingStack: { module: 'lib/stacks/billing-stack', appUses: 'BillingStack' },
  governanceReport: { module: 'lib/governance/config-diff' },
  accessMatrix: { module: 'lib/reports/access-matrix' },
  complianceGates: { module: 'lib/compliance/gates' },
};

const REPO_ROOT = path.resolve(__dirname, '..', '..');

function moduleExists(root: string, module: string): boolean {
  return ['.ts', '.js'].some((ext) => fs.existsSync(path.join(root, `${module}${ext}`)));
}

export function detectCapabilities(root: string = REPO_ROOT): Set<Capability> {
  const appSource = ['lib/app.ts', 'lib/app.js'].map((f) => path.join(root, f)).find((f) => fs.existsSync(f));
  const app = appSource ? fs.readFileSync(appSource, 'utf8') : '';
  const found = new Set<Capability>();
  for (const [capability, where] of Object.entries(WHERE) as [Capability, (typeof WHERE)[Capability]][]) {
    if (!moduleExists(root, where.module)) continue;
    if (where.appUses !== undefined && !new RegExp(`\\bnew ${where.appUses}\\b|\\bcreate${where.appUses}\\b`).test(app)) continue;
    found.add(capability);
  }
  return found;
}
