import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp } from '../../lib/app';
import { synthesizedStacks, synthSummaryLines } from '../../lib/cli/synth-summary';
import { COMPLIANCE_GATE_NAMES } from '../../lib/compliance/gates';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, REPO_ROOT, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-synth-summary-'));
  tmp.push(d);
  return d;
};

describe('which project is in which stack, read back from the synthesized templates', () => {
  const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY, lapsedProjects: 'revoke' });
  const outdir = tempDir();
  // The gates are tested elsewhere; this reads the assembly the app writes.
  const { app, stacks } = createApp(config, { outdir, compliance: false });
  app.synth();
  const read = synthesizedStacks(outdir);

  test('every stack is listed, and each workspace stack with exactly the projects it holds', () => {
    expect(read.map((s) => s.id).sort()).toEqual(
      app.node.children
        .filter((c) => 'templateFile' in c)
        .map((c) => c.node.id)
        .sort(),
    );
    for (const ws of stacks.workspaces) {
      expect(read.find((s) => s.id === ws.node.id)).toEqual({ id: ws.node.id, stackName: ws.stackName, projects: [...ws.workspaces.keys()].sort() });
    }
    expect(read.filter((s) => !s.id.startsWith('Workspaces-')).every((s) => s.projects.length === 0)).toBe(true);
  });

  test('the summary names each project with its stack, and says why the expired one is not deployed', () => {
    const lines = synthSummaryLines(config, read);
    expect(lines[0]).toBe(`${read.length} stacks:`);
    for (const ws of stacks.workspaces) {
      for (const id of ws.workspaces.keys()) {
        expect(lines).toContainEqual(
          expect.stringMatching(new RegExp(`^  ${id} +${ws.node.id} \\(${ws.stackName}\\); its role ARN and workgroup are that stack's outputs$`)),
        );
      }
    }
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}kcl-covid-recovery +not deployed: expired, so it has no role, workgroup or grants$/));
  });
});

test('sde synth (the real CDK CLI, offline) says the four gates passed and where each project is', () => {
  const outdir = tempDir();
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'sde.js'), 'synth', '--config', SECOND_CONFIG, '--output', outdir], {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'none', SDE_TODAY: TEST_TODAY },
    encoding: 'utf8',
  });
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(r.stdout).toContain(`Compliance gates: all 4 passed with 0 unacknowledged findings: ${COMPLIANCE_GATE_NAMES.join(', ')}.`);
  const config = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
  for (const p of config.projects) expect(r.stdout).toMatch(new RegExp(`\\n  ${p.id} +Workspaces-\\d+ \\(northwest-sde-workspaces-\\d+\\); its role ARN`));
}, 180_000);
