/**
 * How to build one S3 object from byte ranges of other objects and literal bytes, as the
 * parts of a multipart upload, within S3's rules: every part but the last at least 5 MiB,
 * none over 5 GiB, at most 10,000 parts.
 *
 * A range of at least 5 MiB becomes a server-side copy (UploadPartCopy: its bytes never
 * pass through the caller). Anything smaller (literal bytes, a short range) is gathered
 * with what follows until the gathered part reaches 5 MiB, then uploaded; it borrows the
 * bytes it lacks from the start of the next range. So at most about 5 MiB plus the literal
 * bytes is ever held in memory per part, however large the object.
 *
 * Pure: S3ObjectStore carries the plan out.
 */
import type { ComposePiece } from './object-store';

export interface PartLimits {
  readonly minPartBytes: number;
  readonly maxPartBytes: number;
  readonly maxParts: number;
}

/** S3's multipart limits. */
export const S3_PART_LIMITS: PartLimits = { minPartBytes: 5 * 1024 * 1024, maxPartBytes: 5 * 1024 * 1024 * 1024, maxParts: 10_000 };

export type ComposePart =
  /** A server-side copy of `[start, end)` of one object. */
  | { readonly kind: 'copy'; readonly piece: Extract<ComposePiece, { from: unknown }> }
  /** Bytes the caller gathers (reads the ranges, takes the literals) and uploads. */
  | { readonly kind: 'upload'; readonly pieces: ComposePiece[]; readonly bytes: number };

export const pieceBytes = (p: ComposePiece) => ('bytes' in p ? p.bytes.length : p.end - p.start);

export function planComposeParts(pieces: readonly ComposePiece[], limits: PartLimits = S3_PART_LIMITS): ComposePart[] {
  const { minPartBytes: min, maxPartBytes: max } = limits;
  // Equal splits of a long range then never fall under the minimum (S3: 5 MiB and 5 GiB).
  if (!(min >= 1 && max >= 2 * min)) throw new Error('compose: part limits need a minimum of at least 1 byte and a maximum of at least twice the minimum');
  const parts: ComposePart[] = [];
  let gathered: ComposePiece[] = [];
  let gatheredBytes = 0;
  const gather = (p: ComposePiece) => {
    gathered.push(p);
    gatheredBytes += pieceBytes(p);
  };
  const flush = () => {
    parts.push({ kind: 'upload', pieces: gathered, bytes: gatheredBytes });
    gathered = [];
    gatheredBytes = 0;
  };
  for (const piece of pieces) {
    if ('bytes' in piece) {
      if (piece.bytes.length > 0) gather(piece);
    } else {
      if (!Number.isInteger(piece.start) || !Number.isInteger(piece.end) || piece.start < 0 || piece.end < piece.start) {
        throw new Error(`compose: the range [${piece.start}, ${piece.end}) of s3://${piece.from.bucket}/${piece.from.key} is not a byte range`);
      }
      let start = piece.start;
      if (gatheredBytes > 0 && start < piece.end) {
        // Finish the part being gathered with the first bytes of this range.
        const take = Math.min(piece.end - start, Math.max(0, min - gatheredBytes));
        if (take > 0) gather({ from: piece.from, start, end: start + take });
        start += take;
        if (gatheredBytes >= min) flush();
      }
      const rest = piece.end - start;
      if (rest >= min && gatheredBytes === 0) {
        // Copies of at most `max` bytes each, of equal size, so none falls under `min`.
        const count = Math.ceil(rest / max);
        for (let i = 0; i < count; i++) {
          const s = start + Math.floor((rest * i) / count);
          const e = start + Math.floor((rest * (i + 1)) / count);
          parts.push({ kind: 'copy', piece: { from: piece.from, start: s, end: e } });
        }
      } else if (rest > 0) gather({ from: piece.from, start, end: piece.end });
    }
    if (gatheredBytes >= min) flush();
  }
  if (gatheredBytes > 0) flush();
  if (parts.length > limits.maxParts) throw new Error(`compose: the object needs ${parts.length} parts, more than the ${limits.maxParts} S3 allows`);
  return parts;
}
