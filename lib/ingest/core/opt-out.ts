/**
 * The national data opt-out: the NHS numbers of people who said no to their data being
 * used for research and planning. Rows of these people are removed before de-identification
 * and only ever counted, never listed (a list of who opted out is itself personal data).
 *
 * The list is read strictly: a line that is not a valid NHS number stops the load rather
 * than being skipped, because a skipped line could be a person whose wish would then be
 * ignored. The error names line numbers, never the content.
 */
import { isValidNhsNumber, normaliseNhsNumber } from './nhs-number';

/** Normalised (10-digit) NHS numbers of people who opted out. */
export type OptOutSet = ReadonlySet<string>;

export class OptOutListError extends Error {
  constructor(readonly badLines: readonly number[]) {
    const shown = badLines.slice(0, 10).join(', ');
    super(
      `the opt-out list has ${badLines.length} line(s) that are not a valid NHS number (line ${shown}${badLines.length > 10 ? ', ...' : ''}); ` +
        'fix the list: no data is ingested with an incomplete opt-out list',
    );
    this.name = 'OptOutListError';
  }
}

/** One NHS number per line, any spacing; `#` starts a comment; blank lines are ignored. */
class OptOutParser {
  readonly numbers = new Set<string>();
  readonly badLines: number[] = [];
  private line = 0;

  add(text: string): void {
    this.line++;
    const hash = text.indexOf('#');
    const entry = (hash === -1 ? text : text.slice(0, hash)).trim();
    if (entry.length === 0) return;
    const normalised = normaliseNhsNumber(entry);
    if (normalised === undefined || !isValidNhsNumber(normalised)) this.badLines.push(this.line);
    else this.numbers.add(normalised);
  }

  finish(): Set<string> {
    if (this.badLines.length > 0) throw new OptOutListError(this.badLines);
    return this.numbers;
  }
}

/** Parses a whole opt-out list held in memory. Throws `OptOutListError` on any bad line. */
export function parseOptOutList(text: string | Buffer): Set<string> {
  const parser = new OptOutParser();
  const body = (typeof text === 'string' ? text : text.toString('utf8')).replace(/^\uFEFF/, '');
  for (const line of body.split(/\r\n|\r|\n/)) parser.add(line);
  return parser.finish();
}

/** Streams an opt-out list (an S3 object body, a file) line by line. Throws `OptOutListError` on any bad line. */
export async function readOptOutList(source: AsyncIterable<Uint8Array | string>): Promise<Set<string>> {
  const parser = new OptOutParser();
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  for await (const chunk of source) {
    let text = carry + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    // The last piece may be half a line, and a trailing CR half a CRLF: both wait for the next chunk.
    const heldCr = text.endsWith('\r') ? '\r' : '';
    if (heldCr !== '') text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    carry = (lines.pop() ?? '') + heldCr;
    for (const line of lines) parser.add(line);
  }
  const rest = carry + decoder.decode();
  for (const line of rest.split(/\r\n|\r|\n/)) parser.add(line);
  return parser.finish();
}

/** Whether this NHS number (any spacing) is on the list. */
export function isOptedOut(set: OptOutSet, nhsNumber: string): boolean {
  const normalised = normaliseNhsNumber(nhsNumber);
  return normalised !== undefined && set.has(normalised);
}
