/**
 * Approvals for what changed: a project that is new, or whose period now ends later,
 * needs a decision of the committee recorded for that change, with the citizen members
 * present named, whenever platform.yaml requires citizen members. One config on its own
 * cannot tell a new or extended project from an old one; comparing with the previous
 * revision can (`sde validate --since REF`, and the governance report's concerns).
 *
 * The rule for an extension (README, "Governance report"): the approval record in the
 * project file is the latest decision covering its current period, so extending a
 * project means recording the extension's decision in `approval`: a different reference,
 * dated after the approval it replaces (and, like every approval, not in the future,
 * which the base checks enforce). Keeping the old record while moving `period.end` is
 * refused, because nothing would show who agreed to the extra time.
 */
import type { SdeConfig, Sourced } from '../config/model';
import type { ConfigProblem } from '../config/problems';
import type { PlatformConfig, ProjectConfig } from '../config/schema';

function namedMembersProblem(p: Sourced<ProjectConfig>, platform: PlatformConfig, what: string): ConfigProblem | undefined {
  const { governance } = platform;
  if (!governance.requireCitizenMembers) return undefined;
  const named = new Set(p.approval.citizenMembers ?? []).size;
  if (named >= governance.minimumCitizenMembers && named > 0) return undefined;
  return {
    file: p.file,
    field: 'approval.citizenMembers',
    message:
      p.approval.citizenMembers === undefined
        ? `is missing: this project is ${what}, and platform.yaml requires its approval to name the citizen members present`
        : `names ${named} citizen member${named === 1 ? '' : 's'}: this project is ${what}, and platform.yaml requires at least ${governance.minimumCitizenMembers}`,
    fix: `record the roster references of the citizen members at the approving meeting (at least ${Math.max(1, governance.minimumCitizenMembers)}), e.g. citizenMembers: [CM-01, CM-04], with citizenMembersPresent matching`,
  };
}

/** Problems with the approvals of projects that are new or extended in `after` compared with `before`. */
export function approvalChangeProblems(before: SdeConfig, after: SdeConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const old = new Map(before.projects.map((p) => [p.id, p]));
  for (const p of after.projects) {
    const prev = old.get(p.id);
    if (!prev) {
      if (p.status === 'expired') continue; // recorded for the register after the fact: it receives nothing
      const named = namedMembersProblem(p, after.platform, 'new');
      if (named) problems.push(named);
      continue;
    }
    if (p.period.end <= prev.period.end) continue;
    const what = `extended (period.end ${prev.period.end} -> ${p.period.end})`;
    if (p.approval.reference === prev.approval.reference || p.approval.date <= prev.approval.date) {
      problems.push({
        file: p.file,
        field: p.approval.reference === prev.approval.reference ? 'approval.reference' : 'approval.date',
        message:
          p.approval.reference === prev.approval.reference
            ? `is still ${prev.approval.reference}, but the project is ${what}: no decision to extend it is recorded`
            : `is ${p.approval.date}, not after the approval it replaces (${prev.approval.reference} on ${prev.approval.date}), but the project is ${what}`,
        fix: 'record the committee decision that approved the extension in approval: its reference, the meeting date, and the citizen members present',
      });
    }
    const named = namedMembersProblem(p, after.platform, what);
    if (named) problems.push(named);
  }
  return problems;
}
