/**
 * The whole app with its workspace stacks: every compliance gate passes with no
 * unacknowledged finding, Lake Formation resources are serialised per stack, and a
 * region-sized generated config stays within CloudFormation's limits with grants that
 * match the access model for every project.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { createApp } from '../../lib/app';
import { projectOutputKey } from '../../lib/stacks/workspaces-stack';
import { grantedProjects, loadConfig, projectAccess, type SdeConfig } from '../../lib/config';
import { GENERATED_TODAY, writeGeneratedConfig } from '../../bench/generate-config';
import { shardsFor } from '../../bench/synth';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { grantsIn, LF_TYPES, sortRows } from '../helpers/lake-formation-template';
import { acknowledgementsIn, expectNoFindings, expectWellFormedAcknowledgement } from '../helpers/compliance-report';

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-ws-app-'));
  tmp.push(d);
  return d;
};

/**
 * The Lake Formation resources of a template in dependency order, checking on the way that
 * they form one chain: one first resource, and each other waiting for exactly one other.
 */
function lakeFormationChain(template: any): string[] {
  const resources: Record<string, any> = template.Resources;
  const lf = Object.keys(resources).filter((id) => LF_TYPES.includes(resources[id].Type));
  const previous = new Map(lf.map((id) => [id, (resources[id].DependsOn ?? []).filter((d: string) => lf.includes(d))]));
  const heads = lf.filter((id) => previous.get(id)!.length === 0);
  expect(heads.length).toBe(lf.length === 0 ? 0 : 1);
  expect(lf.every((id) => previous.get(id)!.length <= 1)).toBe(true);
  const next = new Map<string, string>();
  for (const [id, [p]] of previous)
    if (p) {
      expect(next.has(p)).toBe(false); // no two resources wait for the same one: no fork, no parallelism
      next.set(p, id);
    }
  const order: string[] = [];
  for (let at: string | undefined = heads[0]; at; at = next.get(at)) order.push(at);
  expect(order.length).toBe(lf.length);
  return order;
}

function expectedGrants(config: SdeConfig, projectIds: Iterable<string>): string[][] {
  return [...projectIds].flatMap((id) =>
    projectAccess(
      config,
      config.projects.find((p) => p.id === id)!,
    ).map((t) => [id, t.dataset.name, t.columnNames.join(','), t.rowFilter ?? '']),
  );
}

describe('the example app with its workspaces, every gate on', () => {
  const outdir = tempDir();
  const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
  const { app, stacks } = createApp(config, { outdir });
  let synthError: unknown;
  let assembly: ReturnType<typeof app.synth> | undefined;
  try {
    assembly = app.synth();
  } catch (e) {
    synthError = e;
  }

  test('synthesizes with zero unacknowledged findings in every pack', () => {
    expect(synthError).toBeUndefined();
    expectNoFindings(outdir);
  });

  test('workspace acknowledgements are each one rule on one resource, with a specific reason', () => {
    const acks = acknowledgementsIn(...stacks.workspaces);
    // Per project: the four IAM5 findings on its managed policy (`*`, its results prefix, its
    // airlock submissions and releases prefixes), the guard rule that cannot read a key
    // from another stack's outputs on its workgroup, and `*` for cloudwatch:PutMetricData
    // (no resource-level permissions) on its daily period check's scheduler policy.
    expect(acks).toHaveLength(3 * 6);
    for (const ack of acks) {
      expectWellFormedAcknowledgement(
        ack,
        /^AwsSolutions::AwsSolutions-IAM5\[Resource::(\*|.+\/[a-z0-9-]+\/\*)\]$|^cdk-validator-cfnguard::athena_workgroup_results_encrypted_at_rest_kms_check$/,
      );
    }
    const prefixAcks = acks.filter((a) => a.id.endsWith('/*]'));
    expect(prefixAcks.map((a) => a.id.match(/\/([a-z0-9-]+)\/\*\]$/)![1]).sort()).toEqual(
      ['medisight-prescribing', 'ncl-winter-planning', 'ucl-multimorbidity'].flatMap((p) => [p, p, p]),
    );
  });

  test('in every stack, Lake Formation resources form one chain, in project then table order', () => {
    for (const stack of stacks.workspaces) {
      const template = assembly!.getStackArtifact(stack.artifactId).template;
      const order = lakeFormationChain(template);
      const expected = [...stack.workspaces.keys()]
        .sort()
        .flatMap((id) => stack.lakeFormationChain.resources.filter((r) => r.node.path.includes(`/Project-${id}/`)))
        .map((r) => stack.getLogicalId(r));
      expect(order).toEqual(expected);
    }
  });

  test("each stack outputs, for each of its projects, the researchers' role ARN and the workgroup, named for the project", () => {
    const found: string[][] = [];
    for (const stack of stacks.workspaces) {
      const template = assembly!.getStackArtifact(stack.artifactId).template;
      const outputs: Record<string, { Value: unknown; Description: string }> = template.Outputs ?? {};
      for (const id of stack.workspaces.keys()) {
        const workspace = stack.workspaces.get(id)!;
        const key = projectOutputKey(id);
        expect(outputs[`${key}RoleArn`]).toEqual({
          Value: { 'Fn::GetAtt': [stack.getLogicalId(workspace.role.node.defaultChild as CfnElement), 'Arn'] },
          Description: expect.stringMatching(new RegExp(`^Project ${id}: the role its named researchers assume`)),
        });
        expect(outputs[`${key}Workgroup`]).toEqual({
          Value: { Ref: stack.getLogicalId(workspace.workgroup) },
          Description: `Project ${id}: the Athena workgroup its queries run in`,
        });
        found.push([id, stack.stackName]);
      }
      // Nothing else is output: no other project's names, no stray values.
      expect(Object.keys(outputs).length).toBe(2 * stack.workspaces.size);
    }
    expect(found.map(([id]) => id).sort()).toEqual(
      grantedProjects(config)
        .map((p) => p.id)
        .sort(),
    );
  });

  test('the grants of every active project are exactly its access model', () => {
    const rows = stacks.workspaces.flatMap((s) => grantsIn(s, assembly!.getStackArtifact(s.artifactId).template));
    expect(sortRows(rows)).toEqual(
      sortRows(
        expectedGrants(
          config,
          grantedProjects(config).map((p) => p.id),
        ),
      ),
    );
  });
});

describe('a generated region of 1,000 projects over 50 tables', () => {
  const dir = writeGeneratedConfig({ dir: tempDir(), projects: 1000, tables: 50 });
  const config = loadConfig(dir, { today: GENERATED_TODAY });
  const shards = shardsFor(1000);
  // The whole app, without the gates (`npm run bench:synth` synthesizes it at this size with
  // every gate on): every stack must stay within CloudFormation's limits, not only the
  // workspaces (a policy naming every project once made the airlock stack 3.5 MB).
  const { app, stacks } = createApp(config, { outdir: tempDir(), compliance: false, context: { 'sde:workspaceShards': shards } });
  const assembly = app.synth();
  const templates = stacks.workspaces.map((s) => ({
    stack: s,
    file: path.join(assembly.directory, s.templateFile),
    template: assembly.getStackArtifact(s.artifactId).template,
  }));
  const allTemplates = assembly.stacks.map((s) => ({
    id: s.id,
    bytes: fs.statSync(path.join(assembly.directory, s.templateFile)).size,
    resources: Object.keys(s.template.Resources ?? {}).length,
    outputs: Object.keys(s.template.Outputs ?? {}).length,
  }));

  test('holds projects in every state, most of them active', () => {
    expect(config.projects).toHaveLength(1000);
    expect(grantedProjects(config).length).toBeGreaterThan(800);
    expect(grantedProjects(config).length).toBeLessThan(1000);
  });

  test('every stack of the app stays under 500 resources, 200 outputs and 1 MB', () => {
    // The shards, and DataLake, AnalysisWorkspace, Airlock, Audit, Ingestion, Register, Billing.
    expect(allTemplates.length).toBe(shards + 7);
    const over = allTemplates.filter((t) => t.resources >= 500 || t.outputs > 200 || t.bytes >= 1_000_000);
    expect(over).toEqual([]);
  });

  test('every active project has exactly its access model granted, and no other project anything', () => {
    const rows = templates.flatMap((t) => grantsIn(t.stack, t.template));
    expect(sortRows(rows)).toEqual(
      sortRows(
        expectedGrants(
          config,
          grantedProjects(config).map((p) => p.id),
        ),
      ),
    );
  });

  test('Lake Formation resources are serialised in every stack', () => {
    for (const t of templates) lakeFormationChain(t.template);
  });
});
