/**
 * The ingestion pipeline for a batch of CSV records: validate, apply the national data
 * opt-out, de-identify, and hand each row to exactly one sink.
 *
 * The accounting is the control: every record read ends up in exactly one of written,
 * rejected or opted out (rowsRead = rowsWritten + rowsRejected + rowsOptedOut), so no good
 * row is lost and no bad row reaches curated. Opted-out rows are counted, never passed on.
 *
 * Sinks are plain synchronous callbacks so the hot loop never awaits: the handler buffers
 * (a Parquet row group, a rejected-file part) and flushes between batches.
 */
import { optOutColumn, platformAppliesOptOut, type CuratedColumn } from '../../config/curated';
import type { DatasetConfig } from '../../config/schema';
import type { CsvRecord } from './csv-reader';
import { compileDeidPlan, CuratedRow, CuratedValue, DeidPlan, DeidPlanOptions } from './deidentify';
import type { OptOutSet } from './opt-out';
import { compileRowValidator, effectiveFormat, RowProblem, RowProblemCode, RowValidator } from './validate-row';

export interface RejectedRow {
  readonly line: number;
  /**
   * The record as it arrived, for the data team to correct and resend. It holds personal
   * data: it goes only to the rejected file in the restricted quarantine zone.
   */
  readonly raw: string;
  /** Codes and messages that name columns and rules, never values: safe for reports and logs. */
  readonly reasons: readonly RowProblem[];
}

export interface PipelineSinks {
  readonly curated: (row: CuratedRow) => void;
  /**
   * When given, used instead of `curated`: the row's values in `columns` order, in an array
   * that is reused for the next row (copy what must be kept). For bulk writers.
   */
  readonly curatedValues?: (values: readonly CuratedValue[]) => void;
  readonly rejected: (row: RejectedRow) => void;
}

export interface PipelineCounts {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  rowsOptedOut: number;
  /**
   * Rows written that could not be checked against the opt-out list because they carry no
   * NHS number (a dataset that keeps such rows: `optOut.withoutNhsNumber: keep`). Part of
   * rowsWritten, never of rowsOptedOut.
   */
  rowsWithoutNhsNumber: number;
  /** Rejected rows per reason code; a row refused for two reasons counts under both. */
  rejectedByReason: Partial<Record<RowProblemCode, number>>;
  /**
   * Per source column, the values of rows written that were a declared null placeholder
   * (`nulls:`, such as HES's 1801-01-01) and are stored as null. Absent in manifests written
   * before placeholders existed.
   */
  nullsByColumn?: Record<string, number>;
}

export interface PipelineOptions extends DeidPlanOptions {
  /** The national data opt-out list. Required for a dataset with `nationalDataOptOut`. */
  readonly optOut?: OptOutSet;
}

export interface RecordPipeline {
  readonly dataset: DatasetConfig;
  /** The curated columns each curated row holds, in order. */
  readonly columns: readonly CuratedColumn[];
  readonly validate: RowValidator;
  readonly deidentify: DeidPlan;
  /** The NHS number's column position, the opt-out list and what to do without a number, when the opt-out applies. */
  readonly optOut: { readonly index: number; readonly set: OptOutSet; readonly missing: RowProblem | 'keep' } | undefined;
}

export function emptyCounts(): PipelineCounts {
  return { rowsRead: 0, rowsWritten: 0, rowsRejected: 0, rowsOptedOut: 0, rowsWithoutNhsNumber: 0, rejectedByReason: {} };
}

/** Sums counts, e.g. of the chunks of one batch into its manifest. */
export function addCounts(a: PipelineCounts, b: PipelineCounts): PipelineCounts {
  const byReason: Partial<Record<RowProblemCode, number>> = { ...a.rejectedByReason };
  for (const [code, n] of Object.entries(b.rejectedByReason) as [RowProblemCode, number][]) byReason[code] = (byReason[code] ?? 0) + n;
  return {
    rowsRead: a.rowsRead + b.rowsRead,
    rowsWritten: a.rowsWritten + b.rowsWritten,
    rowsRejected: a.rowsRejected + b.rowsRejected,
    rowsOptedOut: a.rowsOptedOut + b.rowsOptedOut,
    rowsWithoutNhsNumber: (a.rowsWithoutNhsNumber ?? 0) + (b.rowsWithoutNhsNumber ?? 0),
    rejectedByReason: byReason,
    ...addNulls(a.nullsByColumn, b.nullsByColumn),
  };
}

function addNulls(a: Record<string, number> | undefined, b: Record<string, number> | undefined): { nullsByColumn?: Record<string, number> } {
  if (a === undefined && b === undefined) return {};
  const out: Record<string, number> = { ...a };
  for (const [column, n] of Object.entries(b ?? {})) out[column] = (out[column] ?? 0) + n;
  return { nullsByColumn: out };
}

/**
 * Compiles a dataset's pipeline once per batch. Fails closed: a dataset that applies the
 * opt-out cannot be run without the list, nor without an NHS number column to apply it on.
 */
export function createPipeline(dataset: DatasetConfig, options: PipelineOptions): RecordPipeline {
  let optOut: RecordPipeline['optOut'];
  if (!platformAppliesOptOut(dataset) && options.optOut !== undefined) {
    // A list handed to a dataset it cannot apply to would be silently ignored: refuse instead.
    throw new Error(
      dataset.nationalDataOptOut
        ? `dataset ${dataset.name}: the supplier applied the national data opt-out before delivery (optOut.appliedBy: supplier), so no opt-out list can be applied here`
        : `dataset ${dataset.name} does not apply the national data opt-out (nationalDataOptOut: false), so no opt-out list can be applied to it`,
    );
  }
  if (platformAppliesOptOut(dataset)) {
    const column = optOutColumn(dataset);
    if (column === undefined) throw new Error(`dataset ${dataset.name} applies the national data opt-out but names no NHS number column to match it on`);
    const index = dataset.columns.indexOf(column);
    if (column.type !== 'string' || effectiveFormat(column) !== 'nhs_number') {
      throw new Error(`dataset ${dataset.name}: the opt-out is matched on "${column.name}", which must be a string column with format nhs_number`);
    }
    if (options.optOut === undefined) throw new Error(`dataset ${dataset.name} applies the national data opt-out: pass the opt-out list`);
    const missing: RowProblem | 'keep' =
      dataset.optOut?.withoutNhsNumber === 'keep'
        ? 'keep'
        : {
            code: 'no_nhs_number_for_opt_out',
            column: column.name,
            message: `column "${column.name}" is empty: it is the NHS number the national data opt-out is matched on (optOut.withoutNhsNumber: reject)`,
          };
    optOut = { index, set: options.optOut, missing };
  }
  const deidentify = compileDeidPlan(dataset, options);
  return { dataset, columns: deidentify.columns, validate: compileRowValidator(dataset, options), deidentify, optOut };
}

const DEID_FAILED: RowProblem = {
  code: 'deidentification_failed',
  message: 'a de-identification rule failed on a row that passed validation (a platform fault: report it)',
};

function reject(counts: PipelineCounts, sinks: PipelineSinks, record: CsvRecord, reasons: readonly RowProblem[]): void {
  counts.rowsRejected++;
  const seen = new Set<RowProblemCode>();
  for (const r of reasons) {
    if (seen.has(r.code)) continue;
    seen.add(r.code);
    counts.rejectedByReason[r.code] = (counts.rejectedByReason[r.code] ?? 0) + 1;
  }
  sinks.rejected({ line: record.line, raw: record.raw, reasons });
}

/**
 * Runs one batch of records through the pipeline, adding to `counts` (pass the same object
 * for every batch of a file) and returning it.
 */
export function processRecords(
  pipeline: RecordPipeline,
  records: Iterable<CsvRecord>,
  sinks: PipelineSinks,
  counts: PipelineCounts = emptyCounts(),
): PipelineCounts {
  const { validate, deidentify, optOut } = pipeline;
  const names = pipeline.dataset.columns.map((c) => c.name);
  const countNulls = (nulled: readonly number[] | undefined) => {
    if (nulled === undefined) return;
    const byColumn = (counts.nullsByColumn ??= {});
    for (const i of nulled) byColumn[names[i]] = (byColumn[names[i]] ?? 0) + 1;
  };
  const valuesSink = sinks.curatedValues;
  const buffer: CuratedValue[] = new Array(pipeline.columns.length);
  for (const record of records) {
    counts.rowsRead++;
    if (record.error !== undefined) {
      // Malformed quoting: the fields cannot be trusted to be the supplier's columns.
      reject(counts, sinks, record, [{ code: record.error.code, message: record.error.message }]);
      continue;
    }
    const result = validate(record.fields, record.line);
    if (!result.ok) {
      reject(counts, sinks, record, result.problems);
      continue;
    }
    const row = result.row;
    let unchecked = false;
    if (optOut !== undefined) {
      const nhs = row[optOut.index];
      if (typeof nhs !== 'string') {
        // Without an NHS number the opt-out cannot be applied: the dataset's config says whether the row may go on.
        if (optOut.missing !== 'keep') {
          reject(counts, sinks, record, [optOut.missing]);
          continue;
        }
        unchecked = true;
      } else if (optOut.set.has(nhs)) {
        counts.rowsOptedOut++;
        continue;
      }
    }
    if (valuesSink !== undefined) {
      try {
        deidentify.values(row, buffer);
      } catch {
        reject(counts, sinks, record, [DEID_FAILED]);
        continue;
      }
      valuesSink(buffer);
      counts.rowsWritten++;
      if (unchecked) counts.rowsWithoutNhsNumber++;
      countNulls(result.nulled);
      continue;
    }
    let curated: CuratedRow;
    try {
      curated = deidentify(row);
    } catch {
      // The error is not passed on: it could describe the value it failed on.
      reject(counts, sinks, record, [DEID_FAILED]);
      continue;
    }
    sinks.curated(curated);
    counts.rowsWritten++;
    if (unchecked) counts.rowsWithoutNhsNumber++;
    countNulls(result.nulled);
  }
  return counts;
}

/** Runs every batch a reader yields (see `readCsvBatches`), returning the totals. */
export async function runPipeline(pipeline: RecordPipeline, batches: AsyncIterable<readonly CsvRecord[]>, sinks: PipelineSinks): Promise<PipelineCounts> {
  const counts = emptyCounts();
  for await (const batch of batches) processRecords(pipeline, batch, sinks, counts);
  return counts;
}
