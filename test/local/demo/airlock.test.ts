import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AirlockAuditEvent } from '../../../lib/airlock/audit-events';
import { runAirlockDemo } from '../../../lib/local/demo/airlock';
import { loadConfig } from '../../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';

test('the demo releases one output through both reviewers and shows the refusals', async () => {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-airlock-demo-'));
  try {
    const events: AirlockAuditEvent[] = [];
    const lines: string[] = [];
    const result = await runAirlockDemo({
      config: loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY }),
      workdir,
      sink: (e) => void events.push(e),
      out: (l) => lines.push(l),
    });
    expect(result.verified).toBe(true);
    expect(fs.existsSync(result.manifestPath!)).toBe(true);
    expect(result.refusals).toHaveLength(3);
    expect(result.refusals.join('\n')).toMatch(/never review their own/);
    expect(result.refusals.join('\n')).toMatch(/different reviewer/);
    expect(result.refusals.join('\n')).toMatch(/row-level output/);
    expect(events.filter((e) => e.errorCode === 'AccessDenied')).toHaveLength(2);
    expect(events.map((e) => e.eventName)).toContain('ReleaseOutput');
    expect(lines.join('\n')).not.toMatch(/[0-9a-f]{64}|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])/); // no pseudonym in what the user sees
  } finally {
    fs.rmSync(workdir, { recursive: true, force: true });
  }
});
