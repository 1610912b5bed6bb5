/**
 * A streaming splitter that finds CloudTrail records in JSON text without holding the
 * whole file: it tracks only string state and nesting depth, and hands each record's
 * text to the caller as soon as the record closes. It recognises the three layouts
 * CloudTrail data arrives in:
 * - the S3 delivery envelope `{"Records": [ {...}, {...} ]}` (records at depth 2);
 * - a bare JSON array `[ {...}, {...} ]` (Stratus Red Team, exports);
 * - NDJSON / concatenated objects `{...}\n{...}` (Logstash, CloudWatch Logs exports);
 *   a top-level object is an envelope if it has a `Records` array, else it is a record.
 *
 * It does not validate JSON itself: each record's text goes through JSON.parse, so a
 * malformed record is caught there and skipped alone. Pure: no I/O.
 */

/** Why a whole file cannot be used. */
export interface ScanFatal {
  readonly kind: 'not-json' | 'truncated';
  readonly detail: string;
}

export type ScanEvent =
  /** A complete record candidate (an object), or one over the size cap (text omitted). */
  | { readonly type: 'value'; readonly ordinal: number; readonly text?: string; readonly tooLarge: boolean; readonly chars: number }
  /** An element of the records array that is not an object (a string, number, null, array). */
  | { readonly type: 'not-a-record'; readonly ordinal: number }
  /** A line outside any value that is not JSON (NDJSON with a garbage line). */
  | { readonly type: 'garbage-line' }
  /** The last NDJSON record ends mid-way (the file was cut). */
  | { readonly type: 'truncated-record'; readonly ordinal: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff; // BOM tolerated
}

export class JsonRecordScanner {
  /** Set when the file as a whole is unusable; nothing more is scanned. */
  fatal?: ScanFatal;

  private depth = 0;
  private inString = false;
  private escape = false;
  private skippingLine = false;

  private topValues = 0;
  private topIsArray = false;
  private topIsObject = false;
  private envelope = false;
  private inRecordsArray = false;

  /** A short string being read at depth 1 of a top-level object (a candidate key). */
  private keyBuf: string | null = null;
  private lastString: string | null = null;
  private pendingKey: string | null = null;
  private elementOpen = false;

  private capturing = false;
  private captureDepth = -1;
  private parts: string[] = [];
  private captured = 0;
  private tooLarge = false;
  private ordinal = 0;

  constructor(
    private readonly maxRecordChars: number,
    private readonly emit: (event: ScanEvent) => void,
  ) {}

  push(chunk: string): void {
    if (this.fatal || chunk.length === 0) return;
    let partStart = this.capturing ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.skippingLine) {
        if (c === NEWLINE) this.skippingLine = false;
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === BACKSLASH) this.escape = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.keyBuf !== null) {
            this.lastString = this.keyBuf;
            this.keyBuf = null;
          }
        } else if (this.keyBuf !== null && this.keyBuf.length <= 16) this.keyBuf += chunk[i];
        continue;
      }
      if (isWhitespace(c)) continue;

      if (this.depth === 0) {
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.topValues++;
          this.topIsObject = c === OPEN_BRACE;
          this.topIsArray = c === OPEN_BRACKET;
          this.envelope = false;
          this.inRecordsArray = false;
          this.pendingKey = null;
          this.elementOpen = false;
          if (this.topIsObject) partStart = this.startCapture(i);
          this.depth = 1;
          continue;
        }
        if (this.topValues === 0) {
          this.fatal = { kind: 'not-json', detail: 'does not start with a JSON object or array' };
          return;
        }
        this.emit({ type: 'garbage-line' });
        this.skippingLine = c !== NEWLINE;
        continue;
      }

      const elementsDepth = this.topIsArray ? 1 : this.inRecordsArray ? 2 : -1;
      if (this.depth === 1 && this.topIsObject) {
        if (c === COLON) this.pendingKey = this.lastString;
        else if (c !== OPEN_BRACKET) this.pendingKey = null;
      }

      switch (c) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1 && this.topIsObject) this.keyBuf = '';
          this.markNonRecordElement(elementsDepth);
          break;
        case OPEN_BRACE:
          if (this.depth === elementsDepth && !this.capturing) {
            this.elementOpen = true;
            partStart = this.startCapture(i);
          }
          this.depth++;
          break;
        case OPEN_BRACKET:
          if (this.depth === 1 && this.topIsObject && this.pendingKey === 'Records') {
            // The top-level object is a delivery envelope: its records come one by one,
            // so the object itself is no record candidate.
            this.pendingKey = null;
            this.envelope = true;
            this.inRecordsArray = true;
            if (this.capturing && this.captureDepth === 0) this.ordinal--;
            this.capturing = false;
            this.parts = [];
            partStart = -1;
          } else {
            this.markNonRecordElement(elementsDepth);
          }
          this.depth++;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          this.depth--;
          if (c === CLOSE_BRACE && this.capturing && this.depth === this.captureDepth) {
            this.finishCapture(chunk, partStart, i + 1);
            partStart = -1;
          }
          if (c === CLOSE_BRACKET && this.inRecordsArray && this.depth === 1) this.inRecordsArray = false;
          break;
        case COMMA:
          if (this.depth === elementsDepth) this.elementOpen = false;
          break;
        case COLON:
          break;
        default:
          this.markNonRecordElement(elementsDepth);
      }
    }
    if (this.capturing && partStart >= 0) this.addPart(chunk.slice(partStart));
  }

  /** Call once at the end of input. */
  finish(): void {
    if (this.fatal) return;
    if (this.topValues === 0) {
      this.fatal = { kind: 'not-json', detail: 'empty: no JSON value' };
      return;
    }
    if (this.depth > 0 || this.inString) {
      const lastWasLooseRecord = this.capturing && this.captureDepth === 0 && !this.envelope;
      if (lastWasLooseRecord && this.topValues > 1) {
        // NDJSON: earlier lines are complete records; only the last one was cut.
        this.emit({ type: 'truncated-record', ordinal: this.ordinal });
        return;
      }
      this.fatal = { kind: 'truncated', detail: 'ends inside a JSON value (truncated, or not JSON)' };
    }
  }

  private markNonRecordElement(elementsDepth: number): void {
    if (this.depth === elementsDepth && !this.elementOpen && !this.capturing) {
      this.elementOpen = true;
      this.ordinal++;
      this.emit({ type: 'not-a-record', ordinal: this.ordinal });
    }
  }

  private startCapture(index: number): number {
    this.capturing = true;
    this.captureDepth = this.depth;
    this.parts = [];
    this.captured = 0;
    this.tooLarge = false;
    this.ordinal++;
    return index;
  }

  private addPart(part: string): void {
    this.captured += part.length;
    if (this.tooLarge) return;
    if (this.captured > this.maxRecordChars) {
      // Over the cap: stop keeping its text (memory stays bounded) but keep scanning to its end.
      this.tooLarge = true;
      this.parts = [];
      return;
    }
    this.parts.push(part);
  }

  private finishCapture(chunk: string, partStart: number, end: number): void {
    this.addPart(chunk.slice(Math.max(partStart, 0), end));
    this.capturing = false;
    const text = this.tooLarge ? undefined : this.parts.join('');
    this.parts = [];
    this.emit({ type: 'value', ordinal: this.ordinal, text, tooLarge: this.tooLarge, chars: this.captured });
  }
}
