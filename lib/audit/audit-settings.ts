/**
 * Audit defaults that platform.yaml does not (yet) set, in one place with the reason for
 * each, so the CDK stack, the alarms and the documentation agree.
 */
import type { SdeConfig } from '../config/model';

/**
 * How long the audit trail is kept under S3 Object Lock in COMPLIANCE mode (nobody,
 * not even the account root, can delete or shorten it before then).
 *
 * Eight years, chosen from the NHS England Records Management Code of Practice for
 * Health and Social Care (2021, updated 2023): its retention schedule keeps adult health
 * records for 8 years after the last entry, and an access audit trail is the evidence of
 * who saw the records derived from them, so it should live at least as long as a
 * challenge about that use can arise (the GP Good Practice Guidelines likewise keep
 * access audit trails 8 years "for probity"). The Code asks for review, not automatic
 * destruction, at the end of a retention period: nothing expires the trail after 8
 * years; a records manager decides. Confirm the period with your Data Protection Officer
 * and records manager; it is set per deployment with `retention.auditYears`
 * (platform.yaml) once the schema has the field.
 */
export const DEFAULT_AUDIT_RETENTION_YEARS = 8;

/** The platform.yaml field this module proposes (not yet in the schema). */
export const AUDIT_RETENTION_FIELD = 'retention.auditYears';

/** The configured audit retention, or the default while the schema has no such field. */
export function auditRetentionYears(config: SdeConfig): number {
  const configured = (config.platform.retention as { auditYears?: unknown }).auditYears;
  return typeof configured === 'number' && Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_AUDIT_RETENTION_YEARS;
}

/**
 * "Repeated access denied": this many refusals within ALARM_PERIOD_MINUTES raise the
 * alarm. One refusal is routine (a researcher trying a column their approval does not
 * name is refused, as designed); a burst is someone probing the controls.
 */
export const ACCESS_DENIED_ALARM_THRESHOLD = 5;
export const ALARM_PERIOD_MINUTES = 5;

/** CloudWatch Logs keeps the trail for the alarms and recent searches; S3 keeps it for the long term. */
export const TRAIL_LOG_GROUP_RETENTION_DAYS = 365;
