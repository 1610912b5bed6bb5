/**
 * The rejected-rows file of one chunk, for the data team who supplied the file:
 *
 *   line,reason_codes,reasons,record
 *   17,bad_nhs_check_digit,"column ""nhs_number"" is an NHS number whose Modulus 11 check digit is wrong","E0001,943..."
 *
 * `line` is the physical line the record starts on (the header is line 1); `reason_codes`
 * are machine-readable codes joined by `|`; `reasons` say which column broke which rule,
 * never a value. `record` is the row as it arrived, so it can be corrected and resent: it
 * holds personal data, which is why this file lives only in the restricted quarantine
 * zone. A record starting with = + - @ (a spreadsheet formula) gets a leading `'`.
 *
 * Spooled to a local file and uploaded whole at the end of the chunk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { neutraliseFormula } from './core/deidentify';
import type { RejectedRow } from './core/pipeline';

export const REJECTED_HEADER = 'line,reason_codes,reasons,record\n';

function quote(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

export class RejectedWriter {
  readonly file: string;
  private fd: number | undefined;
  rows = 0;

  constructor(workDir: string) {
    this.file = path.join(workDir, 'rejected.csv');
  }

  append(row: RejectedRow): void {
    if (this.fd === undefined) {
      this.fd = fs.openSync(this.file, 'w', 0o600);
      fs.writeSync(this.fd, REJECTED_HEADER);
    }
    const codes = [...new Set(row.reasons.map((r) => r.code))].join('|');
    const reasons = row.reasons.map((r) => r.message).join('; ');
    fs.writeSync(this.fd, `${row.line},${codes},${quote(reasons)},${quote(neutraliseFormula(row.raw))}\n`);
    this.rows++;
  }

  /** The file's size, or undefined when no row was rejected. */
  close(): number | undefined {
    if (this.fd === undefined) return undefined;
    fs.closeSync(this.fd);
    this.fd = undefined;
    return fs.statSync(this.file).size;
  }
}
