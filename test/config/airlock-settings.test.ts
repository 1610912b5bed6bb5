import * as path from 'node:path';
import { airlockSchema, airlockSettings, DEFAULT_AIRLOCK_SETTINGS } from '../../lib/config/airlock-settings';
import { loadConfig, validateConfigDir } from '../../lib/config';
import { ConfigFixture, TEST_TODAY } from '../helpers/config-fixture';

const fixtures: ConfigFixture[] = [];
afterAll(() => fixtures.forEach((f) => f.cleanup()));

/** The example config with its platform.yaml `airlock:` block replaced (or removed, with undefined). */
function withAirlock(airlock: unknown): ConfigFixture {
  const f = new ConfigFixture();
  fixtures.push(f);
  return f.edit('platform.yaml', (d) => {
    if (airlock === undefined) delete d.airlock;
    else d.airlock = airlock;
  });
}

describe('airlock settings', () => {
  test('without an airlock block: the defaults, and no reviewers (nothing can be approved)', () => {
    const config = loadConfig(withAirlock(undefined).dir, { today: TEST_TODAY });
    expect(airlockSettings(config.platform)).toEqual({
      suppressionThreshold: 7,
      roundingBase: 5,
      dominance: { n: 2, k: 90 },
      maxFileBytes: 10 * 1024 * 1024,
      rowLevelMinRows: 20,
      reviewers: [],
    });
    expect(airlockSettings(config.platform)).toBe(DEFAULT_AIRLOCK_SETTINGS);
  });

  test('a block with only reviewers takes every other default', () => {
    const reviewers = ['arn:aws:iam::111122223333:role/SdeOutputChecker1', 'output-checker-2'];
    const config = loadConfig(withAirlock({ reviewers }).dir, { today: TEST_TODAY });
    expect(airlockSettings(config.platform)).toEqual({ ...DEFAULT_AIRLOCK_SETTINGS, reviewers });
  });

  test('every threshold can be set', () => {
    const airlock = { suppressionThreshold: 10, roundingBase: 10, dominance: { n: 1, k: 85 }, maxFileBytes: 1000, rowLevelMinRows: 50, reviewers: ['a1', 'b2'] };
    const config = loadConfig(withAirlock(airlock).dir, { today: TEST_TODAY });
    expect(airlockSettings(config.platform)).toEqual(airlock);
  });

  test.each([
    ['fewer than two reviewers', { reviewers: ['a1'] }, 'airlock.reviewers', /at least two reviewers/],
    ['a reviewer twice (ignoring case)', { reviewers: ['a1', 'A1'] }, 'airlock.reviewers[1]', /listed twice/],
    ['a malformed principal', { reviewers: ['arn:aws:iam::1:role/x', 'b2'] }, 'airlock.reviewers[0]', /IAM role or user ARN/],
    ['an unknown key', { reviewers: ['a1', 'b2'], treshold: 5 }, 'airlock.treshold', /treshold/],
    ['k above 100', { reviewers: ['a1', 'b2'], dominance: { n: 2, k: 120 } }, 'airlock.dominance.k', /100/],
    ['a zero threshold', { reviewers: ['a1', 'b2'], suppressionThreshold: 0 }, 'airlock.suppressionThreshold', /1/],
  ])('platform.yaml with %s is refused, naming the file and the field', (_name, airlock, field, message) => {
    const f = withAirlock(airlock);
    const { problems } = validateConfigDir(f.dir, { today: TEST_TODAY });
    const problem = problems.find((p) => p.field === field);
    expect({ problem, problems }).toEqual(expect.objectContaining({ problem: expect.objectContaining({ field }) }));
    expect(path.resolve(problem!.file)).toBe(f.path('platform.yaml'));
    expect(problem!.message).toMatch(message);
    expect(problem!.fix.length).toBeGreaterThan(10);
  });

  test('the schema parses what it produces (so platformSchema can embed it)', () => {
    const parsed = airlockSchema.parse({ reviewers: ['a1', 'b2'] });
    expect(airlockSchema.parse(parsed)).toEqual(parsed);
  });
});
