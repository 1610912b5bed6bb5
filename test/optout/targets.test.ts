/**
 * Which datasets a later opt-out list is applied to: every dataset the platform itself
 * matches against the list, and none whose supplier applies the opt-out before delivery.
 */
import * as path from 'node:path';
import { loadConfig } from '../../lib/config';
import { platformAppliesOptOut } from '../../lib/config/curated';
import { optOutTarget } from '../../lib/optout/targets';
import { TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(path.join(__dirname, '..', '..', 'config'), { today: TEST_TODAY });

test('a dataset whose supplier applies the opt-out is skipped, with the reason', () => {
  const hes = config.datasets.find((d) => d.name === 'hes_apc');
  expect(hes?.optOut?.appliedBy).toBe('supplier');
  const target = optOutTarget(hes!);
  expect('skipped' in target && target.skipped).toMatch(/supplier applies/);
});

test.each(config.datasets.map((d) => [d.name, d] as const))('%s: rewritten exactly when the platform applies the opt-out to it', (_name, dataset) => {
  const target = optOutTarget(dataset);
  if (!platformAppliesOptOut(dataset)) expect('skipped' in target).toBe(true);
  else expect('column' in target || /not kept as a pseudonym|no NHS number/.test((target as { skipped: string }).skipped)).toBe(true);
});
