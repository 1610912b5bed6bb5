/**
 * The layout of one local platform's state folder (`--workdir`, default `.sde/`). Each
 * local platform keeps everything here, so several can run side by side.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SdeConfig } from '../config/model';

export interface WorkdirLayout {
  readonly root: string;
  /** The local S3 API's object store. */
  readonly s3: string;
  /** Secrets: the pseudonymisation key (0600). */
  readonly keys: string;
  /** Generated synthetic supplier files, before upload. */
  readonly generated: string;
  /** Reports and pages the demo writes. */
  readonly out: string;
  /** Local copies of curated objects, read by the query engine. */
  readonly cache: string;
}

/** The default workdir: `.sde/` in the repository (git-ignored). */
export const DEFAULT_WORKDIR = '.sde';

/**
 * Creates and returns the folders of a workdir, each readable by its owner only (0700):
 * they hold record-level files (synthetic, but shaped like the real thing) and the key.
 * A workdir root that already exists keeps its mode (it may be a folder the user chose
 * for other things too); the folders inside are ours and are tightened if they exist.
 */
export function workdirLayout(root: string = DEFAULT_WORKDIR): WorkdirLayout {
  const abs = path.resolve(root);
  const layout: WorkdirLayout = {
    root: abs,
    s3: path.join(abs, 's3'),
    keys: path.join(abs, 'keys'),
    generated: path.join(abs, 'generated'),
    out: path.join(abs, 'out'),
    cache: path.join(abs, 'cache'),
  };
  if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) throw new Error(`workdir ${abs} exists and is not a folder: choose another --workdir`);
  fs.mkdirSync(abs, { recursive: true, mode: 0o700 });
  for (const dir of [layout.s3, layout.keys, layout.generated, layout.out, layout.cache]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  }
  return layout;
}

export type Zone = 'landing' | 'quarantine' | 'curated' | 'results' | 'accessLogs';

/**
 * Local bucket names: the platform name and the zone, as the CDK stack's zones. Real S3
 * names are global, so the deployed ones may carry more (account, region); locally the
 * workdir is the namespace, so two local platforms with one config do not collide.
 */
export function bucketNames(config: SdeConfig): Record<Zone, string> {
  const name = config.platform.name;
  return {
    landing: `${name}-landing`,
    quarantine: `${name}-quarantine`,
    curated: `${name}-curated`,
    results: `${name}-results`,
    accessLogs: `${name}-access-logs`,
  };
}

/**
 * The local stand-in for the Secrets Manager pseudonymisation key: 32 random bytes in a
 * file only the owner can read. Created once; never printed or logged.
 */
export function ensurePseudonymKey(layout: WorkdirLayout): Buffer {
  const file = path.join(layout.keys, 'pseudonym.key');
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode !== 0o600) throw new Error(`${file} must be readable by its owner only (mode 600, found ${mode.toString(8)}): run chmod 600 on it`);
  return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
}
