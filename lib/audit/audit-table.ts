/**
 * The audit table: one schema for CloudTrail records, used twice so the named queries
 * run unchanged in both places:
 * - on AWS, the Glue table over the trail bucket (hcatalog JsonSerDe, the layout AWS
 *   documents for querying CloudTrail with Athena: nested request/response objects stay
 *   JSON text, identity and resources are structs);
 * - locally, a DuckDB table with the same column names and shapes, loaded from records
 *   the reader returns.
 *
 * Column names are the lower-cased CloudTrail keys (Glue lower-cases them; the JSON
 * SerDe matches keys case-insensitively).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CloudTrailRecord } from './cloudtrail-record';

/** The table name, on AWS (in the security database) and locally. */
export const AUDIT_TABLE = 'cloudtrail';

export type AuditColumn =
  | { readonly key: string; readonly kind: 'string' }
  | { readonly key: string; readonly kind: 'struct'; readonly fields: readonly AuditColumn[] }
  | { readonly key: string; readonly kind: 'array-of-struct'; readonly fields: readonly AuditColumn[] };

const s = (key: string): AuditColumn => ({ key, kind: 'string' });
const struct = (key: string, fields: AuditColumn[]): AuditColumn => ({ key, kind: 'struct', fields });

/** CloudTrail's record fields, as AWS's documented Athena table declares them. */
export const AUDIT_COLUMNS: readonly AuditColumn[] = [
  s('eventVersion'),
  struct('userIdentity', [
    s('type'),
    s('principalId'),
    s('arn'),
    s('accountId'),
    s('invokedBy'),
    s('accessKeyId'),
    s('userName'),
    struct('onBehalfOf', [s('userId'), s('identityStoreArn')]),
    struct('sessionContext', [
      struct('attributes', [s('mfaAuthenticated'), s('creationDate')]),
      struct('sessionIssuer', [s('type'), s('principalId'), s('arn'), s('accountId'), s('userName')]),
      s('sourceIdentity'),
      s('ec2RoleDelivery'),
    ]),
  ]),
  s('eventTime'),
  s('eventSource'),
  s('eventName'),
  s('awsRegion'),
  s('sourceIPAddress'),
  s('userAgent'),
  s('errorCode'),
  s('errorMessage'),
  s('requestParameters'),
  s('responseElements'),
  s('additionalEventData'),
  s('requestID'),
  s('eventID'),
  s('readOnly'),
  { key: 'resources', kind: 'array-of-struct', fields: [s('ARN'), s('accountId'), s('type')] },
  s('eventType'),
  s('apiVersion'),
  s('managementEvent'),
  s('recipientAccountId'),
  s('serviceEventDetails'),
  s('sharedEventID'),
  s('vpcEndpointId'),
  s('vpcEndpointAccountId'),
  s('eventCategory'),
  s('sessionCredentialFromConsole'),
  s('edgeDeviceDetails'),
  struct('tlsDetails', [s('tlsVersion'), s('cipherSuite'), s('clientProvidedHostHeader')]),
];

/** Partition columns of the Glue table (from the S3 key, via partition projection). */
export const AUDIT_PARTITION_KEYS = ['account', 'region', 'day'] as const;

const colName = (c: AuditColumn) => c.key.toLowerCase();

/** Hive/Glue type of a column, e.g. `struct<type:string,...>`. */
export function glueType(c: AuditColumn): string {
  if (c.kind === 'string') return 'string';
  const inner = `struct<${c.fields.map((f) => `${colName(f)}:${glueType(f)}`).join(',')}>`;
  return c.kind === 'struct' ? inner : `array<${inner}>`;
}

function duckType(c: AuditColumn): string {
  if (c.kind === 'string') return 'VARCHAR';
  const inner = `STRUCT(${c.fields.map((f) => `${colName(f)} ${duckType(f)}`).join(', ')})`;
  return c.kind === 'struct' ? inner : `${inner}[]`;
}

export function glueColumns(): { name: string; type: string }[] {
  return AUDIT_COLUMNS.map((c) => ({ name: colName(c), type: glueType(c) }));
}

/** A scalar as the JSON SerDe presents it in a string column: objects stay JSON text. */
function asText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function flatten(c: AuditColumn, v: unknown): unknown {
  if (c.kind === 'string') return asText(v);
  if (c.kind === 'struct') {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    return Object.fromEntries(c.fields.map((f) => [colName(f), flatten(f, lookup(v as Record<string, unknown>, f.key))]));
  }
  if (!Array.isArray(v)) return null;
  return v.map((item) => flatten({ key: c.key, kind: 'struct', fields: c.fields }, item));
}

/** Keys match case-insensitively, as in the JSON SerDe (`ARN` and `arn` are one field). */
function lookup(obj: Record<string, unknown>, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  const found = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : obj[found];
}

/** One record as a row of the audit table (lower-case column names, every leaf a string or null). */
export function toAuditRow(record: CloudTrailRecord): Record<string, unknown> {
  return Object.fromEntries(AUDIT_COLUMNS.map((c) => [colName(c), flatten(c, lookup(record as Record<string, unknown>, c.key))]));
}

/**
 * Functions the named queries use under their Athena (Trino) names, defined in DuckDB
 * terms, so one query text runs on both engines. Where the engines differ in edge cases
 * the queries are written to avoid the difference (see named-queries.ts).
 */
export const DUCKDB_TRINO_COMPAT = [
  'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
  'CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)',
  'CREATE OR REPLACE MACRO array_join(l, sep) AS array_to_string(l, sep)',
];

/** Creates the audit table in DuckDB and loads the records into it. */
export async function loadAuditTable(connection: DuckDBConnection, records: readonly CloudTrailRecord[]): Promise<void> {
  for (const sql of DUCKDB_TRINO_COMPAT) await connection.run(sql);
  const columns = AUDIT_COLUMNS.map((c) => `${colName(c)} ${duckType(c)}`).join(', ');
  await connection.run(`CREATE OR REPLACE TABLE ${AUDIT_TABLE} (${columns})`);
  if (records.length === 0) return;
  // Through a newline-delimited JSON file: DuckDB's reader builds the nested structs
  // directly, far faster than inserting row by row.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-audit-'));
  const file = path.join(dir, 'records.ndjson');
  try {
    const out = fs.openSync(file, 'w', 0o600);
    try {
      let batch: string[] = [];
      for (const r of records) {
        batch.push(JSON.stringify(toAuditRow(r)));
        if (batch.length >= 1000) {
          fs.writeSync(out, `${batch.join('\n')}\n`);
          batch = [];
        }
      }
      if (batch.length > 0) fs.writeSync(out, `${batch.join('\n')}\n`);
    } finally {
      fs.closeSync(out);
    }
    const columnSpec = `{${AUDIT_COLUMNS.map((c) => `'${colName(c)}': '${duckType(c)}'`).join(', ')}}`;
    await connection.run(
      `INSERT INTO ${AUDIT_TABLE} SELECT * FROM read_json('${file.replace(/'/g, "''")}', format = 'newline_delimited', columns = ${columnSpec}, maximum_object_size = 67108864)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
