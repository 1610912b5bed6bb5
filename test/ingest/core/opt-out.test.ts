import { isOptedOut, OptOutListError, parseOptOutList, readOptOutList } from '../../../lib/ingest/core/opt-out';
import { chunked, testNhsNumber } from './datasets';

const [a, b, c] = [testNhsNumber(10), testNhsNumber(20), testNhsNumber(30)];
const spaced = (n: string) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;

describe('the national data opt-out list', () => {
  const text = `\uFEFF# national data opt-out, test extract\r\n${a}\r\n  ${spaced(b)}  # a comment\n\n${c.slice(0, 3)}-${c.slice(3, 6)}-${c.slice(6)}\n${a}\n`;

  test('one number per line, any spacing, comments and blank lines ignored, duplicates once', () => {
    expect([...parseOptOutList(text)].sort()).toEqual([a, b, c].sort());
    expect(parseOptOutList(Buffer.from(text))).toEqual(parseOptOutList(text));
  });

  test('streams give the same set, whatever the chunk boundaries (CRLF split included)', async () => {
    for (const sizes of [[1], [2], [3], [17]]) {
      expect(await readOptOutList(chunked(Buffer.from(text), sizes))).toEqual(parseOptOutList(text));
    }
  });

  test('an empty list is an empty set', () => {
    expect(parseOptOutList('').size).toBe(0);
    expect(parseOptOutList('# nobody\n').size).toBe(0);
  });

  test('a bad line stops the load, naming line numbers only', async () => {
    const bad = `${a}\n${b.slice(0, 9)}${(Number(b[9]) + 1) % 10}\nnot a number 12\n${c}\n`;
    expect(() => parseOptOutList(bad)).toThrow(OptOutListError);
    try {
      parseOptOutList(bad);
    } catch (e) {
      expect((e as OptOutListError).badLines).toEqual([2, 3]);
      expect((e as Error).message).toMatch(/2 line\(s\).*line 2, 3/);
      expect((e as Error).message).not.toContain(b.slice(0, 9));
    }
    await expect(readOptOutList(chunked(Buffer.from(bad), [5]))).rejects.toThrow(OptOutListError);
  });

  test.each([
    [a, true],
    [spaced(a), true],
    [` ${a} `, true],
    [testNhsNumber(40), false],
    ['', false],
    ['not a number', false],
  ])('isOptedOut(%j) is %s', (nhs, out) => {
    expect(isOptedOut(parseOptOutList(text), nhs)).toBe(out);
  });
});
