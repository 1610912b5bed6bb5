/**
 * Row-level output detection: values and columns that mean a file describes people one
 * by one rather than in aggregate. Any one of them refuses the file: such output cannot
 * be made safe by suppressing cells, and its release is exactly the re-identification
 * the de-personalisation upstream exists to prevent.
 *
 * Findings name the column and row, never the value.
 */
import type { Table } from './csv-table';

export type RowLevelRule = 'pseudonym' | 'nhs_number' | 'postcode' | 'date_of_birth' | 'identifier_column' | 'row_per_person';

export interface RowLevelFinding {
  readonly rule: RowLevelRule;
  readonly column: string;
  /** 1-based data row of the first value found, where the rule is about values. */
  readonly row?: number;
  readonly reason: string;
}

/**
 * The platform's pseudonyms: HMAC-SHA256 truncated to 128 bits as 22 characters of base64url
 * (lib/ingest/core/deidentify.ts), or the 64 hex characters of the full HMAC that ingestion
 * wrote before (extracts made then may still be about).
 */
const PSEUDONYM_HEX = /^[0-9a-f]{64}$/i;
const PSEUDONYM_BASE64URL = /^[A-Za-z0-9_-]{22}$/;

/** Ten digits, optionally written 3-3-4 with spaces or hyphens, as NHS numbers are. */
const NHS_NUMBER_SHAPE = /^(\d{3})[ -]?(\d{3})[ -]?(\d{4})$/;

/** A full UK postcode (outward and inward code): the inward code narrows it to ~15 addresses. */
const FULL_POSTCODE = /^(GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$/i;

const FULL_DATE = /^(\d{4}-\d{2}-\d{2}|\d{1,2}\/\d{1,2}\/\d{4})([T ].*)?$/;

const BIRTH_COLUMN = /(^|_)(dob|birth|born)(_|$)|date_?of_?birth|birth_?date/i;

/** Column names that say "one person per row" whatever the values look like. */
const IDENTIFIER_COLUMN = /(^|_)pseudonym(s)?($|_)|^(nhs_?(number|no|num)|person_?id|patient_?id|pseudo_?id|subject_?id)$/i;

/** The NHS number Modulus 11 check digit (NHS Data Dictionary): weights 10..2 on the first nine digits. */
export function isValidNhsNumber(value: string): boolean {
  const m = NHS_NUMBER_SHAPE.exec(value.trim());
  if (!m) return false;
  const digits = (m[1] + m[2] + m[3]).split('').map(Number);
  const sum = digits.slice(0, 9).reduce((acc, d, i) => acc + d * (10 - i), 0);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === digits[9];
}

export function looksLikePseudonym(value: string): boolean {
  const v = value.trim();
  if (PSEUDONYM_HEX.test(v)) return true;
  if (!PSEUDONYM_BASE64URL.test(v)) return false;
  // Random bytes mix letters of both cases and digits; a label of 22 letters does not.
  const kinds = [/[A-Z]/, /[a-z]/, /[0-9]/].filter((k) => k.test(v)).length;
  return kinds >= 2 && /[0-9_-]/.test(v);
}

export function isFullPostcode(value: string): boolean {
  return FULL_POSTCODE.test(value.trim().replace(/\s+/g, ' '));
}

interface ValueRule {
  readonly rule: RowLevelRule;
  readonly test: (value: string) => boolean;
  readonly what: string;
}

const VALUE_RULES: readonly ValueRule[] = [
  { rule: 'pseudonym', test: looksLikePseudonym, what: 'a person pseudonym (22 characters of base64url, or 64 hexadecimal characters)' },
  { rule: 'nhs_number', test: isValidNhsNumber, what: 'an NHS number (ten digits with a valid check digit)' },
  { rule: 'postcode', test: isFullPostcode, what: 'a full postcode (use the outward code, LSOA or a larger area)' },
];

export interface RowLevelOptions {
  /** Columns holding aggregates (counts, magnitudes): a table with any is not a listing. */
  readonly aggregateColumns: readonly string[];
  /** rowLevelMinRows from the settings. */
  readonly minRows: number;
}

/** Every reason the table looks like row-level (per-person) output; empty when none. */
export function rowLevelFindings(table: Table, options: RowLevelOptions): RowLevelFinding[] {
  const findings: RowLevelFinding[] = [];
  table.columns.forEach((column, c) => {
    if (IDENTIFIER_COLUMN.test(column)) {
      findings.push({ rule: 'identifier_column', column, reason: `column "${column}" is named as a person identifier` });
    }
    for (const rule of VALUE_RULES) {
      const rows = table.rows.flatMap((row, r) => (rule.test(row[c]) ? [r + 1] : []));
      if (rows.length > 0) {
        findings.push({
          rule: rule.rule,
          column,
          row: rows[0],
          reason: `column "${column}" holds ${rows.length} value${rows.length === 1 ? '' : 's'} shaped like ${rule.what}, first in data row ${rows[0]}`,
        });
      }
    }
    if (BIRTH_COLUMN.test(column)) {
      const r = table.rows.findIndex((row) => FULL_DATE.test(row[c].trim()));
      if (r >= 0) {
        findings.push({
          rule: 'date_of_birth',
          column,
          row: r + 1,
          reason: `column "${column}" holds full dates of birth, first in data row ${r + 1} (use an age band)`,
        });
      }
    }
  });

  // A listing: no aggregate at all, many rows, and a column that differs in every row.
  if (options.aggregateColumns.length === 0 && table.rows.length >= options.minRows) {
    table.columns.forEach((column, c) => {
      const values = new Set(table.rows.map((row) => row[c].trim()));
      if (values.size === table.rows.length) {
        findings.push({
          rule: 'row_per_person',
          column,
          reason: `the table has no count column and ${table.rows.length} rows, and column "${column}" has a different value in every row: it looks like one row per person`,
        });
      }
    });
  }
  return findings;
}
