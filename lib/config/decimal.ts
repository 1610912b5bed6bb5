/**
 * Exact decimals for prices in platform.yaml: a number as written in the config, read as
 * an integer scaled by 10^decimals (a bigint), so no binary floating-point error can move
 * a bill by a penny. The schema checks prices with `decimalPlaces`; billing
 * (lib/billing/money.ts) computes with `toScaled`.
 */

/** Prices in platform.yaml may have at most this many decimal places (the schema enforces it). */
export const PRICE_DECIMALS = 6;
export const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);

/**
 * A non-negative decimal number as an integer scaled by 10^decimals, exactly as written
 * in the config. Throws when the number has more decimal places than `decimals` (the
 * schema refuses such prices first, so this only guards against misuse).
 */
export function toScaled(value: number, decimals: number = PRICE_DECIMALS): bigint {
  if (!Number.isFinite(value) || value < 0) throw new Error(`not a non-negative finite number: ${value}`);
  // String(n) is the shortest text that reads back as the same double: the number as written in YAML.
  const text = String(value);
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(text);
  if (!match) throw new Error(`cannot read ${text} as a decimal`);
  const [, whole, fraction = '', exp = '0'] = match;
  let digits = whole + fraction;
  let point = whole.length + Number(exp);
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits = digits + '0'.repeat(point - digits.length);
  const intPart = digits.slice(0, point) || '0';
  const fracPart = digits.slice(point).replace(/0+$/, '');
  if (fracPart.length > decimals) throw new Error(`${text} has more than ${decimals} decimal places`);
  return BigInt(intPart) * 10n ** BigInt(decimals) + BigInt(fracPart.padEnd(decimals, '0') || '0');
}

/** How many decimal places a number has as written (for the schema's check). */
export function decimalPlaces(value: number): number {
  for (let d = 0; d <= 20; d++) {
    try {
      toScaled(value, d);
      return d;
    } catch {
      // more places: try the next
    }
  }
  return Infinity;
}
