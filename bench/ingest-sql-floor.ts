/**
 * What a pure DuckDB ingestion pipeline would cost (not part of the test suite):
 *
 *   npm run bench:ingest-sql-floor               # the 1x bench:ingest file
 *   npm run bench:ingest-sql-floor -- --scale 5
 *
 * A costing prototype, not a pipeline: the checks and rules of `hospital_episodes` written
 * by hand as DuckDB SQL over the raw CSV, timed step by step on one thread in CPU-seconds,
 * beside the same reference bench:ingest uses (DuckDB's plain CSV -> Parquet conversion told
 * the file's dialect). It shows how close a DuckDB-based design could come to the reference
 * before the work a real one would add: a byte-level pre-scan sending rows that DuckDB's CSV
 * reader would parse differently from ours to the JavaScript core, and that core's fallback
 * for every refused row (its reasons, and the raw record for quarantine).
 *
 * Prints one JSON line: rows, each step's CPU-seconds per million rows (parse and check in
 * one pass; pseudonyms for the distinct NHS numbers; join and Parquet write; parsing alone
 * for comparison), and the ratio their total would give against the reference; and the
 * same write with shorter pseudonym encodings (a decision the README leaves open).
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { POSTCODE_PATTERN } from '../lib/ingest/core/postcode';
import { arg, benchDataset, DATASET, ensureBenchInput, referenceDialect, runBench, sql, TODAY } from './ingest-input';

const KEY = Buffer.alloc(32, 7);

async function cpuOf(connection: DuckDBConnection, statement: string): Promise<number> {
  const cpu0 = process.cpuUsage();
  await connection.run(statement);
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / 1e6;
}

/** HMAC-SHA256 as DuckDB SQL: SHA-256 over (key XOR opad) and the SHA-256 over (key XOR ipad) and the message. */
function paddedKey(pad: number): string {
  const block = Buffer.alloc(64);
  KEY.copy(block);
  for (let i = 0; i < 64; i++) block[i] ^= pad;
  return block.toString('hex');
}

const GLOB_DATE = `'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'`;
const date = (c: string) => `CASE WHEN ${c} GLOB ${GLOB_DATE} THEN try_cast(${c} AS DATE) END`;
const digit = (n: string, power: number) => `(${n} // ${10 ** power} % 10)`;
const MOD11 = `((11 - ((${[9, 8, 7, 6, 5, 4, 3, 2, 1].map((p, i) => `${digit('n', p)} * ${10 - i}`).join(' + ')}) % 11)) % 11) = n % 10`;
const latest = new Date(Date.parse(`${TODAY}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * The identifier guard on string columns kept in clear with no format (validate-row.ts), as
 * one RE2 pattern: an NHS number in any layout or any run of ten digits, a date (numeric or
 * written), a postcode, an e-mail address, a +44 phone number. RE2 has no lookbehind, so it
 * matches a little more than the JavaScript patterns: for costing, not for deciding.
 */
const MONTHS = 'jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec';
const IDENTIFIER = [
  '[0-9]{10}',
  '[0-9]{3}[ -][0-9]{3}[ -][0-9]{4}',
  '[0-9]{4}[/.-][0-9]{1,2}[/.-][0-9]{1,2}',
  '[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}',
  `[0-9]{1,2} (?:${MONTHS})[a-z]* [0-9]{4}`,
  '[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]|[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2}',
  '[^@ ]+@[^@ ]+\\.[a-z]{2,}',
  '\\+44',
].join('|');
const noIdentifier = (c: string) => `(${c} IS NULL OR NOT regexp_matches(${c}, '(?i)${IDENTIFIER}'))`;
/** `format: record_id` (formats.ts): the key's shape, and no run of exactly ten digits (the Modulus 11 test on the rare run is left out of the costing). */
const recordId = (c: string) => `(regexp_full_match(${c}, '[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}') AND NOT regexp_matches(${c}, '(?:^|[^0-9])[0-9]{10}(?:[^0-9]|$)'))`;

async function main(): Promise<void> {
  const scale = Number(arg('scale', '1'));
  const dir = await ensureBenchInput(scale);
  const file = path.join(dir, `${DATASET}.csv`);
  const out = path.join(dir, 'sql-floor.parquet');
  const dataset = benchDataset();
  const dialect = referenceDialect(dataset);
  const asText = dataset.columns.map((c) => `${sql(c.name)}: 'VARCHAR'`).join(', ');
  const keptText = dataset.columns.filter((c) => c.type === 'string' && c.rule === 'keep' && c.format === undefined).map((c) => noIdentifier(c.name));
  const recordKeys = dataset.columns.filter((c) => c.format === 'record_id').map((c) => recordId(c.name));

  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const reference = await cpuOf(connection, `COPY (SELECT * FROM read_csv(${sql(file)}, ${dialect})) TO ${sql(out)} (FORMAT parquet, COMPRESSION zstd)`);
  // Parsing alone, for comparison; the pipeline's first step parses and checks in one pass.
  const parse = await cpuOf(connection, `CREATE TEMP TABLE raw AS SELECT * FROM read_csv(${sql(file)}, ${dialect}, auto_detect = false, columns = {${asText}})`);
  await connection.run('DROP TABLE raw');
  const parseAndCheck = await cpuOf(
    connection,
    `CREATE TEMP TABLE checked AS
     WITH raw AS (SELECT * FROM read_csv(${sql(file)}, ${dialect}, auto_detect = false, columns = {${asText}})),
     typed AS (
       SELECT *, CASE WHEN nhs_number GLOB '${'[0-9]'.repeat(10)}' THEN nhs_number::BIGINT END AS n,
         ${date('date_of_birth')} AS dob, ${date('admission_date')} AS admitted, ${date('discharge_date')} AS discharged,
         CASE WHEN length_of_stay GLOB '[0-9]*' AND NOT length_of_stay GLOB '*[!0-9]*' AND length(length_of_stay) <= 15 THEN length_of_stay::BIGINT END AS stay
       FROM raw)
     SELECT *, (episode_id IS NOT NULL AND n IS NOT NULL AND ${MOD11}
       AND dob IS NOT NULL AND date_of_birth <= '${TODAY}' AND date_of_birth >= '1890-01-01'
       AND admitted IS NOT NULL AND admission_date <= '${latest}' AND admission_date >= '1900-01-01' AND admission_date >= date_of_birth
       AND (discharge_date IS NULL OR (discharged IS NOT NULL AND discharge_date <= '${latest}' AND discharge_date >= '1900-01-01'))
       AND (postcode IS NULL OR regexp_full_match(postcode, '${POSTCODE_PATTERN}'))
       AND (lsoa_code IS NULL OR regexp_full_match(lsoa_code, '[EW]01[0-9]{6}'))
       AND (gp_practice_code IS NULL OR regexp_full_match(gp_practice_code, '[A-Z0-9]{3,6}'))
       AND (provider_code IS NULL OR regexp_full_match(provider_code, '[A-Z0-9]{3,6}'))
       AND (primary_diagnosis IS NULL OR regexp_full_match(primary_diagnosis, '[A-Z][0-9]{2}(?:\\.?[0-9X]{1,2})?[AD]?'))
       AND (primary_procedure IS NULL OR regexp_full_match(primary_procedure, '[A-HJ-NP-Z][0-9]{2}(?:\\.?[0-9])?'))
       AND (length_of_stay IS NULL OR stay IS NOT NULL)
       ${[...keptText, ...recordKeys].map((check) => `AND ${check}`).join('\n       ')}) AS ok
     FROM typed`,
  );
  const hmac = await cpuOf(
    connection,
    `CREATE TEMP TABLE pseudonyms AS SELECT nhs_number, sha256(unhex('${paddedKey(0x5c)}') || unhex(sha256(unhex('${paddedKey(0x36)}') || nhs_number::BLOB))) AS person_id
     FROM (SELECT DISTINCT nhs_number FROM checked WHERE ok)`,
  );
  /** Join and write, with the pseudonym written as `pseudonym` (an expression over p.person_id, the 64-hex HMAC). */
  const writeWith = (pseudonym: string) =>
    cpuOf(
      connection,
      `COPY (SELECT c.episode_id, ${pseudonym} AS person_id,
         CASE WHEN age >= 90 THEN '90+' ELSE (age // 5 * 5)::VARCHAR || '-' || (age // 5 * 5 + 4)::VARCHAR END AS age_band_at_admission,
         c.sex, c.ethnicity, split_part(c.postcode, ' ', 1) AS postcode_district, c.lsoa_code, c.gp_practice_code, c.provider_code,
         substr(c.admission_date, 1, 7) AS admission_month, substr(c.discharge_date, 1, 7) AS discharge_month, c.admission_method,
         c.primary_diagnosis, c.secondary_diagnoses, c.primary_procedure, c.stay AS length_of_stay
       FROM (SELECT *, year(admitted) - year(dob) - CASE WHEN substr(admission_date, 6, 5) < substr(date_of_birth, 6, 5) THEN 1 ELSE 0 END AS age FROM checked WHERE ok) c
       JOIN pseudonyms p USING (nhs_number))
     TO ${sql(out)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  const write = await writeWith('p.person_id');
  // For the decision the README names (a shorter pseudonym encoding changes every pseudonym):
  // what the same write costs with the HMAC truncated to 128 bits as 32 hex characters, as
  // base64 (24 characters), or whole as 32 raw bytes.
  const shorter = {
    hex_128_bits: await writeWith('left(p.person_id, 32)'),
    base64_128_bits: await writeWith('to_base64(unhex(left(p.person_id, 32)))'),
    binary_256_bits: await writeWith('unhex(p.person_id)'),
  };
  // The SQL HMAC is the platform's pseudonym: checked against Node's for a few people.
  const sample = (await connection.runAndReadAll('SELECT nhs_number, person_id FROM pseudonyms LIMIT 5')).getRows() as [string, string][];
  for (const [nhs, pseudonym] of sample) {
    if (createHmac('sha256', KEY).update(nhs, 'latin1').digest('hex') !== pseudonym) throw new Error('the SQL HMAC differs from node:crypto');
  }
  const rows = Number((await connection.runAndReadAll('SELECT count(*) FROM checked')).getRows()[0][0]);
  const written = Number((await connection.runAndReadAll('SELECT count(*) FROM checked WHERE ok')).getRows()[0][0]);
  connection.closeSync();
  instance.closeSync();
  fs.rmSync(out, { force: true });

  const perMillion = (s: number) => Number(((s * 1e6) / rows).toFixed(2));
  const total = parseAndCheck + hmac + write;
  process.stdout.write(
    `${JSON.stringify({
      rows,
      rows_passing_checks: written,
      reference_cpu_s_per_m: perMillion(reference),
      parse_only_cpu_s_per_m: perMillion(parse),
      parse_and_check_cpu_s_per_m: perMillion(parseAndCheck),
      hmac_cpu_s_per_m: perMillion(hmac),
      join_and_write_cpu_s_per_m: perMillion(write),
      total_cpu_s_per_m: perMillion(total),
      projected_ratio: Number((reference / total).toFixed(3)),
      join_and_write_cpu_s_per_m_with_shorter_pseudonyms: Object.fromEntries(Object.entries(shorter).map(([k, v]) => [k, perMillion(v)])),
      projected_ratio_with_shorter_pseudonyms: Object.fromEntries(Object.entries(shorter).map(([k, v]) => [k, Number((reference / (parseAndCheck + hmac + v)).toFixed(3))])),
      threads: 1,
    })}\n`,
  );
}

runBench(main);
