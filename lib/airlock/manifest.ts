/**
 * The release record: one JSON manifest per release, SATRE's machine-readable record of
 * the disclosure controls applied. It names the request, the project and its approval,
 * the requester, each released file with its SHA-256 and size (and those of the file as
 * submitted), the checks with their thresholds and outcomes, the two reviewers with the
 * times they approved, and the release time.
 *
 * It holds no cell values: the cell-by-cell report (with original small counts) stays in
 * the airlock.
 */
import type { CheckSettings, CheckSummary, FileDigest } from './report';
import { DEFAULT_AIRLOCK_SETTINGS } from '../config/airlock-settings';
import { RULE_IDS, ruleLine } from './rules';
import { SUPPRESSED_MARK } from './table-shape';
import type { OutputRequest, QueryProvenance } from './workflow';

export const MANIFEST_TYPE = 'sde-airlock-release';

export interface ManifestFile {
  readonly name: string;
  /** Where the released file is, relative to the manifest. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly submitted: FileDigest;
  readonly outcome: 'unchanged' | 'changed' | 'review';
  /** The requester's description: what the file is and how it was made. */
  readonly description: string;
  /** For an output of `sde query`: the query's hash and id, the curated objects it read, the engine (sde output reproduce). */
  readonly provenance?: QueryProvenance;
  /** Columns a reviewer classified otherwise than the platform, with the reason. */
  readonly classifications: readonly {
    readonly column: string;
    readonly role: string;
    readonly statistic?: string;
    readonly reviewer: string;
    readonly reason: string;
  }[];
  /** What the checks left to the reviewers (no values), and each disclosive finding's override. */
  readonly findings: readonly {
    readonly id: string;
    readonly rule: string;
    readonly severity: 'review' | 'disclosive';
    readonly cells: number;
    readonly override?: { readonly reviewer: string; readonly reason: string; readonly time: string };
  }[];
  readonly checks: readonly CheckSummary[];
  readonly settings: CheckSettings;
}

export interface ReleaseManifest {
  readonly type: typeof MANIFEST_TYPE;
  readonly manifestVersion: 2;
  readonly platform: string;
  readonly request: { readonly id: string; readonly statement: string; readonly requester: string; readonly submittedAt: string };
  readonly project: {
    readonly id: string;
    readonly title: string;
    readonly organisation: string;
    readonly approvalReference: string;
    readonly approvalCommittee: string;
  };
  readonly files: readonly ManifestFile[];
  readonly disclosureControl: {
    readonly suppressedMark: string;
    readonly rules: readonly string[];
  };
  readonly reviewers: readonly { readonly order: number; readonly principal: string; readonly approvedAt: string; readonly note?: string }[];
  /** The returned request this one answers (the thread's earlier round), if any. */
  readonly resubmits?: string;
  readonly releasedAt: string;
  readonly releasedBy: string;
}

export interface ManifestProject {
  readonly id: string;
  readonly title: string;
  readonly organisation: { readonly name: string };
  readonly approval: { readonly reference: string; readonly committee: string };
}

/** Released files sit next to the manifest, under this folder. */
export const RELEASED_FILES_DIR = 'files';

export function buildManifest(request: OutputRequest, project: ManifestProject, platformName: string): ReleaseManifest {
  if (request.state !== 'released' || request.release === undefined)
    throw new Error(`request ${request.id} is ${request.state}: only a released request has a manifest`);
  const files = request.files.map((f): ManifestFile => {
    const checked = f.checked;
    if (!checked?.output) throw new Error(`request ${request.id}: file ${f.name} has no checked output (the workflow should have refused the release)`);
    return {
      name: f.name,
      path: `${RELEASED_FILES_DIR}/${f.name}`,
      bytes: checked.output.bytes,
      sha256: checked.output.sha256,
      submitted: f.submitted,
      outcome: checked.outcome === 'changed' ? 'changed' : checked.outcome === 'review' ? 'review' : 'unchanged',
      description: f.description ?? '',
      ...(f.provenance ? { provenance: f.provenance } : {}),
      classifications: (f.classifications ?? []).map((c) => ({
        column: c.column,
        role: c.role,
        ...(c.statistic ? { statistic: c.statistic } : {}),
        reviewer: c.reviewer,
        reason: c.reason,
      })),
      findings: (checked.findings ?? []).map((x) => {
        const o = (request.overrides ?? []).find((v) => v.file === f.name && v.finding === x.id);
        return {
          id: x.id,
          rule: x.rule,
          severity: x.severity,
          cells: x.cells,
          ...(o ? { override: { reviewer: o.reviewer, reason: o.reason, time: o.time } } : {}),
        };
      }),
      checks: checked.checks,
      settings: checked.settings,
    };
  });
  return {
    type: MANIFEST_TYPE,
    manifestVersion: 2,
    platform: platformName,
    request: { id: request.id, statement: request.statement, requester: request.requester, submittedAt: request.submittedAt },
    project: {
      id: project.id,
      title: project.title,
      organisation: project.organisation.name,
      approvalReference: project.approval.reference,
      approvalCommittee: project.approval.committee,
    },
    files,
    disclosureControl: {
      suppressedMark: SUPPRESSED_MARK,
      rules: [
        ...RULE_IDS.map((id) => ruleLine(id, files[0]?.settings ?? request.files[0]?.checked?.settings ?? DEFAULT_AIRLOCK_SETTINGS)),
        'two different reviewers from the configured list, neither the requester nor a researcher of the project, approved the checked files by SHA-256, each with a note when the checks left findings',
      ],
    },
    ...(request.resubmits === undefined ? {} : { resubmits: request.resubmits }),
    reviewers: request.approvals.map((a, i) => ({ order: i + 1, principal: a.reviewer, approvedAt: a.time, ...(a.note ? { note: a.note } : {}) })),
    releasedAt: request.release.time,
    releasedBy: request.release.by,
  };
}
