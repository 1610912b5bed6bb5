/**
 * The documents ingestion writes about a batch: the plan, each chunk's result, the
 * manifest (the commit record) and a bad file's error report. All JSON, all free of row
 * values: they name columns, rules, codes, counts, keys and checksums only.
 */
import type { RowProblemCode } from './core/validate-row';
import type { HeaderProblem, CsvFileErrorCode } from './core/csv-reader';
import type { IngestBuckets } from './layout';

export const MANIFEST_VERSION = 1;

export interface SourceObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly versionId?: string;
}

export interface ChunkSpec {
  readonly index: number;
  /** Byte range [start, end) of the landed object; `start` is a record boundary (or 0). */
  readonly start: number;
  readonly end: number;
  /** The physical line `start` is on, so rejected rows keep whole-file line numbers. */
  readonly startLine: number;
}

export interface BatchPlan {
  readonly batchId: string;
  readonly dataset: string;
  readonly schemaVersion: string;
  readonly source: SourceObject;
  readonly buckets: IngestBuckets;
  /** The partition the batch is committed to, and the date values are judged plausible against. */
  readonly loadDate: string;
  /** True when a manifest already exists: nothing to do (re-delivery, retry, re-run). */
  readonly alreadyCommitted: boolean;
  readonly chunks: readonly ChunkSpec[];
  /** SHA-256 of the whole object, when the plan read it (multi-chunk); a single chunk hashes it itself. */
  readonly inputSha256?: string;
}

export type FileErrorCode = CsvFileErrorCode | 'no_data_rows' | 'duplicate_delivery';

export interface FileError {
  readonly code: FileErrorCode;
  /** What is wrong and what to do; never a value from the file (header names aside). */
  readonly message: string;
  readonly header?: HeaderProblem;
  /** The chunk that found it. */
  readonly chunk?: number;
  /** duplicate_delivery: the batch that committed the same content. */
  readonly duplicateOf?: string;
}

export interface RowCounts {
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly rowsRejected: number;
  readonly rowsOptedOut: number;
  /** Written rows with no NHS number to check against the opt-out list (kept by the dataset's choice). */
  readonly rowsWithoutNhsNumber: number;
  readonly rejectedByReason: Partial<Record<RowProblemCode, number>>;
  /** Per source column, values written as null because they were a declared placeholder (`nulls:`). */
  readonly nullsByColumn?: Readonly<Record<string, number>>;
}

export interface ChunkResult {
  readonly batchId: string;
  readonly index: number;
  /**
   * The byte range of the landed object the chunk covered: the commit takes only results of
   * its own plan's ranges (another run of the batch, chunked otherwise, writes the same keys).
   */
  readonly range?: { readonly start: number; readonly end: number };
  readonly counts: RowCounts;
  /** The staged Parquet part, when the chunk wrote any row; `etag` is what the put returned, so the commit uses exactly these bytes. */
  readonly part?: { readonly key: string; readonly bytes: number; readonly rows: number; readonly etag?: string };
  readonly rejected?: { readonly key: string; readonly bytes: number; readonly rows: number };
  readonly bytesRead: number;
  /** SHA-256 of the bytes read, when the chunk is the whole object. */
  readonly sha256?: string;
  readonly fileError?: FileError;
}

export interface ManifestOutput {
  readonly key: string;
  readonly bytes: number;
  readonly rows: number;
}

export interface Manifest extends RowCounts {
  readonly manifestVersion: number;
  readonly batchId: string;
  readonly dataset: string;
  /** `committed`: the outputs are in curated. `quarantined`: the whole file is in quarantine, nothing in curated. */
  readonly status: 'committed' | 'quarantined';
  readonly source: SourceObject & { readonly sha256: string };
  readonly schemaVersion: string;
  readonly loadDate: string;
  readonly chunkCount: number;
  /** Curated Parquet objects (curated bucket), in chunk order. */
  readonly outputs: readonly ManifestOutput[];
  /** Rejected-row files (quarantine bucket), in chunk order. */
  readonly rejectedFiles: readonly ManifestOutput[];
  readonly quarantine?: { readonly bucket: string; readonly source: string; readonly errorReport: string; readonly error: FileError };
  readonly committedAt: string;
  /**
   * Rows taken out of the committed data after ingestion because their person opted out
   * later (lib/optout): `rowsWritten` and `outputs` already count them out, so
   * rowsRead = rowsWritten + rowsRejected + rowsOptedOut + rowsRemovedForOptOut.
   */
  readonly rowsRemovedForOptOut?: number;
  /** Each later opt-out list that removed rows from this batch, in order (counts only). */
  readonly optOutApplied?: readonly OptOutApplication[];
}

/** One later opt-out list applied to a committed batch. */
export interface OptOutApplication {
  /** SHA-256 of the list file: the run's identity (a batch records a list once). */
  readonly listSha256: string;
  /** `YYYY-MM-DD`: the list's date. */
  readonly listDate: string;
  readonly rowsRemoved: number;
  readonly appliedAt: string;
}

/** The machine-readable report next to a quarantined file. */
export interface ErrorReport {
  readonly reportVersion: number;
  readonly batchId: string;
  readonly dataset: string;
  readonly source: SourceObject;
  readonly error: FileError;
  /** Where the file is now, in the quarantine bucket. */
  readonly quarantinedAs: string;
  readonly reportedAt: string;
}
