/**
 * Which WorkspacesStack holds each project: pure functions, no CDK.
 *
 * Why a fixed number of shards and a hash, rather than filling stacks in order:
 * a project's role, workgroup and budget have fixed physical names (the audit queries
 * find a project's activity by them), and its Lake Formation grants are revoked when the
 * resources that hold them are deleted. Moving a project to another stack therefore means
 * deleting everything in one stack and creating it again in another: two deployments in
 * the right order, and an access outage (or a name clash) in between. So the assignment
 * must never depend on the other projects. Filling stacks in order (by id, by approval
 * date, by file) fails that: one project added, removed or renamed early in the order
 * shifts every project after it.
 *
 * Here a project's shard depends only on its own id and on the shard count:
 * `jumpHash(sha256(id), shards)`. Adding, expiring or deleting a project moves nothing
 * else, and with the count fixed the shard stacks only ever fill up or empty.
 * The count is a deployment setting (CDK context `sde:workspaceShards`; choose it for the
 * portfolio you expect, with room to spare). Raising it is the one deliberate change that
 * moves projects, and jump consistent hashing (Lamping & Veach, 2014) keeps that move to
 * the minimum: going from N to M shards moves only about (M - N) / M of the projects, all
 * of them into the new shards; no project moves between two existing shards.
 *
 * Every shard stack is created even when it holds no active project (it then holds only
 * a marker resource), so deploying it deletes the roles and revokes the grants it held.
 * A shard stack that simply disappeared from the app would keep its last deployed grants
 * in the account: revocation would be skipped without anyone noticing.
 */
import { createHash } from 'node:crypto';

/** The CDK context key that sets the shard count (e.g. `cdk synth -c sde:workspaceShards=64`). */
export const WORKSPACE_SHARDS_CONTEXT = 'sde:workspaceShards';

/**
 * The shard count when the context does not set one. Changing it moves projects (see
 * above), so it is part of the deployed contract: set the context instead.
 */
export const DEFAULT_WORKSPACE_SHARDS = 16;

/** Upper bound on the shard count: each shard is a stack, and an account holds 2,000 by default. */
export const MAX_WORKSPACE_SHARDS = 1000;

const MASK64 = (1n << 64n) - 1n;

/** A stable 64-bit key for a project id: the first 8 bytes of its SHA-256, big-endian. */
export function projectKey(projectId: string): bigint {
  return createHash('sha256').update(projectId, 'utf8').digest().readBigUInt64BE(0);
}

/**
 * Jump consistent hash: maps a 64-bit key to one of `buckets` buckets so that growing the
 * bucket count from n to n+1 moves a key only into the new bucket, with probability 1/(n+1).
 */
export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new Error(`jumpHash needs a positive integer bucket count, got ${buckets}`);
  let k = key & MASK64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777620773n + 1n) & MASK64;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/** The shard (0-based) of one project: depends on its id and the shard count only. */
export function workspaceShardOf(projectId: string, shardCount: number): number {
  return jumpHash(projectKey(projectId), shardCount);
}

/** Projects grouped by shard: index i lists the ids in shard i, sorted. Every shard is present. */
export function assignWorkspaceShards(projectIds: readonly string[], shardCount: number): string[][] {
  const shards: string[][] = Array.from({ length: shardCount }, () => []);
  for (const id of [...projectIds].sort()) shards[workspaceShardOf(id, shardCount)].push(id);
  return shards;
}

/**
 * Reads the shard count from a context value (a number, or a string from `-c`), or the
 * default when unset; refuses anything else with what to write instead.
 */
export function parseShardCount(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_WORKSPACE_SHARDS;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKSPACE_SHARDS) {
    throw new Error(
      `context ${WORKSPACE_SHARDS_CONTEXT} is ${JSON.stringify(value)}: it must be a whole number from 1 to ${MAX_WORKSPACE_SHARDS}. ` +
        `Set it once for the deployment (cdk.json context) and change it only deliberately: a new count moves some projects to new stacks.`,
    );
  }
  return n;
}
