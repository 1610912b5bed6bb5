/**
 * A config `sde validate` accepts never fails every row at ingest, and a batch whose rows all
 * fail de-identification anyway (a platform fault) fails instead of committing "0 rows".
 */
import { checkDataset } from '../../lib/config/checks';
import { COLUMN_FORMATS, COLUMN_TYPES, DATE_FORMATS, RULES } from '../../lib/config/schema';
import { PlatformFaultError } from '../../lib/ingest/batch';
import { createPipeline, processRecords } from '../../lib/ingest/core/pipeline';
import { manifestKey } from '../../lib/ingest/layout';
import { dataset, KEY, LOAD_DATE, testNhsNumber } from './core/datasets';
import { MemoryStore } from './helpers/memory-store';
import { BUCKETS, runBatch } from './helpers/run-batch';

/** A value each type and format accepts (dates in each dateFormat: 3 April 1961, or April 1961). */
const SAMPLE: Record<string, string> = {
  icd10: 'I10X',
  opcs4: 'W371',
  lsoa: 'E01000001',
  msoa: 'E02000001',
  ods_code: 'F83001',
  snomed: '38341003',
  bnf: '0208020Z0AAAAAA',
  record_id: 'EP123',
  nhs_number: testNhsNumber(1),
  postcode: 'SE5 8AF',
  free_text: 'seen in clinic',
  integer: '5',
  decimal: '2.0',
  boolean: 'true',
  timestamp: '2020-01-01T10:00:00Z',
  'YYYY-MM-DD': '1961-04-03',
  'DD/MM/YYYY': '03/04/1961',
  YYYYMMDD: '19610403',
  MMYYYY: '041961',
  'YYYY-MM': '1961-04',
};

test('every column a valid config accepts de-identifies a valid value (no rule meets a type or format it cannot handle)', () => {
  let accepted = 0;
  for (const type of COLUMN_TYPES)
    for (const rule of RULES)
      for (const format of type === 'string' ? [undefined, ...COLUMN_FORMATS] : [undefined])
        for (const dateFormat of type === 'date' ? [undefined, ...DATE_FORMATS] : [undefined]) {
          const column = {
            name: 'value',
            type,
            rule,
            classification: 'sensitive',
            ...(format === undefined ? {} : { format }),
            ...(dateFormat === undefined ? {} : { dateFormat }),
            ...(type === 'integer' || type === 'decimal' ? { min: 0, max: 100 } : {}),
            ...(rule === 'postcode_lsoa' ? { lookup: 'lookup.csv' } : {}),
          };
          const ds = dataset('combo', [column, { name: 'other', type: 'string', format: 'icd10', classification: 'sensitive', rule: 'keep' }]);
          if (checkDataset({ ...ds, file: 'combo.yaml' }).length > 0) continue;
          accepted++;
          const sample =
            SAMPLE[
              dateFormat ?? (type === 'date' ? 'YYYY-MM-DD' : type === 'string' ? (format ?? (rule.startsWith('postcode') ? 'postcode' : 'nhs_number')) : type)
            ];
          const pipeline = createPipeline(ds, { key: KEY, loadDate: LOAD_DATE, lookups: new Map([['lookup.csv', new Map([['SE5 8AF', 'E01000001']])]]) });
          const rejected: string[] = [];
          const counts = processRecords(pipeline, [{ line: 2, fields: [sample, 'I10X'], raw: '', error: undefined }], {
            curated: () => undefined,
            rejected: (r) => rejected.push(...r.reasons.map((x) => x.code)),
          });
          expect({ type, rule, format, dateFormat, written: counts.rowsWritten, rejected }).toEqual({
            type,
            rule,
            format,
            dateFormat,
            written: 1,
            rejected: [],
          });
        }
  expect(accepted).toBeGreaterThan(40);
});

test('a batch whose every row fails de-identification fails, and commits nothing', async () => {
  // date_to_year on a number: sde validate refuses it; built here past the checks, it throws on every row.
  const broken = dataset('broken', [
    { name: 'n', type: 'integer', min: 0, max: 10, classification: 'other', rule: 'date_to_year' },
    { name: 'code', type: 'string', format: 'icd10', classification: 'sensitive', rule: 'keep' },
  ]);
  expect(checkDataset({ ...broken, file: 'broken.yaml' }).map((p) => p.message)).toContain('"date_to_year" cannot be applied to a integer column');
  const store = new MemoryStore();
  const key = 'broken/delivery.csv';
  await store.put({ bucket: BUCKETS.landing, key }, Buffer.from('n,code\n1,I10X\n2,E119\nx,E119\n'));
  const run = runBatch(store, { bucket: BUCKETS.landing, key }, broken);
  await expect(run).rejects.toBeInstanceOf(PlatformFaultError);
  await expect(run).rejects.toThrow(/every row that passed validation \(2 of 3\) failed de-identification/);
  // No manifest (the commit point) and no curated data object.
  const prefix = manifestKey('broken', 'batch').replace(/batch\.json$/, '');
  expect(store.keys(BUCKETS.curated).filter((k) => k.startsWith(prefix) || k.startsWith('broken/'))).toEqual([]);
});
