/**
 * `sde optout`: usage errors name the option and the fix, before anything runs; a list with
 * a bad line is refused naming line numbers only, with nothing changed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../lib/cli/cli';
import { EXAMPLE_CONFIG } from '../helpers/config-fixture';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-optout-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await runCli(['optout', ...args, '--config', EXAMPLE_CONFIG, '--workdir', path.join(dir, 'work')], {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
  });
  return { code, text: lines.join('\n') };
}

test.each([
  [[], /sde optout apply --opt-out FILE/],
  [['remove', '--opt-out', 'x'], /sde optout apply --opt-out FILE/],
  [['apply'], /--opt-out FILE is required/],
  [['apply', '--opt-out', '/nonexistent/list.txt'], /--opt-out \/nonexistent\/list\.txt: no such file/],
])('usage error %j', async (args, message) => {
  const { code, text } = await run(args);
  expect(code).toBe(2);
  expect(text).toMatch(message);
});

test('a date not written YYYY-MM-DD is refused', async () => {
  const list = path.join(dir, 'list.txt');
  fs.writeFileSync(list, '9434765919\n');
  const { code, text } = await run(['apply', '--opt-out', list, '--date', '07/12/2026']);
  expect([code, text]).toEqual([2, expect.stringMatching(/--date must be written YYYY-MM-DD/)]);
});

test('a list with a line that is not an NHS number is refused naming the line, never its content', async () => {
  const list = path.join(dir, 'bad.txt');
  fs.writeFileSync(list, '9434765919\n9434765918\n');
  const { code, text } = await run(['apply', '--opt-out', list]);
  expect(code).toBe(2);
  expect(text).toMatch(/line 2\)/);
  expect(text).not.toContain('9434765918');
  expect(text).not.toContain('9434765919');
});
