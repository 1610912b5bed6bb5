/**
 * The layering rules of eslint.config.mjs bite: each planted upward import (a file placed,
 * by its path, in a lower layer, importing a real module of a higher one) is refused by
 * `import-x/no-restricted-paths`, a planted import circle by `import-x/no-cycle`, and the
 * allowed directions pass. ESLint runs in a child process (its config is an ES module).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');

interface Planted {
  readonly file: string;
  readonly imports: string;
  readonly refusedBy?: 'import-x/no-restricted-paths' | 'import-x/no-cycle';
}

const PLANTED: readonly Planted[] = [
  { file: 'lib/config/planted.ts', imports: '../airlock/workflow', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/config/planted.ts', imports: '../billing/money', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/airlock/planted.ts', imports: '../constructs/airlock/airlock-bucket', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/query/planted.ts', imports: '../local/workdir', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/register/planted.ts', imports: '../local/runners/register', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/ingest/core/planted.ts', imports: '../../cli/cli', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/audit/planted.ts', imports: '../stacks/audit-stack', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/optout/planted.ts', imports: '../local/runners/ingest', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/constructs/storage/planted.ts', imports: '../../stacks/data-lake-stack', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/stacks/planted.ts', imports: '../local/workdir', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lib/local/planted.ts', imports: '../cli/cli', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lambdas/ingest/planted.ts', imports: '../../lib/local/workdir', refusedBy: 'import-x/no-restricted-paths' },
  { file: 'lambdas/ingest/planted.ts', imports: '../../lib/constructs/shared/platform-function', refusedBy: 'import-x/no-restricted-paths' },
  // demo.ts imports the ingest runner: the runner importing the demo back closes a circle.
  { file: 'lib/local/runners/ingest.ts', imports: '../demo/demo', refusedBy: 'import-x/no-cycle' },
  // Allowed directions.
  { file: 'lib/airlock/planted.ts', imports: '../config/schema' },
  { file: 'lib/billing/planted.ts', imports: '../audit/cloudtrail-record' },
  { file: 'lib/constructs/audit/planted.ts', imports: '../../audit/named-queries' },
  { file: 'lib/stacks/planted.ts', imports: '../constructs/storage/secure-bucket' },
  { file: 'lib/cli/planted.ts', imports: '../local/workdir' },
  { file: 'lambdas/ingest/planted.ts', imports: '../../lib/ingest/batch' },
  { file: 'lib/optout/planted.ts', imports: '../ingest/manifest' },
];

/** Lints each planted source (one import line) at its path, in one ESLint run. */
function lintPlanted(planted: readonly Planted[]): { file: string; rules: string[] }[] {
  const script = `
    import { ESLint } from 'eslint';
    const cases = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = [];
    for (const c of cases) {
      const [result] = await eslint.lintText("import * as planted from '" + c.imports + "';\\nexport const used = planted;\\n", { filePath: c.file });
      out.push({ file: c.file, rules: result.messages.map((m) => m.ruleId ?? m.message) });
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const text = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(planted)], { cwd: REPO, encoding: 'utf8' });
  return JSON.parse(text) as { file: string; rules: string[] }[];
}

const results = lintPlanted(PLANTED);

test.each(PLANTED.map((p, i) => [p.file, p.imports, p.refusedBy ?? 'nothing', i] as const))('%s importing %s is refused by %s', (_file, _imports, rule, i) => {
  const found = results[i].rules;
  if (rule === 'nothing') expect(found.filter((r) => r.startsWith('import-x/'))).toEqual([]);
  else expect(found).toContain(rule);
});
