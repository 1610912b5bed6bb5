/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and returns the results in
 * the items' order. The first failure rejects the whole (calls already started finish on
 * their own; none is started after it).
 *
 * Why: a batch's commit makes a few S3 requests per chunk (read its result and its part's
 * footer, copy the part into the joined object, clear staging), and a 90 GB file has
 * hundreds of chunks: one after another, they took the commit tens of seconds.
 */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error('mapConcurrently: the limit must be a whole number, 1 or more');
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
