/**
 * Small synthetic datasets for the ingestion core tests, written here (not read from
 * config/) so each test states the columns it relies on. Parsed with the real schema, so
 * defaults and validation are the production ones.
 */
import { datasetSchema, DatasetConfig } from '../../../lib/config/schema';
import { nhsNumberFromBase } from '../../../lib/ingest/core/nhs-number';

type ColumnInput = Record<string, unknown> & { name: string; type: string; classification: string; rule: string };

export function dataset(name: string, columns: ColumnInput[], extra: Record<string, unknown> = {}): DatasetConfig {
  return datasetSchema.parse({
    name,
    title: name,
    description: `test dataset ${name}`,
    supplier: 'tests',
    nationalDataOptOut: false,
    columns: columns.map((c) => ({ description: c.name, ...c })),
    ...extra,
  });
}

export const LOAD_DATE = '2026-11-22';
/** A fixed 32-byte key: tests need determinism, and it protects nothing. */
export const KEY = Buffer.alloc(32, 0x5a);
export const OTHER_KEY = Buffer.alloc(32, 0xa5);

/** A valid NHS number from the 999 test range (never issued to patients); nearby indices may share one. */
export function testNhsNumber(index: number): string {
  // About 1 in 11 bases has no valid check digit: step on to the next base.
  for (let i = index; ; i++) {
    const n = nhsNumberFromBase(`999${String(i % 1_000_000).padStart(6, '0')}`);
    if (n !== undefined) return n;
  }
}

/** A hospital-episodes-like dataset with every column type, format and rule. */
export const EPISODES = dataset(
  'episodes',
  [
    { name: 'episode_id', type: 'string', required: true, format: 'record_id', classification: 'other', rule: 'keep' },
    { name: 'nhs_number', type: 'string', required: true, format: 'nhs_number', classification: 'direct_identifier', rule: 'pseudonymise', as: 'person_id' },
    { name: 'patient_name', type: 'string', classification: 'direct_identifier', rule: 'drop' },
    {
      name: 'date_of_birth',
      type: 'date',
      required: true,
      classification: 'quasi_identifier',
      rule: 'age_band',
      as: 'age_band',
      ageAt: 'admission_date',
      bandYears: 5,
    },
    { name: 'postcode', type: 'string', format: 'postcode', classification: 'quasi_identifier', rule: 'postcode_outward', as: 'postcode_district' },
    { name: 'lsoa_code', type: 'string', format: 'lsoa', classification: 'quasi_identifier', rule: 'keep' },
    { name: 'gp_practice_code', type: 'string', format: 'ods_code', classification: 'quasi_identifier', rule: 'keep' },
    { name: 'admission_date', type: 'date', required: true, classification: 'quasi_identifier', rule: 'date_to_month', as: 'admission_month' },
    { name: 'discharge_date', type: 'date', classification: 'quasi_identifier', rule: 'date_to_year', as: 'discharge_year' },
    { name: 'arrival_time', type: 'timestamp', classification: 'other', rule: 'keep' },
    { name: 'emergency', type: 'boolean', classification: 'other', rule: 'keep' },
    { name: 'length_of_stay', type: 'integer', min: 0, max: 10000, classification: 'other', rule: 'keep' },
    { name: 'cost', type: 'decimal', min: 0, max: 1000000, classification: 'other', rule: 'keep' },
    { name: 'primary_diagnosis', type: 'string', format: 'icd10', classification: 'sensitive', rule: 'keep' },
    { name: 'primary_procedure', type: 'string', format: 'opcs4', classification: 'sensitive', rule: 'keep' },
    { name: 'snomed_code', type: 'string', format: 'snomed', classification: 'sensitive', rule: 'keep' },
    { name: 'bnf_code', type: 'string', format: 'bnf', classification: 'sensitive', rule: 'keep' },
    { name: 'ward', type: 'string', format: { codes: ['Ward 1', 'Ward 2', 'Ward 3', 'Ward 4', 'Ward 5', 'AMU'] }, classification: 'other', rule: 'keep' },
    { name: 'notes', type: 'string', format: 'free_text', classification: 'sensitive', rule: 'scrub_free_text' },
  ],
  { personKey: 'nhs_number', nationalDataOptOut: true },
);

/** One good EPISODES row as fields, with overrides by column name. */
export function episodeFields(overrides: Record<string, string> = {}): string[] {
  const base: Record<string, string> = {
    episode_id: 'E000000001',
    nhs_number: testNhsNumber(1),
    patient_name: 'Test Patient',
    date_of_birth: '1961-04-03',
    postcode: 'SE5 8AF',
    lsoa_code: 'E01000001',
    gp_practice_code: 'F83001',
    admission_date: '2026-01-15',
    discharge_date: '2026-01-20',
    arrival_time: '2026-01-15T08:30:00Z',
    emergency: 'Y',
    length_of_stay: '5',
    cost: '1234.50',
    primary_diagnosis: 'I10X',
    primary_procedure: 'W371',
    snomed_code: '38341003',
    bnf_code: '0208020Z0AAAAAA',
    ward: 'Ward 5',
    notes: 'Reviewed in clinic.',
    ...overrides,
  };
  return EPISODES.columns.map((c) => base[c.name]);
}

/** RFC 4180 quoting, for writing test files. */
export function csvLine(fields: readonly string[], delimiter = ',', quote = '"'): string {
  return fields
    .map((f) => (f.includes(delimiter) || f.includes(quote) || /[\r\n]/.test(f) ? `${quote}${f.split(quote).join(quote + quote)}${quote}` : f))
    .join(delimiter);
}

/** An in-memory source cut into chunks of the given sizes (cycled), as a stream would deliver it. */
export async function* chunked(bytes: Buffer, sizes: readonly number[] = [bytes.length || 1]): AsyncGenerator<Buffer> {
  let at = 0;
  let k = 0;
  while (at < bytes.length) {
    const size = Math.max(1, sizes[k++ % sizes.length]);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}
