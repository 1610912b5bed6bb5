/**
 * Planning an object composed of ranges and literal bytes as S3 multipart parts
 * (compose-parts.ts): the parts hold exactly the pieces' bytes in order, every part but
 * the last meets the minimum, copies respect the maximum, and an upload part never holds
 * much more than the minimum of ranged bytes (what the Lambda has in memory).
 */
import fc from 'fast-check';
import { ComposePart, planComposeParts, S3_PART_LIMITS } from '../../lib/ingest/compose-parts';
import type { ComposePiece } from '../../lib/ingest/object-store';

const SOURCES: Record<string, Buffer> = { a: Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!?'), b: Buffer.alloc(64, 'b') };
const ref = (key: string) => ({ bucket: 'x', key });
const bytesOf = (p: ComposePiece) => ('bytes' in p ? Buffer.from(p.bytes) : SOURCES[p.from.key].subarray(p.start, p.end));
const partBytes = (part: ComposePart) => (part.kind === 'copy' ? bytesOf(part.piece) : Buffer.concat(part.pieces.map(bytesOf)));

const piece: fc.Arbitrary<ComposePiece> = fc.oneof(
  fc.uint8Array({ maxLength: 20 }).map((bytes) => ({ bytes })),
  fc
    .record({ key: fc.constantFrom('a', 'b'), start: fc.nat(64), length: fc.nat(64) })
    .map(({ key, start, length }) => ({ from: ref(key), start, end: Math.min(64, start + length) })),
);

test('property: the parts hold the pieces in order; all but the last meet the minimum; copies stay within the maximum', () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 0, max: 40 }), (pieces, min, extra) => {
      const limits = { minPartBytes: min, maxPartBytes: 2 * min + extra, maxParts: 10_000 };
      const parts = planComposeParts(pieces, limits);
      expect(Buffer.concat(parts.map(partBytes)).equals(Buffer.concat(pieces.map((p) => bytesOf(p))))).toBe(true);
      parts.slice(0, -1).forEach((p) => expect(partBytes(p).length).toBeGreaterThanOrEqual(min));
      for (const p of parts) {
        if (p.kind === 'copy') expect(p.piece.end - p.piece.start).toBeLessThanOrEqual(limits.maxPartBytes);
        else {
          expect(p.bytes).toBe(partBytes(p).length);
          const ranged = p.pieces.reduce((n, q) => n + ('bytes' in q ? 0 : q.end - q.start), 0);
          expect(ranged).toBeLessThan(2 * min);
        }
      }
      expect(parts.every((p) => p.kind === 'copy' || p.pieces.length > 0)).toBe(true);
    }),
    { numRuns: 500 },
  );
});

describe('with S3 limits', () => {
  const MiB = 1024 * 1024;
  const GiB = 1024 * MiB;
  test('a range over 5 GiB is copied in equal parts under 5 GiB', () => {
    const parts = planComposeParts([{ from: ref('big'), start: 0, end: 12 * GiB }]);
    expect(parts.map((p) => (p.kind === 'copy' ? [p.piece.start, p.piece.end] : p.kind))).toEqual([
      [0, 4 * GiB],
      [4 * GiB, 8 * GiB],
      [8 * GiB, 12 * GiB],
    ]);
  });

  test('a small piece between large ones borrows from the next range; the literal footer rides in the last part', () => {
    const footer = new Uint8Array(1000);
    const parts = planComposeParts([
      { from: ref('p0'), start: 0, end: 40 * MiB },
      { from: ref('p1'), start: 4, end: 2 * MiB },
      { from: ref('p2'), start: 4, end: 30 * MiB },
      { bytes: footer },
    ]);
    expect(parts.map((p) => (p.kind === 'copy' ? `copy ${p.piece.from.key} ${p.piece.start}-${p.piece.end}` : `upload ${p.bytes}`))).toEqual([
      `copy p0 0-${40 * MiB}`,
      `upload ${5 * MiB}`,
      `copy p2 ${3 * MiB + 8}-${30 * MiB}`,
      'upload 1000',
    ]);
  });

  test('more than 10,000 parts is refused before any request', () => {
    const pieces = Array.from({ length: 10_001 }, (_, i) => ({ from: ref(`p${i}`), start: 0, end: 5 * MiB }));
    expect(() => planComposeParts(pieces)).toThrow(/needs 10001 parts, more than the 10000 S3 allows/);
    expect(S3_PART_LIMITS.minPartBytes).toBe(5 * MiB);
  });
});
