/**
 * One normalisation before every check: what a value *is* is decided on its normal form,
 * and the normal form is what reaches curated.
 *
 * The threat: an identifier written so that it looks different to a check than to a
 * person or a later program. `９９９ ٠٠٠ 0018` (full-width and Arabic-Indic digits), `999` + U+200B +
 * `000` (zero-width spaces), `9990000018` with a soft hyphen or a word joiner in it: each reads
 * as an NHS number to anyone who looks, and each passed a pattern written for ASCII.
 *
 * The steps, in order:
 *  1. Unicode NFKC: compatibility forms become their plain form (full-width letters and
 *     digits, ligatures, superscripts, circled digits, no-break and other spaces);
 *  2. every format character (general category Cf: zero-width space, joiners, word joiner,
 *     soft hyphen, bidirectional controls, a stray byte-order mark) and every other default
 *     ignorable code point (variation selectors, Hangul fillers, the combining grapheme
 *     joiner) is removed: they are invisible, so they can only be there to split a value;
 *  3. every Unicode decimal digit (category Nd: Arabic-Indic, Devanagari, Bengali, Thai, ...)
 *     becomes its ASCII digit;
 *  4. C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F) other than tab are
 *     refused: no text value legitimately holds them, and a C1 character in particular is
 *     the sign of a Windows-1252 file read as Latin-1. Free text may hold line breaks
 *     (a quoted CSV field can span lines), so CR and LF are allowed there only.
 *
 * Almost every value is printable ASCII, which is its own normal form: it is returned as it
 * is after one scan, so the cost on the common path is one pass over the characters.
 */

/** Category Cf and the rest of the default ignorable code points: invisible, so only ever there to split a value. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const DECIMAL_DIGIT = /\p{Nd}/gu;
const ASCII_DIGIT = /[0-9]/;

/** The value (0-9) of each non-ASCII decimal digit met, found once. */
const digitValues = new Map<number, number>();

/**
 * Unicode assigns decimal digits (Nd) only in contiguous runs of ten, zero first (a
 * stability policy), so a digit's value is its distance from the start of its run, mod 10.
 */
function digitValue(cp: number): number {
  const known = digitValues.get(cp);
  if (known !== undefined) return known;
  let start = cp;
  while (start > 0 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  const value = (cp - start) % 10;
  digitValues.set(cp, value);
  return value;
}

function asciiDigits(text: string): string {
  return text.replace(DECIMAL_DIGIT, (d) => (ASCII_DIGIT.test(d) ? d : String(digitValue(d.codePointAt(0)!))));
}

/** Whether a value needs no work: printable ASCII and tab only (and CR/LF where line breaks are allowed). */
function isPlainAscii(text: string, lineBreaks: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) continue;
    if (c === 9 || (lineBreaks && (c === 10 || c === 13))) continue;
    return false;
  }
  return true;
}

function hasControl(text: string, lineBreaks: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20) {
      if (c === 9 || (lineBreaks && (c === 10 || c === 13))) continue;
      return true;
    }
    if (c >= 0x7f && c <= 0x9f) return true;
  }
  return false;
}

/** Why a value was refused by normalisation. */
export const CONTROL_CHARACTER = 'control_character' as const;

/**
 * The normal form of a value, or undefined when it holds a control character (other than
 * tab, and CR/LF when `lineBreaks`). Idempotent: the normal form of a normal form is itself.
 */
export function normaliseText(text: string, lineBreaks = false): string | undefined {
  if (isPlainAscii(text, lineBreaks)) return text;
  let out = text;
  // Until nothing changes: removing an invisible character can let NFKC compose what it
  // separated, and NFKC can produce new digits to map. Two rounds settle every real input.
  for (let round = 0; round < 4; round++) {
    const next = asciiDigits(out.normalize('NFKC').replace(INVISIBLE, ''));
    if (next === out) break;
    out = next;
  }
  return hasControl(out, lineBreaks) ? undefined : out;
}

/** Like `normaliseText`, for callers that have already refused control characters (or must not fail): they are removed. */
export function normaliseLoosely(text: string): string {
  const normal = normaliseText(text, true);
  if (normal !== undefined) return normal;
  let spaced = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    spaced += (c < 0x20 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f) ? ' ' : text[i];
  }
  return normaliseText(spaced, true) ?? '';
}
