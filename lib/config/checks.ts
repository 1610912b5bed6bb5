/**
 * Rules that span fields and files: what a schema alone cannot say. Pure functions over
 * parsed files; each problem names the file and field and says how to fix it.
 */
import { checkBenefit } from './benefit';
import {
  curatedColumns,
  curatedNameOf,
  DIRECT_IDENTIFIER_RULES,
  foldHeaderName,
  grantableColumnNames,
  isMonthPrecision,
  optOutAppliedBySupplier,
  optOutColumn,
  PARTITION_COLUMN,
  RULE_INPUT_TYPES,
  sourceNameOf,
} from './curated';
import { projectState, type Sourced } from './model';
import type { ConfigProblem } from './problems';
import { parseRowFilter, RowFilterSyntaxError, rowFilterColumns } from './row-filter';
import { arnAccount } from './primitives';
import type { ColumnConfig, DatasetConfig, PlatformConfig, ProjectConfig } from './schema';

function duplicates<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const seen = new Map<string, T[]>();
  for (const item of items) seen.set(key(item), [...(seen.get(key(item)) ?? []), item]);
  return new Map([...seen].filter(([, list]) => list.length > 1));
}

export function checkDataset(dataset: Sourced<DatasetConfig>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file } = dataset;
  const byName = new Map(dataset.columns.map((c) => [c.name, c]));

  for (const [name, cols] of duplicates(dataset.columns, (c) => c.name)) {
    problems.push({
      file,
      field: `columns[${dataset.columns.indexOf(cols[1])}]`,
      message: `column "${name}" is defined ${cols.length} times`,
      fix: 'give each source column one entry; rename or remove the duplicate',
    });
  }

  dataset.columns.forEach((column, i) => {
    const field = `columns[${i}] (${column.name})`;
    if (column.classification === 'direct_identifier' && !DIRECT_IDENTIFIER_RULES.includes(column.rule)) {
      problems.push({
        file,
        field: `${field}.rule`,
        message: `is "${column.rule}", which would keep a direct identifier in clear in the curated zone`,
        fix: 'use rule: pseudonymise (to link records of one person) or rule: drop',
      });
    }
    if (!RULE_INPUT_TYPES[column.rule].includes(column.type)) {
      problems.push({
        file,
        field: `${field}.rule`,
        message: `"${column.rule}" cannot be applied to a ${column.type} column`,
        fix: `use it on a column of type ${RULE_INPUT_TYPES[column.rule].join(' or ')}, or choose another rule`,
      });
    }
    if (column.format === 'free_text' && column.rule === 'keep') {
      problems.push({
        file,
        field: `${field}.rule`,
        message: 'keeps free text unchanged, and free text can hold names, NHS numbers, addresses and dates of birth',
        fix: 'use rule: drop, or rule: scrub_free_text if researchers need the text',
      });
    }
    if (column.rule !== 'age_band' && (column.ageAt !== undefined || column.bandYears !== undefined)) {
      problems.push({
        file,
        field: `${field}.${column.ageAt !== undefined ? 'ageAt' : 'bandYears'}`,
        message: 'only applies to rule: age_band',
        fix: 'remove it, or change the rule to age_band',
      });
    }
    if (column.ageAt !== undefined) {
      const at = byName.get(column.ageAt);
      if (at !== undefined && at.type === 'date' && isMonthPrecision(at)) {
        problems.push({
          file,
          field: `${field}.ageAt`,
          message: `names "${column.ageAt}", which holds a month (dateFormat ${at.dateFormat}), not a day: an age at it could be a year out`,
          fix: 'name a date column written to the day, or remove ageAt to band age at the load date',
        });
      } else if (!at || at.type !== 'date') {
        problems.push({
          file,
          field: `${field}.ageAt`,
          message: `names "${column.ageAt}", which is not a date column of this dataset`,
          fix: `name one of the date columns: ${dataset.columns.filter((c) => c.type === 'date' && c !== column).map((c) => c.name).join(', ') || '(none: remove ageAt to band age at the load date)'}`,
        });
      }
    }
  });

  dataset.columns.forEach((column, i) => problems.push(...checkColumnDomain(file, `columns[${i}] (${column.name})`, column)));
  dataset.columns.forEach((column, i) => problems.push(...checkSourceValues(file, `columns[${i}] (${column.name})`, column)));
  problems.push(...checkHeader(dataset));
  problems.push(...checkPersonKeyAndOptOut(dataset));

  const curated = curatedColumns(dataset);
  if (curated.length === 0) {
    problems.push({ file, field: 'columns', message: 'every column is dropped, so the curated table would be empty', fix: 'keep at least one column (with a safe rule)' });
  }
  for (const [name, cols] of duplicates(curated, (c) => c.name)) {
    problems.push({
      file,
      field: `columns (${cols.map((c) => c.source).join(', ')})`,
      message: `all produce the curated column "${name}"`,
      fix: 'give one of them a different curated name with as: NAME',
    });
  }
  const partitionClash = curated.find((c) => c.name === PARTITION_COLUMN);
  if (partitionClash) {
    problems.push({
      file,
      field: `columns (${partitionClash.source})`,
      message: `produces the curated column "${PARTITION_COLUMN}", which is reserved for the partition`,
      fix: 'give it another curated name with as: NAME',
    });
  }
  return problems;
}

/**
 * How values are written in the supplier's file: date formats, placeholders for "not known",
 * and the scope of a record key's pseudonyms. Each refusal here is a config that would
 * otherwise fail every row at ingest, or let a placeholder past the column's domain.
 */
function checkSourceValues(file: string, field: string, column: ColumnConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (column.dateFormat !== undefined && column.type !== 'date') {
    problems.push({ file, field: `${field}.dateFormat`, message: `applies to date columns only, and this one is ${column.type}`, fix: 'remove dateFormat, or make the column type: date' });
  }
  if (column.type === 'date' && isMonthPrecision(column) && column.rule !== 'drop' && column.rule !== 'date_to_year' && column.rule !== 'date_to_month' && column.rule !== 'age_band') {
    problems.push({
      file,
      field: `${field}.rule`,
      message: `is ${column.rule}, but the column holds a month (dateFormat ${column.dateFormat}), not a day, so no date can be stored for it`,
      fix: 'use rule: date_to_month, date_to_year or age_band (or drop)',
    });
  }
  const nulls = new Set(column.nulls ?? []);
  for (const p of column.placeholders ?? []) {
    if (nulls.has(p)) problems.push({ file, field: `${field}.placeholders`, message: `lists "${p}", which nulls lists too`, fix: 'list it once: in nulls (stored as null) or in placeholders (kept as written)' });
  }
  if (column.placeholders !== undefined) {
    const format = column.format;
    if (column.type !== 'string' || format === undefined || format === 'free_text' || format === 'nhs_number' || format === 'postcode') {
      problems.push({
        file,
        field: `${field}.placeholders`,
        message:
          column.type !== 'string' || format === undefined
            ? 'applies only to a string column with a format (codes kept outside the format)'
            : `cannot be used with format ${format}: ${format === 'free_text' ? 'free text accepts any value already' : 'an identifier column takes only identifiers'}`,
        fix: 'remove placeholders, or use nulls to store those values as null',
      });
    } else if (column.rule !== 'keep') {
      problems.push({ file, field: `${field}.placeholders`, message: `applies only to a column kept in clear (rule: keep), and this one is ${column.rule}`, fix: 'remove placeholders, or use nulls' });
    }
  }
  if (column.scope !== undefined && (column.rule !== 'pseudonymise' || column.format !== 'record_id')) {
    problems.push({
      file,
      field: `${field}.scope`,
      message: 'applies only to a record key that is pseudonymised (format: record_id, rule: pseudonymise)',
      fix: 'remove scope',
    });
  }
  return problems;
}

/** The header: unambiguous source names, and a stated column count when there is no header to check. */
function checkHeader(dataset: Sourced<DatasetConfig>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file, source } = dataset;
  const fold = source.headerMatch === 'case_insensitive' ? foldHeaderName : (n: string) => n;
  for (const [name, cols] of duplicates(dataset.columns, (c) => fold(sourceNameOf(c)))) {
    problems.push({
      file,
      field: `columns (${cols.map((c) => c.name).join(', ')})`,
      message: `all read the header column "${name}"${source.headerMatch === 'case_insensitive' ? ' (names are matched ignoring case)' : ''}`,
      fix: 'give each column its own source: NAME',
    });
  }
  if (!source.header) {
    if (source.columnCount === undefined) {
      problems.push({
        file,
        field: 'source.columnCount',
        message: 'is missing: with header: false, columns are read by position and nothing in the file can show they are in the listed order',
        fix: `check the columns are listed in the supplier's order, then set columnCount: ${dataset.columns.length} (a file whose records have another count is quarantined)`,
      });
    } else if (source.columnCount !== dataset.columns.length) {
      problems.push({
        file,
        field: 'source.columnCount',
        message: `is ${source.columnCount}, but ${dataset.columns.length} columns are listed`,
        fix: "list every column of the supplier's file, in its order, and set columnCount to their number",
      });
    }
  } else if (source.columnCount !== undefined) {
    problems.push({ file, field: 'source.columnCount', message: 'applies only with header: false (a header is checked by name)', fix: 'remove it' });
  }
  return problems;
}

/** Date columns whose full value would single a person out. */
function isBirthOrQuasiDate(column: ColumnConfig): boolean {
  return (column.type === 'date' || column.type === 'timestamp') && (column.classification === 'quasi_identifier' || /birth|(^|_)dob(_|$)/.test(column.name));
}

/** Formats that name identifiers: such a column can only be pseudonymised, generalised or dropped. */
const IDENTIFIER_FORMATS = new Set(['nhs_number', 'postcode']);

/**
 * Allow-lists for what is kept: a string kept in clear states its value domain; a number
 * kept in clear states its range; a date that identifies is never kept whole. And every
 * rule meets the kind of value it works on.
 */
function checkColumnDomain(file: string, field: string, column: ColumnConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { format, rule } = column;
  if (format !== undefined && column.type !== 'string') {
    problems.push({ file, field: `${field}.format`, message: `applies to string columns only, and this one is ${column.type}`, fix: 'remove format, or make the column type: string' });
  }
  if (column.type === 'string' && rule === 'keep') {
    if (format === undefined) {
      problems.push({
        file,
        field: `${field}.format`,
        message: 'is missing: a string kept in clear must state its value domain, or any identifier keyed into it would reach curated',
        fix: 'add format: a code system (icd10, opcs4, snomed, bnf, ods_code, lsoa, msoa), a code list ({ codes: [...] } or { vocabulary: vocabularies/NAME.yaml }), a list ({ list: icd10, separator: "|" }) or record_id; or use rule: scrub_free_text (with format: free_text) or rule: drop',
      });
    } else if (typeof format === 'string' && IDENTIFIER_FORMATS.has(format)) {
      problems.push({
        file,
        field: `${field}.rule`,
        message: `keeps a ${format} in clear`,
        fix: format === 'postcode' ? 'use rule: postcode_outward or postcode_lsoa, or rule: drop' : 'use rule: pseudonymise or rule: drop',
      });
    }
  }
  if (rule === 'pseudonymise' && format !== undefined && format !== 'nhs_number' && format !== 'record_id') {
    problems.push({
      file,
      field: `${field}.format`,
      message: `is ${typeof format === 'string' ? format : 'a code list'}, which pseudonymise cannot key on`,
      fix: 'pseudonymise an NHS number (format: nhs_number) or a record key (format: record_id)',
    });
  }
  if ((rule === 'postcode_outward' || rule === 'postcode_lsoa') && format !== undefined && format !== 'postcode') {
    problems.push({ file, field: `${field}.format`, message: `must be postcode for rule ${rule}`, fix: 'set format: postcode (or remove format: it is implied)' });
  }
  if (format === 'free_text' && rule !== 'drop' && rule !== 'scrub_free_text' && rule !== 'keep') {
    problems.push({ file, field: `${field}.rule`, message: `"${rule}" cannot take free text`, fix: 'use rule: drop or rule: scrub_free_text' });
  }
  if (rule === 'scrub_free_text' && format !== 'free_text') {
    problems.push({ file, field: `${field}.format`, message: 'must be free_text for rule scrub_free_text', fix: 'set format: free_text' });
  }
  if (rule === 'postcode_lsoa' && column.lookup === undefined) {
    problems.push({
      file,
      field: `${field}.lookup`,
      message: 'is missing: postcode_lsoa needs a postcode-to-LSOA lookup to find each postcode\'s area',
      fix: 'set lookup: FILE.csv (columns postcode,lsoa): on AWS upload it as _reference/FILE.csv in the landing bucket; locally put it in reference/FILE.csv under the config directory. Or use rule: postcode_outward',
    });
  }
  if (column.lookup !== undefined && rule !== 'postcode_lsoa') {
    problems.push({ file, field: `${field}.lookup`, message: 'only applies to rule: postcode_lsoa', fix: 'remove it, or change the rule to postcode_lsoa' });
  }
  const numeric = column.type === 'integer' || column.type === 'decimal';
  if (!numeric && (column.min !== undefined || column.max !== undefined)) {
    problems.push({ file, field: `${field}.${column.min !== undefined ? 'min' : 'max'}`, message: 'only applies to integer and decimal columns', fix: 'remove it' });
  }
  if (numeric && rule === 'keep' && (column.min === undefined || column.max === undefined)) {
    problems.push({
      file,
      field: `${field}.${column.min === undefined ? 'min' : 'max'}`,
      message: 'is missing: a number kept in clear must state its range, or an identifier keyed into it (an NHS number is a ten-digit number) would reach curated',
      fix: 'set min: and max: to the smallest and largest plausible values (a value outside is rejected as out_of_range)',
    });
  }
  if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
    problems.push({ file, field: `${field}.min`, message: `(${column.min}) is above max (${column.max})`, fix: 'correct the range' });
  }
  if (rule === 'keep' && isBirthOrQuasiDate(column)) {
    problems.push({
      file,
      field: `${field}.rule`,
      message: `keeps a full ${column.type} that is a ${column.classification === 'quasi_identifier' ? 'quasi-identifier' : 'date of birth'}: with a few others it singles a person out`,
      fix: `generalise it: rule: date_to_month or date_to_year${column.type === 'date' ? ', or age_band for a date of birth' : ''}`,
    });
  }
  return problems;
}

/** The person key and the opt-out: what the pseudonyms are keyed on and what the opt-out list is matched on. */
function checkPersonKeyAndOptOut(dataset: Sourced<DatasetConfig>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file } = dataset;
  const byName = new Map(dataset.columns.map((c) => [c.name, c]));
  if (dataset.personKey !== undefined) {
    const key = byName.get(dataset.personKey);
    if (!key) {
      problems.push({
        file,
        field: 'personKey',
        message: `names "${dataset.personKey}", which is not a column of this dataset`,
        fix: `name the column that identifies the person: one of ${dataset.columns.map((c) => c.name).join(', ')}`,
      });
    } else if (key.format !== 'nhs_number' && key.format !== 'record_id') {
      problems.push({
        file,
        field: 'personKey',
        message: `names "${key.name}", which is not marked format: nhs_number or format: record_id`,
        fix: `add format: nhs_number (an NHS number) or format: record_id (another identifier, such as a council's client id) to column "${key.name}"`,
      });
    } else if (key.rule !== 'pseudonymise' && key.rule !== 'drop') {
      problems.push({ file, field: 'personKey', message: `names "${key.name}", whose rule is ${key.rule}`, fix: `pseudonymise it (rule: pseudonymise) so the person's rows link, or drop it` });
    }
  }
  if (dataset.optOut?.nhsNumber !== undefined) {
    const column = byName.get(dataset.optOut.nhsNumber);
    if (column === undefined || column.format !== 'nhs_number') {
      problems.push({
        file,
        field: 'optOut.nhsNumber',
        message: `names "${dataset.optOut.nhsNumber}", which is not a column with format: nhs_number`,
        fix: `name the column holding the NHS number: ${dataset.columns.filter((c) => c.format === 'nhs_number').map((c) => c.name).join(', ') || '(none: add one, or set nationalDataOptOut: false if the opt-out cannot apply)'}`,
      });
      return problems;
    }
  }
  if (!dataset.nationalDataOptOut) {
    if (dataset.optOut !== undefined) problems.push({ file, field: 'optOut', message: 'applies only with nationalDataOptOut: true', fix: 'remove it' });
    if (dataset.personKey !== undefined) {
      problems.push({
        file,
        field: 'nationalDataOptOut',
        message: `is false, but the dataset holds person-level rows (personKey ${dataset.personKey}): people who opted out would reach research and planning`,
        fix: 'set nationalDataOptOut: true; if the supplier removed opted-out people before delivery, say so with optOut: { appliedBy: supplier, statement: "..." }',
      });
    }
    return problems;
  }
  if (optOutAppliedBySupplier(dataset)) {
    if (dataset.optOut?.statement === undefined) {
      problems.push({
        file,
        field: 'optOut.statement',
        message: 'is missing: the register must show where the supplier says it applied the national data opt-out',
        fix: 'cite the supplier\'s statement (the data sharing agreement and clause, or the release note), e.g. statement: "NHS England DARS agreement DARS-NIC-123456, clause 5.3"',
      });
    }
    for (const key of ['nhsNumber', 'withoutNhsNumber'] as const) {
      if (dataset.optOut?.[key] !== undefined)
        problems.push({ file, field: `optOut.${key}`, message: 'applies only when the platform applies the opt-out (appliedBy: platform)', fix: 'remove it' });
    }
    return problems;
  }
  if (dataset.optOut?.statement !== undefined) {
    problems.push({ file, field: 'optOut.statement', message: 'applies only with appliedBy: supplier', fix: 'remove it, or set appliedBy: supplier if the supplier applied the opt-out' });
  }
  const nhs = optOutColumn(dataset);
  if (nhs === undefined) {
    problems.push({
      file,
      field: dataset.personKey === undefined ? 'personKey' : 'optOut.nhsNumber',
      message:
        dataset.personKey === undefined
          ? 'is missing, so the national data opt-out cannot be applied to this dataset'
          : `is missing: the person key "${dataset.personKey}" is not an NHS number, so name the column the opt-out list is matched on`,
      fix:
        dataset.personKey === undefined
          ? 'set personKey to the column holding the NHS number, or set nationalDataOptOut: false if the dataset holds no person-level rows'
          : 'set optOut.nhsNumber to the column holding the NHS number (with optOut.withoutNhsNumber: keep or reject), or set nationalDataOptOut: false if the dataset has no NHS numbers and the opt-out cannot apply',
    });
  } else if (!nhs.required && dataset.optOut?.withoutNhsNumber === undefined) {
    problems.push({
      file,
      field: 'optOut.withoutNhsNumber',
      message: `is missing: column "${nhs.name}" may be empty, and a row without an NHS number cannot be checked against the opt-out list`,
      fix: 'decide: withoutNhsNumber: reject (such rows go to quarantine) or withoutNhsNumber: keep (they are ingested, counted in the manifest as rowsWithoutNhsNumber); or mark the column required: true',
    });
  }
  return problems;
}

/** Explains why a column a project asks for is not in the curated table. */
function whyNotGrantable(dataset: DatasetConfig, column: string): { message: string; fix: string } {
  const source = dataset.columns.find((c) => c.name === column);
  const grantable = grantableColumnNames(dataset);
  if (source) {
    const curatedName = curatedNameOf(source);
    const what = source.classification === 'direct_identifier' ? 'is a direct identifier and ' : '';
    if (curatedName === undefined) {
      return {
        message: `column "${column}" ${what}is dropped at de-identification (rule: drop), so no project can read it`,
        fix: `remove "${column}" from the grant`,
      };
    }
    return {
      message: `column "${column}" ${what}is not in the curated table: rule ${source.rule} turns it into "${curatedName}"`,
      fix: `grant "${curatedName}" instead, if the approval covers it`,
    };
  }
  return {
    message: `column "${column}" does not exist in the curated table of "${dataset.name}"`,
    fix: `use one of: ${grantable.join(', ')}`,
  };
}

/** How the checks treat a project still marked active after its period ended (LoadOptions.lapsedProjects). */
export interface CheckOptions {
  readonly lapsedProjects: 'refuse' | 'revoke';
  /** Check approvals' disclosure risk against the ceiling (off only for `sde risk`, which measures it). @default true */
  readonly riskGate?: boolean;
  /**
   * Require every project's benefit statement and a commercial user's sharing terms (off only
   * for a past revision read for comparison, written before the rule existed). @default true
   */
  readonly benefitGate?: boolean;
}

export function checkProject(
  project: Sourced<ProjectConfig>,
  platform: PlatformConfig,
  datasets: ReadonlyMap<string, DatasetConfig>,
  today: string,
  options: CheckOptions = { lapsedProjects: 'refuse' },
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file } = project;
  const active = project.status === 'active';

  if (!(project.organisation.tier in platform.pricing.tiers)) {
    problems.push({
      file,
      field: 'organisation.tier',
      message: `is "${project.organisation.tier}", which is not a pricing tier in platform.yaml`,
      fix: `use one of: ${Object.keys(platform.pricing.tiers).join(', ')}`,
    });
  }
  if (project.period.start > project.period.end) {
    problems.push({ file, field: 'period', message: `starts (${project.period.start}) after it ends (${project.period.end})`, fix: 'correct the dates' });
  }
  if (project.approval.date > today) {
    problems.push({
      file,
      field: 'approval.date',
      message: `is ${project.approval.date}, in the future: a project cannot be approved before the committee meets`,
      fix: 'add the project after the approval is recorded, with the meeting date',
    });
  }
  if (active && project.period.end < today && options.lapsedProjects === 'refuse') {
    problems.push({
      file,
      field: 'period.end',
      message: `the approved period ended on ${project.period.end}, but status is active, so it would still be granted access`,
      fix: 'set status: expired (it stays on the register and receives no grants), or record an extension approval and a new end date',
    });
  }
  if (active && platform.governance.requireCitizenMembers && project.approval.citizenMembersPresent < platform.governance.minimumCitizenMembers) {
    problems.push({
      file,
      field: 'approval.citizenMembersPresent',
      message: `is ${project.approval.citizenMembersPresent}, but platform.yaml requires at least ${platform.governance.minimumCitizenMembers} citizen members at the approving meeting`,
      fix: 'record the approval of a meeting that met the citizen quorum (or, if the rule is changed, change governance in platform.yaml through its own review)',
    });
  }
  problems.push(...checkCitizenMembers(project, platform));
  problems.push(...checkResearchers(project, platform));
  problems.push(...checkBenefit(project, platform, today, { requireStatement: options.benefitGate ?? true }));
  if (options.riskGate ?? true) problems.push(...checkDisclosureRisk(project, platform, today));
  if (active && Object.keys(project.datasets).length === 0) {
    problems.push({ file, field: 'datasets', message: 'an active project is granted no dataset', fix: 'add the datasets and columns the approval names, or set status: expired' });
  }

  for (const [name, grant] of Object.entries(project.datasets)) {
    const dataset = datasets.get(name);
    if (!dataset) {
      problems.push({
        file,
        field: `datasets.${name}`,
        message: `names dataset "${name}", which is not defined in datasets/`,
        fix: `use one of: ${[...datasets.keys()].join(', ')}`,
      });
      continue;
    }
    const grantable = new Set(grantableColumnNames(dataset));
    if (grant.rowFilter !== undefined) problems.push(...checkRowFilter(file, `datasets.${name}.rowFilter`, grant.rowFilter, dataset));
    problems.push(...checkRowFilterDescription(file, `datasets.${name}`, grant));
    grant.columns.forEach((column, i) => {
      if (grant.columns.indexOf(column) !== i) {
        problems.push({ file, field: `datasets.${name}.columns[${i}]`, message: `column "${column}" is listed twice`, fix: 'remove the duplicate' });
      } else if (!grantable.has(column)) {
        problems.push({ file, field: `datasets.${name}.columns[${i}]`, ...whyNotGrantable(dataset, column) });
      }
    });
  }
  return problems;
}

/**
 * The citizen members an approval names must agree with the number it records (a roster
 * reference listed twice is one person), and, when platform.yaml asks for named members,
 * every active approval must name them. New and extended projects are held to naming
 * whenever citizen members are required, by lib/governance/approval-changes.ts
 * (`sde validate --since REF`), which can see what changed.
 */
export function checkCitizenMembers(project: Sourced<ProjectConfig>, platform: PlatformConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file, approval } = project;
  const { governance } = platform;
  if (approval.citizenMembers !== undefined) {
    approval.citizenMembers.forEach((ref, i) => {
      if (approval.citizenMembers!.indexOf(ref) !== i) {
        problems.push({ file, field: `approval.citizenMembers[${i}]`, message: `"${ref}" is listed twice`, fix: 'list each citizen member present once' });
      }
    });
    const named = new Set(approval.citizenMembers).size;
    if (named !== approval.citizenMembersPresent) {
      problems.push({
        file,
        field: 'approval.citizenMembersPresent',
        message: `is ${approval.citizenMembersPresent}, but approval.citizenMembers names ${named}`,
        fix: 'make the number match the citizen members named in the minutes of the approving meeting',
      });
    }
  } else if (project.status === 'active' && governance.requireCitizenMembers && governance.requireNamedCitizenMembers) {
    problems.push({
      file,
      field: 'approval.citizenMembers',
      message: 'is missing, but platform.yaml (governance.requireNamedCitizenMembers) requires the approval to name the citizen members present',
      fix: `list the roster references of the citizen members at the approving meeting (at least ${governance.minimumCitizenMembers}), e.g. citizenMembers: [CM-01, CM-04]`,
    });
  }
  return problems;
}

/**
 * An approval's re-identification risk against platform.yaml's ceiling, validated like
 * the citizen quorum: an active approval records the risk `sde risk` measured, and one
 * above the ceiling records the committee's acceptance of at least that risk.
 */
export function checkDisclosureRisk(project: Sourced<ProjectConfig>, platform: PlatformConfig, today: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file, approval } = project;
  const gate = platform.disclosureRisk;
  const risk = approval.disclosureRisk;
  const acceptance = approval.riskAcceptance;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  if (risk) {
    if (risk.shareBelow10 < risk.shareBelow5)
      problems.push({
        file,
        field: 'approval.disclosureRisk.shareBelow10',
        message: `is ${risk.shareBelow10}, less than shareBelow5 (${risk.shareBelow5}): everyone in a class under 5 is in a class under 10`,
        fix: 'copy both figures from the same sde risk report',
      });
    if (risk.measuredOn > today)
      problems.push({ file, field: 'approval.disclosureRisk.measuredOn', message: `is ${risk.measuredOn}, in the future`, fix: 'record the date sde risk ran' });
  }
  if (acceptance) {
    if (acceptance.date > today)
      problems.push({ file, field: 'approval.riskAcceptance.date', message: `is ${acceptance.date}, in the future`, fix: 'record the acceptance after the committee meets' });
    if (risk && acceptance.date < risk.measuredOn)
      problems.push({
        file,
        field: 'approval.riskAcceptance.date',
        message: `is ${acceptance.date}, before the risk was measured (${risk.measuredOn}): the committee accepted a figure it had not seen`,
        fix: 'record the acceptance of the meeting that considered the measured figure',
      });
  }
  // Held to the gate: an approval that has, or will have, access (not one expired, lapsed or suspended).
  const state = projectState(project, today);
  if (!gate || (state !== 'active' && state !== 'not_started') || Object.keys(project.datasets).length === 0) return problems;
  if (!risk) {
    if (gate.requireAssessment)
      problems.push({
        file,
        field: 'approval.disclosureRisk',
        message: 'is missing, but platform.yaml (disclosureRisk) requires every active approval to record its measured re-identification risk',
        fix: `run sde risk --project ${project.id} and record its figures (measuredOn, source, people, shareBelow5, shareBelow10, measure)`,
      });
    return problems;
  }
  if (risk.shareBelow5 > gate.ceiling) {
    if (!acceptance)
      problems.push({
        file,
        field: 'approval.riskAcceptance',
        message: `is missing, but ${pct(risk.shareBelow5)} of people are in classes under 5 (${risk.measure}), over platform.yaml's ceiling of ${pct(gate.ceiling)}`,
        fix: "record the committee's acceptance (reference, date, acceptedShareBelow5, reason), or narrow the grant (coarser quasi-identifiers, no pseudonym) and measure again with sde risk",
      });
    else if (acceptance.acceptedShareBelow5 < risk.shareBelow5)
      problems.push({
        file,
        field: 'approval.riskAcceptance.acceptedShareBelow5',
        message: `is ${pct(acceptance.acceptedShareBelow5)}, but the measured risk is ${pct(risk.shareBelow5)}: the acceptance does not cover it`,
        fix: 'take the measured figure back to the committee, or narrow the grant and measure again',
      });
  }
  return problems;
}

/**
 * The accounts the platform runs in: `aws.account`, or, for environment-agnostic
 * templates, the accounts of its Lake Formation administrators.
 */
export function platformAccounts(platform: PlatformConfig): ReadonlySet<string> {
  return new Set(platform.aws.account !== undefined ? [platform.aws.account] : platform.admins.map(arnAccount));
}

/**
 * Each researcher is one person (a roster reference listed once), and a principal in
 * another account must present the external id agreed with that account: otherwise
 * anyone that account lets assume roles could act as the project (the confused deputy).
 */
function checkResearchers(project: Sourced<ProjectConfig>, platform: PlatformConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file } = project;
  const home = platformAccounts(platform);
  const seen = new Set<string>();
  project.researchers.forEach((r, i) => {
    // AWS compares source identities exactly; two spellings of one reference would be two people.
    const key = r.id.toLowerCase();
    if (seen.has(key)) problems.push({ file, field: `researchers[${i}].id`, message: `"${r.id}" is listed twice`, fix: 'list each person once' });
    seen.add(key);
    const account = arnAccount(r.principal);
    if (!home.has(account) && r.externalId === undefined) {
      problems.push({
        file,
        field: `researchers[${i}].externalId`,
        message: `is missing, but the principal is in account ${account}, outside the platform's (${[...home].join(', ')})`,
        fix: 'agree an external id with that organisation (a random string, not a secret) and add externalId: <it>; their sign-in must pass it when assuming the project role',
      });
    }
  });
  return problems;
}

/**
 * A row filter is read by lay committee members and the public through its description,
 * never its expression: so one is required with the other, and it must be words, not the
 * expression again (comparison signs and quoted values are what a reader cannot follow).
 */
function checkRowFilterDescription(file: string, field: string, grant: { readonly rowFilter?: string; readonly rowFilterDescription?: string }): ConfigProblem[] {
  const { rowFilter, rowFilterDescription: description } = grant;
  if (rowFilter !== undefined && description === undefined) {
    return [
      {
        file,
        field: `${field}.rowFilterDescription`,
        message: 'is missing: a row filter needs a plain-English description, which the access matrix and the public register show instead of the expression',
        fix: 'add rowFilterDescription: "..." under the dataset, saying which rows the project may read in plain words, e.g. "emergency admissions only"',
      },
    ];
  }
  if (rowFilter === undefined && description !== undefined) {
    return [
      {
        file,
        field: `${field}.rowFilterDescription`,
        message: 'describes a row filter, but the dataset has no rowFilter: the project reads every row',
        fix: 'add the rowFilter it describes, or remove rowFilterDescription',
      },
    ];
  }
  if (description !== undefined && /[=<>'"`%]|!=|\bLIKE\b|\bIN\s*\(/i.test(description)) {
    return [
      {
        file,
        field: `${field}.rowFilterDescription`,
        message: 'reads as an expression (comparison signs, quotes, LIKE or IN (...)), which lay readers cannot follow',
        fix: 'say which rows in words, e.g. "emergency admissions only" or "pregnancies booked before 20 weeks"',
      },
    ];
  }
  return [];
}

function checkRowFilter(file: string, field: string, text: string, dataset: DatasetConfig): ConfigProblem[] {
  let expr;
  try {
    expr = parseRowFilter(text);
  } catch (e) {
    if (!(e instanceof RowFilterSyntaxError)) throw e;
    return [
      {
        file,
        field,
        message: `does not parse: ${e.message}`,
        fix: "write comparisons of curated columns with values, joined by AND / OR, e.g. admission_method IN ('21','22') AND sex = '2'",
      },
    ];
  }
  const grantable = grantableColumnNames(dataset);
  return rowFilterColumns(expr)
    .filter((c) => !grantable.includes(c))
    .map((c) => ({
      file,
      field,
      message: `names column "${c}", which is not in the curated table of "${dataset.name}"`,
      fix: `filter on curated columns only: ${grantable.join(', ')}`,
    }));
}

/** Every check across the whole configuration. */
export function checkConfig(
  platform: PlatformConfig,
  datasets: readonly Sourced<DatasetConfig>[],
  projects: readonly Sourced<ProjectConfig>[],
  today: string,
  options: CheckOptions = { lapsedProjects: 'refuse' },
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, list] of duplicates(datasets, (d) => d.name)) {
    problems.push({
      file: list[1].file,
      field: 'name',
      message: `dataset name "${name}" is also used by ${list.filter((d) => d !== list[1]).map((d) => d.file).join(', ')}`,
      fix: 'give each dataset a unique name',
    });
  }
  for (const [id, list] of duplicates(projects, (p) => p.id)) {
    problems.push({
      file: list[1].file,
      field: 'id',
      message: `project id "${id}" is also used by ${list.filter((p) => p !== list[1]).map((p) => p.file).join(', ')}`,
      fix: 'give each project a unique id',
    });
  }
  for (const dataset of datasets) problems.push(...checkDataset(dataset));
  const byName = new Map(datasets.map((d) => [d.name, d]));
  for (const project of projects) problems.push(...checkProject(project, platform, byName, today, options));
  return problems;
}
