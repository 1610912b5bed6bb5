/**
 * Which datasets the job rewrites, and on which curated column. A dataset is skipped, with
 * the reason said in the run's output and record, when the platform does not apply the
 * opt-out to it (`nationalDataOptOut: false`: no person-level rows, or a supplier that
 * applies it before delivery) or when its curated data keeps no pseudonym of the NHS number
 * the list is matched on (the rows could not be found again after ingestion).
 */
import { curatedNameOf, optOutAppliedBySupplier, optOutColumn } from '../config/curated';
import type { DatasetConfig } from '../config/schema';

export type OptOutTarget = { readonly dataset: DatasetConfig; readonly column: string } | { readonly dataset: DatasetConfig; readonly skipped: string };

export function optOutTarget(dataset: DatasetConfig): OptOutTarget {
  // One place decides "the platform applies the opt-out to this dataset".
  if (!dataset.nationalDataOptOut) return { dataset, skipped: 'the platform does not apply the national data opt-out to it (nationalDataOptOut: false)' };
  if (optOutAppliedBySupplier(dataset)) {
    // Its supplier removes opted-out people before each delivery (HES extracts); a later list
    // reaches these rows through the supplier's next extract, not through this job.
    return { dataset, skipped: 'its supplier applies the national data opt-out before delivery (optOut.appliedBy: supplier)' };
  }
  const column = optOutColumn(dataset);
  if (column === undefined) return { dataset, skipped: 'it has no NHS number column to match the list on' };
  const curated = column.rule === 'pseudonymise' ? curatedNameOf(column) : undefined;
  if (curated === undefined) {
    return {
      dataset,
      skipped: `its NHS number column "${column.name}" is not kept as a pseudonym (rule: ${column.rule}), so opted-out rows cannot be found after ingestion: re-ingest its deliveries with the new list`,
    };
  }
  return { dataset, column: curated };
}
