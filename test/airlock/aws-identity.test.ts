/** Who acts on AWS: the caller's reviewer role names the reviewer; --as cannot. */
import { actingAs, awsActor } from '../../lib/airlock/aws-identity';
import { reviewerRoleSuffix } from '../../lib/airlock/bucket-layout';

const REVIEWERS = ['arn:aws:iam::111122223333:role/SdeOutputChecker1', 'arn:aws:iam::111122223333:user/alice'];
const opts = { platformName: 'onelondon-sde', reviewers: REVIEWERS };
const roleOf = (r: string) => `onelondon-sde-airlock-reviewer-${reviewerRoleSuffix(r)}`;

test.each([
  [
    'a reviewer role session names its reviewer',
    `arn:aws:sts::111122223333:assumed-role/${roleOf(REVIEWERS[1])}/whatever-i-like`,
    `arn:aws:iam::111122223333:role/${roleOf(REVIEWERS[1])}`,
    REVIEWERS[1],
  ],
  [
    'the hash is case-blind, as IAM is',
    `arn:aws:sts::111122223333:assumed-role/${roleOf(REVIEWERS[0].toUpperCase())}/s`,
    `arn:aws:iam::111122223333:role/${roleOf(REVIEWERS[0].toUpperCase())}`,
    REVIEWERS[0],
  ],
  [
    "another platform's reviewer role is no reviewer here",
    `arn:aws:sts::111122223333:assumed-role/other-sde-airlock-reviewer-${reviewerRoleSuffix(REVIEWERS[0])}/s`,
    `arn:aws:iam::111122223333:role/other-sde-airlock-reviewer-${reviewerRoleSuffix(REVIEWERS[0])}`,
    undefined,
  ],
  [
    'a reviewer role of nobody listed',
    'arn:aws:sts::111122223333:assumed-role/onelondon-sde-airlock-reviewer-00000000/s',
    'arn:aws:iam::111122223333:role/onelondon-sde-airlock-reviewer-00000000',
    undefined,
  ],
  [
    'a project role session is that role',
    'arn:aws:sts::111122223333:assumed-role/onelondon-sde-project-ncl-winter-planning/analyst',
    'arn:aws:iam::111122223333:role/onelondon-sde-project-ncl-winter-planning',
    undefined,
  ],
  ['an IAM user is itself', 'arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/alice', undefined],
])('%s', (_what, caller, principal, reviewer) => {
  const actor = awsActor(caller, opts);
  expect(actor.principal).toBe(principal);
  expect(actor.reviewer).toBe(reviewer);
});

test('--as is accepted only when it names the caller', () => {
  const actor = awsActor(`arn:aws:sts::111122223333:assumed-role/${roleOf(REVIEWERS[0])}/s`, opts);
  expect(actingAs(actor, undefined)).toEqual({ ok: true, who: REVIEWERS[0] });
  expect(actingAs(actor, REVIEWERS[0].toLowerCase())).toEqual({ ok: true, who: REVIEWERS[0] });
  const other = actingAs(actor, REVIEWERS[1]);
  expect(other.ok).toBe(false);
  if (!other.ok) expect(other.message).toMatch(/names someone else/);
});
