/**
 * Spreading projects over WorkspacesStacks: the pure assignment, and what it means for the
 * synthesized stacks (adding or ending a project changes no other project's stack).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../lib/app';
import { loadConfig } from '../../lib/config';
import {
  assignWorkspaceShards,
  DEFAULT_WORKSPACE_SHARDS,
  jumpHash,
  parseShardCount,
  projectKey,
  WORKSPACE_SHARDS_CONTEXT,
  workspaceShardOf,
} from '../../lib/stacks/workspace-sharding';
import { GENERATED_TODAY, generatedProjectId, writeGeneratedConfig } from '../../bench/generate-config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-shards-'));
  tmp.push(d);
  return d;
};

describe('the assignment (pure)', () => {
  test('jump hash matches the reference implementation (Lamping & Veach)', () => {
    // Values computed with the paper's C++ algorithm.
    expect([jumpHash(0n, 1), jumpHash(1n, 10), jumpHash(0xdeadbeefn, 128), jumpHash(0xffffffffffffffffn, 1000)]).toEqual([0, 6, 96, 585]);
  });

  test('a project key is the first 8 bytes of the SHA-256 of its id', () => {
    expect(projectKey('ucl-multimorbidity').toString(16).padStart(16, '0')).toHaveLength(16);
    expect(projectKey('a')).toBe(0xca978112ca1bbdcan);
  });

  test("a project's shard depends on its own id only, whatever other projects exist", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 200 }), (ids, n) => {
        const shards = assignWorkspaceShards(ids, n);
        expect(shards).toHaveLength(n);
        for (const id of ids) expect(shards[workspaceShardOf(id, n)]).toContain(id);
        // Any subset of the projects lands in the same shards.
        const subset = assignWorkspaceShards(ids.slice(0, Math.ceil(ids.length / 2)), n);
        subset.forEach((list, i) => list.forEach((id) => expect(shards[i]).toContain(id)));
      }),
    );
  });

  test('raising the shard count moves projects only into the new shards, never between old ones', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{2,39}$/), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }), (id, a, extra) => {
        const before = workspaceShardOf(id, a);
        const after = workspaceShardOf(id, a + extra);
        expect(after === before || after >= a).toBe(true);
      }),
    );
  });

  test('spreads 1,000 projects evenly enough over 84 shards (fullest shard under twice the mean)', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => generatedProjectId(i));
    const sizes = assignWorkspaceShards(ids, 84).map((s) => s.length);
    expect(Math.max(...sizes)).toBeLessThan((2 * 1000) / 84);
  });

  test.each([
    [undefined, DEFAULT_WORKSPACE_SHARDS],
    ['', DEFAULT_WORKSPACE_SHARDS],
    [24, 24],
    ['64', 64],
  ])('shard count %p from context is %p', (value, expected) => {
    expect(parseShardCount(value)).toBe(expected);
  });

  test.each([[0], ['-3'], [1.5], ['sixteen'], [5000]])('refuses shard count %p with what to write', (value) => {
    expect(() => parseShardCount(value)).toThrow(/sde:workspaceShards is .* whole number from 1 to 1000.*moves some projects/);
  });
});

describe('shard stacks', () => {
  const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });

  test('every shard has a stack, even with no project, holding only its marker', () => {
    const { stacks } = createApp(config, { compliance: false });
    expect(stacks.workspaces.map((s) => s.stackName)).toEqual(Array.from({ length: DEFAULT_WORKSPACE_SHARDS }, (_, i) => `onelondon-sde-workspaces-${i}`));
    const empty = stacks.workspaces.filter((s) => s.workspaces.size === 0);
    expect(empty.length).toBeGreaterThan(0);
    for (const stack of empty) {
      expect(Object.values(Template.fromStack(stack).toJSON().Resources).map((r: any) => r.Type)).toEqual(['AWS::CloudFormation::WaitConditionHandle']);
    }
  });

  test('each project is in the stack its id hashes to', () => {
    const { stacks } = createApp(config, { compliance: false });
    for (const stack of stacks.workspaces) {
      for (const id of stack.workspaces.keys()) expect(workspaceShardOf(id, DEFAULT_WORKSPACE_SHARDS)).toBe(stack.shard);
    }
  });

  test(`the shard count comes from the ${WORKSPACE_SHARDS_CONTEXT} context`, () => {
    const { stacks } = createApp(config, { compliance: false, context: { [WORKSPACE_SHARDS_CONTEXT]: '3' } });
    expect(stacks.workspaces.map((s) => s.node.id)).toEqual(['Workspaces-0', 'Workspaces-1', 'Workspaces-2']);
    expect(stacks.workspaces.flatMap((s) => [...s.workspaces.keys()]).sort()).toEqual(['medisight-prescribing', 'ncl-winter-planning', 'ucl-multimorbidity']);
  });

  test('every shard stack deploys after the data lake stack (settings, database and tables first)', () => {
    const { stacks } = createApp(config, { compliance: false });
    for (const stack of stacks.workspaces) expect(stack.dependencies).toContain(stacks.dataLake);
  });

  test('a shard over the CloudFormation limit of 500 resources fails synth, saying what to change', () => {
    const dir = writeGeneratedConfig({ dir: tempDir(), projects: 60, tables: 10 });
    const { app } = createApp(loadConfig(dir, { today: GENERATED_TODAY }), { compliance: false, context: { [WORKSPACE_SHARDS_CONTEXT]: 1 } });
    expect(() => app.synth()).toThrow(
      /bench-sde-workspaces-0 holds \d{3,} resources; CloudFormation allows 500 per stack\. Raise the context sde:workspaceShards/,
    );
  });
});

/**
 * The data lake and workspace templates of an app, by stack id. (Portfolio-wide stacks,
 * such as the airlock's bucket policy naming every project role, change with any project
 * by design; the claim here is about where each project's own resources live.)
 */
function synthTemplates(configDir: string): Map<string, any> {
  const { app } = createApp(loadConfig(configDir, { today: GENERATED_TODAY }), { compliance: false, outdir: tempDir() });
  const assembly = app.synth();
  return new Map(assembly.stacks.filter((s) => /^(DataLake|Workspaces-\d+)$/.test(s.id)).map((s) => [s.id, s.template]));
}

describe('adding or ending a project changes no other project', () => {
  const before = synthTemplates(writeGeneratedConfig({ dir: tempDir(), projects: 40, tables: 12 }));
  const newId = generatedProjectId(40);
  const after = synthTemplates(writeGeneratedConfig({ dir: tempDir(), projects: 41, tables: 12 }));
  const shardOfNew = `Workspaces-${workspaceShardOf(newId, DEFAULT_WORKSPACE_SHARDS)}`;

  test('the generated config adds exactly one active project', () => {
    const config = loadConfig(writeGeneratedConfig({ dir: tempDir(), projects: 41, tables: 12 }), { today: GENERATED_TODAY });
    expect(config.projects.at(-1)!.id).toBe(newId);
    expect(JSON.stringify(after.get(shardOfNew))).toContain(newId);
  });

  test('the data lake and every workspace stack but the new project’s shard are unchanged, byte for byte', () => {
    // (Sorted: a shard's first project makes it wait for the audit stack's alarm topic, which moves it in the deployment order.)
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect(after.size).toBe(1 + DEFAULT_WORKSPACE_SHARDS);
    const changed = [...after.keys()].filter((id) => JSON.stringify(after.get(id)) !== JSON.stringify(before.get(id)));
    expect(changed).toEqual([shardOfNew]);
  });

  test('in that shard, every other project keeps its resources: same ids, types and properties', () => {
    const old = before.get(shardOfNew).Resources;
    const now = after.get(shardOfNew).Resources;
    for (const [id, resource] of Object.entries<any>(old)) {
      expect(now[id]).toBeDefined();
      expect({ id, Type: now[id].Type, Properties: now[id].Properties }).toEqual({ id, Type: resource.Type, Properties: resource.Properties });
    }
    const added = Object.keys(now).filter((id) => !(id in old));
    expect(added.length).toBeGreaterThan(0);
    expect(added.filter((id) => !id.startsWith(`Project${newId.replace(/-/g, '')}`))).toEqual([]);
    // The new project joins the Lake Formation chain: at most one existing resource now
    // waits for one of the new project's resources instead of its old predecessor.
    const rewired = Object.keys(old).filter((id) => JSON.stringify(old[id].DependsOn) !== JSON.stringify(now[id].DependsOn));
    expect(rewired.length).toBeLessThanOrEqual(1);
    for (const id of rewired) expect(now[id].DependsOn.some((d: string) => added.includes(d))).toBe(true);
  });

  test('ending a project changes only its own shard', () => {
    const dir = writeGeneratedConfig({ dir: tempDir(), projects: 41, tables: 12 });
    const file = path.join(dir, 'projects', `${newId}.yaml`);
    fs.writeFileSync(file, `status: expired\n${fs.readFileSync(file, 'utf8')}`);
    const ended = synthTemplates(dir);
    expect(JSON.stringify([...ended.values()])).not.toContain(newId);
    expect([...ended.keys()].filter((id) => JSON.stringify(ended.get(id)) !== JSON.stringify(after.get(id)))).toEqual([shardOfNew]);
    // …and leaves it as it was before the project was added.
    expect(ended.get(shardOfNew)).toEqual(before.get(shardOfNew));
  });
});
