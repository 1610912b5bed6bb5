/**
 * The register on AWS: data scanned from Athena's query metadata (the trail has only the
 * query ids), figures of months Athena has forgotten carried from the published
 * register.json, and releases from the airlock bucket's S3 data events.
 */
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { airlockEvent } from '../../lib/airlock/audit-events';
import { localAuditEnv, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import { loadConfig } from '../../lib/config';
import { projectWorkgroupName } from '../../lib/config/naming';
import { classifyRecord, queriesToMeasure } from '../../lib/register/activity';
import { ATHENA_BATCH_SIZE, bytesFromExecutions, fetchQueryExecutions } from '../../lib/register/athena';
import { carryPublishedScans, publishedScans } from '../../lib/register/carry';
import { activityInput, buildRegister, RegisterMonth } from '../../lib/register/model';
import { renderRegisterJson } from '../../lib/register/render';
import { summariseActivity, type ProjectActivity } from '../../lib/register/activity';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { AIRLOCK, awsRecords, NCL, standInAthena } from './aws-helpers';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const env = localAuditEnv(config);
const wg = (id: string) => projectWorkgroupName(config, id);
const { awsQuery, s3Event, execution } = awsRecords(config);

const input = activityInput(config, { airlockBucket: AIRLOCK });
const manifest = (project: string, req: string) => `released/${project}/${req}/manifest.json`;

describe('which airlock S3 data event is a release', () => {
  test.each<[string, CloudTrailRecord, boolean]>([
    ['the retag of the manifest to released', s3Event('PutObjectTagging', manifest(NCL, 'req-20261103-0a1b2c3d'), '2026-11-03T10:00:00Z'), true],
    [
      'a retag whose tag set CloudTrail did not log',
      s3Event('PutObjectTagging', manifest(NCL, 'req-20261103-0a1b2c3d'), '2026-11-03T10:00:00Z', { tag: null }),
      true,
    ],
    ['the manifest put (tagged staged, not readable yet)', s3Event('PutObject', manifest(NCL, 'req-20261103-0a1b2c3d'), '2026-11-03T10:00:00Z'), false],
    ['a retag to staged', s3Event('PutObjectTagging', manifest(NCL, 'req-20261103-0a1b2c3d'), '2026-11-03T10:00:00Z', { tag: 'staged' }), false],
    ['a refused retag', s3Event('PutObjectTagging', manifest(NCL, 'req-20261103-0a1b2c3d'), '2026-11-03T10:00:00Z', { errorCode: 'AccessDenied' }), false],
    [
      'the retag of a released file (not the manifest)',
      s3Event('PutObjectTagging', `released/${NCL}/req-20261103-0a1b2c3d/files/table.csv`, '2026-11-03T10:00:00Z'),
      false,
    ],
    [
      'the same key in another bucket',
      s3Event('PutObjectTagging', manifest(NCL, 'req-20261103-0a1b2c3d'), '2026-11-03T10:00:00Z', { bucket: 'onelondon-sde-curated' }),
      false,
    ],
    ['a project not in the config', s3Event('PutObjectTagging', manifest('not-a-project', 'req-20261103-0a1b2c3d'), '2026-11-03T10:00:00Z'), false],
    ['a submission', s3Event('PutObject', `submissions/${NCL}/req-20261103-0a1b2c3d/request.json`, '2026-11-03T10:00:00Z'), false],
  ])('%s: %s', (_name, record, release) => {
    expect(classifyRecord(record, input)?.kind === 'release').toBe(release);
  });

  test('no S3 event is a release when the airlock bucket is not known', () => {
    expect(classifyRecord(s3Event('PutObjectTagging', manifest(NCL, 'req-1'), '2026-11-03T10:00:00Z'), activityInput(config))).toBeUndefined();
  });

  test('one release per request, in the month of its first retag, however often retagged or also logged by the airlock', () => {
    const req = 'req-20261030-0a1b2c3d';
    const records = [
      s3Event('PutObjectTagging', manifest(NCL, req), '2026-11-02T09:00:00Z'), // re-tagged later
      s3Event('PutObjectTagging', manifest(NCL, req), '2026-10-31T23:59:00Z'),
      s3Event('PutObjectTagging', manifest(NCL, req), '2026-10-31T23:59:00Z'), // delivered twice
      airlockEvent(env, {
        name: 'ReleaseOutput',
        time: new Date('2026-10-31T23:58:00Z'),
        actor: 'x',
        requestId: req,
        projectId: NCL,
        state: 'released',
      }) as unknown as CloudTrailRecord,
      s3Event('PutObjectTagging', manifest(NCL, 'req-20261101-0a1b2c3d'), '2026-11-01T08:00:00Z'),
    ];
    const months = summariseActivity(records, input).get(NCL)!.months;
    expect(months.map((m) => [m.month, m.outputsReleased, m.queries])).toEqual([
      ['2026-10', 1, 0],
      ['2026-11', 1, 0],
    ]);
  });

  test('releases from S3 events go through the disclosure threshold like any count', () => {
    const records = Array.from({ length: 9 }, (_, i) =>
      s3Event('PutObjectTagging', manifest(NCL, `req-2026110${1 + (i % 5)}-0000000${i}`), '2026-11-05T10:00:00Z'),
    );
    const month = (n: number) =>
      buildRegister(config, records.slice(0, n), { threshold: 7, airlockBucket: AIRLOCK }).projects.find((p) => p.id === NCL)!.activity.months[0];
    expect(month(7).outputsReleased).toEqual({ fewerThan: 8 });
    expect(month(9).outputsReleased).toEqual({ count: 9 });
    const text = renderRegisterJson(buildRegister(config, records, { threshold: 7, airlockBucket: AIRLOCK }));
    expect(text).not.toContain('SdeOutputChecker1');
    expect(text).not.toContain('reviewer-session');
  });
});

describe('bytes scanned from Athena', () => {
  test('bytesFromExecutions keeps final executions in the workgroup the trail named', () => {
    const expected = new Map([
      ['a', wg(NCL)],
      ['b', wg(NCL)],
      ['c', wg(NCL)],
      ['d', wg(NCL)],
      ['e', wg(NCL)],
    ]);
    const got = bytesFromExecutions(
      [
        execution('a', 100),
        execution('b', 200, { state: 'RUNNING' }),
        execution('c', 300, { workGroup: 'primary' }),
        execution('d', 400, { state: 'FAILED' }),
        execution('e', 500, { state: 'CANCELLED' }),
        execution('zz', 9),
      ],
      expected,
    );
    expect([...got]).toEqual([
      ['a', 100],
      ['d', 400],
      ['e', 500],
    ]);
  });

  test('queriesToMeasure takes the successful project queries without bytes of their own', () => {
    const local = projectQueryEvent(env, {
      projectId: NCL,
      sessionName: 's',
      queryString: 'SELECT 1',
      bytesScanned: 5,
      time: new Date('2026-11-01T00:00:00Z'),
      queryExecutionId: 'local',
    });
    const refused = projectQueryEvent(env, {
      projectId: NCL,
      sessionName: 's',
      queryString: 'SELECT 1',
      time: new Date('2026-11-01T00:00:00Z'),
      refused: { message: 'no' },
    });
    const other = awsQuery('other', '2026-11-01T00:00:00Z');
    const records = [
      awsQuery('q1', '2026-11-01T00:00:00Z'),
      local,
      refused,
      { ...other, requestParameters: { ...other.requestParameters, workGroup: 'primary' } },
    ];
    expect([...queriesToMeasure(records, input)]).toEqual([['q1', wg(NCL)]]);
    // Queries older than Athena's history are not asked about.
    expect([
      ...queriesToMeasure([awsQuery('old', '2026-09-01T00:00:00Z'), awsQuery('new', '2026-11-01T00:00:00Z')], input, '2026-10-01T00:00:00Z').keys(),
    ]).toEqual(['new']);
  });

  test('fetchQueryExecutions asks in batches of 50 and counts what Athena no longer knows', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `q-${i}`);
    const known = new Map(ids.slice(30).map((id) => [id, execution(id, 1)]));
    const athena = standInAthena(known);
    const fetched = await fetchQueryExecutions(athena, ids);
    expect(athena.calls.map((c) => c.length)).toEqual([ATHENA_BATCH_SIZE, ATHENA_BATCH_SIZE, 20]);
    expect(fetched).toMatchObject({ unprocessed: 30, calls: 3 });
    expect(fetched.executions).toHaveLength(90);
  });

  test('the measured bytes are the month figure, exactly as local records give it', async () => {
    const records = Array.from({ length: 10 }, (_, i) => awsQuery(`q-${i}`, `2026-11-${String(i + 1).padStart(2, '0')}T10:00:00Z`));
    const athena = standInAthena(new Map(records.map((_, i) => [`q-${i}`, execution(`q-${i}`, 1_000_000)])));
    const toMeasure = queriesToMeasure(records, input);
    const bytes = bytesFromExecutions((await fetchQueryExecutions(athena, [...toMeasure.keys()])).executions, toMeasure);
    const month = buildRegister(config, records, { threshold: 7, bytesByQueryId: bytes }).projects.find((p) => p.id === NCL)!.activity.months[0];
    expect(month).toMatchObject({ queries: { count: 10 }, dataScannedBytes: 10_000_000, dataScanned: '10 MB' });
    // Without Athena: not recorded, as before.
    expect(buildRegister(config, records, { threshold: 7 }).projects.find((p) => p.id === NCL)!.activity.months[0].dataScanned).toBe('not recorded');
  });
});

describe('months Athena has forgotten: the published figure carries over', () => {
  const published = (months: Partial<RegisterMonth>[], id = NCL) => publishedScans({ projects: [{ id, activity: { months } }] });
  const fresh = (queries: number, measured: number, bytes: number) => {
    return new Map<string, ProjectActivity>([
      [NCL, { months: [{ month: '2026-09', queries, refused: 0, bytesScanned: bytes, queriesWithBytes: measured, outputsReleased: 0 }] }],
    ]);
  };
  const prev = (queries: number | 'few', bytes: number | null, partial = false): Partial<RegisterMonth> => ({
    month: '2026-09',
    queries: queries === 'few' ? { fewerThan: 8 } : { count: queries },
    dataScannedBytes: bytes,
    dataScanned: bytes === null ? 'not shown (few queries)' : partial ? '1 MB (some queries not measured)' : '1 MB',
  });

  test.each<[string, [number, number, number], Partial<RegisterMonth> | undefined, { bytes: number; complete: boolean } | undefined]>([
    ['fresh measures every query: fresh, whatever was published', [10, 10, 500], prev(10, 900), undefined],
    ['Athena forgot them all, published complete: published', [10, 0, 0], prev(10, 900), { bytes: 900, complete: true }],
    ['Athena forgot some, published complete: published, not the sum', [10, 4, 300], prev(10, 900), { bytes: 900, complete: true }],
    ['published partial, larger: the larger lower bound, partial', [10, 4, 300], prev(10, 600, true), { bytes: 600, complete: false }],
    ['published partial, smaller: fresh', [10, 6, 700], prev(10, 600, true), undefined],
    ['published for fewer queries than today: a lower bound', [12, 0, 0], prev(10, 900), { bytes: 900, complete: false }],
    ['published for more queries than today: not carried', [9, 0, 0], prev(10, 900), undefined],
    ['published withheld (few queries): nothing to carry', [10, 0, 0], prev('few', null), undefined],
    ['nothing published for the month', [10, 0, 0], undefined, undefined],
  ])('%s', (_name, [queries, measured, bytes], previous, carried) => {
    const activity = fresh(queries, measured, bytes);
    carryPublishedScans(activity, published(previous ? [previous] : []));
    expect(activity.get(NCL)!.months[0].carried).toEqual(carried);
  });

  test('publishedScans refuses a file that is not a register and skips unusable months', () => {
    expect(() => publishedScans({ hello: 1 })).toThrow(/not a register/);
    expect(() => publishedScans(null)).toThrow(/not a register/);
    const scans = published([{ month: 'x' } as Partial<RegisterMonth>, { ...prev(10, 900), dataScannedBytes: -1 }, prev(10, 900)]);
    expect([...scans.get(NCL)!]).toEqual([['2026-09', { queries: 10, bytes: 900, complete: true }]]);
  });

  test('a carried figure is published only beside a shown count, and renders as before', () => {
    const records = Array.from({ length: 10 }, (_, i) => awsQuery(`old-${i}`, `2026-09-${String(i + 1).padStart(2, '0')}T10:00:00Z`));
    const earlier = JSON.parse(
      renderRegisterJson(buildRegister(config, records, { threshold: 7, bytesByQueryId: new Map(records.map((_, i) => [`old-${i}`, 2_000_000])) })),
    );
    // Months later, Athena knows none of them: the figure comes from the published register.
    const month = (threshold: number) =>
      buildRegister(config, records, { threshold, published: publishedScans(earlier) }).projects.find((p) => p.id === NCL)!.activity.months[0];
    expect(month(7)).toMatchObject({ queries: { count: 10 }, dataScannedBytes: 20_000_000, dataScanned: '20 MB' });
    // The threshold raised since: the count is withheld, and so is the carried figure.
    expect(month(10)).toMatchObject({ queries: { fewerThan: 11 }, dataScannedBytes: null, dataScanned: 'not shown (few queries)' });
  });
});
