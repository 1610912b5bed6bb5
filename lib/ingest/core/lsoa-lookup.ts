/**
 * The postcode-to-LSOA lookup that `rule: postcode_lsoa` needs: a CSV file with a header
 * naming `postcode` and `lsoa` columns (others are ignored, so the ONS postcode directory's
 * columns can be cut down to these two or kept), one postcode per line.
 *
 * Read strictly, as the opt-out list is: a line whose postcode or LSOA code does not parse
 * stops the load (the error names line numbers, never content), since a lookup that silently
 * lost lines would put people's areas down as unknown.
 */
import { normalisePostcode } from './postcode';

const LSOA = /^[EW]01\d{6}$/;

export class LookupFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookupFileError';
  }
}

/** Normalised postcode ('SE5 8AF') -> LSOA code. */
export type LsoaLookup = ReadonlyMap<string, string>;

function cells(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

/** Parses a lookup held in memory. `name` labels errors (the file name, never a path with personal data). */
export function parseLsoaLookup(text: string | Buffer, name: string): Map<string, string> {
  const body = (typeof text === 'string' ? text : text.toString('utf8')).replace(/^\uFEFF/, '');
  const lines = body.split(/\r\n|\r|\n/);
  const header = cells(lines[0] ?? '').map((h) => h.toLowerCase());
  const pc = header.findIndex((h) => h === 'postcode' || h === 'pcds' || h === 'pcd');
  const lsoa = header.findIndex((h) => h === 'lsoa' || h === 'lsoa21cd' || h === 'lsoa11cd');
  if (pc < 0 || lsoa < 0) {
    throw new LookupFileError(`the postcode-to-LSOA lookup ${name} has no header naming a postcode column and an lsoa column (e.g. "postcode,lsoa")`);
  }
  const out = new Map<string, string>();
  const bad: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const row = cells(lines[i]);
    const postcode = normalisePostcode(row[pc] ?? '');
    const code = (row[lsoa] ?? '').toUpperCase();
    if (postcode === undefined || !LSOA.test(code)) bad.push(i + 1);
    else out.set(postcode, code);
  }
  if (bad.length > 0) {
    throw new LookupFileError(
      `the postcode-to-LSOA lookup ${name} has ${bad.length} line(s) that are not a postcode and an LSOA code (line ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ', ...' : ''}): correct the file`,
    );
  }
  if (out.size === 0) throw new LookupFileError(`the postcode-to-LSOA lookup ${name} holds no postcodes`);
  return out;
}

/** The lookup files a dataset's columns name (`lookup:` on postcode_lsoa columns). */
export function lookupsNeeded(dataset: { readonly columns: readonly { readonly rule: string; readonly lookup?: string }[] }): string[] {
  return [...new Set(dataset.columns.flatMap((c) => (c.rule === 'postcode_lsoa' && c.lookup !== undefined ? [c.lookup] : [])))];
}
