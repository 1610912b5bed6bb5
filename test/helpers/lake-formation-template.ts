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
