import { divideHalfUp, formatDecimal, formatMoney, minorDigits } from '../../lib/billing/money';
import { decimalPlaces, toScaled } from '../../lib/config/decimal';
import { daysActive, parseMonth, previousMonth } from '../../lib/billing/month';
import { billedBytes } from '../../lib/billing/usage';

describe('exact decimals', () => {
  test.each([
    [0, 0n],
    [5, 5_000_000n],
    [1.25, 1_250_000n],
    [1.005, 1_005_000n],
    [0.000001, 1n],
    [1e-6, 1n],
    [2000, 2_000_000_000n],
    [1e21, 1_000_000_000_000_000_000_000_000_000n],
  ])('%p is %p millionths', (value, scaled) => {
    expect(toScaled(value)).toBe(scaled);
  });

  test('more than 6 decimal places is refused, not silently rounded', () => {
    expect(() => toScaled(0.0000001)).toThrow(/more than 6 decimal places/);
    expect(decimalPlaces(1.2345678)).toBe(7);
    expect(decimalPlaces(1.25)).toBe(2);
    expect(decimalPlaces(7)).toBe(0);
  });

  test('half-up division', () => {
    expect(divideHalfUp(5n, 10n)).toBe(1n); // 0.5 -> 1
    expect(divideHalfUp(15n, 10n)).toBe(2n); // 1.5 -> 2
    expect(divideHalfUp(25n, 10n)).toBe(3n); // 2.5 -> 3 (banker's: 2)
    expect(divideHalfUp(249n, 100n)).toBe(2n); // 2.49 -> 2
    expect(divideHalfUp(0n, 7n)).toBe(0n);
  });

  test('minor units follow the currency', () => {
    expect(minorDigits('GBP')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(formatDecimal(12345, 'GBP')).toBe('123.45');
    expect(formatDecimal(5, 'GBP')).toBe('0.05');
    expect(formatDecimal(12345, 'JPY')).toBe('12345');
    expect(formatMoney(6666667, 'GBP')).toBe('£66,666.67');
  });
});

describe('months', () => {
  test('lengths, including leap years', () => {
    expect(parseMonth('2026-02')?.days).toBe(28);
    expect(parseMonth('2028-02')?.days).toBe(29);
    expect(parseMonth('2100-02')?.days).toBe(28);
    expect(parseMonth('2026-12')?.last).toBe('2026-12-31');
    expect(parseMonth('2026-13')).toBeUndefined();
    expect(parseMonth('26-01')).toBeUndefined();
    expect(previousMonth(parseMonth('2027-01')!).id).toBe('2026-12');
  });

  test('days active count both ends of the period', () => {
    const nov = parseMonth('2026-11')!;
    expect(daysActive(nov, '2026-01-01', '2027-01-01')).toBe(30);
    expect(daysActive(nov, '2026-11-30', '2027-01-01')).toBe(1);
    expect(daysActive(nov, '2026-11-10', '2026-11-10')).toBe(1);
    expect(daysActive(nov, '2026-01-01', '2026-10-31')).toBe(0);
    expect(daysActive(nov, '2026-12-01', '2027-01-01')).toBe(0);
  });
});

describe("Athena's billing unit", () => {
  test.each([
    [0, 10_000_000],
    [1, 10_000_000],
    [10_000_000, 10_000_000],
    [10_000_001, 11_000_000],
    [2_500_000_000, 2_500_000_000],
    [2_500_000_001, 2_501_000_000],
  ])('%d bytes scanned are billed as %d', (scanned, billed) => {
    expect(billedBytes(scanned)).toBe(billed);
  });
});
