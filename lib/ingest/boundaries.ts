/**
 * Record boundaries in a CSV byte stream, for splitting a large object into byte-range
 * chunks that each start exactly at a record.
 *
 * Why a scan and not "skip to the next newline": a quoted field may hold line breaks, and a
 * chunk reader that starts at an arbitrary byte cannot tell whether it is inside one. A
 * wrong guess would split a record in two (one half rejected as ragged, or worse, a shifted
 * half accepted). So the plan step reads the object once, sequentially, with a state machine
 * that follows the same quoting rules as `CsvScanner` (lib/ingest/core/csv-reader.ts): a quote
 * opens a quoted field only as the first character of a field, a doubled quote inside it is
 * a literal quote, and a quote anywhere else is ordinary text. The same pass counts physical
 * lines the way the scanner does (LF, CRLF or a lone CR, inside quotes too), so each chunk
 * can number its rows exactly as a whole-file read would, and hashes the bytes.
 *
 * Only for encodings where the delimiter, quote, CR and LF are single bytes that never occur
 * inside another character (UTF-8, Latin-1); a UTF-16 file is processed as one chunk.
 */

const LF = 10;
const CR = 13;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** Inside a quoted field, just after a quote: a second quote continues it, anything else closes it. */
const QUOTE_SEEN = 3;

export interface Boundary {
  /** Byte offset of the first byte after a line end (outside any quoted field). */
  readonly offset: number;
  /** The physical line that starts at `offset` (1-based, as CsvScanner counts). */
  readonly line: number;
}

export class BoundaryScanner {
  private state = FIELD_START;
  private offset = 0;
  /** Line breaks seen so far. */
  private breaks = 0;
  private pendingCr = false;
  private readonly d: number;
  private readonly q: number;
  private next = 0;
  /** For each target, in order, the first boundary at or after it. */
  readonly found: Boundary[] = [];

  /** `targets` are ascending byte offsets; for each, the first record boundary at or after it is found. */
  constructor(
    delimiter: string,
    quote: string,
    private readonly targets: readonly number[],
  ) {
    this.d = delimiter.charCodeAt(0);
    this.q = quote.charCodeAt(0);
    if (delimiter.length !== 1 || quote.length !== 1 || this.d > 0x7f || this.q > 0x7f)
      throw new Error('boundary scanning needs a one-byte ASCII delimiter and quote');
  }

  /** True once every target has its boundary: the rest of the object need not be scanned for them. */
  get done(): boolean {
    return this.next >= this.targets.length;
  }

  private boundary(at: number): void {
    while (this.next < this.targets.length && at >= this.targets[this.next]) {
      this.found.push({ offset: at, line: this.breaks + 1 });
      this.next++;
    }
  }

  feed(bytes: Uint8Array): void {
    const d = this.d;
    const q = this.q;
    const n = bytes.length;
    if (n === 0) return;
    const base = this.offset;
    let state = this.state;
    let i = 0;
    if (this.pendingCr) {
      // A CR ended the previous piece: with an LF after it, CRLF is one break ending after the LF.
      this.pendingCr = false;
      this.breaks++;
      if (bytes[0] === LF) i = 1;
      if (state !== QUOTED) {
        state = FIELD_START;
        this.boundary(base + i);
      }
    }
    // Where the next quote and CR are in this piece (-1: none), found with indexOf (memchr) and
    // kept until passed: most lines hold neither, and are then skipped whole, not byte by byte.
    let nextQuote = -2;
    let nextCr = -2;
    /** The line end up to which bytes go one at a time (a line with a quote or a lone CR). */
    let slowUntil = -1;
    for (; i < n; i++) {
      if (i > slowUntil && (state === FIELD_START || state === UNQUOTED)) {
        const lf = bytes.indexOf(LF, i);
        if (lf === -1) slowUntil = n;
        else {
          if (nextQuote !== -1 && nextQuote < i) nextQuote = bytes.indexOf(q, i);
          if (nextCr !== -1 && nextCr < i) nextCr = bytes.indexOf(CR, i);
          // No quote before the line end, and no CR but one right before the LF (CRLF): the
          // rest of the line is plain text and cannot open a quoted field.
          if ((nextQuote === -1 || nextQuote > lf) && (nextCr === -1 || nextCr >= lf - 1)) {
            if (nextCr === lf - 1) nextCr = -2;
            this.breaks++;
            state = FIELD_START;
            this.boundary(base + lf + 1);
            i = lf;
            continue;
          }
          slowUntil = lf;
        }
      }
      const c = bytes[i];
      if (c === LF) {
        this.breaks++;
        if (state !== QUOTED) {
          state = FIELD_START;
          this.boundary(base + i + 1);
        }
        continue;
      }
      if (c === CR) {
        if (i + 1 === n) {
          this.pendingCr = true;
          continue;
        }
        // A CR before LF is counted with the LF; a lone CR is a break of its own.
        if (bytes[i + 1] === LF) continue;
        this.breaks++;
        if (state !== QUOTED) {
          state = FIELD_START;
          this.boundary(base + i + 1);
        }
        continue;
      }
      switch (state) {
        case FIELD_START:
          state = c === q ? QUOTED : c === d ? FIELD_START : UNQUOTED;
          break;
        case UNQUOTED:
          if (c === d) state = FIELD_START;
          break;
        case QUOTED:
          if (c === q) state = QUOTE_SEEN;
          break;
        case QUOTE_SEEN:
          // Doubled quote: still inside. Delimiter: next field. Else text after the closing quote.
          state = c === q ? QUOTED : c === d ? FIELD_START : UNQUOTED;
          break;
      }
    }
    this.state = state;
    this.offset = base + n;
  }

  /** Call at the end of the object. */
  finish(): void {
    if (!this.pendingCr) return;
    this.pendingCr = false;
    this.breaks++;
    if (this.state !== QUOTED) this.boundary(this.offset);
  }
}
