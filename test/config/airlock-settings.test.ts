import { airlockSchema, airlockSettings, DEFAULT_AIRLOCK_SETTINGS } from '../../lib/config/airlock-settings';
import { ConfigError } from '../../lib/config/problems';

describe('airlock settings', () => {
  test('without an airlock block: the defaults, and no reviewers (nothing can be approved)', () => {
    expect(airlockSettings({})).toEqual({
      suppressionThreshold: 7,
      roundingBase: 5,
      dominance: { n: 2, k: 90 },
      maxFileBytes: 10 * 1024 * 1024,
      rowLevelMinRows: 20,
      reviewers: [],
    });
    expect(airlockSettings({})).toBe(DEFAULT_AIRLOCK_SETTINGS);
  });

  test('a block with only reviewers takes every other default', () => {
    const reviewers = ['arn:aws:iam::111122223333:role/SdeOutputChecker1', 'output-checker-2'];
    expect(airlockSettings({ airlock: { reviewers } })).toEqual({ ...DEFAULT_AIRLOCK_SETTINGS, reviewers });
  });

  test('every threshold can be set', () => {
    const s = airlockSettings({ airlock: { suppressionThreshold: 10, roundingBase: 10, dominance: { n: 1, k: 85 }, maxFileBytes: 1000, rowLevelMinRows: 50, reviewers: ['a1', 'b2'] } });
    expect(s).toMatchObject({ suppressionThreshold: 10, roundingBase: 10, dominance: { n: 1, k: 85 }, maxFileBytes: 1000, rowLevelMinRows: 50 });
  });

  test.each([
    ['fewer than two reviewers', { reviewers: ['a1'] }, 'airlock.reviewers', /at least two reviewers/],
    ['a reviewer twice (ignoring case)', { reviewers: ['a1', 'A1'] }, 'airlock.reviewers.1', /listed twice/],
    ['a malformed principal', { reviewers: ['arn:aws:iam::1:role/x', 'b2'] }, 'airlock.reviewers.0', /IAM role or user ARN/],
    ['an unknown key', { reviewers: ['a1', 'b2'], treshold: 5 }, 'airlock', /treshold/],
    ['k above 100', { reviewers: ['a1', 'b2'], dominance: { n: 2, k: 120 } }, 'airlock.dominance.k', /100/],
    ['a zero threshold', { reviewers: ['a1', 'b2'], suppressionThreshold: 0 }, 'airlock.suppressionThreshold', /1/],
  ])('refuses %s, naming the field', (_name, airlock, field, message) => {
    let error: unknown;
    try {
      airlockSettings({ airlock, file: 'config/platform.yaml' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problem = (error as ConfigError).problems[0];
    expect(problem.file).toBe('config/platform.yaml');
    expect(problem.field).toBe(field);
    expect(`${problem.message}`).toMatch(message);
  });

  test('the schema parses what it produces (so platformSchema can embed it)', () => {
    const parsed = airlockSchema.parse({ reviewers: ['a1', 'b2'] });
    expect(airlockSchema.parse(parsed)).toEqual(parsed);
  });
});
