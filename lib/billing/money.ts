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
import { PRICE_DECIMALS } from '../config/decimal';

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
