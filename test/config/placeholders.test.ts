import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../lib/config';
import { documentationAccountWarnings, isDocumentationAccount } from '../../lib/config/placeholders';
import { runCli } from '../../lib/cli/cli';
import { ConfigFixture, EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

/** A seeded generator, so a failure names the case it met. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const DOCUMENTATION = ['111122223333', '123456789012', '444455556666', '777788889999', '111111111111', '000000000000', '210987654321', '012345678901', '999999999999'];

describe("AWS's documentation account ids", () => {
  test('are recognised by what they are, whichever digits', () => {
    for (const id of DOCUMENTATION) expect({ id, doc: isDocumentationAccount(id) }).toEqual({ id, doc: true });
    for (let d = 0; d <= 9; d++) expect(isDocumentationAccount(String(d).repeat(12))).toBe(true);
    for (const [a, b, c] of [
      [1, 2, 3],
      [5, 5, 6],
      [9, 0, 1],
    ])
      expect(isDocumentationAccount(`${a}`.repeat(4) + `${b}`.repeat(4) + `${c}`.repeat(4))).toBe(true);
  });

  test('random real-looking account ids are not', () => {
    const r = random(7);
    let flagged = 0;
    for (let i = 0; i < 5000; i++) {
      const id = Array.from({ length: 12 }, () => Math.floor(r() * 10)).join('');
      if (isDocumentationAccount(id)) flagged++;
    }
    expect(flagged).toBe(0);
    for (const id of ['11112222333', '1111222233334', 'abcdabcdabcd', '111122223334']) expect(isDocumentationAccount(id)).toBe(false);
  });

  test('the example config is warned about in every field that names one, platform and projects alike', () => {
    const warnings = documentationAccountWarnings(loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY }));
    const where = warnings.map((w) => `${w.file.replace(/^.*config\//, '')}: ${w.field}`);
    expect(where).toEqual(expect.arrayContaining(['platform.yaml: admins[0]', 'platform.yaml: breakGlassRole', 'platform.yaml: airlock.reviewers[0].principal']));
    expect(where.some((w) => /^projects\/ncl-winter-planning\.yaml: researchers\[0\]\.principal$/.test(w))).toBe(true);
    for (const w of warnings) expect(w.fix).toMatch(/replace it with your own AWS account id/);
  });

  test('a config with real account ids everywhere has none; one planted anywhere is found where it is', async () => {
    const f = new ConfigFixture();
    try {
      // Replace every documentation id in every file with a random real-looking one.
      const r = random(11);
      // One replacement per documentation id, the same in every file (the platform's account is one account).
      const replacement = new Map<string, string>();
      const replace = (id: string) => {
        if (!replacement.has(id)) replacement.set(id, '30' + String(Math.floor(r() * 1e10)).padStart(10, '7'));
        return replacement.get(id)!;
      };
      const files = ['platform.yaml', ...fs.readdirSync(f.path('projects')).map((p) => `projects/${p}`)];
      for (const file of files) {
        const text = fs.readFileSync(f.path(file), 'utf8').replace(/\b(\d{12})\b/g, (id) => (isDocumentationAccount(id) ? replace(id) : id));
        fs.writeFileSync(f.path(file), text);
      }
      // The platform's own account must match the principals (a cross-account principal needs an externalId).
      const account = /arn:aws:iam::(\d{12}):/.exec(fs.readFileSync(f.path('platform.yaml'), 'utf8'))![1];
      f.edit('platform.yaml', (d) => (d.aws.account = account));
      const clean = loadConfig(f.dir, { today: TEST_TODAY });
      expect(documentationAccountWarnings(clean)).toEqual([]);
      const out: string[] = [];
      const err: string[] = [];
      expect(await runCli(['validate', '--config', f.dir, '--today', TEST_TODAY], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0);
      expect(err).toEqual([]);

      f.edit('projects/ucl-multimorbidity.yaml', (d) => {
        // In another account: it needs an external id, or validation refuses it first.
        d.researchers[0].principal = 'arn:aws:iam::123456789012:role/analyst';
        d.researchers[0].externalId = 'ucl-sde-2026';
      });
      f.edit('platform.yaml', (d) => (d.register.contact.url = 'https://example.org/contact?acct=444455556666'));
      const planted = documentationAccountWarnings(loadConfig(f.dir, { today: TEST_TODAY }));
      expect(planted.map((w) => [path.relative(f.dir, path.resolve(w.file)), w.field, w.message.match(/account (\d+)/)![1]])).toEqual([
        ['platform.yaml', 'register.contact.url', '444455556666'],
        ['projects/ucl-multimorbidity.yaml', 'researchers[0].principal', '123456789012'],
      ]);
      expect(await runCli(['validate', '--config', f.dir, '--today', TEST_TODAY], { out: () => undefined, err: (l) => err.push(l) })).toBe(0);
      expect(err.join("\n")).toMatch(/warning: 2 fields name an AWS documentation account id/);
    } finally {
      f.cleanup();
    }
  });
});
