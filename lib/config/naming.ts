/**
 * Names shared by the CDK app, the local runtime and the reports, so each side finds
 * the other's resources without a lookup table.
 */
import type { SdeConfig } from './model';

/** Glue/Athena database names allow only a-z, 0-9 and _. */
export function curatedDatabaseName(config: SdeConfig): string {
  return `${config.platform.name.replace(/-/g, '_')}_curated`;
}

export function stackName(config: SdeConfig, part: string): string {
  return `${config.platform.name}-${part}`;
}

/**
 * A project's researcher role. The audit queries recognise project activity by this
 * pattern (`<platform>-project-<id>`), so it must not change once deployed.
 */
export function projectRoleName(config: SdeConfig, projectId: string): string {
  return `${config.platform.name}-project-${projectId}`;
}

/** A project's Athena workgroup: same pattern as the role, for the same reason. */
export function projectWorkgroupName(config: SdeConfig, projectId: string): string {
  return `${config.platform.name}-project-${projectId}`;
}

/**
 * Every project's workgroup (and budget, which ProjectWorkspace names after it): one IAM
 * resource pattern whose size does not grow with the portfolio, where a list of a
 * thousand workgroup ARNs would overflow a managed policy (6,144 characters).
 */
export function projectWorkgroupNamePattern(config: SdeConfig): string {
  return `${config.platform.name}-project-*`;
}

/** Every project's researcher role name: the airlock's bucket policy recognises them by it. */
export function projectRoleNamePattern(config: SdeConfig): string {
  return `${config.platform.name}-project-*`;
}
