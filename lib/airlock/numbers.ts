/**
 * What a cell of an output holds, decided from its text after normalisation, never from
 * how the requester labelled the column.
 *
 * A count written `1.0`, `3e0`, `01`, `1,204`, `-3`, `(3)`, `３` (full width), `٣`
 * (Arabic-Indic), `−3` (U+2212 minus) or with a zero-width space inside is still a count:
 * a checker that reads only `^[0-9]+$` as a number lets every other spelling through as
 * a "category". So every cell is normalised first (Unicode NFKC, every decimal digit
 * mapped to 0-9, every dash and minus to `-`, invisible and bidirectional marks removed,
 * every kind of space folded) and then read by one grammar: sign, digits with optional
 * grouping separators, optional fraction, optional exponent, optional percent sign.
 *
 * Anything holding a digit that is not a number in that grammar is kept as text, and
 * the text's numbers are listed (`textNumbers`), so "includes 2 deaths aged 100+" is
 * text with the numbers 2 and 100, which the checks send to a reviewer.
 */

/** Marks a requester (or this checker) may use for a withheld cell: GSS symbols and the usual stand-ins. */
const SUPPRESSION_MARKS = new Set(['[c]', 'c', '*', '**', '[x]', 'x', '[z]', 'z', '[u]', '[low]', '..', ':', '-', '~']);
/** Cells that say "no value". */
const MISSING_MARKS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '#n/a', '#null!', '#div/0!', 'inf', '-inf', '+inf', 'infinity', '-infinity', 'missing']);

/** Characters that render as nothing (or only change direction) and can hide inside a number. */
const INVISIBLE = new RegExp(
  // Built from code point ranges: several are combining marks (variation selectors, the
  // combining grapheme joiner) that cannot stand alone in a literal character class.
  `[${[
    [0xad, 0xad],
    [0x34f, 0x34f],
    [0x61c, 0x61c],
    [0x115f, 0x1160],
    [0x17b4, 0x17b5],
    [0x180b, 0x180f],
    [0x200b, 0x200f],
    [0x202a, 0x202e],
    [0x2060, 0x206f],
    [0x3164, 0x3164],
    [0xfe00, 0xfe0f],
    [0xfeff, 0xfeff],
    [0xffa0, 0xffa0],
    [0x1d173, 0x1d17a],
    [0xe0000, 0xe0fff],
  ]
    .map(([a, b]) => `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`)
    .join('')}]`,
  'gu',
);
/** Every dash and minus sign (Unicode Pd, U+2212 MINUS SIGN, U+2796 HEAVY MINUS). */
const DASHES = /[\p{Pd}\u2212\u2796\uFE63\uFF0D]/gu;
/** Every space separator and the line/paragraph separators. */
const SPACES = /[\p{Zs}\u2028\u2029\t]/gu;

const digitZeroCache = new Map<number, number>();

/**
 * The value 0-9 of a Unicode decimal digit (general category Nd). Unicode encodes decimal
 * digits in contiguous runs of ten starting at zero, and adjacent runs (the mathematical
 * digits) are whole runs, so the value is the distance from the run's start modulo 10.
 */
function digitValue(cp: number): number {
  let start = digitZeroCache.get(cp);
  if (start === undefined) {
    start = cp;
    while (start > 0 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    digitZeroCache.set(cp, start);
  }
  return (cp - start) % 10;
}

/**
 * The cell as the checks read it: NFKC, invisible marks removed, every decimal digit as
 * 0-9, every dash as `-`, every space as one ordinary space, trimmed.
 */
export function normaliseCell(raw: string): string {
  let s = raw.normalize('NFKC').replace(INVISIBLE, '');
  s = s.replace(/\p{Nd}/gu, (d) => {
    const cp = d.codePointAt(0)!;
    return cp >= 0x30 && cp <= 0x39 ? d : String(digitValue(cp));
  });
  s = s.replace(/\u066B/g, '.').replace(/\u066C/g, ',');
  return s.replace(DASHES, '-').replace(SPACES, ' ').replace(/ {2,}/g, ' ').trim();
}

export type CellValue =
  | {
      readonly kind: 'number';
      readonly value: number;
      /** Written with a percent sign. */
      readonly percent: boolean;
      /** A whole number (1.0 and 3e0 are whole). */
      readonly whole: boolean;
      /** Decimal places as written (for rounding tolerance). */
      readonly decimals: number;
      /** Written other than as plain digits (separators, exponent, sign, leading zeros, other scripts, ...). */
      readonly disguised: boolean;
    }
  | { readonly kind: 'suppressed' }
  /** No value: a blank cell, or NA, NaN, null, infinity, ... written out. */
  | { readonly kind: 'missing'; readonly blank: boolean }
  | { readonly kind: 'text'; readonly numbers: readonly number[] };

const CURRENCY = /^[£$€¥₹]\s?|\s?[£$€¥₹]$/g;
const RADIX = /^0([xob])([0-9a-f]+)$/i;

/**
 * The digits and separators of a number's mantissa, read as a value: with both `,` and
 * `.`, the later is the decimal mark; a lone `,` followed by exactly three digits groups
 * thousands (`1,204`), otherwise it is a decimal comma (`1,5`); a lone `.` is a decimal
 * point; repeated marks, spaces, `'` and `_` group thousands, and groups must be of three.
 */
function mantissa(s: string): { value: number; decimals: number } | undefined {
  if (!/^[\d,.' _]+$/.test(s) || !/\d/.test(s) || /^[,' _]|[,' _]$/.test(s)) return undefined;
  const marks = [...s.matchAll(/[,.' _]/g)].map((m) => ({ c: m[0], at: m.index }));
  let decimalAt = -1;
  const commas = marks.filter((m) => m.c === ',');
  const dots = marks.filter((m) => m.c === '.');
  if (commas.length > 0 && dots.length > 0) {
    const last = marks[marks.length - 1];
    if (last.c !== ',' && last.c !== '.') return undefined;
    if ((last.c === ',' ? commas : dots).length !== 1) return undefined;
    decimalAt = last.at;
  } else if (dots.length === 1) {
    decimalAt = dots[0].at;
  } else if (commas.length === 1 && marks.length === 1 && s.length - commas[0].at - 1 !== 3) {
    decimalAt = commas[0].at;
  }
  const intText = decimalAt < 0 ? s : s.slice(0, decimalAt);
  const fracText = decimalAt < 0 ? '' : s.slice(decimalAt + 1);
  if (/\D/.test(fracText)) return undefined;
  const groups = intText.split(/[,.' _]/);
  if (groups.length > 1) {
    const seps = new Set([...intText.matchAll(/[,.' _]/g)].map((m) => m[0]));
    if (seps.size !== 1 || !/^\d{1,3}$/.test(groups[0]) || groups.slice(1).some((g) => !/^\d{3}$/.test(g))) return undefined;
  }
  const digits = groups.join('');
  if (digits === '' && fracText === '') return undefined;
  return { value: Number(`${digits === '' ? '0' : digits}.${fracText === '' ? '0' : fracText}`), decimals: fracText.length };
}

function numberOf(text: string, raw: string): CellValue | undefined {
  let s = text.replace(CURRENCY, '').trim();
  let negative = false;
  const accounting = /^\((.*)\)$/.exec(s);
  if (accounting) {
    s = accounting[1].trim();
    negative = true;
  }
  const signed = /^([+-])\s?(.*)$/.exec(s);
  if (signed) {
    if (signed[1] === '-') negative = !negative;
    s = signed[2];
  }
  let percent: '%' | '‰' | undefined;
  const pct = /^(.*?)\s?([%‰])$/.exec(s);
  if (pct) {
    s = pct[1];
    percent = pct[2] as '%' | '‰';
  }
  let value: number;
  let decimals = 0;
  const radix = RADIX.exec(s);
  if (radix) {
    value = parseInt(radix[2], { x: 16, o: 8, b: 2 }[radix[1].toLowerCase() as 'x' | 'o' | 'b']);
    if (Number.isNaN(value)) return undefined;
  } else {
    const e = /^(.*?)e([+-]?\d{1,3})$/i.exec(s);
    const m = mantissa(e ? e[1] : s);
    if (!m) return undefined;
    const exp = e ? Number(e[2]) : 0;
    value = m.value * 10 ** exp;
    decimals = Math.max(0, m.decimals - exp);
  }
  if (!Number.isFinite(value)) return undefined;
  if (negative) value = -value;
  if (percent === '‰') value = value / 10;
  const plain = /^-?(0|[1-9]\d*)(\.\d+)?%?$/.test(raw.trim());
  return { kind: 'number', value: value === 0 ? 0 : value, percent: percent !== undefined, whole: Number.isInteger(value), decimals, disguised: !plain };
}

/**
 * The numbers standing on their own inside a text (not glued to letters, so the digits of
 * a code such as RAL01 or E01000001 are not numbers of the text): "includes 2 deaths aged
 * 100+" holds 2 and 100, "deaths:3" holds 3, "40-44" holds 40 and 44.
 */
export function textNumbers(text: string): number[] {
  const out: number[] = [];
  for (const m of normaliseCell(text).matchAll(/(?<![\p{L}\p{N}])\d+(?:[.,]\d+)*(?![\p{L}\p{N}])/gu)) {
    const v = mantissa(m[0]);
    out.push(v === undefined ? Number(m[0].replace(/\D.*$/, '')) : v.value);
  }
  return out;
}

/** The words (runs of two or more letters) of a text. */
export function textWords(text: string): string[] {
  return [...normaliseCell(text).matchAll(/\p{L}{2,}/gu)].map((m) => m[0].toLowerCase());
}

/** Reads one cell. */
export function readCell(raw: string): CellValue {
  const text = normaliseCell(raw);
  const lower = text.toLowerCase();
  if (MISSING_MARKS.has(lower)) return { kind: 'missing', blank: text === '' };
  if (SUPPRESSION_MARKS.has(lower)) return { kind: 'suppressed' };
  const n = numberOf(text, raw);
  if (n) return n;
  return { kind: 'text', numbers: textNumbers(text) };
}

/** Whether the raw cell is empty (not a value at all, as opposed to a written "NA"). */
export function isBlank(raw: string): boolean {
  return normaliseCell(raw) === '';
}
