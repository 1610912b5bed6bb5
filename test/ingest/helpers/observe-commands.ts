import type { S3Client } from '@aws-sdk/client-s3';

/**
 * The names of the commands `client` sends while `fn` runs, seen from the SDK's own
 * middleware stack (the requests still go to the server): to check which S3 calls a piece
 * of code made, e.g. that a large range was copied server-side rather than uploaded.
 */
export async function commandsDuring(client: S3Client, fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const name = `observe-commands-${Math.random()}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    await fn();
  } finally {
    client.middlewareStack.remove(name);
  }
  return seen;
}
