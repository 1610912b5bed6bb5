/**
 * The curated (post-de-identification) shape of a dataset, derived from its column rules.
 *
 * This is the only place that decides which columns exist after de-identification: the
 * Glue tables, the project grants, the local query engine and the ingestion writer all
 * ask it, so a grant can only ever name a column that ingestion really writes.
 */
import { MONTH_DATE_FORMATS, type Classification, type ColumnConfig, type ColumnType, type DatasetConfig, type Rule } from './schema';

/** Every curated table is partitioned by the date its batch was loaded. */
export const PARTITION_COLUMN = 'load_date';

/** How a curated column is classed for access decisions and for the public register. */
export type CuratedClass = Exclude<Classification, 'direct_identifier'> | 'pseudonym';

export type GlueType = 'string' | 'bigint' | 'double' | 'date' | 'timestamp' | 'boolean' | 'int';

/** The DuckDB type that reads and writes each Glue type (local queries, Parquet writing). */
export const DUCKDB_TYPE: Record<GlueType, string> = {
  string: 'VARCHAR',
  bigint: 'BIGINT',
  int: 'INTEGER',
  double: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  boolean: 'BOOLEAN',
};

export interface CuratedColumn {
  readonly name: string;
  readonly glueType: GlueType;
  readonly curatedClass: CuratedClass;
  /** The source column it comes from, and the rule that made it. */
  readonly source: string;
  readonly rule: Exclude<Rule, 'drop'>;
  readonly description: string;
}

const GLUE_TYPE_OF: Record<ColumnType, GlueType> = {
  string: 'string',
  integer: 'bigint',
  decimal: 'double',
  date: 'date',
  timestamp: 'timestamp',
  boolean: 'boolean',
};

/** The suffix each rule adds to the source name when no `as:` is given. */
const DEFAULT_SUFFIX: Record<Exclude<Rule, 'drop'>, string> = {
  pseudonymise: '_pseudonym',
  date_to_year: '_year',
  date_to_month: '_month',
  age_band: '_age_band',
  postcode_outward: '_outward',
  postcode_lsoa: '_lsoa',
  scrub_free_text: '',
  keep: '',
};

/** Which source types each rule can take. */
export const RULE_INPUT_TYPES: Record<Rule, readonly ColumnType[]> = {
  drop: ['string', 'integer', 'decimal', 'date', 'timestamp', 'boolean'],
  pseudonymise: ['string'],
  date_to_year: ['date', 'timestamp'],
  date_to_month: ['date', 'timestamp'],
  age_band: ['date'],
  postcode_outward: ['string'],
  postcode_lsoa: ['string'],
  scrub_free_text: ['string'],
  keep: ['string', 'integer', 'decimal', 'date', 'timestamp', 'boolean'],
};

/** The rules allowed on a direct identifier: it must never reach curated in clear. */
export const DIRECT_IDENTIFIER_RULES: readonly Rule[] = ['drop', 'pseudonymise'];

function outputType(column: ColumnConfig): GlueType {
  switch (column.rule) {
    case 'date_to_year':
      return 'int';
    case 'keep':
      return GLUE_TYPE_OF[column.type];
    default:
      return 'string';
  }
}

/** The curated name a column's rule produces, or undefined when the rule drops it. */
export function curatedNameOf(column: ColumnConfig): string | undefined {
  if (column.rule === 'drop') return undefined;
  return column.as ?? `${column.name}${DEFAULT_SUFFIX[column.rule]}`;
}

export function curatedColumns(dataset: DatasetConfig): CuratedColumn[] {
  const out: CuratedColumn[] = [];
  for (const column of dataset.columns) {
    const name = curatedNameOf(column);
    if (name === undefined || column.rule === 'drop') continue;
    out.push({
      name,
      glueType: outputType(column),
      curatedClass: column.rule === 'pseudonymise' ? 'pseudonym' : (column.classification as CuratedClass),
      source: column.name,
      rule: column.rule,
      description: column.description,
    });
  }
  return out;
}

/** The columns a project may be granted: the curated columns plus the partition column. */
export function grantableColumnNames(dataset: DatasetConfig): string[] {
  return [...curatedColumns(dataset).map((c) => c.name), PARTITION_COLUMN];
}

/** The name a column has in the supplier's header: its `source`, or its own name. */
export function sourceNameOf(column: ColumnConfig): string {
  return column.source ?? column.name;
}

/**
 * A header name with ASCII letters upper-cased and nothing else changed: how names compare
 * under `headerMatch: case_insensitive`. Only ASCII, so that no Unicode case mapping (`ı`,
 * `ß`, `K` as Kelvin) makes two different names equal.
 */
export function foldHeaderName(name: string): string {
  return name.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/** Whether a date column carries a month and year only (dateFormat MMYYYY or YYYY-MM). */
export function isMonthPrecision(column: ColumnConfig): boolean {
  return column.dateFormat !== undefined && MONTH_DATE_FORMATS.includes(column.dateFormat);
}

/** The supplier removed opted-out people before delivery: the platform has no list to match on this dataset. */
export function optOutAppliedBySupplier(dataset: DatasetConfig): boolean {
  return dataset.nationalDataOptOut && dataset.optOut?.appliedBy === 'supplier';
}

/** Who applies the national data opt-out to a dataset: the platform from its list, the supplier before delivery, or no one (no person-level rows). */
export function optOutAppliedBy(dataset: DatasetConfig): 'platform' | 'supplier' | 'not_applied' {
  if (!dataset.nationalDataOptOut) return 'not_applied';
  return optOutAppliedBySupplier(dataset) ? 'supplier' : 'platform';
}

/** Whether the platform matches this dataset's rows against its national data opt-out list. */
export function platformAppliesOptOut(dataset: DatasetConfig): boolean {
  return dataset.nationalDataOptOut && !optOutAppliedBySupplier(dataset);
}

/**
 * The column the national data opt-out list is matched on: `optOut.nhsNumber`, or the person
 * key when it is an NHS number. Undefined when there is none (config validation refuses a
 * dataset that applies the opt-out without one).
 */
export function optOutColumn(dataset: DatasetConfig): ColumnConfig | undefined {
  if (optOutAppliedBySupplier(dataset)) return undefined;
  const name = dataset.optOut?.nhsNumber ?? dataset.personKey;
  const column = dataset.columns.find((c) => c.name === name);
  if (column === undefined) return undefined;
  if (dataset.optOut?.nhsNumber === undefined && column.format !== 'nhs_number') return undefined;
  return column;
}
