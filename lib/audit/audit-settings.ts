/**
 * Audit settings that platform.yaml does not set, in one place with the reason for each,
 * so the CDK stack, the alarms and the documentation agree. (The trail's retention is
 * `retention.auditYears` in platform.yaml: DEFAULT_AUDIT_RETENTION_YEARS in lib/config/schema.ts.)
 */

/**
 * "Repeated access denied": this many refusals within ALARM_PERIOD_MINUTES raise the
 * alarm. One refusal is routine (a researcher trying a column their approval does not
 * name is refused, as designed); a burst is someone probing the controls.
 */
export const ACCESS_DENIED_ALARM_THRESHOLD = 5;
export const ALARM_PERIOD_MINUTES = 5;

/** CloudWatch Logs keeps the trail for the alarms and recent searches; S3 keeps it for the long term. */
export const TRAIL_LOG_GROUP_RETENTION_DAYS = 365;
