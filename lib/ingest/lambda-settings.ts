/**
 * What the ingestion Lambdas read from their environment and asset, and where the AWS-only
 * inputs live. Shared by the handlers and the CDK stack, so the two cannot drift.
 */

/**
 * The national data opt-out list on AWS: one NHS number per line, in the landing bucket
 * (the zone for identifiable data, under `_reference/`, which no dataset prefix matches).
 * The landing zone's short expiry applies to it too: refresh it at least that often, or
 * datasets that apply the opt-out fail closed (into the dead-letter queue) rather than
 * ingest people who opted out.
 */
export const OPT_OUT_LIST_KEY = '_reference/national-data-opt-out.txt';

/**
 * Reference files (a postcode_lsoa column's `lookup:`) sit beside the opt-out list:
 * `_reference/<file name>` in the landing bucket. They expire with the landing zone too:
 * upload them again whenever the list is refreshed.
 */
export const referenceKey = (fileName: string) => `_reference/${fileName}`;

/** Environment variable names set by the stack (names, ARNs and keys only: never a secret). */
export const ENV = {
  landingBucket: 'SDE_LANDING_BUCKET',
  curatedBucket: 'SDE_CURATED_BUCKET',
  quarantineBucket: 'SDE_QUARANTINE_BUCKET',
  pseudonymKeySecretArn: 'SDE_PSEUDONYM_KEY_SECRET_ARN',
  optOutKey: 'SDE_OPT_OUT_KEY',
  chunkBytes: 'SDE_INGEST_CHUNK_BYTES',
} as const;
