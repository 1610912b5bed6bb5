/**
 * Calendar dates and ISO 8601 timestamps as strings, checked without `Date` parsing: a
 * landing file has millions of dates, and `Date.parse` both costs more and accepts things
 * (`2021-02-31` rolls over into March) that a clinical record must not.
 *
 * Dates stay `YYYY-MM-DD` strings throughout the core: they compare correctly as strings,
 * and there is no time zone to get wrong.
 */

function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDateAt(s: string, at: number): boolean {
  if (s.charCodeAt(at + 4) !== 45 || s.charCodeAt(at + 7) !== 45) return false;
  const y = digits(s, at, 4);
  const m = digits(s, at + 5, 2);
  const d = digits(s, at + 8, 2);
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** Exactly `YYYY-MM-DD`, a real calendar day. */
export function isIsoDate(s: string): boolean {
  return s.length === 10 && validDateAt(s, 0);
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

export interface TimestampParts {
  /** Epoch milliseconds (the instant). */
  readonly ms: number;
  /**
   * The timestamp as the supplier wrote it, in one layout: local date and time to the
   * millisecond and the offset (`Z` when none was written), e.g. `2025-01-01T00:30:00.000+01:00`.
   * Its first ten characters are the supplier's own date, which years and months are taken from.
   */
  readonly written: string;
}

/**
 * An ISO 8601 timestamp (`T` or a space between date and time; seconds and fraction
 * optional; `Z`, an offset, or none), or undefined when it is not one. Without an offset
 * the time is taken as UTC.
 */
export function parseTimestampParts(s: string): TimestampParts | undefined {
  const m = TIMESTAMP.exec(s);
  if (m === null || !validDateAt(m[1], 0)) return undefined;
  const hour = Number(m[2]);
  const minute = Number(m[3]);
  const second = Number(m[4] ?? '0');
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  let zone = 'Z';
  if (m[6] !== undefined && m[6] !== 'Z') {
    const oh = Number(m[6].slice(1, 3));
    const om = m[6].length > 3 ? Number(m[6].slice(-2)) : 0;
    if (oh > 14 || om > 59) return undefined;
    offsetMinutes = (m[6][0] === '-' ? -1 : 1) * (oh * 60 + om);
    zone = offsetMinutes === 0 ? 'Z' : `${m[6][0]}${String(oh).padStart(2, '0')}:${String(om).padStart(2, '0')}`;
  }
  const fraction = (m[5] ?? '0').slice(0, 3).padEnd(3, '0');
  const millis = Number(fraction);
  const [y, mo, d] = [Number(m[1].slice(0, 4)), Number(m[1].slice(5, 7)), Number(m[1].slice(8, 10))];
  // Date.UTC reads years 0-99 as 1900-1999; shift by one 400-year Gregorian cycle instead.
  const cycles = y < 100 ? 1 : 0;
  const ms = Date.UTC(y + 400 * cycles, mo - 1, d, hour, minute, second, millis) - cycles * 146_097 * 86_400_000 - offsetMinutes * 60_000;
  const two = (n: number) => String(n).padStart(2, '0');
  return { ms, written: `${m[1]}T${two(hour)}:${two(minute)}:${two(second)}.${fraction}${zone}` };
}

/** Epoch milliseconds of an ISO 8601 timestamp (see `parseTimestampParts`), or undefined. */
export function parseTimestamp(s: string): number | undefined {
  return parseTimestampParts(s)?.ms;
}

/** The instant of a timestamp written by `parseTimestampParts`, in UTC (`...Z`): what a TIMESTAMP column stores. */
export function timestampToUtc(written: string): string {
  const parts = parseTimestampParts(written);
  if (parts === undefined) throw new Error('not a timestamp');
  return new Date(parts.ms).toISOString();
}

/** The date `days` after (or before) an ISO date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Age in whole years on `at` for a birth on `birth` (both `YYYY-MM-DD`). Someone born on
 * 29 February turns a year older on 1 March in common years, as in UK law. Negative when
 * `at` is before the birth.
 */
export function ageInYears(birth: string, at: string): number {
  const years = Number(at.slice(0, 4)) - Number(birth.slice(0, 4));
  return at.slice(5, 10) < birth.slice(5, 10) ? years - 1 : years;
}

/** A month written `YYYY-MM` (month-precision dates in the core): a real month of year 1 or later. */
export function isIsoMonth(s: string): boolean {
  if (s.length !== 7 || s.charCodeAt(4) !== 45) return false;
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 2);
  return y >= 1 && m >= 1 && m <= 12;
}

/**
 * A date as the supplier writes it (a column's `dateFormat`) in the core's form: `YYYY-MM-DD`
 * for a day, `YYYY-MM` for a month (MMYYYY, YYYY-MM); undefined when it is not a real one.
 */
export function parseDateAs(format: string, s: string): string | undefined {
  switch (format) {
    case 'YYYY-MM-DD':
      return isIsoDate(s) ? s : undefined;
    case 'DD/MM/YYYY': {
      if (s.length !== 10 || s.charCodeAt(2) !== 47 || s.charCodeAt(5) !== 47) return undefined;
      const iso = `${s.slice(6, 10)}-${s.slice(3, 5)}-${s.slice(0, 2)}`;
      return isIsoDate(iso) ? iso : undefined;
    }
    case 'YYYYMMDD': {
      if (s.length !== 8) return undefined;
      const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
      return isIsoDate(iso) ? iso : undefined;
    }
    case 'MMYYYY': {
      if (s.length !== 6) return undefined;
      const month = `${s.slice(2, 6)}-${s.slice(0, 2)}`;
      return isIsoMonth(month) ? month : undefined;
    }
    case 'YYYY-MM':
      return isIsoMonth(s) ? s : undefined;
    default:
      throw new Error(`unknown date format ${format}`);
  }
}

/**
 * Age in whole years on `at` (`YYYY-MM-DD`) for a birth known to the month only (`YYYY-MM`):
 * the years the person has certainly completed, whatever day of the month they were born on.
 * Outside the birth month that is exact; within it, the birthday counts as passed only on the
 * month's last day (so someone is never placed in a band they have not reached). In the
 * month of birth itself the age is 0. Negative when `at` is before the birth month.
 */
export function ageInYearsFromMonth(birthMonth: string, at: string): number {
  const years = Number(at.slice(0, 4)) - Number(birthMonth.slice(0, 4));
  const am = Number(at.slice(5, 7));
  const bm = Number(birthMonth.slice(5, 7));
  if (years < 0 || (years === 0 && am < bm)) return -1;
  if (am > bm) return years;
  if (am < bm) return years - 1;
  if (years === 0) return 0;
  return Number(at.slice(8, 10)) >= daysInMonth(Number(at.slice(0, 4)), am) ? years : years - 1;
}
