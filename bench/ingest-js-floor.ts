/**
 * What the fastest JavaScript ingestion could cost (not part of the test suite):
 *
 *   npm run bench:ingest-js-floor               # the 1x bench:ingest file
 *   npm run bench:ingest-js-floor -- --scale 5
 *
 * A costing prototype, not a pipeline, as bench:ingest-sql-floor is for DuckDB: the checks
 * and rules of `hospital_episodes` written by hand as one byte-level loop over the raw file
 * (no string per field, no object per row, no regular expression; the curated line written
 * straight into an output buffer), the way a fast path in front of the JavaScript core
 * would be written. Any row it is not sure of it only counts (a real fast path would hand
 * it to the core). It does everything else the pipeline does per byte and per row: the
 * UTF-8 check, the input's SHA-256 for the manifest, the opt-out, the HMAC pseudonyms
 * (cached per person, two one-shot SHA-256s over the padded key) and the spool, which
 * DuckDB then converts to the curated Parquet with the pipeline's own statement.
 *
 * Its output is checked against the real pipeline's: every line it writes must be the
 * line the core writes for that row, in the same order (a subsequence of the core's spool),
 * so the figure is for the right work.
 *
 * Prints one JSON line: rows; rows the loop handled and rows it would hand to the core;
 * CPU-seconds per million rows for the loop (and, within it, the SHA-256 of the input and
 * the HMACs), for DuckDB's conversion of the spool, and for the reference (DuckDB's plain
 * CSV -> Parquet conversion, as bench:ingest measures it); and the ratio their total would
 * give, counting the core's rows at nothing (so it flatters the fast path).
 */
import { isUtf8 } from 'node:buffer';
import { createHash, hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { daysInMonth } from '../lib/ingest/core/iso-date';
import { readOptOutList } from '../lib/ingest/core/opt-out';
import { checkAgainstCore, convertAndReference, cpuSecondsSince, FLOOR_KEY, withWorkDir } from './floor-check';
import { arg, DATASET, ensureBenchInput, runBench, TODAY } from './ingest-input';

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const OUT_BYTES = 1 << 21;


/** `YYYY-MM-DD` as the number YYYYMMDD. */
const dateNumber = (iso: string) => Number(iso.replace(/-/g, ''));

const isDigit = (c: number) => c >= 48 && c <= 57;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isLetter = (c: number) => isUpper(c) || (c >= 97 && c <= 122);
/** A character class of letters, as a table indexed by character code. */
function letters(allowed: string): Uint8Array {
  const table = new Uint8Array(128);
  for (const ch of allowed) table[ch.charCodeAt(0)] = 1;
  return table;
}
const range = (from: string, to: string) => Array.from({ length: to.charCodeAt(0) - from.charCodeAt(0) + 1 }, (_, i) => String.fromCharCode(from.charCodeAt(0) + i)).join('');
// The postcode pattern's letter classes (lib/ingest/core/postcode.ts).
const PC_FIRST = letters(range('A', 'P') + range('R', 'U') + 'WYZ');
const PC_SECOND = letters(range('A', 'H') + range('K', 'Y'));
const PC_THIRD_AFTER_DIGIT = letters(range('A', 'H') + 'JKPSTUW');
const PC_FOURTH = letters('ABEHMNPRVWXY');
const PC_INWARD = letters('AB' + range('D', 'H') + 'JLN' + range('P', 'U') + range('W', 'Z'));
const OPCS_CHAPTER = letters(range('A', 'H') + range('J', 'N') + range('P', 'Z'));

/** The key XORed with HMAC's inner and outer pads, in the first 64 bytes of each buffer. */
function paddedKeys(inner: Buffer, outer: Buffer): void {
  for (let i = 0; i < 64; i++) {
    inner[i] = (FLOOR_KEY[i] ?? 0) ^ 0x36;
    outer[i] = (FLOOR_KEY[i] ?? 0) ^ 0x5c;
  }
}

/**
 * HMAC-SHA256 as two one-shot SHA-256s: `inner` holds the padded key then the message,
 * `outer` the padded key then room for the inner digest. Lowercase hex, as Latin-1 bytes.
 */
function hmacHex(inner: Buffer, outer: Buffer): Buffer {
  hash('sha256', inner, 'buffer').copy(outer, 64);
  return Buffer.from(hash('sha256', outer, 'hex'), 'latin1');
}

/** What `count` pseudonyms cost on their own (the loop's figure includes them). */
function hmacSeconds(count: number): number {
  const inner = Buffer.alloc(64 + 10);
  const outer = Buffer.alloc(64 + 32);
  paddedKeys(inner, outer);
  const t0 = process.cpuUsage();
  for (let n = 0; n < count; n++) {
    inner.write(String(9_990_000_000 + n), 64, 'latin1');
    hmacHex(inner, outer);
  }
  return cpuSecondsSince(t0);
}

/** The episodes file's columns, by position (config/datasets/hospital_episodes.yaml). */
const enum Col {
  EpisodeId,
  NhsNumber,
  DateOfBirth,
  Sex,
  Ethnicity,
  Postcode,
  Lsoa,
  GpPractice,
  Provider,
  Admission,
  Discharge,
  AdmissionMethod,
  PrimaryDiagnosis,
  SecondaryDiagnoses,
  PrimaryProcedure,
  LengthOfStay,
  ClinicalNotes,
  Count,
}

/** The kept text columns with no format: the identifier guard's columns. */
const UNFORMATTED = [Col.Sex, Col.Ethnicity, Col.AdmissionMethod, Col.SecondaryDiagnoses];

/** One row at a time over a byte buffer; the state is fields, not closures, so V8 keeps it fast. */
class EpisodeLoop {
  private b: Buffer = Buffer.alloc(0);
  private readonly start = new Int32Array(Col.Count + 1);
  private readonly end = new Int32Array(Col.Count + 1);
  private readonly out = Buffer.allocUnsafe(OUT_BYTES);
  private o = 0;
  private readonly bands: Buffer[] = [];
  private readonly pseudonyms = new Map<number, Buffer>();
  private readonly inner = Buffer.alloc(64 + 10);
  private readonly outer = Buffer.alloc(64 + 32);
  private readonly latestBirth: number;
  private readonly latestEvent: number;
  handled = 0;
  handedOn = 0;
  optedOut = 0;
  hmacs = 0;

  constructor(
    private readonly fd: number,
    private readonly optOut: ReadonlySet<number>,
    loadDate: string,
  ) {
    paddedKeys(this.inner, this.outer);
    for (let age = 0; age <= 150; age++) {
      const low = Math.floor(age / 5) * 5;
      this.bands.push(Buffer.from(age >= 90 ? '90+' : `${low}-${low + 4}`, 'latin1'));
    }
    this.latestBirth = dateNumber(loadDate);
    this.latestEvent = dateNumber(new Date(Date.parse(`${loadDate}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10));
  }

  /** Handles every complete record of `b` from `from`; returns where the incomplete rest starts. */
  rows(b: Buffer, from: number): number {
    this.b = b;
    const n = b.length;
    let i = from;
    while (i < n) {
      // Blank lines carry no record (the core skips them too).
      if (b[i] === LF || b[i] === CR) {
        i++;
        continue;
      }
      const next = this.row(i, n);
      if (next < 0) break;
      i = next;
    }
    return i;
  }

  /** One record: returns the index after its line end, or -1 when the record may run past the buffer. */
  private row(i: number, n: number): number {
    const b = this.b;
    const start = this.start;
    const end = this.end;
    let f = 0;
    let j = i;
    let sure = true;
    let c = 0;
    // Split into fields. Quoted fields are handled when simple (no doubled quote, no line break).
    for (;;) {
      if (j >= n) return -1;
      if (b[j] === QUOTE) {
        const close = b.indexOf(QUOTE, j + 1);
        if (close < 0 || close + 1 >= n) return -1;
        for (let k = j + 1; k < close; k++) if (b[k] === LF || b[k] === CR) sure = false;
        if (f <= Col.Count) {
          start[f] = j + 1;
          end[f] = close;
        }
        f++;
        j = close + 1;
        c = b[j];
        if (c !== COMMA && c !== LF && c !== CR) sure = false;
      } else {
        const s = j;
        while (j < n) {
          c = b[j];
          if (c === COMMA || c === LF || c === CR) break;
          if (c === QUOTE) sure = false;
          j++;
        }
        if (j >= n) return -1;
        if (f <= Col.Count) {
          start[f] = s;
          end[f] = j;
        }
        f++;
      }
      if (!sure) break;
      if (c === COMMA) {
        j++;
        continue;
      }
      break;
    }
    // The rest of the line, for a record it is not sure of.
    let lineEnd = j;
    if (!sure) {
      lineEnd = b.indexOf(LF, j);
      if (lineEnd < 0) return -1;
      this.handedOn++;
      return lineEnd + 1;
    }
    if (b[lineEnd] === CR) {
      if (lineEnd + 1 >= n) return -1;
      if (b[lineEnd + 1] === LF) lineEnd++;
    }
    const next = lineEnd + 1;
    if (f !== Col.Count || !this.check()) this.handedOn++;
    return next;
  }

  /** Checks and writes one split record; false when it is not sure (the core would decide). */
  private check(): boolean {
    const b = this.b;
    const start = this.start;
    const end = this.end;
    // The person key: ten digits passing Modulus 11 (any other layout goes to the core).
    const ns = start[Col.NhsNumber];
    if (end[Col.NhsNumber] - ns !== 10) return false;
    let nhs = 0;
    let sum = 0;
    for (let k = 0; k < 10; k++) {
      const d = b[ns + k] - 48;
      if (d < 0 || d > 9) return false;
      nhs = nhs * 10 + d;
      if (k < 9) sum += d * (10 - k);
    }
    let check = 11 - (sum % 11);
    if (check === 11) check = 0;
    if (check === 10 || check !== b[ns + 9] - 48) return false;
    const birth = this.date(Col.DateOfBirth);
    if (birth < 18900101 || birth > this.latestBirth) return false;
    const admitted = this.date(Col.Admission);
    if (admitted < 19000101 || admitted > this.latestEvent || admitted < birth) return false;
    const discharged = end[Col.Discharge] === start[Col.Discharge] ? 0 : this.date(Col.Discharge);
    if (discharged !== 0 && (discharged < 19000101 || discharged > this.latestEvent)) return false;
    if (!this.recordId(Col.EpisodeId)) return false;
    for (let k = 0; k < UNFORMATTED.length; k++) if (!this.plainCode(UNFORMATTED[k])) return false;
    const outwardEnd = this.postcode(Col.Postcode);
    if (outwardEnd < 0) return false;
    if (!this.lsoa(Col.Lsoa) || !this.ods(Col.GpPractice) || !this.ods(Col.Provider)) return false;
    if (!this.icd10(Col.PrimaryDiagnosis) || !this.opcs4(Col.PrimaryProcedure) || !this.count(Col.LengthOfStay)) return false;
    // Dropped free text is still refused for a NUL byte: the core would say so.
    for (let k = start[Col.ClinicalNotes]; k < end[Col.ClinicalNotes]; k++) if (b[k] === 0) return false;
    if (this.optOut.has(nhs)) {
      this.optedOut++;
      this.handled++;
      return true;
    }
    const age = Math.floor(admitted / 10000) - Math.floor(birth / 10000) - (admitted % 10000 < birth % 10000 ? 1 : 0);
    this.writeRow(nhs, age, outwardEnd, discharged !== 0);
    this.handled++;
    return true;
  }

  private writeRow(nhs: number, age: number, outwardEnd: number, discharged: boolean): void {
    const out = this.out;
    this.copy(Col.EpisodeId);
    out[this.o++] = COMMA;
    const pseudonym = this.pseudonym(nhs);
    for (let k = 0; k < 64; k++) out[this.o++] = pseudonym[k];
    out[this.o++] = COMMA;
    const band = this.bands[age];
    for (let k = 0; k < band.length; k++) out[this.o++] = band[k];
    out[this.o++] = COMMA;
    this.copy(Col.Sex);
    out[this.o++] = COMMA;
    this.copy(Col.Ethnicity);
    out[this.o++] = COMMA;
    if (outwardEnd > 0) this.copyRange(this.start[Col.Postcode], outwardEnd);
    out[this.o++] = COMMA;
    this.copy(Col.Lsoa);
    out[this.o++] = COMMA;
    this.copy(Col.GpPractice);
    out[this.o++] = COMMA;
    this.copy(Col.Provider);
    out[this.o++] = COMMA;
    this.copyRange(this.start[Col.Admission], this.start[Col.Admission] + 7);
    out[this.o++] = COMMA;
    if (discharged) this.copyRange(this.start[Col.Discharge], this.start[Col.Discharge] + 7);
    out[this.o++] = COMMA;
    this.copy(Col.AdmissionMethod);
    out[this.o++] = COMMA;
    this.copy(Col.PrimaryDiagnosis);
    out[this.o++] = COMMA;
    this.copy(Col.SecondaryDiagnoses);
    out[this.o++] = COMMA;
    this.copy(Col.PrimaryProcedure);
    out[this.o++] = COMMA;
    this.copy(Col.LengthOfStay);
    out[this.o++] = LF;
    if (this.o > OUT_BYTES - 65536) this.flush();
  }

  private pseudonym(nhs: number): Buffer {
    let p = this.pseudonyms.get(nhs);
    if (p === undefined) {
      this.b.copy(this.inner, 64, this.start[Col.NhsNumber], this.end[Col.NhsNumber]);
      p = hmacHex(this.inner, this.outer);
      if (this.pseudonyms.size >= 200_000) this.pseudonyms.clear();
      this.pseudonyms.set(nhs, p);
      this.hmacs++;
    }
    return p;
  }

  flush(): void {
    fs.writeSync(this.fd, this.out, 0, this.o);
    this.o = 0;
  }

  private copy(col: number): void {
    this.copyRange(this.start[col], this.end[col]);
  }

  private copyRange(from: number, to: number): void {
    const b = this.b;
    const out = this.out;
    for (let k = from; k < to; k++) out[this.o++] = b[k];
  }

  /** YYYYMMDD of a real calendar date written YYYY-MM-DD, or -1. */
  private date(col: number): number {
    const b = this.b;
    const a = this.start[col];
    if (this.end[col] - a !== 10 || b[a + 4] !== 45 || b[a + 7] !== 45) return -1;
    let y = 0;
    for (let k = 0; k < 4; k++) {
      const d = b[a + k] - 48;
      if (d < 0 || d > 9) return -1;
      y = y * 10 + d;
    }
    const m1 = b[a + 5] - 48;
    const m2 = b[a + 6] - 48;
    const d1 = b[a + 8] - 48;
    const d2 = b[a + 9] - 48;
    if (m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return -1;
    const m = m1 * 10 + m2;
    const d = d1 * 10 + d2;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return -1;
    return y * 10000 + m * 100 + d;
  }

  /** A record key the core would keep as it is: key characters, and no run of ten digits or hyphen that could hide an NHS number. */
  private recordId(col: number): boolean {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e - s < 1 || e - s > 64 || !(isDigit(b[s]) || isLetter(b[s]))) return false;
    let run = 0;
    for (let k = s; k < e; k++) {
      const c = b[k];
      if (isDigit(c)) {
        if (++run >= 10) return false;
      } else {
        run = 0;
        if (!(isLetter(c) || c === 46 || c === 95 || c === 58 || c === 47)) return false;
      }
    }
    return true;
  }

  /**
   * A kept value with no format that cannot hold anything the identifier guard looks for:
   * printable ASCII with no space, no @ . / - (e-mail, dates), fewer than ten digits (NHS
   * and phone numbers), no digit followed by two letters (a postcode's inward code, a
   * written date), and no formula lead. Empty is null.
   */
  private plainCode(col: number): boolean {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e === s) return true;
    const first = b[s];
    if (first === 61 || first === 43) return false;
    let digits = 0;
    for (let k = s; k < e; k++) {
      const c = b[k];
      if (c <= 32 || c >= 127 || c === 64 || c === 46 || c === 47 || c === 45 || c === COMMA || c === QUOTE) return false;
      if (isDigit(c)) {
        digits++;
        if (k + 2 < e && isLetter(b[k + 1]) && isLetter(b[k + 2])) return false;
      }
    }
    return digits < 10;
  }

  /** A postcode in its normal form (the pattern of lib/ingest/core/postcode.ts): the outward code's end, 0 for none, -1 when unsure. */
  private postcode(col: number): number {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e === s) return 0;
    const space = e - 4;
    if (space - s < 2 || space - s > 4 || b[space] !== 32) return -1;
    if (!isDigit(b[space + 1]) || PC_INWARD[b[space + 2]] !== 1 || PC_INWARD[b[space + 3]] !== 1) return -1;
    const len = space - s;
    const c0 = b[s];
    const c1 = b[s + 1];
    if (PC_FIRST[c0] !== 1) return -1;
    let ok = false;
    if (len === 2) ok = isDigit(c1);
    else if (len === 3) {
      const c2 = b[s + 2];
      ok = (isDigit(c1) && isDigit(c2)) || (PC_SECOND[c1] === 1 && isDigit(c2)) || (isDigit(c1) && PC_THIRD_AFTER_DIGIT[c2] === 1);
    } else {
      const c2 = b[s + 2];
      const c3 = b[s + 3];
      ok = PC_SECOND[c1] === 1 && isDigit(c2) && (isDigit(c3) || PC_FOURTH[c3] === 1);
    }
    return ok ? space : -1;
  }

  private lsoa(col: number): boolean {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e === s) return true;
    if (e - s !== 9 || (b[s] !== 69 && b[s] !== 87) || b[s + 1] !== 48 || b[s + 2] !== 49) return false;
    for (let k = s + 3; k < e; k++) if (!isDigit(b[k])) return false;
    return true;
  }

  private ods(col: number): boolean {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e === s) return true;
    if (e - s < 3 || e - s > 6) return false;
    for (let k = s; k < e; k++) if (!isDigit(b[k]) && !isUpper(b[k])) return false;
    return true;
  }

  /** ICD-10 as lib/ingest/core/formats.ts has it, upper case only. */
  private icd10(col: number): boolean {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e === s) return true;
    if (e - s < 3 || !isUpper(b[s]) || !isDigit(b[s + 1]) || !isDigit(b[s + 2])) return false;
    let k = s + 3;
    const dot = k < e && b[k] === 46;
    if (dot) k++;
    let extra = 0;
    while (k < e && extra < 2 && (isDigit(b[k]) || b[k] === 88)) {
      k++;
      extra++;
    }
    if (dot && extra === 0) return false;
    if (k < e && (b[k] === 65 || b[k] === 68)) k++;
    return k === e;
  }

  private opcs4(col: number): boolean {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e === s) return true;
    if (e - s < 3 || OPCS_CHAPTER[b[s]] !== 1 || !isDigit(b[s + 1]) || !isDigit(b[s + 2])) return false;
    if (e - s === 3) return true;
    if (e - s === 4) return isDigit(b[s + 3]);
    return e - s === 5 && b[s + 3] === 46 && isDigit(b[s + 4]);
  }

  /** A whole number written as the core would write it back (no sign, no leading zero, at most 15 digits). */
  private count(col: number): boolean {
    const b = this.b;
    const s = this.start[col];
    const e = this.end[col];
    if (e === s) return true;
    if (e - s > 15 || (b[s] === 48 && e - s > 1)) return false;
    for (let k = s; k < e; k++) if (!isDigit(b[k])) return false;
    return true;
  }
}

/** Runs the loop over the file; returns its CPU-seconds (with the SHA-256 of the input apart). */
async function runLoop(file: string, spool: string, optOut: ReadonlySet<number>): Promise<{ loop: EpisodeLoop; cpu: number; sha256: number }> {
  const fd = fs.openSync(spool, 'w', 0o600);
  const loop = new EpisodeLoop(fd, optOut, TODAY);
  const digest = createHash('sha256');
  let sha256 = 0;
  let carry: Buffer | undefined;
  let first = true;
  const cpu0 = process.cpuUsage();
  for await (const block of fs.createReadStream(file, { highWaterMark: 1 << 16 })) {
    const t0 = process.cpuUsage();
    digest.update(block);
    sha256 += cpuSecondsSince(t0);
    const b: Buffer = carry === undefined ? (block as Buffer) : Buffer.concat([carry, block as Buffer]);
    const lastLine = b.lastIndexOf(LF) + 1;
    // The pipeline refuses a file that is not UTF-8; checked on whole lines, as its decoder does on whole characters.
    if (!isUtf8(b.subarray(0, lastLine))) throw new Error('the benchmark file is not UTF-8');
    let from = 0;
    if (first) {
      from = b.indexOf(LF) + 1; // the header (bench:ingest's file always has one)
      first = false;
    }
    const used = loop.rows(b, from);
    carry = used < b.length ? Buffer.from(b.subarray(used)) : undefined;
  }
  digest.digest();
  loop.flush();
  fs.closeSync(fd);
  if (carry !== undefined) throw new Error('the benchmark file ends without a line end');
  return { loop, cpu: cpuSecondsSince(cpu0), sha256 };
}

async function main(): Promise<void> {
  const scale = Number(arg('scale', '1'));
  const dir = await ensureBenchInput(scale);
  const file = path.join(dir, `${DATASET}.csv`);
  await withWorkDir(dir, 'js-floor-', async (work) => {
    const optOutList = await readOptOutList(fs.createReadStream(path.join(dir, 'national-data-opt-out.txt')));
    const optOut = new Set([...optOutList].map(Number));
    const spool = path.join(work, 'loop-spool.csv');
    const { loop, cpu, sha256 } = await runLoop(file, spool, optOut);

    const { convert, reference } = await convertAndReference(spool, file, work, optOutList);
    const matched = await checkAgainstCore(spool, loop.handled - loop.optedOut, file, work, optOutList);

    const rows = loop.handled + loop.handedOn;
    const perMillion = (s: number) => Number(((s * 1e6) / rows).toFixed(2));
    process.stdout.write(
      `${JSON.stringify({
        rows,
        rows_handled: loop.handled,
        rows_for_the_core: loop.handedOn,
        rows_checked_equal_to_core: matched,
        loop_cpu_s_per_m: perMillion(cpu),
        of_which_input_sha256_cpu_s_per_m: perMillion(sha256),
        of_which_hmac_cpu_s_per_m: perMillion(hmacSeconds(loop.hmacs)),
        distinct_people_hashed: loop.hmacs,
        spool_to_parquet_cpu_s_per_m: perMillion(convert),
        total_cpu_s_per_m: perMillion(cpu + convert),
        reference_cpu_s_per_m: perMillion(reference),
        projected_ratio: Number((reference / (cpu + convert)).toFixed(3)),
        threads: 1,
      })}\n`,
    );
  });
}

runBench(main);
