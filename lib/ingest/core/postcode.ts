/**
 * UK postcodes: normalised, validated, and cut to the outward code.
 *
 * A full postcode covers about 15 households, so it identifies people; the outward code
 * (the district, e.g. SE5) covers thousands. Only the outward code, or an area code looked
 * up from the full postcode, may reach curated.
 *
 * The pattern is the UK Government Data Standards one (letters that never occur in a given
 * position are excluded), so it refuses typing slips that would land in another district.
 */

/** The outward code (area and district), as a pattern source: shared with the free-text scrubber. */
export const POSTCODE_OUTWARD = '[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]|[A-HK-Y][0-9][ABEHMNPRV-Y])';
/** The inward code (sector and unit), as a pattern source. */
export const POSTCODE_INWARD = '[0-9][ABD-HJLNP-UW-Z]{2}';
/** A whole postcode in its normal form, as a pattern source (no anchors). */
export const POSTCODE_PATTERN = `(?:GIR 0AA|${POSTCODE_OUTWARD} ${POSTCODE_INWARD})`;

const POSTCODE = new RegExp(`^${POSTCODE_PATTERN}$`);

/**
 * Upper case, no surrounding space, one space before the inward code ('se58af' -> 'SE5 8AF').
 * Returns undefined when the result is not a valid UK postcode.
 */
export function normalisePostcode(input: string): string | undefined {
  // Most values arrive in the normal form already: accept them without copying.
  if (POSTCODE.test(input)) return input;
  const compact = input.replace(/\s+/g, '').toUpperCase();
  if (compact.length < 5 || compact.length > 7) return undefined;
  const spaced = `${compact.slice(0, -3)} ${compact.slice(-3)}`;
  return POSTCODE.test(spaced) ? spaced : undefined;
}

export function isValidPostcode(input: string): boolean {
  return normalisePostcode(input) !== undefined;
}

/** The outward code ('SE5 8AF' -> 'SE5'), or undefined when the input is not a valid postcode. */
export function postcodeOutward(input: string): string | undefined {
  const normalised = normalisePostcode(input);
  return normalised === undefined ? undefined : normalised.slice(0, normalised.indexOf(' '));
}
