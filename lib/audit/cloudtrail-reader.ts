/**
 * Reads a folder of CloudTrail files: the S3 delivery layout (`{"Records":[...]}`,
 * `.json.gz` or `.json`), bare JSON arrays and NDJSON, gzipped or not (detected by the
 * gzip magic bytes, not the file name). Files are streamed: memory holds one file's
 * records and at most one record's text beyond the cap.
 *
 * Bad input never crashes the read and never yields a silently wrong answer: every file
 * or record that cannot be used is skipped and reported (file, kind, count), so a
 * caller can say "N records from M files; K skipped" next to every answer.
 * - whole file skipped: unreadable, corrupt or truncated gzip, not JSON, JSON cut short
 *   (its records are not used, since the file is known to be incomplete);
 * - one record skipped: not valid JSON, not an object, missing eventTime/eventSource/
 *   eventName (or eventTime not in CloudTrail's UTC form), over the size cap, and
 *   CloudTrail Insights events (call-rate summaries, not API calls);
 * - one record read with a change, counted as a note: an export's renamed time field
 *   (Logstash's `@timestamp`, see cloudtrail-record.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { checkRecord, CloudTrailRecord } from './cloudtrail-record';
import { JsonRecordScanner, ScanEvent } from './json-record-scanner';
import { CHAIN_FILE, LOCK_FILE, PENDING_FILE } from './local-audit-writer';
import { HEADS_FILE } from './signed-heads';

/** Records bigger than this are skipped: CloudTrail's own limit per event is far below it. */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

/** The local writer's chain, signed heads and lock files live beside the records but are not records. */
export const NON_RECORD_FILES: ReadonlySet<string> = new Set([CHAIN_FILE, HEADS_FILE, LOCK_FILE, PENDING_FILE]);

/** Digest files describe log files; they are checked by `verify`, not read as events. */
export const DIGEST_DIR = 'CloudTrail-Digest';

const RECORD_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/i;

export type IssueKind = 'unreadable' | 'corrupt-gzip' | 'not-json' | 'truncated' | 'not-a-record' | 'missing-fields' | 'too-large' | 'insight';

export interface ReadIssue {
  /** Path relative to the folder read (never the records' contents). */
  readonly file: string;
  readonly kind: IssueKind;
  /** Records (or lines) skipped for this reason; for a skipped file, the records it held that were discarded. */
  readonly count: number;
  /** What went wrong, for the first occurrence. */
  readonly detail: string;
  /** True when the whole file was skipped. */
  readonly fileSkipped: boolean;
}

/** Records that were read, but not exactly as written: how many, and what was done. */
export interface ReadNote {
  readonly file: string;
  readonly count: number;
  readonly detail: string;
}

export interface TrailRecord {
  readonly record: CloudTrailRecord;
  /** Path relative to the folder read. */
  readonly file: string;
  /** Position among the file's records, from 0. */
  readonly index: number;
}

export interface ReadResult {
  readonly records: TrailRecord[];
  /** Files whose records were used. */
  readonly filesRead: number;
  /** Files skipped whole (see issues). */
  readonly filesSkipped: number;
  /** Files not named like CloudTrail data (e.g. README.md), not opened. */
  readonly filesIgnored: readonly string[];
  /** Records skipped inside files that were read, plus records of skipped files. */
  readonly recordsSkipped: number;
  readonly issues: readonly ReadIssue[];
  /** Records read with a change (an export's renamed field), per file and change. */
  readonly notes: readonly ReadNote[];
}

export interface ReadOptions {
  /** @default DEFAULT_MAX_RECORD_BYTES */
  readonly maxRecordBytes?: number;
}

/** Reads every CloudTrail file under `location` (a folder, read recursively, or one file). */
export async function readTrail(location: string, options: ReadOptions = {}): Promise<ReadResult> {
  const maxChars = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const root = path.resolve(location);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new Error(`${location}: no such file or folder (give the folder holding the CloudTrail files)`);
  }
  const listing = stat.isDirectory() ? listTrailFiles(root) : { files: [path.basename(root)], ignored: [] };
  const base = stat.isDirectory() ? root : path.dirname(root);

  const records: TrailRecord[] = [];
  const issues: ReadIssue[] = [];
  const notes: ReadNote[] = [];
  let filesRead = 0;
  let filesSkipped = 0;
  let recordsSkipped = 0;
  for (const rel of listing.files) {
    const outcome = await readOneFile(path.join(base, rel), rel, maxChars);
    issues.push(...outcome.issues);
    recordsSkipped += outcome.issues.reduce((n, i) => n + i.count, 0);
    if (outcome.fileSkipped) {
      filesSkipped++;
      continue;
    }
    filesRead++;
    notes.push(...outcome.notes);
    outcome.records.forEach((record, index) => records.push({ record, file: rel, index }));
  }
  return { records, filesRead, filesSkipped, filesIgnored: listing.ignored, recordsSkipped, issues, notes };
}

/** One line per problem, for stderr. Names files and counts only, never record contents. */
export function describeReadResult(result: ReadResult): string[] {
  const lines = [
    `read ${result.records.length} record${result.records.length === 1 ? '' : 's'} from ${result.filesRead} file${result.filesRead === 1 ? '' : 's'}` +
      (result.recordsSkipped + result.filesSkipped > 0
        ? `; skipped ${result.recordsSkipped} record${result.recordsSkipped === 1 ? '' : 's'} and ${result.filesSkipped} whole file${result.filesSkipped === 1 ? '' : 's'}`
        : ''),
  ];
  for (const issue of result.issues) {
    const what = issue.fileSkipped ? `file skipped (${issue.count} record${issue.count === 1 ? '' : 's'} in it not used)` : `${issue.count} skipped`;
    lines.push(`  ${issue.file}: ${issue.kind}: ${what}: ${issue.detail}`);
  }
  for (const note of result.notes) {
    lines.push(`  ${note.file}: ${note.count} record${note.count === 1 ? '' : 's'} read with a change: ${note.detail}`);
  }
  if (result.filesIgnored.length > 0) {
    lines.push(`  ${result.filesIgnored.length} file${result.filesIgnored.length === 1 ? '' : 's'} ignored (not named *.json, *.json.gz, *.jsonl or *.ndjson)`);
  }
  return lines;
}

/** The record files under `root` the reader would read (and the files it would ignore), sorted. */
export function listTrailFiles(root: string): { files: string[]; ignored: string[] } {
  const files: string[] = [];
  const ignored: string[] = [];
  const walk = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const rel = path.relative(root, abs).split(path.sep).join('/');
      if (e.isDirectory()) {
        if (e.name !== DIGEST_DIR) walk(abs);
      } else if (e.isFile()) {
        // Hidden files include the local writer's in-flight temporary files.
        if (e.name.startsWith('.') || NON_RECORD_FILES.has(e.name)) continue;
        if (RECORD_FILE.test(e.name)) files.push(rel);
        else ignored.push(rel);
      }
    }
  };
  walk(root);
  return { files, ignored };
}

interface FileOutcome {
  readonly records: CloudTrailRecord[];
  readonly issues: ReadIssue[];
  readonly notes: ReadNote[];
  readonly fileSkipped: boolean;
}

function isGzip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    const n = fs.readSync(fd, magic, 0, 2, 0);
    return n === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

async function readOneFile(abs: string, rel: string, maxChars: number): Promise<FileOutcome> {
  const records: CloudTrailRecord[] = [];
  const counts = new Map<string, { kind: IssueKind; count: number; detail: string }>();
  const note = (kind: IssueKind, detail: string) => {
    const entry = counts.get(kind);
    if (entry) entry.count++;
    else counts.set(kind, { kind, count: 1, detail });
  };
  const adjusted = new Map<string, number>();
  const skipFile = (kind: IssueKind, detail: string): FileOutcome => ({
    records: [],
    notes: [],
    fileSkipped: true,
    issues: [{ file: rel, kind, count: records.length + [...counts.values()].reduce((n, c) => n + c.count, 0), detail, fileSkipped: true }],
  });

  const onEvent = (event: ScanEvent) => {
    switch (event.type) {
      case 'value': {
        if (event.tooLarge || event.text === undefined) {
          note('too-large', `record ${event.ordinal} is ${event.chars} characters, over the ${maxChars} limit`);
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(event.text);
        } catch {
          note('not-json', `record ${event.ordinal} is not valid JSON`);
          return;
        }
        const check = checkRecord(value);
        if (check.ok) {
          records.push(check.record);
          if (check.adjusted !== undefined) adjusted.set(check.adjusted, (adjusted.get(check.adjusted) ?? 0) + 1);
        } else note(check.kind, `record ${event.ordinal}: ${check.detail}`);
        return;
      }
      case 'not-a-record':
        note('not-a-record', `record ${event.ordinal} is not a JSON object`);
        return;
      case 'garbage-line':
        note('not-json', 'a line outside any record is not JSON');
        return;
      case 'truncated-record':
        note('truncated', `record ${event.ordinal} is cut short at the end of the file`);
        return;
    }
  };

  const scanner = new JsonRecordScanner(maxChars, onEvent);
  let gz: boolean;
  try {
    gz = isGzip(abs);
  } catch (e) {
    return skipFile('unreadable', `cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const source = fs.createReadStream(abs, { highWaterMark: 64 * 1024 });
    const stream = gz ? pipeline(source, createGunzip(), () => undefined) : source;
    const decoder = new StringDecoder('utf8');
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      scanner.push(decoder.write(chunk));
      if (scanner.fatal) break;
    }
    if (!scanner.fatal) {
      scanner.push(decoder.end());
      scanner.finish();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (gz && (code?.startsWith('Z_') === true || /zlib|gzip|header|end of file/i.test((e as Error).message))) {
      return skipFile('corrupt-gzip', `gzip data is corrupt or truncated (${code ?? 'zlib error'}), so the file is incomplete`);
    }
    return skipFile('unreadable', `read failed (${code ?? 'error'})`);
  }
  if (scanner.fatal) return skipFile(scanner.fatal.kind, `${gz ? 'uncompressed content ' : ''}${scanner.fatal.detail}`);
  return {
    records,
    fileSkipped: false,
    issues: [...counts.values()].map((c) => ({ file: rel, kind: c.kind, count: c.count, detail: c.detail, fileSkipped: false })),
    notes: [...adjusted].map(([detail, count]) => ({ file: rel, count, detail })),
  };
}
