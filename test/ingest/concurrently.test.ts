import { mapConcurrently } from '../../lib/ingest/concurrently';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapConcurrently', () => {
  test("returns results in the items' order, however the calls finish", async () => {
    const out = await mapConcurrently([30, 5, 20, 0, 10], 3, async (ms, i) => {
      await tick(ms);
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:30', '1:5', '2:20', '3:0', '4:10']);
  });

  test('never has more than the limit in flight, and does use it', async () => {
    let inFlight = 0;
    let most = 0;
    await mapConcurrently(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      async (i) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await tick(i % 3);
        inFlight--;
      },
    );
    expect(most).toBe(4);
  });

  test('the first failure rejects, and no call starts after it', async () => {
    const started: number[] = [];
    await expect(
      mapConcurrently([0, 1, 2, 3, 4, 5], 2, async (i) => {
        started.push(i);
        await tick(5);
        if (i === 1) throw new Error('copy failed');
        return i;
      }),
    ).rejects.toThrow('copy failed');
    await tick(30);
    expect(started).toEqual([0, 1, 2]);
  });

  test('an empty list needs no call; a limit below one is refused', async () => {
    await expect(mapConcurrently([], 4, async () => 1)).resolves.toEqual([]);
    await expect(mapConcurrently([1], 0, async () => 1)).rejects.toThrow('whole number, 1 or more');
  });
});
