/**
 * Exact money arithmetic for statements. Amounts are integers of the currency's minor
 * unit (pence for GBP); prices from platform.yaml are read as exact decimals (scaled
 * bigints), so no binary floating-point error can move a bill by a penny.
 *
 * Rounding: **half-up** (a half minor unit rounds away from zero; every amount here is
 * zero or more), applied **once per charge line** (the prorated access fee, the scan
 * charge for the whole month), never per query, so small queries are not each rounded
 * and then summed. The statement total is the sum of its rounded lines, as on an
 * invoice, so every line on the statement adds up exactly to the total shown.
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

/** numerator / denominator rounded half-up, for numerator >= 0 and denominator > 0. */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (numerator < 0n || denominator <= 0n) throw new Error('divideHalfUp expects numerator >= 0 and denominator > 0');
  return (2n * numerator + denominator) / (2n * denominator);
}

/** The number of minor-unit digits of an ISO 4217 currency (GBP 2, JPY 0, BHD 3). */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** An amount in minor units as a plain decimal, e.g. 12345 GBP -> "123.45" (for CSV: no symbol, no grouping). */
export function formatDecimal(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  if (digits === 0) return `${sign}${abs}`;
  const text = String(abs).padStart(digits + 1, '0');
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** An amount for people, e.g. 12345 GBP -> "£123.45". */
export function formatMoney(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
    Number(formatDecimal(minor, currency)),
  );
}

/** A scaled price back as text for the usage lines, e.g. 1250000n (scale 6) -> "1.25". */
export function scaledToText(value: bigint, decimals: number = PRICE_DECIMALS): string {
  const scale = 10n ** BigInt(decimals);
  const whole = value / scale;
  const frac = (value % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}
