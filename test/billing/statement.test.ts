/**
 * Statements against amounts worked out by hand. Every amount is in pence; the arithmetic
 * is written next to each case. Tiers are the example platform.yaml's:
 *   nhs        £0 a month,    £5/TB × 1
 *   academic   £250 a month,  £5/TB × 1.5
 *   charity    £150 a month,  £5/TB × 1.25
 *   commercial £2000 a month, £5/TB × 4
 * 1 MB = 10^6 bytes, 1 TB = 10^12 bytes; each query billed at whole MB, at least 10 MB.
 */
import type { BillingInputs, BillingProject } from '../../lib/billing/inputs';
import { parseMonth } from '../../lib/billing/month';
import { buildStatement, buildStatements } from '../../lib/billing/statement';
import type { QueryUsage } from '../../lib/billing/usage';

const TB = 1_000_000_000_000;
const GB = 1_000_000_000;

const inputs: BillingInputs = {
  platformName: 'onelondon-sde',
  displayName: 'OneLondon Secure Data Environment',
  pricing: {
    currency: 'GBP',
    awsUsdPerTbScanned: 5,
    tiers: {
      nhs: { label: 'NHS and local authority', accessFeePerMonth: 0, pricePerTbScanned: 5, multiplier: 1 },
      academic: { label: 'University research', accessFeePerMonth: 250, pricePerTbScanned: 5, multiplier: 1.5 },
      charity: { label: 'Charity research', accessFeePerMonth: 150, pricePerTbScanned: 5, multiplier: 1.25 },
      commercial: { label: 'Commercial', accessFeePerMonth: 2000, pricePerTbScanned: 5, multiplier: 4 },
      // Prices a binary float gets wrong: 1.005 * 100 = 100.49999999999999 in IEEE 754.
      awkward: { label: 'Awkward prices', accessFeePerMonth: 0.15, pricePerTbScanned: 1.005, multiplier: 1 },
    },
  },
  projects: [],
};

function project(id: string, tier: string, start: string, end: string, extra: Partial<BillingProject> = {}): BillingProject {
  return {
    id,
    title: `Project ${id}`,
    status: 'active',
    organisation: { name: `Organisation of ${id}`, type: 'university', tier },
    period: { start, end },
    approvalReference: `DAC-${id}`,
    monthlyBudgetUsd: 1000,
    workgroup: `onelondon-sde-project-${id}`,
    ...extra,
  };
}

let seq = 0;
function q(projectId: string, time: string, bytesScanned: number): QueryUsage {
  seq += 1;
  return { projectId, workgroup: `onelondon-sde-project-${projectId}`, queryId: `q-${String(seq).padStart(4, '0')}`, time, bytesScanned };
}

const NOV = parseMonth('2026-11')!; // 30 days
const charge = (s: ReturnType<typeof buildStatement>, kind: string) => s.charges.find((c) => c.kind === kind)!.amountMinor;

describe('bills for each tier, checked against hand-computed amounts', () => {
  test('nhs, whole month: no access fee; scan rounded per query to whole MB with a 10 MB minimum', () => {
    const p = project('nhs-one', 'nhs', '2026-01-01', '2027-12-31');
    const usage = [q('nhs-one', '2026-11-03T09:00:00Z', 2.5 * GB), q('nhs-one', '2026-11-03T09:05:00Z', 1), q('nhs-one', '2026-11-20T12:00:00Z', 123_456_789)];
    const s = buildStatement({ inputs, project: p, month: NOV, usage });
    // billed: 2,500,000,000 + 10,000,000 (1 byte -> 10 MB minimum) + 124,000,000 (123.456789 MB -> 124 MB) = 2,634,000,000 bytes
    expect(s.usage.map((u) => u.bytesBilled)).toEqual([2_500_000_000, 10_000_000, 124_000_000]);
    expect(s.totalBytesBilled).toBe(2_634_000_000);
    expect(s.totalBytesScanned).toBe(2_500_000_000 + 1 + 123_456_789);
    // fee: £0 × 30/30 = 0p
    expect(charge(s, 'access_fee')).toBe(0);
    // scan: 0.002634 TB × £5 × 1 = £0.01317 = 1.317p -> 1p
    expect(charge(s, 'data_scanned')).toBe(1);
    expect(s.totalMinor).toBe(1);
  });

  test('academic, whole month: fee plus scan × 1.5', () => {
    const p = project('uni-one', 'academic', '2026-06-01', '2029-05-31');
    const s = buildStatement({ inputs, project: p, month: NOV, usage: [q('uni-one', '2026-11-10T10:00:00Z', TB), q('uni-one', '2026-11-11T10:00:00Z', 0)] });
    // fee: £250 × 30/30 = 25000p
    expect(charge(s, 'access_fee')).toBe(25_000);
    // scan: (10^12 + 10^7 minimum for the 0-byte query) = 1.00001 TB × £5 × 1.5 = £7.500075 = 750.0075p -> 750p
    expect(charge(s, 'data_scanned')).toBe(750);
    // total: 25000 + 750 = 25750p = £257.50
    expect(s.totalMinor).toBe(25_750);
    expect(s.charges[1].basis).toMatch(/2 queries, 1\.00001 TB billed .* × £5\.00 per TB × 1\.5 \(University research multiplier\)/);
  });

  test('charity, starting on the 17th: fee prorated 14/30', () => {
    const p = project('charity-one', 'charity', '2026-11-17', '2027-11-16');
    const s = buildStatement({ inputs, project: p, month: NOV, usage: [q('charity-one', '2026-11-18T08:00:00Z', 400 * GB)] });
    // days active: 17..30 November = 14
    expect(s.daysActive).toBe(14);
    // fee: £150 × 14/30 = £70.00 = 7000p
    expect(charge(s, 'access_fee')).toBe(7_000);
    // scan: 0.4 TB × £5 × 1.25 = £2.50 = 250p
    expect(charge(s, 'data_scanned')).toBe(250);
    expect(s.totalMinor).toBe(7_250);
    expect(s.notes.join(' ')).toMatch(/prorated: 14 of the 30 days/);
  });

  test('commercial, ending on the 10th: fee prorated 10/30, rounded half-up', () => {
    const p = project('corp-one', 'commercial', '2025-11-11', '2026-11-10');
    const s = buildStatement({ inputs, project: p, month: NOV, usage: [q('corp-one', '2026-11-09T16:00:00Z', 2 * TB)] });
    // fee: £2000 × 10/30 = £666.666… = 66666.67p -> 66667p
    expect(charge(s, 'access_fee')).toBe(66_667);
    // scan: 2 TB × £5 × 4 = £40 = 4000p
    expect(charge(s, 'data_scanned')).toBe(4_000);
    // total: 66667 + 4000 = 70667p = £706.67
    expect(s.totalMinor).toBe(70_667);
  });

  test('leap February: academic from the 15th pays 15/29 of the fee', () => {
    const feb = parseMonth('2028-02')!;
    expect(feb.days).toBe(29);
    const s = buildStatement({ inputs, project: project('uni-leap', 'academic', '2028-02-15', '2029-02-14'), month: feb, usage: [] });
    // fee: £250 × 15/29 = £129.3103… = 12931.03p -> 12931p
    expect(charge(s, 'access_fee')).toBe(12_931);
  });
});

describe('rounding', () => {
  const nhs = project('nhs-round', 'nhs', '2026-01-01', '2027-12-31');
  const scan = (bytes: number) =>
    charge(buildStatement({ inputs, project: nhs, month: NOV, usage: [q('nhs-round', '2026-11-05T10:00:00Z', bytes)] }), 'data_scanned');

  test.each([
    // bytes, pence: at £5/TB, 1 GB = 0.5p exactly
    [1 * GB, 1], // 0.5p -> 1p (half-up; banker's rounding would give 0)
    [3 * GB, 2], // 1.5p -> 2p
    [5 * GB, 3], // 2.5p -> 3p (half-up; banker's rounding would give 2)
    [999_000_000, 0], // 0.4995p -> 0p
    [999_000_001, 1], // billed 1,000 MB = 1 GB -> 0.5p -> 1p: the MB round-up comes before the money rounding
  ])('%d bytes at £5/TB cost %dp', (bytes, pence) => {
    expect(scan(bytes)).toBe(pence);
  });

  test('rounds the month once, not each query', () => {
    // ten queries of 100 MB: each alone would be 0.05p (0p), together 1 GB = 0.5p -> 1p
    const usage = Array.from({ length: 10 }, (_, i) => q('nhs-round', `2026-11-0${(i % 9) + 1}T10:00:00Z`, 100_000_000));
    expect(charge(buildStatement({ inputs, project: nhs, month: NOV, usage }), 'data_scanned')).toBe(1);
  });

  test('prices a binary float gets wrong are exact', () => {
    const p = project('odd', 'awkward', '2026-11-30', '2027-12-31');
    const s = buildStatement({ inputs, project: p, month: NOV, usage: [q('odd', '2026-11-30T10:00:00Z', TB)] });
    // scan: 1 TB × £1.005 = 100.5p -> 101p (Math.round(1.005 * 100) gives 100)
    expect(charge(s, 'data_scanned')).toBe(101);
    // fee: £0.15 × 1/30 = 0.5p -> 1p
    expect(charge(s, 'access_fee')).toBe(1);
  });

  test('charges sum exactly to the total', () => {
    const p = project('corp-sum', 'commercial', '2026-11-03', '2027-11-02');
    const s = buildStatement({ inputs, project: p, month: NOV, usage: [q('corp-sum', '2026-11-04T10:00:00Z', 333_333_333_333)] });
    // fee: £2000 × 28/30 = £1866.666… -> 186667p; scan: 0.333334 TB (333,334 MB) × £20 = £6.66668 -> 667p
    expect(charge(s, 'access_fee')).toBe(186_667);
    expect(charge(s, 'data_scanned')).toBe(667);
    expect(s.totalMinor).toBe(186_667 + 667);
  });
});

describe('which usage and which projects', () => {
  test('a month with no usage: the access fee only, and the usage says so', () => {
    const s = buildStatement({ inputs, project: project('quiet', 'academic', '2026-01-01', '2027-12-31'), month: NOV, usage: [] });
    expect(s.usage).toEqual([]);
    expect(charge(s, 'data_scanned')).toBe(0);
    expect(s.charges[1].basis).toBe('no queries this month');
    expect(s.totalMinor).toBe(25_000);
    expect(s.budget.level).toBe('under');
    expect(s.warnings).toEqual([]);
  });

  test("usage of other months and other projects is not on this project's statement", () => {
    const usage = [
      q('mine', '2026-10-31T23:59:59Z', TB),
      q('mine', '2026-12-01T00:00:00Z', TB),
      q('other', '2026-11-05T10:00:00Z', TB),
      q('mine', '2026-11-01T00:00:00Z', GB),
    ];
    const s = buildStatement({ inputs, project: project('mine', 'nhs', '2026-01-01', '2027-12-31'), month: NOV, usage });
    expect(s.usage.map((u) => u.time)).toEqual(['2026-11-01T00:00:00Z']);
  });

  test('statements are produced for projects in their period or with usage, not for others', () => {
    const withProjects: BillingInputs = {
      ...inputs,
      projects: [
        project('in-period', 'nhs', '2026-01-01', '2027-12-31'),
        project('ended', 'academic', '2024-01-01', '2025-12-31', { status: 'expired' }),
        project('used-after-end', 'charity', '2024-01-01', '2026-10-31'),
        project('later', 'commercial', '2027-01-01', '2027-12-31'),
      ],
    };
    const usage = [q('used-after-end', '2026-11-02T10:00:00Z', GB)];
    const statements = buildStatements(withProjects, NOV, usage);
    expect(statements.map((s) => s.project.id)).toEqual(['in-period', 'used-after-end']);
    const late = statements[1];
    // outside the period: no access fee, but the usage is charged and flagged
    expect(charge(late, 'access_fee')).toBe(0);
    expect(late.warnings.join(' ')).toMatch(/1 query ran outside the approved period/);
    // one project asked for by name is always produced
    expect(buildStatements(withProjects, NOV, usage, { projectId: 'later' }).map((s) => [s.project.id, s.totalMinor])).toEqual([['later', 0]]);
  });

  test('a suspended project pays no access fee, but its usage is charged', () => {
    const s = buildStatement({
      inputs,
      project: project('paused', 'commercial', '2026-01-01', '2027-12-31', { status: 'suspended' }),
      month: NOV,
      usage: [q('paused', '2026-11-02T10:00:00Z', TB)],
    });
    expect(charge(s, 'access_fee')).toBe(0);
    // scan: 1 TB × £5 × 4 = 2000p
    expect(charge(s, 'data_scanned')).toBe(2_000);
    expect(s.notes.join(' ')).toMatch(/suspended/);
  });
});

describe('budget warning', () => {
  // budget $10; estimated AWS spend = TB billed × $5
  const capped = project('capped', 'nhs', '2026-01-01', '2027-12-31', { monthlyBudgetUsd: 10 });
  const at = (bytes: number, actualSpendUsd?: number) =>
    buildStatement({ inputs, project: capped, month: NOV, usage: [q('capped', '2026-11-02T10:00:00Z', bytes)], actualSpendUsd });

  test('under 80%: nothing', () => {
    const s = at(1.5 * TB); // $7.50 = 75%
    expect(s.budget).toMatchObject({ level: 'under', spendUsdCents: 750 });
    expect(s.warnings).toEqual([]);
  });

  test('80%: a note, as the first AWS Budgets notification', () => {
    const s = at(1_600_000_000_000); // $8.00 = 80%
    expect(s.budget.level).toBe('approaching');
    expect(s.warnings).toEqual([]);
    expect(s.notes.join(' ')).toMatch(/at least 80% of its monthly budget of US\$10\.00/);
  });

  test('reaching the budget exactly is a warning on the statement', () => {
    const s = at(2 * TB); // $10.00 = 100%
    expect(s.budget.level).toBe('reached');
    expect(s.warnings.join(' ')).toMatch(/Budget reached: .*US\$10\.00 \(estimate from data scanned\).*monthly budget of US\$10\.00/);
  });

  test('one byte under the budget is not reached (exact comparison, no rounding)', () => {
    // 1,999,999 MB billed = $9.999995, which shows as $10.00 but is under the limit
    const s = at(2 * TB - 1_000_000);
    expect(s.budget.level).toBe('approaching');
    expect(s.budget.spendUsdCents).toBe(1000);
  });

  test("AWS Budgets' actual spend, when given, decides", () => {
    const s = at(GB, 12.34);
    expect(s.budget).toMatchObject({ level: 'reached', source: 'AWS Budgets', spendUsdCents: 1234 });
  });
});
