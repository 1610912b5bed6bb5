/**
 * The Control Tower proactive controls (cfn-guard), run only where they can apply.
 *
 * `CfnGuardValidator` hands every rule file (237 Control Tower controls) and every
 * template to one cfn-guard process, and cfn-guard's time grows with rules x template
 * bytes: about 7 s for each 130 KB workspace stack, so ~90% of a large app's synth. Every
 * Control Tower rule file selects the resources it checks by type
 * (`Resources.*[ Type == "AWS::..." ]`) and SKIPs a template with none of them, so running a
 * rule file against a template that holds none of the types it names cannot produce a
 * finding. This plugin runs, for each template, only the rule files that name a type the
 * template holds (keeping any rule file that names no type at all), through the same
 * `CfnGuardValidator` (same binary, same result parsing, same plugin name, so existing
 * `cdk-validator-cfnguard::...` acknowledgements still apply). Nothing is skipped that could fail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';

const CONTROL_TOWER_RULES = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');

/** Resource types a guard rule file names in its (non-comment) text. */
export function resourceTypesNamed(ruleText: string): string[] {
  const code = ruleText
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  return [...new Set([...code.matchAll(/["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']/g)].map((m) => m[1]))].sort();
}

function ruleFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? ruleFiles(path.join(dir, e.name)) : e.name.endsWith('.guard') ? [path.join(dir, e.name)] : []))
    .sort();
}

export interface ResourceTypeScopedGuardProps {
  /** Rule file names (without .guard) to leave out, as in CfnGuardValidator. @default - none */
  readonly disabledRules?: string[];
}

export class ResourceTypeScopedCfnGuardValidator implements IPolicyValidationPluginBeta1 {
  readonly name = 'cdk-validator-cfnguard';
  readonly version: string;
  readonly ruleIds: string[];
  private readonly rules: { file: string; types: string[] }[];

  constructor(props: ResourceTypeScopedGuardProps = {}) {
    const disabled = new Set(props.disabledRules ?? []);
    this.rules = ruleFiles(CONTROL_TOWER_RULES)
      .filter((file) => !disabled.has(path.parse(file).name))
      .map((file) => ({ file, types: resourceTypesNamed(fs.readFileSync(file, 'utf8')) }));
    this.ruleIds = this.rules.map((r) => path.parse(r.file).name.replace('ct-', '').replace(/-/g, ''));
    this.version = new CfnGuardValidator({ controlTowerRulesEnabled: false }).version ?? '0.0.0';
  }

  /** The rule files that can apply to a template holding these resource types. */
  rulesFor(types: ReadonlySet<string>): string[] {
    return this.rules.filter((r) => r.types.length === 0 || r.types.some((t) => types.has(t))).map((r) => r.file);
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    // Templates needing the same rule files are checked in one cfn-guard run.
    const groups = new Map<string, { rules: string[]; templates: string[] }>();
    for (const template of context.templatePaths) {
      const resources = JSON.parse(fs.readFileSync(template, 'utf8')).Resources ?? {};
      const rules = this.rulesFor(new Set(Object.values<{ Type: string }>(resources).map((r) => r.Type)));
      if (rules.length === 0) continue;
      const key = rules.join('\n');
      const group = groups.get(key) ?? { rules, templates: [] };
      group.templates.push(template);
      groups.set(key, group);
    }
    const violations = [...groups.values()].flatMap(
      (g) => new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: g.rules }).validate({ ...context, templatePaths: g.templates }).violations,
    );
    return { success: violations.length === 0, violations };
  }
}
