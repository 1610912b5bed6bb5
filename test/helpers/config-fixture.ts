/**
 * Test helpers: a temporary copy of a config directory that a test can edit as data,
 * so each bad-config case is one small, readable change to the real example.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_CONFIG = path.join(REPO_ROOT, 'config');
export const SECOND_CONFIG = path.join(REPO_ROOT, 'test', 'fixtures', 'configs', 'second-region');
/** Tests judge approval periods on a fixed day, so they do not change meaning over time. */
export const TEST_TODAY = '2026-11-22';

export class ConfigFixture {
  readonly dir: string;

  constructor(source: string = EXAMPLE_CONFIG) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-config-'));
    fs.cpSync(source, this.dir, { recursive: true });
  }

  path(rel: string): string {
    return path.join(this.dir, rel);
  }

  /** Parses a YAML file, lets the test change it as plain data, and writes it back. */
  edit(rel: string, change: (doc: any) => void): this {
    const doc = parse(fs.readFileSync(this.path(rel), 'utf8'));
    change(doc);
    fs.writeFileSync(this.path(rel), stringify(doc));
    return this;
  }

  write(rel: string, text: string): this {
    fs.mkdirSync(path.dirname(this.path(rel)), { recursive: true });
    fs.writeFileSync(this.path(rel), text);
    return this;
  }

  remove(rel: string): this {
    fs.rmSync(this.path(rel), { recursive: true, force: true });
    return this;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
