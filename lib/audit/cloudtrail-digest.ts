/**
 * CloudTrail log file integrity validation, as AWS documents it ("Custom implementations
 * of CloudTrail log file integrity validation", and `aws cloudtrail validate-logs`), done
 * over files already fetched: a copied folder (`sde audit verify`) or the audit bucket
 * (the register publisher). Pure: the callers read the files.
 *
 * What is checked, for every digest file:
 * - it sits where it says it was delivered (digestS3Bucket / digestS3Object): a digest
 *   moved elsewhere is refused, as AWS's validator does;
 * - its RSA signature (SHA256withRSA, PKCS #1 v1.5) over the data signing string
 *       digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(uncompressed digest)) \n previousDigestSignature
 *   ("null" for a starting digest), with the CloudTrail public key whose fingerprint the
 *   digest names (keys as `aws cloudtrail list-public-keys` exports them, each checked
 *   against its own fingerprint, used only within its validity period). The signature
 *   of a digest is in the next digest's `previousDigestSignature`; the newest digest's is
 *   only in its S3 object metadata (`x-amz-meta-signature`), which a copy must bring along;
 * - the chain: `previousDigestHashValue` is the SHA-256 of the previous digest, the
 *   previous digest is present if earlier ones are, and each digest starts where the one
 *   before it ended (no gap in time);
 * - every log file it lists is present and hashes (SHA-256 of the uncompressed content)
 *   to the listed value.
 * A log file is verified only when a digest whose signature verified lists it with a
 * matching hash. Log files no digest lists are errors, except those delivered after the
 * newest digest of their account and region (CloudTrail digests hourly): those are
 * "pending", reported, and never counted as verified.
 */
import { createHash, createPublicKey, KeyObject, verify as cryptoVerify } from 'node:crypto';
import { error, plural, VerifyFinding, warning } from './findings';

export const DIGEST_SIGNATURE_ALGORITHM = 'SHA256withRSA';
/** Log files delivered this close to (or after) the newest digest's end may be in the next digest. */
const PENDING_MARGIN_MS = 15 * 60_000;
/** Consecutive digests meet end to start; a gap longer than this is hours no digest covers. */
const MAX_DIGEST_GAP_MS = 60_000;

export interface CloudTrailPublicKey {
  /** Hex MD5 of the DER key, as CloudTrail names it in `digestPublicKeyFingerprint`. */
  readonly fingerprint: string;
  readonly key: KeyObject;
  /** Epoch milliseconds; undefined when the export did not say. */
  readonly validFrom?: number;
  readonly validTo?: number;
}

/** The DER bytes ListPublicKeys returns: PKCS #1 RSAPublicKey (sometimes SubjectPublicKeyInfo). */
function rsaKeyFromDer(der: Buffer): KeyObject {
  for (const type of ['pkcs1', 'spki'] as const) {
    try {
      const key = createPublicKey({ key: der, format: 'der', type });
      if (key.asymmetricKeyType === 'rsa') return key;
    } catch {
      // try the other encoding
    }
  }
  throw new Error('not a DER-encoded RSA public key (PKCS #1 or SubjectPublicKeyInfo)');
}

/** ValidityStartTime/EndTime: epoch seconds (number or "1436317441.0"), an ISO time, or a Date. */
function validityTime(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  throw new Error(`a validity time ${JSON.stringify(v)} is neither epoch seconds nor an ISO time`);
}

/** One key from ListPublicKeys (the SDK's shape, or the CLI's JSON with Value in base64). */
export function cloudTrailPublicKey(k: {
  Value?: unknown;
  Fingerprint?: unknown;
  ValidityStartTime?: unknown;
  ValidityEndTime?: unknown;
}): CloudTrailPublicKey {
  const der =
    k.Value instanceof Uint8Array
      ? Buffer.from(k.Value)
      : typeof k.Value === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(k.Value)
        ? Buffer.from(k.Value, 'base64')
        : undefined;
  if (der === undefined || der.length === 0) throw new Error('a key has no Value (base64 DER)');
  const fingerprint = createHash('md5').update(der).digest('hex');
  if (typeof k.Fingerprint !== 'string' || k.Fingerprint.toLowerCase() !== fingerprint) {
    throw new Error(`the key with Fingerprint ${String(k.Fingerprint)} does not match its Value (whose fingerprint is ${fingerprint}): the file was changed`);
  }
  return { fingerprint, key: rsaKeyFromDer(der), validFrom: validityTime(k.ValidityStartTime), validTo: validityTime(k.ValidityEndTime) };
}

/** Parses the JSON `aws cloudtrail list-public-keys` prints (`PublicKeyList`, or `publicKeyList` in older docs). */
export function parsePublicKeys(json: unknown, source: string): CloudTrailPublicKey[] {
  const d = json as { PublicKeyList?: unknown; publicKeyList?: unknown } | null;
  const list = d !== null && typeof d === 'object' ? (d.PublicKeyList ?? d.publicKeyList) : undefined;
  if (!Array.isArray(list)) {
    throw new Error(
      `${source}: not the output of \`aws cloudtrail list-public-keys\` (no PublicKeyList); run it for the digests' region and period and save its JSON`,
    );
  }
  return list.map((k, i) => {
    try {
      return cloudTrailPublicKey(k as Record<string, unknown>);
    } catch (e) {
      throw new Error(`${source}: PublicKeyList[${i}]: ${(e as Error).message}`, { cause: e });
    }
  });
}

/** A digest file as fetched: where it was, its uncompressed bytes, and its S3 metadata signature if known. */
export interface DigestFile {
  /** Folder-relative path or S3 key: how it is named in messages, and found by `resolve`. */
  readonly location: string;
  readonly content: Buffer;
  /** Hex, from `x-amz-meta-signature` (undefined when the copy did not keep the object metadata). */
  readonly metadataSignature?: string;
  readonly metadataAlgorithm?: string;
}

export interface LogFileState {
  readonly location: string;
  /** SHA-256 (hex) of the uncompressed content; undefined when it could not be decompressed. */
  readonly sha256?: string;
}

export interface DigestCheckInput {
  readonly digests: readonly DigestFile[];
  /** Every CloudTrail log file present (listed in a digest or not). */
  readonly logFiles: readonly LogFileState[];
  /** The location of the file delivered to `bucket`/`key`, if present. */
  readonly resolve: (bucket: string | undefined, key: string) => string | undefined;
  /** Whether the file at `location` is the object `bucket`/`key` (checks a digest was not moved). */
  readonly locatedAt: (location: string, bucket: string, key: string) => boolean;
  /** Undefined: signatures are not checked (and the result says so). */
  readonly publicKeys?: readonly CloudTrailPublicKey[];
}

export interface DigestCheckResult {
  readonly digestFiles: number;
  readonly logFilesChecked: number;
  /** Digests whose signature verified with a CloudTrail key. */
  readonly digestsAuthenticated: number;
  readonly findings: readonly VerifyFinding[];
  readonly notes: readonly string[];
  /** Log files listed, with a matching hash, by a digest whose signature verified. */
  readonly verifiedLogFiles: ReadonlySet<string>;
  /** Log files delivered after the newest digest of their account and region. */
  readonly pendingLogFiles: ReadonlySet<string>;
  /** The newest digest whose signature verified (for the register to state). */
  readonly newestAuthenticated?: { readonly location: string; readonly endTime: string };
}

interface ParsedDigest {
  readonly file: DigestFile;
  readonly sha256: string;
  readonly account: string;
  readonly region: string;
  readonly group: string;
  readonly bucket: string;
  readonly key: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly fingerprint: string;
  readonly algorithm: string;
  readonly previousBucket?: string;
  readonly previousKey?: string;
  readonly previousHash?: string;
  readonly previousHashAlgorithm?: string;
  readonly previousSignature?: string;
  readonly logFiles: readonly { bucket?: string; key: string; hashValue: string; hashAlgorithm: string }[];
}

const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const fileName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json[.gz]`: account, region, delivery time. */
const LOG_FILE_NAME = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^/]*\.json(\.gz)?$/;

export function logFileDelivery(location: string): { account: string; region: string; time: number } | undefined {
  const m = LOG_FILE_NAME.exec(fileName(location));
  if (!m) return undefined;
  const [, account, region, y, mo, d, h, mi] = m;
  return { account, region, time: Date.parse(`${y}-${mo}-${d}T${h}:${mi}:00Z`) };
}

/** The data signing string AWS documents (and its CLI builds), as bytes. */
export function digestSigningString(
  d: { digestEndTime: string; digestS3Bucket: string; digestS3Object: string; previousDigestSignature: string | null },
  digestSha256: string,
): Buffer {
  return Buffer.from(`${d.digestEndTime}\n${d.digestS3Bucket}/${d.digestS3Object}\n${digestSha256}\n${d.previousDigestSignature ?? 'null'}`, 'utf8');
}

function verifyRsa(message: Buffer, signatureHex: string, key: KeyObject): boolean {
  if (!/^[0-9a-fA-F]+$/.test(signatureHex) || signatureHex.length % 2 !== 0) return false;
  try {
    return cryptoVerify('sha256', message, key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

function parseDigest(file: DigestFile): ParsedDigest | string {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(file.content.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return 'not a JSON object';
  const str = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const required = ['digestS3Bucket', 'digestS3Object', 'digestStartTime', 'digestEndTime', 'digestPublicKeyFingerprint'];
  const missing = required.filter((k) => str(k) === undefined);
  if (missing.length > 0 || !('previousDigestSignature' in d) || !Array.isArray(d.logFiles)) {
    return `not a CloudTrail digest (missing ${[...missing, ...('previousDigestSignature' in d ? [] : ['previousDigestSignature']), ...(Array.isArray(d.logFiles) ? [] : ['logFiles'])].join(', ')})`;
  }
  const key = str('digestS3Object') as string;
  const region = /\/CloudTrail-Digest\/([^/]+)\//.exec(key)?.[1] ?? '';
  return {
    file,
    sha256: sha256hex(file.content),
    account: str('awsAccountId') ?? '',
    region,
    group: fileName(key).replace(/_\d{8}T\d{6}Z(_backfill)?\.json(\.gz)?$/, ''),
    bucket: str('digestS3Bucket') as string,
    key,
    startTime: str('digestStartTime') as string,
    endTime: str('digestEndTime') as string,
    fingerprint: (str('digestPublicKeyFingerprint') as string).toLowerCase(),
    algorithm: str('digestSignatureAlgorithm') ?? '',
    previousBucket: str('previousDigestS3Bucket'),
    previousKey: str('previousDigestS3Object'),
    previousHash: str('previousDigestHashValue'),
    previousHashAlgorithm: str('previousDigestHashAlgorithm'),
    previousSignature: str('previousDigestSignature'),
    logFiles: (d.logFiles as Record<string, unknown>[]).map((f) => ({
      bucket: typeof f?.s3Bucket === 'string' ? f.s3Bucket : undefined,
      key: String(f?.s3Object ?? ''),
      hashValue: String(f?.hashValue ?? ''),
      hashAlgorithm: String(f?.hashAlgorithm ?? ''),
    })),
  };
}

export function checkDigests(input: DigestCheckInput): DigestCheckResult {
  const findings: VerifyFinding[] = [];
  const notes: string[] = [];
  const digests: ParsedDigest[] = [];
  for (const file of input.digests) {
    const parsed = parseDigest(file);
    if (typeof parsed === 'string') findings.push(error('digest-unreadable', `${file.location}: ${parsed}`));
    else digests.push(parsed);
  }
  digests.sort((a, b) => (a.endTime < b.endTime ? -1 : a.endTime > b.endTime ? 1 : a.file.location < b.file.location ? -1 : 1));
  const byLocation = new Map(digests.map((d) => [d.file.location, d]));
  const previousOf = (d: ParsedDigest) => (d.previousKey === undefined ? undefined : input.resolve(d.previousBucket, d.previousKey));

  // Signatures: from the object metadata, and from the next digest's previousDigestSignature.
  const candidates = new Map<string, { value: string; from: string }[]>();
  for (const d of digests) {
    if (d.file.metadataSignature !== undefined) {
      candidates.set(d.file.location, [...(candidates.get(d.file.location) ?? []), { value: d.file.metadataSignature, from: 'its S3 object metadata' }]);
    }
    const prev = previousOf(d);
    if (prev !== undefined && d.previousSignature !== undefined) {
      candidates.set(prev, [...(candidates.get(prev) ?? []), { value: d.previousSignature, from: `previousDigestSignature in ${d.file.location}` }]);
    }
  }

  const authenticated = new Set<string>();
  const keys = new Map((input.publicKeys ?? []).map((k) => [k.fingerprint, k]));
  let unchecked = 0;
  for (const d of digests) {
    const where = d.file.location;
    if (!input.locatedAt(where, d.bucket, d.key)) {
      findings.push(
        error('digest-moved', `${where} says it was delivered to s3://${d.bucket}/${d.key}: a digest moved from where CloudTrail put it is not trusted`),
      );
      continue;
    }
    if (d.algorithm !== DIGEST_SIGNATURE_ALGORITHM || (d.file.metadataAlgorithm !== undefined && d.file.metadataAlgorithm !== DIGEST_SIGNATURE_ALGORITHM)) {
      findings.push(
        error('digest-signature-invalid', `${where}: signature algorithm ${d.algorithm || '(none)'} is not CloudTrail's ${DIGEST_SIGNATURE_ALGORITHM}`),
      );
      continue;
    }
    if (input.publicKeys === undefined) {
      unchecked++;
      continue;
    }
    const key = keys.get(d.fingerprint);
    const end = Date.parse(d.endTime);
    if (!key) {
      findings.push(
        error(
          'digest-key-unknown',
          `${where} is signed with CloudTrail key ${d.fingerprint}, which is not among the public keys given: export the keys of its region and period`,
        ),
      );
      continue;
    }
    if ((key.validFrom !== undefined && end < key.validFrom) || (key.validTo !== undefined && end > key.validTo)) {
      findings.push(error('digest-key-unknown', `${where} ends at ${d.endTime}, outside the validity period of key ${d.fingerprint} that it names`));
      continue;
    }
    const sigs = candidates.get(where) ?? [];
    if (sigs.length === 0) {
      findings.push(
        error(
          'digest-unsigned',
          `${where}: its signature is not available. It is the newest digest of its chain (or a backfill), whose signature CloudTrail keeps only in the S3 object metadata: save it beside the file as ${fileName(where)}.metadata.json (aws s3api head-object --bucket ${d.bucket} --key ${d.key}), so that its ${plural(d.logFiles.length, 'log file')} can be verified`,
        ),
      );
      continue;
    }
    const message = digestSigningString(
      { digestEndTime: d.endTime, digestS3Bucket: d.bucket, digestS3Object: d.key, previousDigestSignature: d.previousSignature ?? null },
      d.sha256,
    );
    const bad = sigs.filter((s) => !verifyRsa(message, s.value, key.key));
    for (const s of bad) {
      findings.push(
        error(
          'digest-signature-invalid',
          `${where}: the signature from ${s.from} does not verify with CloudTrail key ${d.fingerprint}: the digest (or that signature) was changed`,
        ),
      );
    }
    if (bad.length === 0) authenticated.add(where);
  }
  if (unchecked > 0) {
    findings.push(
      error(
        'signature-not-checked',
        `${plural(unchecked, 'digest signature')} NOT checked: no CloudTrail public keys were given. Without them a log file edited together with its digest's hash passes; export the keys with \`aws cloudtrail list-public-keys --start-time <oldest digest> --end-time <newest digest>\` in the trail's region and give the file with --public-keys`,
      ),
    );
  }

  // The chain: links, hashes, continuity in time.
  for (const d of digests) {
    if (d.previousKey === undefined) {
      const earlier = digests.filter((x) => x.group === d.group && x.endTime < d.endTime);
      if (earlier.length > 0) {
        findings.push(
          warning(
            'digest-chain-restarted',
            `${d.file.location} starts a new digest chain after ${earlier[earlier.length - 1].file.location}: log file validation or logging was stopped in between, and log files delivered then are in no digest`,
          ),
        );
      }
      continue;
    }
    const prevLoc = previousOf(d);
    const prev = prevLoc === undefined ? undefined : byLocation.get(prevLoc);
    if (!prev) {
      const earlier = digests.some((x) => x.group === d.group && x.endTime < d.endTime);
      if (earlier) {
        findings.push(
          error('digest-missing', `digest ${d.previousKey}, which ${d.file.location} follows, is not here although earlier digests are: it was deleted`),
        );
      } else {
        notes.push(
          `${d.file.location} is the oldest digest of its chain here; its predecessor (${d.previousKey}) is outside the folder, so the chain is checked from this digest on`,
        );
      }
      continue;
    }
    if (d.previousHashAlgorithm !== undefined && d.previousHashAlgorithm !== 'SHA-256') {
      findings.push(error('digest-altered', `${d.file.location}: previous digest hash algorithm ${d.previousHashAlgorithm} is not CloudTrail's SHA-256`));
    } else if (prev.sha256 !== d.previousHash) {
      findings.push(
        error('digest-altered', `digest ${prev.file.location} does not match the hash recorded in the next digest ${d.file.location}: it was changed`),
      );
    }
    const gap = Date.parse(d.startTime) - Date.parse(prev.endTime);
    if (!(gap <= MAX_DIGEST_GAP_MS)) {
      findings.push(
        error(
          'digest-gap',
          `no digest covers ${prev.endTime} to ${d.startTime} (between ${prev.file.location} and ${d.file.location}): log files delivered then are unaccounted for`,
        ),
      );
    }
  }

  // Log files: present, and hashing to the value an authenticated digest lists.
  const logByLocation = new Map(input.logFiles.map((l) => [l.location, l]));
  const listed = new Set<string>();
  const verified = new Set<string>();
  const bad = new Set<string>();
  let logFilesChecked = 0;
  for (const d of digests) {
    for (const lf of d.logFiles) {
      const loc = input.resolve(lf.bucket, lf.key);
      const present = loc === undefined ? undefined : logByLocation.get(loc);
      if (loc === undefined || !present) {
        findings.push(error('log-file-missing', `${lf.key} is listed in digest ${d.file.location} but is not here: it was deleted (or not copied)`));
        continue;
      }
      listed.add(loc);
      logFilesChecked++;
      if (lf.hashAlgorithm !== 'SHA-256') {
        findings.push(error('log-file-altered', `${loc}: digest ${d.file.location} lists hash algorithm ${lf.hashAlgorithm}, not CloudTrail's SHA-256`));
        bad.add(loc);
        continue;
      }
      if (present.sha256 === undefined) {
        findings.push(error('log-file-altered', `${loc}: cannot be decompressed, so it is not the file digest ${d.file.location} lists`));
        bad.add(loc);
        continue;
      }
      if (present.sha256 !== lf.hashValue.toLowerCase()) {
        findings.push(error('log-file-altered', `${loc}: its SHA-256 differs from the one in digest ${d.file.location}: it was changed after delivery`));
        bad.add(loc);
        continue;
      }
      if (authenticated.has(d.file.location)) verified.add(loc);
    }
  }
  for (const loc of bad) verified.delete(loc);

  // Log files in no digest: pending if delivered after the newest digest of their account and region.
  const newestEnd = new Map<string, number>();
  for (const d of digests) {
    const k = `${d.account}/${d.region}`;
    newestEnd.set(k, Math.max(newestEnd.get(k) ?? 0, Date.parse(d.endTime)));
  }
  const pending = new Set<string>();
  for (const lf of input.logFiles) {
    if (listed.has(lf.location)) continue;
    const delivery = logFileDelivery(lf.location);
    const end = delivery === undefined ? undefined : newestEnd.get(`${delivery.account}/${delivery.region}`);
    if (delivery !== undefined && end !== undefined && delivery.time >= end - PENDING_MARGIN_MS) {
      pending.add(lf.location);
      continue;
    }
    findings.push(
      error(
        'not-in-digest',
        delivery === undefined
          ? `${lf.location} is listed in no digest and is not named as CloudTrail names log files: it was not delivered by CloudTrail`
          : end === undefined
            ? `${lf.location} is listed in no digest, and there is no digest here for account ${delivery.account} in ${delivery.region}: it cannot be verified`
            : `${lf.location} is listed in no digest although digests here cover later deliveries: it was added by someone else (or its digest is missing)`,
      ),
    );
  }
  if (pending.size > 0) {
    findings.push(
      warning(
        'pending-digest',
        `${plural(pending.size, 'log file')} delivered after the newest digest of ${pending.size === 1 ? 'its' : 'their'} account and region: not yet covered by a digest, so ${pending.size === 1 ? 'its' : 'their'} records are NOT verified (CloudTrail digests hourly; check again later)`,
      ),
    );
  }

  const newest = digests.filter((d) => authenticated.has(d.file.location)).at(-1);
  return {
    digestFiles: digests.length,
    logFilesChecked,
    digestsAuthenticated: authenticated.size,
    findings,
    notes,
    verifiedLogFiles: verified,
    pendingLogFiles: pending,
    newestAuthenticated: newest === undefined ? undefined : { location: newest.file.location, endTime: newest.endTime },
  };
}
