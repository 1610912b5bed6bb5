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
import { SUPPRESSED_MARK } from './table-shape';
import type { OutputRequest } from './workflow';

export const MANIFEST_TYPE = 'sde-airlock-release';

export interface ManifestFile {
  readonly name: string;
  /** Where the released file is, relative to the manifest. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly submitted: FileDigest;
  readonly outcome: 'unchanged' | 'changed';
  readonly checks: readonly CheckSummary[];
  readonly settings: CheckSettings;
}

export interface ReleaseManifest {
  readonly type: typeof MANIFEST_TYPE;
  readonly manifestVersion: 1;
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
  readonly reviewers: readonly { readonly order: number; readonly principal: string; readonly approvedAt: string }[];
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
      outcome: checked.outcome === 'changed' ? 'changed' : 'unchanged',
      checks: checked.checks,
      settings: checked.settings,
    };
  });
  return {
    type: MANIFEST_TYPE,
    manifestVersion: 1,
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
        'file must be a rectangular UTF-8 CSV table within the size limit',
        'row-level output refused: pseudonyms, NHS numbers, full postcodes, dates of birth, identifier columns, one row per person',
        'counts from 1 to the suppression threshold suppressed (zero kept); counts that rounding would carry into that range suppressed',
        'secondary suppression until no row or column (including totals) has exactly one suppressed cell',
        'magnitude and statistic cells in a row with a suppressed count suppressed',
        'magnitude cells with too few contributors or failing the dominance (n, k) rule suppressed, then secondary suppression',
        'remaining counts rounded to the nearest rounding base',
        'two different reviewers from the configured list, neither the requester, approved the checked files by SHA-256',
      ],
    },
    reviewers: request.approvals.map((a, i) => ({ order: i + 1, principal: a.reviewer, approvedAt: a.time })),
    releasedAt: request.release.time,
    releasedBy: request.release.by,
  };
}
