/**
 * Free text scrubbed of the identifiers people type into it, each replaced by a token.
 *
 * The threat: a clinician writes "pt DOB 03/04/1961, NHS 943 476 5919, lives SE5 8AF,
 * seen by Dr Okafor" into a comment. Free text is dropped by default; a dataset that keeps a
 * column scrubs it here, after the value has been normalised (normalise.ts), so full-width,
 * Arabic-Indic or Devanagari digits, zero-width spaces and soft hyphens cannot carry an
 * identifier past the rules.
 *
 * What is removed (lib/ingest/core/identifiers.ts says how each is found):
 *  - any run of six or more digits read through separators (NHS numbers, phone numbers,
 *    compact dates, other long numbers: whatever they are), numbers in words included;
 *  - ten digits passing the NHS number check, or eight forming a date, even with single
 *    letters or joining words between the groups (`943 a 476 b 5919`);
 *  - dates in every order and separator, with month names, ordinals and "day of";
 *  - postcodes with any separator or none, in any case, glued to a word or not;
 *  - e-mail addresses, including `(at)`, ` at ... dot ...` and spaces around `@`;
 *  - telephone numbers in UK and international layouts;
 *  - names after a title (Mr, Mrs, Ms, Dr, Prof, Sister, ...) and given names from a
 *    maintained list (@stdlib's English first-name lists), with the capitalised word after
 *    them taken for a family name.
 *
 * What survives on purpose (tested): doses and measurements (`500mg`, `2.5ml`, `BP
 * 120/80`, `HbA1c 48`), numbers of up to five digits, times (`10:30`), a month with only a
 * year (`April 2025`), codes such as `I10X` or `E11.9`, and capitalised words that are also
 * common English words at the start of a sentence (`Will review`). What is lost though
 * harmless: runs of six or more digits such as SNOMED CT codes in the text, and the few
 * doses that are also postcodes (`B12 1ML`).
 *
 * Names are the weak point of any pattern: a family name with no title and no listed given
 * name before it survives. That is why free text stays `drop` unless a dataset's owner has
 * judged the column to be name-free (dosage instructions, coded comments).
 */
import { findIdentifierSpans, IdentifierKind } from './identifiers';
import { normaliseLoosely } from './normalise';

export type { IdentifierKind } from './identifiers';

export const SCRUB_TOKENS: Readonly<Record<IdentifierKind, string>> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  nhsNumber: '[NHS_NUMBER]',
  date: '[DATE]',
  postcode: '[POSTCODE]',
  name: '[NAME]',
  number: '[NUMBER]',
};

/** Scrubs one free-text value (normalised first, so the result is normal too). */
export function scrubFreeText(text: string): string {
  const normal = normaliseLoosely(text);
  const spans = findIdentifierSpans(normal);
  if (spans.length === 0) return normal;
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += normal.slice(at, span.start) + SCRUB_TOKENS[span.kind];
    at = span.end;
  }
  return out + normal.slice(at);
}
