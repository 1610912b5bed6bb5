/**
 * Which files the checker understands. Only a CSV table (a `.csv` name and content that
 * parses as one) is checked cell by cell and can pass without a reviewer's note. Every
 * other file (an image, an SVG, a PDF, free text, a spreadsheet, JSON, HTML, ...) is never
 * released automatically: it goes to a reviewer, who must record a note. The checker still
 * reads what it can (the text of a text-based file, and the numbers in it) so the reviewer
 * sees where to look; for a binary format it says what the file seems to be.
 */
import { normaliseCell, textNumbers } from './numbers';

/** The only format checked automatically. */
export const CHECKED_FORMATS = ['csv'] as const;

export interface FileFormat {
  /** `csv`, or what the file seems to be (for the reviewer). */
  readonly kind: string;
  /** A text-based format whose text the checker read (SVG, HTML, JSON, plain text, ...). */
  readonly text?: string;
}

const MAGIC: readonly { readonly kind: string; readonly bytes: readonly number[] }[] = [
  { kind: 'PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
  { kind: 'JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { kind: 'GIF image', bytes: [0x47, 0x49, 0x46, 0x38] },
  { kind: 'PDF document', bytes: [0x25, 0x50, 0x44, 0x46] },
  { kind: 'zip container (a spreadsheet, document or archive: xlsx, ods, docx, zip)', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { kind: 'legacy Office document (xls, doc)', bytes: [0xd0, 0xcf, 0x11, 0xe0] },
  { kind: 'TIFF image', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { kind: 'TIFF image', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { kind: 'BMP image', bytes: [0x42, 0x4d] },
  { kind: 'gzip archive', bytes: [0x1f, 0x8b] },
  { kind: 'Parquet file', bytes: [0x50, 0x41, 0x52, 0x31] },
];

/** What a file seems to be, from its first bytes and (only as a tie-break) its name. */
export function detectFormat(name: string, bytes: Uint8Array): FileFormat {
  for (const m of MAGIC) if (m.bytes.every((b, i) => bytes[i] === b)) return { kind: m.kind };
  if (bytes.length >= 12 && String.fromCharCode(...bytes.slice(0, 4)) === 'RIFF' && String.fromCharCode(...bytes.slice(8, 12)) === 'WEBP')
    return { kind: 'WebP image' };
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { kind: 'binary file' };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000E-\u001F]/.test(text)) return { kind: 'binary file' };
  const head = text.slice(0, 4096).trimStart().toLowerCase();
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  if (head.includes('<svg') || ext === 'svg') return { kind: 'SVG image', text };
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || ext === 'html' || ext === 'htm') return { kind: 'HTML page', text };
  if (head.startsWith('<?xml') || ext === 'xml') return { kind: 'XML document', text };
  if (head.startsWith('{') || head.startsWith('[') || ext === 'json') return { kind: 'JSON document', text };
  if (head.startsWith('%!ps') || ext === 'eps' || ext === 'ps') return { kind: 'PostScript', text };
  if (ext === 'csv') return { kind: 'csv', text };
  if (ext === 'tsv' || ext === 'tab') return { kind: 'tab-separated text (save it as CSV to have it checked)', text };
  if (ext === 'md' || ext === 'markdown') return { kind: 'Markdown text', text };
  return { kind: ext === '' ? 'text' : `text (.${ext})`, text };
}

/**
 * What the reviewer is told about a file the checker does not read as a table: its text's
 * numbers (markup removed, so attribute values, single- or double-quoted, count as text).
 */
export function describeUncheckedText(text: string, threshold: number): { numbers: number; small: number[]; words: number } {
  const plain = normaliseCell(text.replace(/<[^>]*>/g, (tag) => ` ${tag.replace(/[<>/=]/g, ' ')} `));
  const numbers = textNumbers(plain);
  const small = [...new Set(numbers.filter((n) => Math.abs(n) >= 0 && Math.abs(n) <= threshold))].sort((a, b) => a - b);
  return { numbers: numbers.length, small, words: (plain.match(/\p{L}{2,}/gu) ?? []).length };
}
