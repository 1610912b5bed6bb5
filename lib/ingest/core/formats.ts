/**
 * The value formats a dataset column can declare (`format:` in config/datasets/*.yaml),
 * each as a normaliser: the canonical form of a valid value, or undefined.
 *
 * Codes are upper-cased so that the same code always reaches curated the same way (a
 * research query on `I10X` must not miss `i10x`). NHS numbers and postcodes have their own
 * modules: the Modulus 11 check and the postcode pattern are used elsewhere too.
 */
import type { ColumnFormat } from '../../config/schema';
import { isValidNhsNumber, nhsCheckDigit, normaliseNhsNumber } from './nhs-number';
import { normalisePostcode } from './postcode';

/** LSOA (2011/2021): England E01 or Wales W01, then six digits. */
const LSOA = /^[EW]01\d{6}$/;
/** ODS organisation and site codes: 3 to 6 letters and digits (trusts `RAL`, practices `F83001`). */
const ODS = /^[A-Z0-9]{3,6}$/;
/** ICD-10 as HES writes it: letter, two digits, optional dot, up to two more (X pads 3-character codes), optional dagger/asterisk mark. */
const ICD10 = /^[A-Z]\d{2}(?:\.?[0-9X]{1,2})?[AD]?$/;
/** OPCS-4: a chapter letter (no I or O), two digits, optional dot and a fourth digit. */
const OPCS4 = /^[A-HJ-NP-Z]\d{2}(?:\.?\d)?$/;
/** SNOMED CT identifiers: 6 to 18 digits, no leading zero. */
const SNOMED = /^[1-9]\d{5,17}$/;
/**
 * BNF codes: the full 15-character presentation code (chapter, section, paragraph,
 * sub-paragraph, chemical, product, strength/formulation, generic equivalent) or a leading
 * prefix of it at one of those boundaries (2, 4, 6, 7, 9, 11, 13 characters).
 */
const BNF = /^\d{2}(?:\d{2}(?:\d{2}(?:[0-9A-Z](?:[0-9A-Z]{2}){0,4})?)?)?$/;

function code(pattern: RegExp): (value: string) => string | undefined {
  return (value) => {
    // Nearly every value arrives upper case already: test it as it is before copying it.
    if (pattern.test(value)) return value;
    const upper = value.toUpperCase();
    return pattern.test(upper) ? upper : undefined;
  };
}

const TEN_DIGITS = /^\d{10}$/;

/** A record key: letters, digits and - _ . / : (no spaces), 1 to 64 characters, starting with a letter or digit. */
const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
/** Runs of exactly ten digits (not part of a longer run), or ten digits in the 3-3-4 layout with hyphens. */
const TEN_DIGIT_RUNS = /(?<!\d)(?:\d{10}|\d{3}-\d{3}-\d{4})(?!\d)/g;

/**
 * A supplier's record key, kept in clear so that researchers can tell rows apart (it links
 * nothing outside its dataset). Unlike a column with no format, it may hold long digit runs
 * (`100000000123`), but never an NHS number: a value holding ten digits that pass the
 * Modulus 11 check, alone or in a key like `EP-9434765919`, is refused, so a patient's NHS
 * number used as a key cannot reach curated in clear. (About one random 10-digit key in
 * eleven passes the check: a supplier whose keys are 10-digit numbers must pseudonymise or
 * drop them instead.)
 */
function recordId(value: string): string | undefined {
  if (!RECORD_ID.test(value)) return undefined;
  for (const m of value.matchAll(TEN_DIGIT_RUNS)) if (nhsNumber(m[0].replace(/-/g, '')) !== undefined) return undefined;
  return value;
}

/** The common case (ten bare digits) checked directly; anything else goes through the full normaliser. */
function nhsNumber(value: string): string | undefined {
  if (TEN_DIGITS.test(value)) return nhsCheckDigit(value.slice(0, 9)) === value.charCodeAt(9) - 48 ? value : undefined;
  return isValidNhsNumber(value) ? normaliseNhsNumber(value) : undefined;
}

export interface FormatRule {
  /** The canonical value, or undefined when the value breaks the format. */
  readonly normalise: (value: string) => string | undefined;
  /** What a valid value looks like, for the rejection message (never the value itself). */
  readonly expected: string;
}

export const FORMAT_RULES: Readonly<Record<ColumnFormat, FormatRule>> = {
  nhs_number: {
    normalise: nhsNumber,
    expected: '10 digits (spaces or hyphens allowed) with a valid Modulus 11 check digit',
  },
  postcode: { normalise: normalisePostcode, expected: 'a UK postcode such as SW1A 1AA' },
  lsoa: { normalise: code(LSOA), expected: "an LSOA code: 'E01' or 'W01' and six digits" },
  ods_code: { normalise: code(ODS), expected: 'an ODS code of 3 to 6 letters and digits' },
  icd10: { normalise: code(ICD10), expected: 'an ICD-10 code such as I10X or E11.9' },
  opcs4: { normalise: code(OPCS4), expected: 'an OPCS-4 code such as W371' },
  snomed: { normalise: (v) => (SNOMED.test(v) ? v : undefined), expected: 'a SNOMED CT identifier of 6 to 18 digits' },
  bnf: { normalise: code(BNF), expected: 'a 15-character BNF presentation code or a leading part of one' },
  record_id: { normalise: recordId, expected: 'a record key (1 to 64 letters, digits and - _ . / :) that holds no NHS number' },
  free_text: { normalise: (v) => v, expected: 'any text' },
};
