/**
 * Plain words for lay readers (committee members, the public): what a curated column holds
 * after de-identification, and a glossary of the words the access matrix and the register
 * use. Pure.
 *
 * A dataset describes its source columns ("NHS number of the patient", "Date of birth"):
 * shown beside a curated column, that reads as if the project received them. So a curated
 * column's meaning is derived from the rule that made it, and names the source only as
 * what it was worked out from, or what it stands in place of.
 */
import { CuratedColumn, PARTITION_COLUMN } from '../config/curated';
import type { ProjectState } from '../config/model';
import type { ColumnConfig, DatasetConfig } from '../config/schema';
import { escapeHtml } from './html';

/** What the load date column holds, wherever it is granted. */
export const PARTITION_MEANING = 'The date the data were loaded into the platform (not a date about the person)';

/** "Date of birth" -> "date of birth", but "NHS number" and "ODS code" keep their capitals. */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? `${text[0].toLowerCase()}${text.slice(1)}` : text;
}

function sourceOf(dataset: DatasetConfig, column: CuratedColumn): ColumnConfig {
  const source = dataset.columns.find((c) => c.name === column.source);
  if (source === undefined) throw new Error(`dataset ${dataset.name}: curated column ${column.name} names source ${column.source}, which it does not have`);
  return source;
}

/**
 * What a curated column holds, in words that say what de-identification did to it: "Age in
 * 5-year bands (such as 40-44) on the date of admission, worked out from the date of
 * birth, which is not given", "A code in place of the NHS number ...".
 */
export function columnMeaning(dataset: DatasetConfig, column: CuratedColumn): string {
  const source = sourceOf(dataset, column);
  const what = lowerFirst(source.description);
  switch (column.rule) {
    case 'pseudonymise': {
      const replaced = source.format === 'nhs_number' ? 'the NHS number' : `the identifier (${what})`;
      return `A code in place of ${replaced}: it links one person's records without saying who they are; ${replaced} itself is not given`;
    }
    case 'age_band': {
      const at = source.ageAt === undefined ? undefined : dataset.columns.find((c) => c.name === source.ageAt);
      const when = at === undefined ? 'on the date the data were loaded' : `on the ${lowerFirst(at.description)}`;
      const band = source.bandYears ?? 5;
      const example = `${8 * band}-${9 * band - 1}`;
      return `Age in ${band}-year bands (such as ${example}) ${when}, worked out from the ${what}, which is not given`;
    }
    case 'date_to_month':
      return `Month and year only (such as March 2026) of the ${what}; the day${source.type === 'timestamp' ? ' and time are' : ' is'} not given`;
    case 'date_to_year':
      return `Year only of the ${what}; the day and month are not given`;
    case 'postcode_outward':
      return `Postcode district only (the first half of a postcode, such as N19) of the ${what}; the full postcode is not given`;
    case 'postcode_lsoa':
      return `Neighbourhood only (an LSOA, an area of about 1,500 residents) of the ${what}; the postcode is not given`;
    case 'scrub_free_text':
      return `${source.description}, with names, numbers, dates, places and anything else that could identify someone removed`;
    case 'keep':
      return source.description;
  }
}

/** The meaning of any grantable column name of a dataset: a curated column, or the load date. */
export function grantedColumnMeaning(dataset: DatasetConfig, curated: readonly CuratedColumn[], name: string): string {
  if (name === PARTITION_COLUMN) return PARTITION_MEANING;
  const column = curated.find((c) => c.name === name);
  if (column === undefined) throw new Error(`dataset ${dataset.name} has no curated column ${name}`);
  return columnMeaning(dataset, column);
}

export interface GlossaryEntry {
  readonly term: string;
  readonly meaning: string;
}

/**
 * Codes and abbreviations the dataset configs use, explained. An entry appears on a page
 * when a column shown there has that format, or its words appear in the text shown.
 */
const JARGON: readonly (GlossaryEntry & { readonly formats: readonly string[]; readonly words: RegExp })[] = [
  {
    term: 'ODS code',
    meaning:
      'A code for an NHS or care organisation, such as a GP practice or a hospital trust (from the Organisation Data Service). It names the organisation, not a person.',
    formats: ['ods_code'],
    words: /\bODS\b/,
  },
  {
    term: 'LSOA (lower layer super output area)',
    meaning: 'A small area used for official statistics, home to about 1,500 people: a neighbourhood, not an address.',
    formats: ['lsoa'],
    words: /\bLSOA\b|super output area/i,
  },
  {
    term: 'MSOA (middle layer super output area)',
    meaning: 'An area used for official statistics, home to about 7,000 to 10,000 people.',
    formats: ['msoa'],
    words: /\bMSOA\b/,
  },
  {
    term: 'ICD-10',
    meaning: "The World Health Organization's codes for diagnoses (for example J45 for asthma).",
    formats: ['icd10'],
    words: /\bICD-?10\b/i,
  },
  {
    term: 'OPCS-4',
    meaning: 'The NHS codes for operations and procedures done in hospital (for example W37 for a hip replacement).',
    formats: ['opcs4'],
    words: /\bOPCS-?4?\b/i,
  },
  {
    term: 'SNOMED CT',
    meaning: 'The coded clinical terms GP systems record, such as a diagnosis, a symptom or a measurement.',
    formats: ['snomed'],
    words: /\bSNOMED\b/i,
  },
  {
    term: 'BNF code',
    meaning: 'A code for a medicine from the British National Formulary; its first digits say which group of medicines it belongs to.',
    formats: ['bnf'],
    words: /\bBNF\b/,
  },
  {
    term: 'NHS data dictionary code',
    meaning: "A code from the NHS's standard list of values for a field, such as the categories of ethnic group.",
    formats: [],
    words: /data dictionary/i,
  },
];

function formatNames(column: ColumnConfig): string[] {
  const f = column.format;
  if (f === undefined) return [];
  if (typeof f === 'string') return [f];
  if ('list' in f) return typeof f.list === 'string' ? [f.list] : [];
  return [];
}

/**
 * The jargon entries a page needs: those whose format one of the shown source columns has,
 * or whose words appear in the shown text, in the glossary's order.
 */
export function jargonGlossary(shown: readonly ColumnConfig[], text: string): GlossaryEntry[] {
  const formats = new Set(shown.flatMap(formatNames));
  return JARGON.filter((j) => j.formats.some((f) => formats.has(f)) || j.words.test(text)).map(({ term, meaning }) => ({ term, meaning }));
}

/** The source columns behind the granted curated column names of a dataset. */
export function sourceColumns(dataset: DatasetConfig, curated: readonly CuratedColumn[], names: readonly string[]): ColumnConfig[] {
  return names.flatMap((n) => {
    const c = curated.find((x) => x.name === n);
    return c === undefined ? [] : [sourceOf(dataset, c)];
  });
}

/** What each status of a project means, keyed as STATE_LABELS. */
export const STATE_MEANINGS: Record<ProjectState, string> = {
  active: "The project's approved period has started and not ended: its researchers can use the data now.",
  expired: "The approved period has ended, or the committee ended it: the project's access has been removed. Its past use is still shown.",
  not_started: 'The project is approved but its period has not begun: it has no access yet.',
  suspended: 'The committee has stopped the project: it has no access until the committee decides otherwise.',
};

/** Words both pages use besides the kinds of data and the statuses. */
const PAGE_TERMS: readonly GlossaryEntry[] = [
  {
    term: 'Some rows only',
    meaning:
      'The project may read only the rows its approval names, for example emergency admissions only. The platform enforces it, and the page says which rows in words.',
  },
  {
    term: 'De-identified',
    meaning:
      'Names, addresses, NHS numbers, full dates of birth and full postcodes are removed or replaced by a code before any project can see the data; dates and places are made less precise.',
  },
  {
    term: 'Citizen members',
    meaning: 'Members of the public who sit on the data access committee; an approval counts only if enough of them were present.',
  },
];

/** Words only the register uses (its use figures). */
export const REGISTER_TERMS: readonly GlossaryEntry[] = [
  {
    term: 'Queries run',
    meaning: 'Questions a project asked of the data and the platform answered, inside the platform. Answers stay inside until they pass the output checks.',
  },
  {
    term: 'Queries refused',
    meaning: 'Questions the platform would not answer because they asked for data the approval does not include. Each refusal is recorded; no data was given.',
  },
  {
    term: 'Outputs released',
    meaning:
      'Results (tables or figures, never records about people) that passed the automatic disclosure checks and two reviewers before they left the platform.',
  },
  {
    term: 'Fewer than N',
    meaning: 'A count small enough to help single someone out is not shown exactly, only as "fewer than" a number.',
  },
];

/**
 * The glossary of a page: each kind of data (as its badge reads: CLASS_LABELS), each status
 * (STATE_LABELS, passed in: they live beside the access matrix, which imports this), the shared
 * terms, then any extra terms and the jargon the page's columns need.
 */
export function pageGlossary(
  labels: {
    readonly kinds: Readonly<Record<string, { readonly short: string; readonly explain: string }>>;
    readonly states: Readonly<Record<ProjectState, string>>;
  },
  extra: readonly GlossaryEntry[],
  jargon: readonly GlossaryEntry[],
): GlossaryEntry[] {
  return [
    ...Object.values(labels.kinds).map((l) => ({ term: l.short, meaning: l.explain })),
    ...(Object.keys(labels.states) as ProjectState[]).map((s) => ({ term: labels.states[s], meaning: STATE_MEANINGS[s] })),
    ...PAGE_TERMS,
    ...extra,
    ...jargon,
  ];
}

/** A glossary as a definition list, under a heading with this id. */
export function glossaryHtml(id: string, heading: string, entries: readonly GlossaryEntry[]): string {
  return `<section aria-labelledby="${id}">
<h2 id="${id}">${escapeHtml(heading)}</h2>
<dl class="glossary">
${entries.map((e) => `<dt>${escapeHtml(e.term)}</dt><dd>${escapeHtml(e.meaning)}</dd>`).join('\n')}
</dl>
</section>`;
}
