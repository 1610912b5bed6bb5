/**
 * The step-by-step guides say of every command whether it runs locally or needs an AWS
 * account; each local `sde` command is parsed by the real command line (the command
 * exists, every option is one it takes), so a guide cannot drift from the CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { COMMANDS } from '../../lib/cli/cli';
import { REPO_ROOT } from '../helpers/config-fixture';

const GUIDES = ['docs/deploy.md', 'docs/researchers.md'];

/** The commands of a guide's bash blocks, continuation lines joined, with their comments. */
function commandsOf(file: string): { line: string; comment: string }[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const out: { line: string; comment: string }[] = [];
  for (const block of text.matchAll(/^ *```bash\n([\s\S]*?)^ *```/gm)) {
    const joined = block[1].replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.trim();
      if (line === '') continue;
      const hash = line.search(/\s#\s/);
      out.push(hash < 0 ? { line, comment: '' } : { line: line.slice(0, hash).trim(), comment: line.slice(hash).replace(/^\s#\s*/, '') });
    }
  }
  return out;
}

/** Shell words: quotes group, and are removed. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe.each(GUIDES)('%s', (file) => {
  const commands = commandsOf(file);

  test('has commands, each marked local or AWS', () => {
    expect(commands.length).toBeGreaterThan(5);
    for (const c of commands) expect({ line: c.line, marked: /^(local|AWS)\b/.test(c.comment) }).toEqual({ line: c.line, marked: true });
  });

  test('every local sde command is one the CLI takes, with options it takes', () => {
    const local = commands.filter((c) => c.comment.startsWith('local'));
    expect(local.length).toBeGreaterThan(2);
    for (const c of local) {
      for (const part of c.line.split('&&').map((p) => p.trim())) {
        const w = words(part);
        if (w[0] === 'npm') {
          expect(['install', 'start', 'test']).toContain(w[1]);
          continue;
        }
        expect(w[0]).toBe('npx');
        if (w[1] === 'cdk') {
          expect(w[2]).toBe('synth');
          continue;
        }
        expect(w[1]).toBe('sde');
        const command = COMMANDS.find((x) => x.name === w[2]);
        expect({ part, known: command !== undefined }).toEqual({ part, known: true });
        const options = Object.fromEntries(Object.entries(command!.options).map(([k, { description: _d, valueName: _v, ...spec }]) => [k, spec]));
        expect(() =>
          parseArgs({ args: w.slice(3), options, allowPositionals: command!.allowPositionals ?? false, strict: true } as Parameters<typeof parseArgs>[0]),
        ).not.toThrow();
      }
    }
  });
});

test('researchers.md links the analysis workspace guide and describes sde query --athena as the issue asks', () => {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'docs/researchers.md'), 'utf8');
  expect(text).toContain('](analysis-workspace.md)');
  expect(text.replace(/\s+/g, ' ')).toContain("`sde query --athena` runs the same SQL in the project's Athena workgroup from the analysis workspace");
});
