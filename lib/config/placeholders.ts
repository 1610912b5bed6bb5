/**
 * Values a config copied from the example (or made by `sde init`) still holds, which a
 * real deployment must replace: AWS's documentation account ids (111122223333 and the
 * like: AWS publishes them for examples, and no real principal lives there), and
 * `sde init`'s own placeholders. Pure.
 *
 * Found by what the ids are, not by a list of where they appear: every string of every
 * file is searched, so an account id in a field added later is found too.
 */
import type { SdeConfig } from './model';
import type { ConfigProblem } from './problems';

/** `sde init` writes this into every value the deployer must choose; the schema refuses it. */
export const INIT_PLACEHOLDER = 'CHANGE-ME';

/**
 * Whether a 12-digit account id is one AWS uses in its documentation: the same digit
 * twelve times (111111111111), three runs of four (111122223333, 444455556666,
 * 777788889999), or the digits in sequence (123456789012, 012345678901, 210987654321).
 */
export function isDocumentationAccount(id: string): boolean {
  if (!/^\d{12}$/.test(id)) return false;
  if (/^(\d)\1{11}$/.test(id)) return true;
  if (/^(\d)\1{3}(\d)\2{3}(\d)\3{3}$/.test(id)) return true;
  const up = '012345678901234567890';
  const down = '987654321098765432109';
  return up.includes(id) || down.includes(id);
}

/** Every string in a parsed YAML value, with its field path. */
function strings(value: unknown, field: string, out: { field: string; text: string }[]): void {
  if (typeof value === 'string') out.push({ field, text: value });
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, `${field}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'file') strings(v, field === '' ? k : `${field}.${k}`, out);
  }
}

/**
 * A warning (not a problem: the example validates, and synthesizes offline) for each field
 * that names an AWS documentation account, so nobody deploys a config whose admins,
 * reviewers or researchers cannot exist.
 */
export function documentationAccountWarnings(config: SdeConfig): ConfigProblem[] {
  const files: { file: string; value: unknown }[] = [{ file: config.platform.file, value: config.platform }, ...config.projects.map((p) => ({ file: p.file, value: p }))];
  const warnings: ConfigProblem[] = [];
  for (const { file, value } of files) {
    const found: { field: string; text: string }[] = [];
    strings(value, '', found);
    for (const { field, text } of found) {
      const accounts = [...new Set([...text.matchAll(/(?<!\d)\d{12}(?!\d)/g)].map((m) => m[0]).filter(isDocumentationAccount))];
      if (accounts.length === 0) continue;
      warnings.push({
        file,
        field,
        message: `names AWS documentation account ${accounts.join(', ')}, which is an example: no real principal or resource is in it`,
        fix: 'replace it with your own AWS account id (and the real role or user names in it) before deploying',
      });
    }
  }
  return warnings;
}
