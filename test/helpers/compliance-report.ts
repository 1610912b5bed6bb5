/**
 * What the compliance-gate tests read after a synth: the validation report CDK writes,
 * and the acknowledgements recorded on constructs. One place, so every stack's test holds
 * acknowledgements to the same form (one rule, on one CfnResource, with a specific reason).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnResource, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface ValidationReport {
  readonly pluginReports: { readonly pluginName: string; readonly violations: unknown[]; readonly suppressedViolations?: { ruleName: string }[] }[];
}

export function validationReport(outdir: string): ValidationReport {
  return JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
}

/** Every plugin of the report with its number of findings, and what that must be: zero each. */
export function expectNoFindings(outdir: string, options: { minPlugins?: number } = {}): void {
  const report = validationReport(outdir);
  if (options.minPlugins !== undefined) expect(report.pluginReports.length).toBeGreaterThanOrEqual(options.minPlugins);
  expect(report.pluginReports.map((r) => [r.pluginName, r.violations.length])).toEqual(report.pluginReports.map((r) => [r.pluginName, 0]));
}

export interface Acknowledgement {
  readonly path: string;
  readonly node: IConstruct;
  readonly id: string;
  readonly reason: string;
}

/** The acknowledgements recorded anywhere under these scopes. */
export function acknowledgementsIn(...scopes: IConstruct[]): Acknowledgement[] {
  return scopes.flatMap((scope) =>
    scope.node
      .findAll()
      .flatMap((node) =>
        node.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: node.node.path, node, id, reason }))),
      ),
  );
}

/** A pack-qualified rule id (`Pack::Pack-Rule[finding]`) or a Control Tower guard rule. */
export const ACKNOWLEDGEMENT_ID = /^(AwsSolutions|HIPAA\.Security|NIST\.800\.53\.R5)::\1-[A-Za-z0-9]+(\[.+\])?$|^cdk-validator-cfnguard::[a-z0-9_]+$/;

/** One rule (`id` matching `idPattern`), on one CloudFormation resource, with a reason of at least 60 characters. */
export function expectWellFormedAcknowledgement(ack: Acknowledgement, idPattern: RegExp = ACKNOWLEDGEMENT_ID): void {
  expect({ path: ack.path, isResource: ack.node instanceof CfnResource }).toEqual({ path: ack.path, isResource: true });
  expect(ack.id).toMatch(idPattern);
  expect(ack.reason.length).toBeGreaterThanOrEqual(60);
}
