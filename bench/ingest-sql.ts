/**
 * The yardstick bench:ingest measures the pipeline against: the same rules for
 * `hospital_episodes` written as DuckDB SQL over the same file, on one thread, its output
 * checked row for row against the pipeline's. Not a second pipeline (it handles one dataset,
 * and hands the rows it cannot decide to the core): a measure of what the rules cost when a
 * column engine does them.
 *
 * What it does, as the core does (lib/ingest/core/): every value trimmed and checked for
 * control characters; a row with any character outside printable ASCII is handed to the core
 * (normalisation needs NFKC, which DuckDB lacks), as is a record key whose letters could read
 * as number words, months or a written-out e-mail, and every row DuckDB's CSV reader skips
 * (malformed quoting, ragged rows: the core rejects them all). Then each column's domain:
 * record_id's shape and guard (ten digits passing Modulus 11 in any window of its digits,
 * eight making a date, a phone number, a postcode run together, an @), the NHS number's
 * Modulus 11, dates and their plausibility against the load date, the vocabularies (from the
 * config), postcode, LSOA, ODS (not a postcode), ICD-10, the list of ICD-10 codes, OPCS-4,
 * the length of stay's range; the opt-out; pseudonyms by HMAC-SHA256 in SQL (checked equal to
 * node:crypto) truncated to 128 bits as base64url; age bands at admission; months.
 */
import { createHmac } from 'node:crypto';
import { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetConfig } from '../lib/config/schema';
import { codesOf } from '../lib/ingest/core/formats';
import { POSTCODE_INWARD, POSTCODE_OUTWARD, POSTCODE_PATTERN } from '../lib/ingest/core/postcode';
import { referenceDialect, sql, TODAY } from './ingest-input';

function paddedKey(key: Buffer, pad: number): string {
  const block = Buffer.alloc(64);
  key.copy(block);
  for (let i = 0; i < 64; i++) block[i] ^= pad;
  return block.toString('hex');
}

const latest = new Date(Date.parse(`${TODAY}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const MONTH_WORDS = 'jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec';
const NUMBER_WORDS =
  'zero|oh|nought|naught|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety|double|triple';

/** Ten digits that pass the NHS number check (a VARCHAR of exactly ten digits). */
const mod11 = (d: string) =>
  `(((11 - ((${[0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => `(ascii(${d}[${i + 1}]) - 48) * ${10 - i}`).join(' + ')}) % 11)) % 11) = ascii(${d}[10]) - 48 AND (11 - ((${[0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => `(ascii(${d}[${i + 1}]) - 48) * ${10 - i}`).join(' + ')}) % 11)) <> 10)`;
/** Eight digits that are a date as YYYYMMDD, DDMMYYYY or MMDDYYYY with a plausible year. */
const compactDate = (d: string) =>
  `(try_strptime(${d}, '%Y%m%d') IS NOT NULL AND ${d}[1:4]::INT BETWEEN 1850 AND 2199
    OR try_strptime(${d}, '%d%m%Y') IS NOT NULL AND ${d}[5:8]::INT BETWEEN 1850 AND 2199
    OR try_strptime(${d}, '%m%d%Y') IS NOT NULL AND ${d}[5:8]::INT BETWEEN 1850 AND 2199)`;
const windows = (d: string, size: number, test: (w: string) => string) =>
  `(length(${d}) >= ${size} AND list_bool_or([${test(`substr(${d}, i::BIGINT, ${size})`)} FOR i IN range(1, length(${d}) - ${size - 2})]))`;

/** The statement that checks, de-identifies and writes the curated rows to `out`; and counts into `counts`. */
export async function runSqlRules(
  connection: DuckDBConnection,
  dataset: DatasetConfig,
  file: string,
  optOutFile: string,
  key: Buffer,
  out: string,
): Promise<{ read: number; handed: number; written: number }> {
  const col = (name: string) => dataset.columns.find((c) => c.name === name)!;
  const upperCodes = (name: string) =>
    codesOf(col(name).format!)!
      .map((c) => sql(c.toUpperCase()))
      .join(', ');
  const asText = dataset.columns.map((c) => `${sql(c.name)}: 'VARCHAR'`).join(', ');
  const names = dataset.columns.map((c) => c.name);
  // Trimmed of padding (spaces, tabs, line ends; free text keeps its spacing), empty as NULL.
  const trimmed = names
    .map((n) =>
      col(n).format === 'free_text' ? `nullif(${n}, '') AS ${n}` : `nullif(trim(${n}, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '') AS ${n}`,
    )
    .join(', ');
  const control = names
    .map(
      (n) =>
        `coalesce(regexp_matches(${n}, ${col(n).format === 'free_text' ? `'[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]'` : `'[\\x00-\\x08\\x0a-\\x1f\\x7f]'`}), false)`,
    )
    .join(' OR ');
  const nonAscii = names.map((n) => `coalesce(regexp_matches(${n}, '[^\\x00-\\x7f]'), false)`).join(' OR ');
  const ods = (c: string) =>
    `(${c} IS NULL OR regexp_full_match(upper(${c}), '[A-Z0-9]{3,6}') AND NOT (length(${c}) >= 5 AND regexp_matches(upper(${c}), '${POSTCODE_OUTWARD}${POSTCODE_INWARD}')))`;
  const validDate = (c: string) => `(${c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND try_cast(${c} AS DATE) IS NOT NULL)`;
  const icd10 = `'[A-Z][0-9]{2}(?:\\.?[0-9X]{1,2})?[AD]?'`;
  const statement = `
    CREATE OR REPLACE TEMP TABLE checked AS
    WITH raw AS (SELECT ${trimmed}, row_number() OVER () AS rn FROM read_csv(${sql(file)}, ${referenceDialect(dataset)}, auto_detect = false, all_varchar = true, columns = {${asText}})),
    flagged AS (SELECT *, (${nonAscii}) OR coalesce(regexp_matches(lower(episode_id), '${MONTH_WORDS}|${NUMBER_WORDS}|at|dot'), false) AS handed, (${control}) AS has_control FROM raw),
    keyed AS (
      SELECT *, regexp_replace(episode_id, '[^0-9]', '', 'g') AS key_digits,
        regexp_replace(nhs_number, '[ \\t\\n\\x0b\\x0c\\r-]', '', 'g') AS nhs
      FROM flagged),
    compact AS (SELECT *, upper(regexp_replace(postcode, '\\s+', '', 'g')) AS pc FROM keyed)
    SELECT *, (
      NOT handed AND NOT has_control
      AND episode_id IS NOT NULL AND regexp_full_match(episode_id, '[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}')
      AND NOT ${windows('key_digits', 10, mod11)} AND NOT ${windows('key_digits', 8, compactDate)}
      AND NOT regexp_matches(key_digits, '0[1-9][0-9]{8}|44[1-9][0-9]{8}')
      AND NOT (regexp_matches(episode_id, '[A-Za-z]') AND regexp_matches(upper(regexp_replace(episode_id, '[^A-Za-z0-9]', '', 'g')), '${POSTCODE_OUTWARD}${POSTCODE_INWARD}'))
      AND NOT regexp_matches(episode_id, '([0-9]+[^0-9A-Za-z]+){2}[0-9]')
      AND nhs IS NOT NULL AND regexp_full_match(nhs, '[0-9]{10}') AND ${mod11('nhs')}
      AND date_of_birth IS NOT NULL AND ${validDate('date_of_birth')} AND date_of_birth <= '${TODAY}' AND date_of_birth >= '1890-01-01'
      AND (sex IS NULL OR upper(sex) IN (${upperCodes('sex')}))
      AND (ethnicity IS NULL OR upper(ethnicity) IN (${upperCodes('ethnicity')}))
      AND (postcode IS NULL OR (length(pc) BETWEEN 5 AND 7 AND regexp_full_match(left(pc, length(pc) - 3) || ' ' || right(pc, 3), '${POSTCODE_PATTERN}')))
      AND (lsoa_code IS NULL OR regexp_full_match(upper(lsoa_code), '[EW]01[0-9]{6}'))
      AND ${ods('gp_practice_code')} AND ${ods('provider_code')}
      AND admission_date IS NOT NULL AND ${validDate('admission_date')} AND admission_date <= '${latest}' AND admission_date >= '1900-01-01' AND admission_date >= date_of_birth
      AND (discharge_date IS NULL OR (${validDate('discharge_date')} AND discharge_date <= '${latest}' AND discharge_date >= '1900-01-01'))
      AND (admission_method IS NULL OR upper(admission_method) IN (${upperCodes('admission_method')}))
      AND (primary_diagnosis IS NULL OR regexp_full_match(upper(primary_diagnosis), ${icd10}))
      AND (secondary_diagnoses IS NULL OR list_bool_and([regexp_full_match(upper(trim(d)), ${icd10}) FOR d IN string_split(secondary_diagnoses, '|')]))
      AND (primary_procedure IS NULL OR regexp_full_match(upper(primary_procedure), '[A-HJ-NP-Z][0-9]{2}(?:\\.?[0-9])?'))
      AND (length_of_stay IS NULL OR (regexp_full_match(length_of_stay, '[+-]?[0-9]{1,15}') AND try_cast(length_of_stay AS BIGINT) BETWEEN ${col('length_of_stay').min} AND ${col('length_of_stay').max}))
    ) AS ok FROM compact`;
  await connection.run(statement);
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE opted_out AS SELECT trim(column0) AS nhs FROM read_csv(${sql(optOutFile)}, header = false, columns = {'column0': 'VARCHAR'})`,
  );
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE pseudonyms AS
     SELECT nhs, rtrim(replace(replace(to_base64(unhex(left(sha256(unhex('${paddedKey(key, 0x5c)}') || unhex(sha256(unhex('${paddedKey(key, 0x36)}') || nhs::BLOB))), 32))), '+', '-'), '/', '_'), '=') AS person_id
     FROM (SELECT DISTINCT nhs FROM checked WHERE ok AND nhs NOT IN (SELECT nhs FROM opted_out))`,
  );
  // Code lists give the listed spelling; here every listed code is its own upper case.
  const canon = (c: string) => `upper(${c})`;
  await connection.run(
    `COPY (SELECT c.episode_id, p.person_id,
       CASE WHEN age >= 90 THEN '90+' ELSE (age // 5 * 5)::VARCHAR || '-' || (age // 5 * 5 + 4)::VARCHAR END AS age_band_at_admission,
       ${canon('c.sex')} AS sex, ${canon('c.ethnicity')} AS ethnicity, left(c.pc, length(c.pc) - 3) AS postcode_district,
       upper(c.lsoa_code) AS lsoa_code, upper(c.gp_practice_code) AS gp_practice_code, upper(c.provider_code) AS provider_code,
       substr(c.admission_date, 1, 7) AS admission_month, substr(c.discharge_date, 1, 7) AS discharge_month, ${canon('c.admission_method')} AS admission_method,
       upper(c.primary_diagnosis) AS primary_diagnosis, array_to_string([upper(trim(d)) FOR d IN string_split(c.secondary_diagnoses, '|')], '|') AS secondary_diagnoses,
       upper(c.primary_procedure) AS primary_procedure, try_cast(c.length_of_stay AS BIGINT) AS length_of_stay
     FROM (SELECT *, year(admission_date::DATE) - year(date_of_birth::DATE) - CASE WHEN substr(admission_date, 6, 5) < substr(date_of_birth, 6, 5) THEN 1 ELSE 0 END AS age
           FROM checked WHERE ok) c
     JOIN pseudonyms p USING (nhs) ORDER BY c.rn)
     TO ${sql(out)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const count = async (q: string) => Number((await connection.runAndReadAll(q)).getRows()[0][0]);
  // The SQL HMAC is the platform's pseudonym: checked against node:crypto for a few people.
  const sample = (await connection.runAndReadAll('SELECT nhs, person_id FROM pseudonyms LIMIT 5')).getRows() as [string, string][];
  for (const [nhs, pseudonym] of sample) {
    if (createHmac('sha256', key).update(nhs, 'latin1').digest().subarray(0, 16).toString('base64url') !== pseudonym)
      throw new Error('the SQL HMAC differs from node:crypto');
  }
  return {
    read: await count('SELECT count(*) FROM checked'),
    handed: await count('SELECT count(*) FROM checked WHERE handed'),
    written: await count(`SELECT count(*) FROM read_parquet(${sql(out)})`),
  };
}
