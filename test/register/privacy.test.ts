/**
 * What the register must never carry, over random audit trails: no researcher (session
 * name, role, ARN), no pseudonym, no query text or row value, and no activity count from
 * 1 to the disclosure threshold. And what it must carry: the exact count when it is larger.
 */
import fc from 'fast-check';
import { airlockEvent } from '../../lib/airlock/audit-events';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { localAuditEnv, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import { loadConfig } from '../../lib/config';
import { publishedScans } from '../../lib/register/carry';
import { buildRegister, PublicCount, Register } from '../../lib/register/model';
import { renderRegisterCsv, renderRegisterHtml, renderRegisterJson } from '../../lib/register/render';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { AIRLOCK, awsRecords } from './aws-helpers';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const env = localAuditEnv(config);
const projectIds = [...config.projects.map((p) => p.id), 'not-in-config'];

interface Action {
  readonly projectId: string;
  readonly kind: 'query' | 'refused' | 'release' | 'refused-release' | 'aws-release';
  readonly month: number;
  readonly day: number;
  readonly session: string;
  readonly pseudonym: string;
  readonly rowValue: string;
  readonly bytes: number;
}

const action: fc.Arbitrary<Action> = fc.record({
  projectId: fc.constantFrom(...projectIds),
  // aws-release: the retag of a release manifest in the airlock bucket (an S3 data event).
  kind: fc.constantFrom('query', 'query', 'query', 'refused', 'release', 'refused-release', 'aws-release'),
  // Few months, so that counts in a month range around the threshold.
  month: fc.integer({ min: 9, max: 11 }),
  day: fc.integer({ min: 1, max: 28 }),
  session: fc.uuid().map((u) => `person-${u}`),
  pseudonym: fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
  rowValue: fc.stringMatching(/^ROWVAL[A-Z]{8}$/),
  bytes: fc.integer({ min: 0, max: 5_000_000_000 }),
});

const { s3Event } = awsRecords(config);

function toRecord(a: Action, i: number): CloudTrailRecord {
  const time = new Date(Date.UTC(2026, a.month - 1, a.day, 12, 0, i % 60));
  if (a.kind === 'aws-release')
    return s3Event('PutObjectTagging', `released/${a.projectId}/req-${i}/manifest.json`, time.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const researcherArn = `arn:aws:iam::111122223333:role/${a.session}`;
  switch (a.kind) {
    case 'query':
    case 'refused':
      return projectQueryEvent(env, {
        projectId: a.projectId,
        sessionName: a.session,
        queryString: `SELECT * FROM gp_events WHERE person_id = '${a.pseudonym}' AND value = '${a.rowValue}'`,
        bytesScanned: a.bytes,
        time,
        ...(a.kind === 'refused' ? { refused: { message: `refused for ${a.session}: ${a.pseudonym}` } } : {}),
      });
    case 'release':
    case 'refused-release':
      return airlockEvent(env, {
        name: 'ReleaseOutput',
        time,
        actor: researcherArn,
        requestId: `req-${i}`,
        projectId: a.projectId,
        parameters: { note: a.pseudonym, value: a.rowValue },
        ...(a.kind === 'release' ? { state: 'released' } : { refusal: { code: 'file_changed', errorCode: 'BadDigest', message: a.session } }),
      }) as unknown as CloudTrailRecord;
  }
}

function* counts(r: Register): Generator<{ where: string; c: PublicCount; bytes?: number | null }> {
  for (const p of r.projects) {
    for (const m of p.activity.months) {
      yield { where: `${p.id} ${m.month} queries`, c: m.queries, bytes: m.dataScannedBytes };
      yield { where: `${p.id} ${m.month} refused`, c: m.refusedQueries };
      yield { where: `${p.id} ${m.month} releases`, c: m.outputsReleased };
    }
  }
}

const configResearchers = config.projects.flatMap((p) => p.researchers.flatMap((r) => [r.id, r.principal]));

test('no field of the register carries a researcher, a pseudonym, query text, a row value or a small count', () => {
  fc.assert(
    fc.property(fc.array(action, { maxLength: 80 }), fc.integer({ min: 1, max: 20 }), (actions, threshold) => {
      const records = actions.map(toRecord);
      const register = buildRegister(config, records, { threshold, airlockBucket: AIRLOCK });
      const outputs = [renderRegisterJson(register), renderRegisterHtml(register), renderRegisterCsv(register)];
      const forbidden = [
        ...actions.flatMap((a) => [a.session, a.pseudonym, a.rowValue]),
        ...records.flatMap((r) => [r.userIdentity?.arn, r.userIdentity?.principalId, r.userIdentity?.sessionContext?.sessionIssuer?.arn]),
        ...configResearchers,
        'SELECT',
      ].filter((s): s is string => typeof s === 'string');
      for (const text of outputs) for (const secret of forbidden) expect(text.includes(secret)).toBe(false);

      for (const { where, c, bytes } of counts(register)) {
        if ('count' in c) {
          expect({ where, ok: c.count === 0 || c.count > threshold }).toEqual({ where, ok: true });
        } else {
          expect(c.fewerThan).toBe(threshold + 1);
          // A magnitude beside a withheld count would be a linked figure: withheld too.
          if (bytes !== undefined) expect(bytes).toBeNull();
        }
      }
    }),
    { numRuns: 150 },
  );
});

test('counts above the threshold are exact, and match the audit records', () => {
  fc.assert(
    fc.property(fc.array(action, { maxLength: 120 }), fc.integer({ min: 1, max: 10 }), (actions, threshold) => {
      const register = buildRegister(config, actions.map(toRecord), { threshold, airlockBucket: AIRLOCK });
      for (const p of register.projects) {
        for (const m of p.activity.months) {
          const inMonth = actions.filter((a) => a.projectId === p.id && `2026-${String(a.month).padStart(2, '0')}` === m.month);
          const truth = {
            queries: inMonth.filter((a) => a.kind === 'query').length,
            refused: inMonth.filter((a) => a.kind === 'refused').length,
            released: inMonth.filter((a) => a.kind === 'release' || a.kind === 'aws-release').length,
          };
          const expected = (n: number): PublicCount => (n === 0 || n > threshold ? { count: n } : { fewerThan: threshold + 1 });
          expect([m.queries, m.refusedQueries, m.outputsReleased]).toEqual([expected(truth.queries), expected(truth.refused), expected(truth.released)]);
          if (truth.queries > threshold) {
            expect(m.dataScannedBytes).toBe(inMonth.filter((a) => a.kind === 'query').reduce((n, a) => n + a.bytes, 0));
          }
        }
      }
      expect(register.projects.some((p) => p.id === 'not-in-config')).toBe(false);
    }),
    { numRuns: 100 },
  );
});

test('the register model has no field for people', () => {
  const register = buildRegister(config, []);
  const keys = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        keys.add(k);
        walk(child);
      }
    }
  };
  walk(JSON.parse(renderRegisterJson(register)));
  for (const k of keys) expect(k).not.toMatch(/researcher|principal|arn|session|user|identity|query(String|Text)|pseudonym/i);
});

test('figures carried from a previous register never stand beside a withheld count', () => {
  fc.assert(
    fc.property(
      fc.array(action, { maxLength: 60 }),
      fc.integer({ min: 1, max: 12 }),
      fc.array(
        fc.record({
          projectId: fc.constantFrom(...projectIds),
          month: fc.integer({ min: 9, max: 11 }),
          queries: fc.integer({ min: 0, max: 30 }),
          bytes: fc.integer({ min: 0, max: 1e12 }),
          partial: fc.boolean(),
        }),
        { maxLength: 12 },
      ),
      (actions, threshold, previous) => {
        const published = publishedScans({
          projects: previous.map((p) => ({
            id: p.projectId,
            activity: {
              months: [
                {
                  month: `2026-${String(p.month).padStart(2, '0')}`,
                  queries: { count: p.queries },
                  dataScannedBytes: p.bytes,
                  dataScanned: p.partial ? 'x (some queries not measured)' : 'x',
                },
              ],
            },
          })),
        });
        // As on AWS: Athena has forgotten every query, only the carried figures remain.
        const records = actions.map(toRecord).map((r) => {
          const { sdeBytesScanned: _b, ...rest } = r.additionalEventData ?? {};
          return { ...r, additionalEventData: rest };
        });
        const register = buildRegister(config, records, { threshold, airlockBucket: AIRLOCK, published });
        for (const { where, c, bytes } of counts(register)) {
          if ('count' in c) expect({ where, ok: c.count === 0 || c.count > threshold }).toEqual({ where, ok: true });
          else if (bytes !== undefined) expect(bytes).toBeNull();
        }
      },
    ),
    { numRuns: 100 },
  );
});
