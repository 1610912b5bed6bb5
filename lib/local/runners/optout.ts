/**
 * A later opt-out list applied on this machine: the same plan -> batch rewrites -> finish
 * functions the opt-out state machine runs (lib/optout/apply.ts), against the local S3
 * API, with the workdir's pseudonymisation key, every write in the local audit trail (the
 * run's public trace among them: its key carries the counts the register publishes).
 *
 * Used by `sde optout apply` and by `sde demo`.
 */
import * as fs from 'node:fs';
import { LocalAuditWriter, localAuditEnv } from '../../audit/local-audit-writer';
import type { SdeConfig } from '../../config/model';
import { S3ObjectStore } from '../../ingest/s3-object-store';
import { applyOptOut, type ApplyOutcome, type BatchOutcome } from '../../optout/apply';
import { s3ReplaceIfMatch, type RewriteStore } from '../../optout/conditional-put';
import { listPseudonyms, readList } from '../../optout/list';
import { LocalS3, startLocalS3 } from '../s3-api/server';
import { bucketNames, ensurePseudonymKey, workdirLayout } from '../workdir';
import { AuditedObjectStore } from './audited-object-store';
import { installOptOutList } from './ingest';

/** The store the job writes through locally: the SDK adapter on the local S3 API, every write audited as the opt-out role. */
export function localOptOutStore(s3: LocalS3, config: SdeConfig, root: string): RewriteStore {
  const env = localAuditEnv(config);
  const audited = new AuditedObjectStore(new S3ObjectStore(s3.client), {
    writer: LocalAuditWriter.open(root, env),
    env,
    principal: { roleName: `${config.platform.name}-optout`, sessionName: 'local-optout' },
  });
  const replace = s3ReplaceIfMatch(s3.client);
  return {
    objects: audited,
    replaceIfMatch: async (ref, body, etag, options) => {
      const out = await replace(ref, body, etag, options);
      if (out !== undefined) audited.record('PutObject', ref, Buffer.isBuffer(body) ? body.length : (options.contentLength ?? 0));
      return out;
    },
  };
}

/** The day a list file was issued, when not given: its modification date (UTC). */
export function fileDate(file: string): string {
  return fs.statSync(file).mtime.toISOString().slice(0, 10);
}

export interface LocalOptOutOptions {
  readonly config: SdeConfig;
  readonly workdir: string;
  /** The new list: one NHS number per line. */
  readonly file: string;
  /** `YYYY-MM-DD`. @default the file's modification date */
  readonly date?: string;
  /** Apply a list above the configured share. @default false */
  readonly override?: boolean;
  /** A running local S3 API (the demo's); otherwise one is started on the workdir and stopped. */
  readonly s3?: LocalS3;
  readonly onBatch?: (outcome: BatchOutcome, index: number, of: number) => void;
}

/** `sde optout apply`: applies the list to every committed batch, then installs it as the list later ingestion uses. */
export async function runLocalOptOut(options: LocalOptOutOptions): Promise<ApplyOutcome> {
  const { config } = options;
  const layout = workdirLayout(options.workdir);
  const key = ensurePseudonymKey(layout);
  const list = await readList(fs.createReadStream(options.file), options.date ?? fileDate(options.file));
  const curated = bucketNames(config).curated;
  const s3 = options.s3 ?? (await startLocalS3({ directory: layout.s3, buckets: [curated], region: config.platform.aws.region }));
  try {
    const outcome = await applyOptOut({
      store: localOptOutStore(s3, config, layout.root),
      curatedBucket: curated,
      datasets: config.datasets,
      list,
      pseudonyms: listPseudonyms(list, key),
      maxRemovedShare: config.platform.nationalDataOptOut.maxRemovedShare,
      override: options.override,
      onBatch: options.onBatch,
    });
    // Ingestion from now on matches the same list (a refused list never gets here).
    installOptOutList(layout, options.file);
    return outcome;
  } finally {
    if (options.s3 === undefined) await s3.stop();
  }
}

/** What the run did, for people: counts and dataset names only. */
export function describeOutcome(outcome: ApplyOutcome): string[] {
  const r = outcome.record;
  const head =
    outcome.status === 'already-applied'
      ? `Opt-out list ${r.listSha256.slice(0, 16)}... (dated ${r.listDate}) was applied already, at ${r.finishedAt}: nothing to do.`
      : `Applied opt-out list ${r.listSha256.slice(0, 16)}... (dated ${r.listDate}, ${r.listEntries} entries)${outcome.resumed ? ', resuming a cut run' : ''}: ` +
        `${r.people} people's records removed, ${r.rowsRemoved} rows from ${r.batchesRewritten} ${r.batchesRewritten === 1 ? 'batch' : 'batches'}.`;
  const lines = [head];
  for (const d of r.datasets) {
    lines.push(
      d.skipped === undefined
        ? `  ${d.dataset.padEnd(24)} ${d.rowsRemoved} of ${d.rows} rows removed (${d.batches} ${d.batches === 1 ? 'batch' : 'batches'} checked)`
        : `  ${d.dataset.padEnd(24)} skipped: ${d.skipped}`,
    );
  }
  return lines;
}
