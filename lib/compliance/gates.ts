/**
 * The compliance gates that run at every synth. A finding fails the synth unless it is
 * acknowledged on one resource with a reason (Validations.of(resource).acknowledge).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { ResourceTypeScopedCfnGuardValidator } from './cfn-guard-by-resource-type';

/** The gates addComplianceGates adds, as `sde synth` names them when they pass. */
export const COMPLIANCE_GATE_NAMES = [
  'AwsSolutions (cdk-nag)',
  'HIPAA Security (cdk-nag)',
  'NIST 800-53 R5 (cdk-nag)',
  'Control Tower proactive controls (cfn-guard)',
] as const;

export function addComplianceGates(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new HIPAASecurityChecks(app),
    new NIST80053R5Checks(app),
    // Every Control Tower rule, each run on the templates holding the resource types it
    // checks (the same findings as running all of them on every template, at a fraction of
    // the time: see cfn-guard-by-resource-type.ts and its test).
    new ResourceTypeScopedCfnGuardValidator(),
  );
}
