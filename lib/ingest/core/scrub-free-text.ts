/**
 * Free text scrubbed of the identifiers people type into it: NHS numbers, dates, UK
 * postcodes, UK phone numbers and e-mail addresses, each replaced by a token.
 *
 * The threat: a clinician writes "pt DOB 03/04/1961, NHS 943 476 5919, lives SE5 8AF" into
 * a comment. Free text is dropped by default; a dataset that keeps a column scrubs it here.
 * The patterns err on the side of removing too much: a dose that looks like a postcode is
 * a small loss, a postcode that survives is a disclosure. A final net removes any run of
 * ten or more digits however it is grouped, so an NHS number in an odd layout still goes.
 *
 * Names are not found by patterns; that is why free text stays `drop` unless a dataset's
 * owner has judged the column to be name-free (dosage instructions, coded comments).
 */

import { POSTCODE_INWARD, POSTCODE_OUTWARD } from './postcode';

export const SCRUB_TOKENS = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  nhsNumber: '[NHS_NUMBER]',
  date: '[DATE]',
  postcode: '[POSTCODE]',
  number: '[NUMBER]',
} as const;

const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';

export type IdentifierKind = keyof typeof SCRUB_TOKENS;

/** National numbers: 0 then 9 or 10 digits, the area code perhaps in brackets (020 7946 0000, (01632) 960000, 07700 900000). */
const NATIONAL_PHONE = /(?<![\d+])(?:\(0\d{1,4}\)|0\d{1,4})(?:[\s-]?\d){5,9}(?!\d)/g;

/** Applied in order: the unambiguous shapes first, so a phone number is not half-taken for an NHS number. */
const PASSES: readonly (readonly [RegExp, string])[] = [
  [/[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g, SCRUB_TOKENS.email],
  // +44 / 0044, optional (0), then 9 or 10 digits in any grouping.
  [/(?:\+|\b00)\s?44\s?(?:\(0\)\s?)?\d(?:[\s-]?\d){8,9}(?!\d)/g, SCRUB_TOKENS.phone],
  // NHS numbers: 10 digits, written whole or 3-3-4 with spaces or hyphens.
  [/(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)/g, SCRUB_TOKENS.nhsNumber],
  // Dates are found wherever they are, glued to other characters or not: `51961-04-03` and
  // `x3 April 1961` hold a full date as much as `1961-04-03` does.
  // 2021-04-03, 2021/4/3
  [/\d{4}[/.-]\d{1,2}[/.-]\d{1,2}/g, SCRUB_TOKENS.date],
  // 03/04/1961, 3-4-61, 03.04.1961
  [/\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})/g, SCRUB_TOKENS.date],
  // 3 April 1961, 3rd of Apr. 1961, 03-APR-61
  [new RegExp(`\\d{1,2}(?:st|nd|rd|th)?[\\s./-]*(?:of\\s+)?${MONTH}\\.?,?[\\s./-]*'?(?:\\d{4}|\\d{2})`, 'gi'), SCRUB_TOKENS.date],
  // April 3, 1961 / Apr 3rd 1961
  [new RegExp(`${MONTH}\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+(?:\\d{4}|'?\\d{2})`, 'gi'), SCRUB_TOKENS.date],
  [NATIONAL_PHONE, SCRUB_TOKENS.phone],
  // UK postcodes, any case, with or without the space (the letter classes of the official pattern keep doses like "2 5ml" out).
  [new RegExp(`(?<![A-Za-z])${POSTCODE_OUTWARD}\\s*${POSTCODE_INWARD}`, 'gi'), SCRUB_TOKENS.postcode],
  // Glued onto a word (`livesSE5 8AF`): with the space in any case, or without it in capitals.
  // Not lower case without the space, where words meet doses (`paracetamol500mg`).
  [new RegExp(`${POSTCODE_OUTWARD}\\s+${POSTCODE_INWARD}`, 'gi'), SCRUB_TOKENS.postcode],
  [new RegExp(`${POSTCODE_OUTWARD}${POSTCODE_INWARD}`, 'g'), SCRUB_TOKENS.postcode],
  // The net: ten or more digits with at most one separator between each.
  [/(?<!\d)\d(?:[\s.\-/]?\d){9,}(?!\d)/g, SCRUB_TOKENS.number],
];

/**
 * Scrubs one free-text value. The text is NFKC-normalised first, so full-width or other
 * compatibility digits and letters cannot carry an identifier past the ASCII patterns.
 */
export function scrubFreeText(text: string): string {
  let out = text.normalize('NFKC');
  for (const [pattern, token] of PASSES) out = out.replace(pattern, token);
  return out;
}

/** The same patterns without the global flag (a global RegExp's `test` keeps state between calls), each with its kind. */
const DETECTORS: readonly (readonly [RegExp, IdentifierKind])[] = PASSES.filter(
  // Not the national phone pattern: it takes any 0-led run of seven or more digits, which is
  // also the shape of supplier keys (E000000001). A whole national number has ten or eleven
  // digits, and the final net finds those.
  ([pattern]) => pattern !== NATIONAL_PHONE,
).map(([pattern, token]) => [
  new RegExp(pattern.source, pattern.flags.replace('g', '')),
  (Object.keys(SCRUB_TOKENS) as IdentifierKind[]).find((k) => SCRUB_TOKENS[k] === token)!,
]);

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

const ANY_DIGIT = /\d/;

/** No pattern matches fewer characters than this ("A1 1AA" less its space, "a@b.c"). */
const SHORTEST_MATCH = 5;

/**
 * The kind of the first identifier the scrubber would remove from `text` (less the loose
 * national phone pattern, see above), or undefined when there is none. For coded columns
 * kept in clear, where an identifier means a keying error or a supplier's mistake: such a
 * row is refused rather than scrubbed, since a code with a token in it is no longer the code.
 */
export function findIdentifier(text: string): IdentifierKind | undefined {
  // Most coded values are a few ASCII characters: too short to hold any identifier. (Not
  // so for other characters: NFKC can turn one into several digits.)
  const ascii = isAscii(text);
  if (text.length < SHORTEST_MATCH && ascii) return undefined;
  // ASCII is its own NFKC form.
  const normalised = ascii ? text : text.normalize('NFKC');
  // Every pattern but the e-mail one needs a digit, and that one an @: most codes have neither.
  const hasAt = normalised.indexOf('@') !== -1;
  const hasDigit = ANY_DIGIT.test(normalised);
  if (!hasAt && !hasDigit) return undefined;
  for (const [pattern, kind] of DETECTORS) {
    if ((kind === 'email' ? hasAt : hasDigit) && pattern.test(normalised)) return kind;
  }
  return undefined;
}
