/**
 * The register's later opt-outs: per month, how many people's records were removed, and
 * when the last list was applied, read only from the runs' traces in the audit trail (the
 * PutObject of a key that carries the counts). A resumed run's second trace is the same
 * run; a trace in another bucket, a failed write or any other key counts for nothing; a
 * small count is withheld as every count is; the page says it in words.
 */
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { ingestionWriteEvent, localAuditEnv } from '../../lib/audit/local-audit-writer';
import { loadConfig } from '../../lib/config';
import { appliedTraceKey } from '../../lib/optout/layout';
import { buildRegister } from '../../lib/register/model';
import { renderRegisterHtml } from '../../lib/register/render';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const env = localAuditEnv(config);
const CURATED = 'onelondon-sde-curated';
const sha = (c: string) => c.repeat(64);

function trace(time: string, list: string, listDate: string, people: number, rows: number, bucket = CURATED): CloudTrailRecord {
  return ingestionWriteEvent(env, { bucket, key: appliedTraceKey(list, listDate, people, rows), bytes: 3, time: new Date(time) });
}

const records: CloudTrailRecord[] = [
  trace('2026-10-03T05:01:00Z', sha('a'), '2026-10-02', 40, 900),
  // The same list's trace again (a resumed run wrote it twice): one run.
  trace('2026-10-04T05:01:00Z', sha('a'), '2026-10-02', 40, 900),
  trace('2026-11-02T05:01:00Z', sha('b'), '2026-11-01', 3, 12),
  trace('2026-11-09T05:01:00Z', sha('c'), '2026-11-08', 30, 500),
  // Not counted: another bucket, a failed write, another key in curated.
  trace('2026-11-10T05:01:00Z', sha('d'), '2026-11-09', 1000, 9000, 'someone-else'),
  { ...trace('2026-11-11T05:01:00Z', sha('e'), '2026-11-10', 1000, 9000), errorCode: 'AccessDenied' },
  ingestionWriteEvent(env, { bucket: CURATED, key: '_optout/applied/list-0000000000000000/listed-2026-11-10/people-x/rows-1.json', bytes: 3 }),
];

const register = buildRegister(config, records, { curatedBucket: CURATED });

test('people removed per month: one count per run, a small count withheld like every count', () => {
  expect(register.optOuts.months).toEqual([
    { month: '2026-10', peopleRemoved: { count: 40 } },
    { month: '2026-11', peopleRemoved: { count: 33 } },
  ]);
  const small = buildRegister(config, [trace('2026-12-01T05:00:00Z', sha('f'), '2026-11-30', 4, 9)], { curatedBucket: CURATED });
  expect(small.optOuts.months).toEqual([{ month: '2026-12', peopleRemoved: { fewerThan: 11 } }]);
});

test('when the last list was applied, and its date', () => {
  expect(register.optOuts.lastApplied).toEqual({ appliedAt: '2026-11-09T05:01:00Z', listDate: '2026-11-08' });
});

test('with no run in the trail, the register says none was applied', () => {
  expect(buildRegister(config, [], { curatedBucket: CURATED }).optOuts).toEqual({ lastApplied: null, months: [] });
  expect(renderRegisterHtml(buildRegister(config, []))).toContain('No national data opt-out list has been applied to data already held yet');
});

test('the page says it in words, with the counts and the dates', () => {
  const html = renderRegisterHtml(register);
  expect(html).toContain('<h2>People who opted out</h2>');
  expect(html).toMatch(/The latest list \(dated <time datetime="2026-11-08">[^<]+<\/time>\) was applied to all the data held on/);
  expect(html).toMatch(/<th scope="row">October 2026<\/th><td>40<\/td>/);
});
