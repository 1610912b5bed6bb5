/**
 * The value domains a string column can declare (`format:` in config/datasets/*.yaml),
 * each compiled to a normaliser: the canonical form of a value that belongs to the domain,
 * or undefined. An allow-list, not a search for what is wrong: a value kept in clear
 * reaches curated only if it is a member of its column's domain.
 *
 * - code systems, each with its own structure check: SNOMED CT (Verhoeff check digit and a
 *   concept partition identifier), ICD-10, OPCS-4, BNF, ODS organisation codes, LSOA and
 *   MSOA codes; and the identifiers NHS number (Modulus 11) and postcode, which rules
 *   pseudonymise or generalise;
 * - code lists: the codes written inline (`codes: [...]`) or in a vocabulary file under
 *   config/ (`vocabulary: vocabularies/sex.yaml`, read by the config loader);
 * - lists of codes in one cell (`list: icd10, separator: '|'`), every element checked;
 * - `record_id`: a supplier's record key, the one open domain, guarded against holding an
 *   NHS number, a date, a postcode, a phone number or an e-mail address (identifiers.ts);
 * - `free_text`: any text, which only `drop` or `scrub_free_text` may take.
 *
 * Values arrive normalised (normalise.ts). Codes are upper-cased where the system is
 * case-free, so the same code always reaches curated the same way (a research query on
 * `I10X` must not miss `i10x`); a code list maps a value to its listed spelling when only
 * the case differs and the list has no other code of that spelling.
 *
 * Designed to grow: a format is compiled from its spec by `compileFormat`, so declared
 * placeholders, further systems or list options are one more case here and in the schema.
 */
import type { ColumnFormat, ListFormat } from '../../config/schema';
import { compactDateWindow, findIdentifierInValue, nhsNumberWindow } from './identifiers';
import { nhsCheckDigit, normaliseNhsNumber } from './nhs-number';
import { normalisePostcode } from './postcode';

/** The rejection code of each format, as counted in manifests (`bad_<format>`, `not_in_code_list`). */
export const FORMAT_FAILURE_CODES = [
  'bad_nhs_number',
  'bad_nhs_check_digit',
  'bad_postcode',
  'bad_lsoa',
  'bad_msoa',
  'bad_ods_code',
  'bad_icd10',
  'bad_opcs4',
  'bad_snomed',
  'bad_bnf',
  'bad_record_id',
  'not_in_code_list',
] as const;
export type FormatFailureCode = (typeof FORMAT_FAILURE_CODES)[number];

export interface FormatRule {
  /** The canonical value, or undefined when the value is not in the domain. */
  readonly normalise: (value: string) => string | undefined;
  /** What a valid value looks like, for the rejection message (never the value itself). */
  readonly expected: string;
  readonly code: FormatFailureCode;
}

/** LSOA (2011/2021): England E01 or Wales W01, then six digits. */
const LSOA = /^[EW]01\d{6}$/;
/** MSOA (2011/2021): England E02 or Wales W02, then six digits. */
const MSOA = /^[EW]02\d{6}$/;
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

// Verhoeff's dihedral-group tables (public domain), for the SNOMED CT check digit.
const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** Whether a digit string (check digit last) passes Verhoeff's check. */
export function passesVerhoeff(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) c = VERHOEFF_D[c][VERHOEFF_P[i % 8][digits.charCodeAt(digits.length - 1 - i) - 48]];
  return c === 0;
}

/** The Verhoeff check digit for a digit string (for tests and synthetic codes). */
export function verhoeffCheckDigit(digits: string): number {
  for (let d = 0; d <= 9; d++) if (passesVerhoeff(`${digits}${d}`)) return d;
  throw new Error('unreachable: one of ten digits always passes');
}

/**
 * SNOMED CT concept identifiers (SCTIDs): 6 to 18 digits, no leading zero; the last digit
 * is a Verhoeff check digit; the two before it are the partition identifier, which for a
 * concept is 00 (an international id) or 10 (an extension's, with a 7-digit namespace).
 * A column of clinical codes holds concepts, so description (01, 11) and relationship
 * (02, 12) ids are refused. An id that is ten digits passing the NHS number check, or whose
 * item identifier (the digits before the partition and namespace) holds ten such digits or
 * eight that make a date, is refused too: such a value is an identifier more surely than a
 * concept (no concept issued so far has an item identifier of eight digits or more).
 */
function snomed(value: string): string | undefined {
  if (!SNOMED.test(value) || !passesVerhoeff(value)) return undefined;
  const partition = value.slice(-3, -1);
  if (partition !== '00' && partition !== '10') return undefined;
  const item = partition === '10' ? value.slice(0, -10) : value.slice(0, -3);
  if (nhsNumberWindow(value.length === 10 ? value : item) >= 0 || compactDateWindow(item) >= 0) return undefined;
  return value;
}

const TEN_DIGITS = /^\d{10}$/;

/** The common case (ten bare digits) checked directly; anything else goes through the full normaliser. */
function nhsNumber(value: string): string | undefined {
  if (TEN_DIGITS.test(value)) return nhsCheckDigit(value.slice(0, 9)) === value.charCodeAt(9) - 48 ? value : undefined;
  const normalised = normaliseNhsNumber(value);
  if (normalised === undefined) return undefined;
  return nhsCheckDigit(normalised.slice(0, 9)) === normalised.charCodeAt(9) - 48 ? normalised : undefined;
}

/** A record key: letters, digits and - _ . / : (no spaces), 1 to 64 characters, starting with a letter or digit. */
const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/**
 * A supplier's record key, kept in clear so that researchers can tell rows apart (it links
 * nothing outside its dataset). It may hold long digit runs, but never an identifier: a key
 * whose digits, read through separators and letters, hold ten that pass Modulus 11 or eight
 * that make a date, or that holds a postcode, a phone number or an e-mail address, is
 * refused, so a patient's NHS number or date of birth used as (part of) a key cannot reach
 * curated in clear. About one random ten-digit stretch in eleven passes the check, so a
 * supplier whose keys are long numbers must pseudonymise them (`rule: pseudonymise` works
 * on a record_id) or drop them.
 */
function recordId(value: string): string | undefined {
  if (!RECORD_ID.test(value)) return undefined;
  return findIdentifierInValue(value) === undefined ? value : undefined;
}

/**
 * A record key that is pseudonymised, never kept: only its shape is checked. It may hold
 * anything digits can (an episode key whose digits pass Modulus 11, a supplier's own
 * pseudonym), because only its keyed HMAC reaches curated.
 */
export const PSEUDONYMISED_RECORD_KEY: FormatRule = {
  normalise: (value) => (RECORD_ID.test(value) ? value : undefined),
  code: 'bad_record_id',
  expected: 'a record key (1 to 64 letters, digits and - _ . / :, starting with a letter or digit)',
};

/**
 * BNF codes are mostly digits: one whose digits hold ten passing Modulus 11, eight making a
 * date or a phone number is an identifier in a code's clothing.
 */
function bnf(value: string): string | undefined {
  const normalised = code(BNF)(value);
  if (normalised === undefined) return undefined;
  return normalised.length >= 8 && findIdentifierInValue(normalised) !== undefined ? undefined : normalised;
}

/** ODS codes are short: the one identifier that fits in six letters and digits is a postcode run together (`XN10AA`). */
function odsCode(value: string): string | undefined {
  const normalised = code(ODS)(value);
  if (normalised === undefined || normalised.length < 5) return normalised;
  return findIdentifierInValue(normalised) === undefined ? normalised : undefined;
}

const NAMED: Readonly<Record<Exclude<ColumnFormat & string, 'free_text'>, FormatRule>> = {
  nhs_number: { normalise: nhsNumber, code: 'bad_nhs_number', expected: '10 digits (spaces or hyphens allowed) with a valid Modulus 11 check digit' },
  postcode: { normalise: normalisePostcode, code: 'bad_postcode', expected: 'a UK postcode such as SW1A 1AA' },
  lsoa: { normalise: code(LSOA), code: 'bad_lsoa', expected: "an LSOA code: 'E01' or 'W01' and six digits" },
  msoa: { normalise: code(MSOA), code: 'bad_msoa', expected: "an MSOA code: 'E02' or 'W02' and six digits" },
  ods_code: { normalise: odsCode, code: 'bad_ods_code', expected: 'an ODS code of 3 to 6 letters and digits' },
  icd10: { normalise: code(ICD10), code: 'bad_icd10', expected: 'an ICD-10 code such as I10X or E11.9' },
  opcs4: { normalise: code(OPCS4), code: 'bad_opcs4', expected: 'an OPCS-4 code such as W371' },
  snomed: { normalise: snomed, code: 'bad_snomed', expected: 'a SNOMED CT concept identifier (6 to 18 digits, Verhoeff check digit, partition 00 or 10)' },
  bnf: { normalise: bnf, code: 'bad_bnf', expected: 'a 15-character BNF presentation code or a leading part of one' },
  record_id: {
    normalise: recordId,
    code: 'bad_record_id',
    expected: 'a record key (1 to 64 letters, digits and - _ . / :) that holds no NHS number, date, postcode, phone number or e-mail address',
  },
};

const FREE_TEXT: FormatRule = { normalise: (v) => v, code: 'not_in_code_list', expected: 'any text' };

/** The codes a code-list format allows (inline, or filled from its vocabulary file by the loader). */
export function codesOf(format: ColumnFormat): readonly string[] | undefined {
  return typeof format === 'object' && 'codes' in format ? format.codes : undefined;
}

function codeList(listed: readonly string[], source: string): FormatRule {
  // Fail-safe: a code that itself holds an identifier (a mistake in a vocabulary) is never
  // matched, so it cannot carry one into curated (`sde validate` reports it).
  const codes = listed.filter((c) => findIdentifierInValue(c) === undefined);
  const exact = new Set(codes);
  const byCase = new Map<string, string | null>();
  for (const c of codes) {
    const folded = c.toUpperCase();
    byCase.set(folded, byCase.has(folded) && byCase.get(folded) !== c ? null : c);
  }
  return {
    normalise: (value) => (exact.has(value) ? value : (byCase.get(value.toUpperCase()) ?? undefined)),
    code: 'not_in_code_list',
    expected: `one of the ${codes.length} codes of ${source}`,
  };
}

function listOf(format: ListFormat, placeholders: ReadonlySet<string>): FormatRule {
  const element = withPlaceholders(compileFormat(format.list), placeholders);
  const sep = format.separator;
  return {
    normalise: (value) => {
      const parts = value.split(sep);
      const out: string[] = [];
      for (const part of parts) {
        const normal = element.normalise(part.trim());
        if (normal === undefined) return undefined;
        out.push(normal);
      }
      return out.join(sep);
    },
    code: element.code,
    expected: `a list of values separated by '${sep}', each ${element.expected}`,
  };
}

/**
 * The placeholders a column declares kept (`placeholders: ['&']`), minus any that holds an
 * identifier (fail-safe, as for code lists: `sde validate` reports them).
 */
export function safePlaceholders(placeholders: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((placeholders ?? []).filter((p) => findIdentifierInValue(p) === undefined));
}

/** The placeholders of a column that hold an identifier (never accepted; `sde validate` reports them). */
export function placeholdersHoldingIdentifiers(placeholders: readonly string[] | undefined): string[] {
  return (placeholders ?? []).filter((p) => findIdentifierInValue(p) !== undefined);
}

function withPlaceholders(rule: FormatRule, placeholders: ReadonlySet<string>): FormatRule {
  if (placeholders.size === 0) return rule;
  return { ...rule, normalise: (value) => (placeholders.has(value) ? value : rule.normalise(value)), expected: `${rule.expected} (or a declared placeholder)` };
}

/**
 * The rule of a format spec, accepting the column's declared placeholders as they are (in a
 * list, as elements). Throws on a code list with no codes (the config loader fills vocabularies first).
 */
export function compileFormat(format: ColumnFormat, placeholders: ReadonlySet<string> = new Set()): FormatRule {
  if (typeof format === 'object' && 'list' in format) return listOf(format, placeholders);
  return withPlaceholders(compileScalar(format), placeholders);
}

function compileScalar(format: ColumnFormat): FormatRule {
  if (format === 'free_text') return FREE_TEXT;
  if (typeof format === 'string') return NAMED[format];
  if ('list' in format) return listOf(format, new Set());
  const codes = codesOf(format);
  if (codes === undefined || codes.length === 0) {
    throw new Error(`the code list of ${'vocabulary' in format ? format.vocabulary : 'a column'} has no codes (was the config loaded with loadConfig?)`);
  }
  return codeList(codes, 'vocabulary' in format ? format.vocabulary : "the column's code list");
}

/** The codes of a code list that hold an identifier (never accepted; `sde validate` reports them). */
export function codesHoldingIdentifiers(format: ColumnFormat): string[] {
  if (typeof format !== 'object') return [];
  if ('list' in format) return codesHoldingIdentifiers(format.list);
  return (codesOf(format) ?? []).filter((c) => findIdentifierInValue(c) !== undefined);
}

/** The named format of a column's domain, or the kind of spec ('codes', 'list'). */
export function formatKind(format: ColumnFormat | undefined): string | undefined {
  if (format === undefined || typeof format === 'string') return format;
  return 'list' in format ? 'list' : 'codes';
}
