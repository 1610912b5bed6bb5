/**
 * Where the CloudTrail fixtures are (copies of public records, see test/fixtures/SOURCES.md)
 * and small helpers to write bad input for the reader tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../helpers/config-fixture';

export const CLOUDTRAIL_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'cloudtrail');
/** Real CloudTrail records in the S3 delivery format: AWS documentation examples, OTRF, Stratus Red Team. */
export const REAL_TRAIL = path.join(CLOUDTRAIL_FIXTURES, 'real');
export const BARE_ARRAYS = path.join(CLOUDTRAIL_FIXTURES, 'formats', 'bare-arrays');
export const LOGSTASH_NDJSON = path.join(CLOUDTRAIL_FIXTURES, 'formats', 'logstash-ndjson');

/** Records in the real fixtures, counted by hand (python over the files; see SOURCES.md for the per-source counts). */
export const REAL_COUNTS = {
  files: 8,
  /** 31 AWS docs examples (33 less 2 CloudTrail Insights events) + 103 OTRF + 310 Stratus Red Team. */
  records: 444,
  insights: 2,
} as const;

export class TempDir {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-audit-test-'));

  path(rel: string): string {
    return path.join(this.dir, rel);
  }

  write(rel: string, content: string | Buffer): string {
    const file = this.path(rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
