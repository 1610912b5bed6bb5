import { closeAllAuditWriters } from '../../lib/audit/local-audit-writer';
import { localAuditSummary, summariseAudit } from '../../lib/audit/summary';
import { loadConfig } from '../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { TempDir } from './helpers/fixtures';
import { writeDemoTrail } from './helpers/local-trail';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const tmp = new TempDir();
afterAll(() => {
  tmp.cleanup();
  closeAllAuditWriters();
});

test('counts what a demo run recorded, per project', () => {
  const { records } = writeDemoTrail(config, tmp.dir);
  const s = summariseAudit(records);
  expect({
    records: s.records,
    ingestionWrites: s.ingestionWrites,
    queriesAllowed: s.queriesAllowed,
    queriesRefused: s.queriesRefused,
    releases: s.releases,
  }).toEqual({
    records: 7,
    ingestionWrites: 2,
    queriesAllowed: 1,
    queriesRefused: 2,
    releases: 1,
  });
  expect(s.byProject.get('ncl-winter-planning')).toEqual({ queriesAllowed: 1, queriesRefused: 1, bytesScanned: 52_345, releases: 1 });
});

test('the summary lines say whether the trail verified, with its signed head', async () => {
  const lines = await localAuditSummary(tmp.dir);
  expect(lines[0]).toMatch(/^audit: 7 records in .* \(2 ingestion writes, 1 query allowed, 2 refused, 1 output release\)$/);
  expect(lines[1]).toMatch(/^ {2}verified: hash chain of 7 entries, signed head [0-9a-f]{16}… \(entry 7, key [0-9a-f]{16}…\)$/);
  expect(lines).toContain('  kcl-covid-recovery: 0 queries allowed (0 bytes scanned), 1 refused, 0 releases');
});

test('counts a release the local airlock recorded (its own event source), not its refused attempts', async () => {
  const { runAirlockDemo } = await import('../../lib/local/demo/airlock');
  const events: any[] = [];
  await runAirlockDemo({ config, workdir: tmp.dir, sink: (e) => void events.push(e) });
  const s = summariseAudit(events);
  expect(events.filter((e) => e.eventName === 'ReleaseOutput').length).toBeGreaterThanOrEqual(1);
  expect(s.releases).toBe(1);
  expect(s.ingestionWrites).toBe(0);
});

test('every call that makes an object appear is an ingestion write (a copy into place, a joined batch), not the steps or deletes', () => {
  const s3 = (eventName: string, errorCode?: string) =>
    ({ eventSource: 's3.amazonaws.com', eventName, ...(errorCode === undefined ? {} : { errorCode }) }) as any;
  const s = summariseAudit([
    s3('PutObject'),
    s3('CopyObject'),
    s3('CompleteMultipartUpload'),
    s3('UploadPartCopy'),
    s3('CreateMultipartUpload'),
    s3('DeleteObject'),
    s3('PutObject', 'AccessDenied'),
  ]);
  expect(s.ingestionWrites).toBe(3);
});
