/**
 * Reads what a synthesized workspace template grants through Lake Formation, so tests can
 * compare it with the access model (and with what the local runtime lets a project see).
 */
import { CfnResource } from 'aws-cdk-lib';
import type { WorkspacesStack } from '../../lib/stacks/workspaces-stack';

export const LF_TYPES = ['AWS::LakeFormation::PrincipalPermissions', 'AWS::LakeFormation::DataCellsFilter'];

/** One SELECT grant: [project, table, sorted columns joined by ',', row filter or '']. */
export type GrantRow = [string, string, string, string];

/** What the template of one workspace stack grants each of its projects. */
export function grantsIn(stack: WorkspacesStack, template: any): GrantRow[] {
  const resources: Record<string, any> = template.Resources;
  const filters = new Map(
    Object.values(resources)
      .filter((r) => r.Type === LF_TYPES[1])
      .map((r) => [r.Properties.Name, r.Properties]),
  );
  const roleToProject = new Map([...stack.workspaces].map(([id, w]) => [stack.getLogicalId(w.role.node.defaultChild as CfnResource), id]));
  return Object.values(resources)
    .filter((r) => r.Type === LF_TYPES[0] && r.Properties.Permissions.includes('SELECT'))
    .map((r): GrantRow => {
      const project = roleToProject.get(r.Properties.Principal.DataLakePrincipalIdentifier['Fn::GetAtt'][0])!;
      const t = r.Properties.Resource.TableWithColumns;
      if (t) return [project, t.Name, t.ColumnNames.join(','), ''];
      const f = filters.get(r.Properties.Resource.DataCellsFilter.Name)!;
      return [project, f.TableName, f.ColumnNames.join(','), f.RowFilter.FilterExpression];
    });
}

export const sortRows = <T extends string[]>(rows: T[]): T[] => [...rows].sort((a, b) => a.join('|').localeCompare(b.join('|')));

type Statement = { Effect: 'Allow' | 'Deny'; Condition?: Record<string, Record<string, unknown>> };

/** IAM's date operators on aws:CurrentTime; any other condition is taken as met (the named person, with MFA). */
const DATE_OPERATORS: Record<string, (now: number, bound: number) => boolean> = {
  DateLessThan: (now, bound) => now < bound,
  DateLessThanEquals: (now, bound) => now <= bound,
  DateGreaterThan: (now, bound) => now > bound,
  DateGreaterThanEquals: (now, bound) => now >= bound,
};

function timeConditionsHold(statement: Statement, now: Date): boolean {
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) => {
    const bound = keys['aws:CurrentTime'];
    if (bound === undefined || !(operator in DATE_OPERATORS)) return true;
    return DATE_OPERATORS[operator](now.getTime(), Date.parse(String(bound)));
  });
}

/**
 * Whether a project's named researchers can act at `now`, as the synthesized templates say:
 * its role exists, a trust statement admits them at that time, and no statement of the
 * role's policies denies everything at that time.
 */
export function researcherCanActAt(stack: WorkspacesStack | undefined, template: any, projectId: string, now: Date): boolean {
  const workspace = stack?.workspaces.get(projectId);
  if (!stack || !workspace) return false;
  const resources: Record<string, any> = template.Resources;
  const roleId = stack.getLogicalId(workspace.role.node.defaultChild as CfnResource);
  const trust: Statement[] = resources[roleId].Properties.AssumeRolePolicyDocument.Statement;
  const denies: Statement[] = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && (r.Properties.Roles ?? []).some((ref: any) => ref.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement)
    .filter((s: any) => s.Effect === 'Deny' && s.Action === '*');
  return trust.some((s) => s.Effect === 'Allow' && timeConditionsHold(s, now)) && !denies.some((s) => timeConditionsHold(s, now));
}
