import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../lib/config';
import { bucketNames, ensurePseudonymKey, workdirLayout } from '../../lib/local/workdir';
import { EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-workdir-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('the local workdir', () => {
  test('creates its folders readable by the owner only', () => {
    const layout = workdirLayout(path.join(root, 'a', '.sde'));
    expect(layout.root).toBe(path.join(root, 'a', '.sde'));
    for (const dir of [layout.root, layout.s3, layout.keys, layout.generated, layout.out, layout.cache]) {
      expect(mode(dir)).toBe(0o700);
    }
  });

  test('tightens its own folders if they already exist with wider permissions', () => {
    const dir = path.join(root, 'b');
    fs.mkdirSync(path.join(dir, 'keys'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(dir, 'keys'), 0o755);
    expect(mode(workdirLayout(dir).keys)).toBe(0o700);
  });

  test('refuses a workdir that is a file', () => {
    const file = path.join(root, 'not-a-folder');
    fs.writeFileSync(file, '');
    expect(() => workdirLayout(file)).toThrow(/exists and is not a folder/);
  });

  test('keeps one pseudonymisation key, mode 600, and refuses one others can read', () => {
    const layout = workdirLayout(path.join(root, 'c'));
    const key = ensurePseudonymKey(layout);
    expect(key).toHaveLength(32);
    expect(ensurePseudonymKey(layout).equals(key)).toBe(true);
    const file = path.join(layout.keys, 'pseudonym.key');
    expect(mode(file)).toBe(0o600);
    fs.chmodSync(file, 0o644);
    expect(() => ensurePseudonymKey(layout)).toThrow(/chmod 600/);
  });
});

describe('local bucket names', () => {
  test('one per zone, from the platform name', () => {
    expect(bucketNames(loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY }))).toEqual({
      landing: 'onelondon-sde-landing',
      quarantine: 'onelondon-sde-quarantine',
      curated: 'onelondon-sde-curated',
      results: 'onelondon-sde-results',
      accessLogs: 'onelondon-sde-access-logs',
    });
  });

  test('are valid S3 bucket names for any config', () => {
    for (const dir of [EXAMPLE_CONFIG, SECOND_CONFIG]) {
      for (const name of Object.values(bucketNames(loadConfig(dir, { today: TEST_TODAY })))) {
        expect(name).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
      }
    }
  });
});
