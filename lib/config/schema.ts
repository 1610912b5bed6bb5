/**
 * The governance-as-code schema: one zod schema per config file kind.
 *
 * Every consumer (the CDK app, the `sde` CLI, the Lambdas, the reports) reads the
 * typed model these schemas produce, so a rule written here holds everywhere.
 * Objects are strict: an unknown key is an error, because a misspelt key in a
 * governance file (say `rowFiltr`) must never be silently ignored.
 */
import { z } from 'zod';
import { airlockSchema } from './airlock-settings';
import { decimalPlaces, PRICE_DECIMALS } from './decimal';
import { iamPrincipalArn } from './primitives';

/** How sensitive a source column is, before de-identification. */
export const CLASSIFICATIONS = ['direct_identifier', 'quasi_identifier', 'sensitive', 'other'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** Source column types, as they arrive in the landing CSV. */
export const COLUMN_TYPES = ['string', 'integer', 'decimal', 'date', 'timestamp', 'boolean'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/**
 * De-identification rules. Each maps one source column to zero or one curated column
 * (see `curated.ts` for the name and type each rule produces).
 */
export const RULES = [
  'drop',
  'pseudonymise',
  'date_to_year',
  'date_to_month',
  'age_band',
  'postcode_outward',
  'postcode_lsoa',
  'scrub_free_text',
  'keep',
] as const;
export type Rule = (typeof RULES)[number];

/**
 * Code systems a string column can declare as its value domain (`format: icd10`), each with
 * its own structure check in lib/ingest/core/formats.ts. NHS numbers and postcodes are
 * identifiers: they may only be pseudonymised, generalised or dropped.
 */
export const CODE_SYSTEMS = ['nhs_number', 'postcode', 'lsoa', 'msoa', 'ods_code', 'icd10', 'opcs4', 'snomed', 'bnf'] as const;
export type CodeSystem = (typeof CODE_SYSTEMS)[number];

/** Named formats: the code systems, a supplier's record key, and free text. */
export const COLUMN_FORMATS = [
  ...CODE_SYSTEMS,
  /** A supplier's record key kept in clear (episode, event, prescription id): see lib/ingest/core/formats.ts. */
  'record_id',
  'free_text',
] as const;
export type NamedFormat = (typeof COLUMN_FORMATS)[number];

/** Code systems that may be the elements of a list in one cell (identifiers and open formats may not). */
export const LIST_ELEMENT_SYSTEMS = ['lsoa', 'msoa', 'ods_code', 'icd10', 'opcs4', 'snomed', 'bnf'] as const;

function nonEmptyText() {
  return z.string().trim().min(1, { error: 'must not be empty' });
}

/** One code of a code list, as it is written in the data (after normalisation). */
const codeValue = z
  .string({ error: 'must be text: quote codes in YAML ("01", not 01)' })
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' });

/** A path under the config directory, such as vocabularies/sex.yaml. */
export const configRelativePath = z
  .string()
  .regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]+\.ya?ml$/, {
    error: 'must be a YAML file under the config directory, such as vocabularies/sex.yaml (no .., no absolute path)',
  });

/** An inline code list: the value must be one of these codes. */
export const codeListFormatSchema = z.strictObject({
  codes: z.array(codeValue).min(1, { error: 'list at least one code' }),
});
/** A code list kept in a vocabulary file under the config directory; the loader fills `codes` from it. */
export const vocabularyFormatSchema = z.strictObject({
  vocabulary: configRelativePath,
  /** Filled in by the loader from the vocabulary file (never written in a dataset file). */
  codes: z.array(codeValue).optional(),
});
const listElementSchema = z.union([z.enum(LIST_ELEMENT_SYSTEMS), codeListFormatSchema, vocabularyFormatSchema]);
/** Several values in one cell (`I10X|E119`): each element must belong to the element format. */
export const listFormatSchema = z.strictObject({
  list: listElementSchema,
  separator: z.string().length(1, { error: 'must be one character' }),
});

/**
 * A column's value domain: a named format, a code list (inline or from a vocabulary file), or
 * a list of codes in one cell. Written as a name (`format: icd10`) or an object.
 */
export const formatSchema = z.union([z.enum(COLUMN_FORMATS), codeListFormatSchema, vocabularyFormatSchema, listFormatSchema]);
export type ColumnFormat = z.infer<typeof formatSchema>;
export type CodeListFormat = z.infer<typeof codeListFormatSchema> | z.infer<typeof vocabularyFormatSchema>;
export type ListFormat = z.infer<typeof listFormatSchema>;

/**
 * A vocabulary file (config/vocabularies/NAME.yaml): a named code list with where it comes
 * from, shared by every column that declares `format: { vocabulary: vocabularies/NAME.yaml }`.
 */
export const vocabularySchema = z.strictObject({
  title: nonEmptyText(),
  /** Where the codes come from (a standard and its version), so reviewers can check them. */
  source: nonEmptyText(),
  codes: z
    .array(z.union([codeValue, z.strictObject({ code: codeValue, label: nonEmptyText() })]))
    .min(1, { error: 'list at least one code' }),
});
export type VocabularyFile = z.infer<typeof vocabularySchema>;

/**
 * How a date column is written in the supplier's file. The first three are full dates; MMYYYY
 * and YYYY-MM carry the month only (HES writes a month and year of birth, MYDOB, as MMYYYY),
 * and such a column may only be generalised (date_to_year, date_to_month, age_band).
 */
export const DATE_FORMATS = ['YYYY-MM-DD', 'DD/MM/YYYY', 'YYYYMMDD', 'MMYYYY', 'YYYY-MM'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];
/** The date formats that carry a month, not a day. */
export const MONTH_DATE_FORMATS: readonly DateFormat[] = ['MMYYYY', 'YYYY-MM'];

/** Who applied the national data opt-out: the platform (from its list) or the supplier before delivery. */
export const OPT_OUT_APPLIERS = ['platform', 'supplier'] as const;

/** How the header's names are matched with the columns' source names. */
export const HEADER_MATCHES = ['exact', 'case_insensitive'] as const;

/** What the national data opt-out does with rows that carry no NHS number to check. */
export const ROWS_WITHOUT_NHS_NUMBER = ['keep', 'reject'] as const;

export const PURPOSES = ['research', 'planning'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const PROJECT_STATUSES = ['active', 'expired', 'suspended'] as const;

export const ORGANISATION_TYPES = ['nhs', 'local_authority', 'university', 'charity', 'company'] as const;

/** What a commercial user's benefit-sharing agreement gives back (benefit.sharing.terms). */
export const BENEFIT_SHARING_TERMS = ['royalties', 'nhs_pricing', 'free_nhs_access', 'shared_results', 'equity', 'other'] as const;
export type BenefitSharingTerm = (typeof BENEFIT_SHARING_TERMS)[number];

/** The kinds of delivered benefit a project records (benefit.outcomes[].kind). */
export const OUTCOME_KINDS = ['publication', 'service_change', 'product', 'dataset_returned', 'other'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

/** Lower snake case: safe as a Glue/Athena/DuckDB identifier without quoting. */
export const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'must be lower snake_case (a-z, 0-9, _), start with a letter, at most 63 characters' });

const nonEmpty = z.string().trim().min(1, { error: 'must not be empty' });

/** A real calendar date written YYYY-MM-DD (quote it in YAML if your editor reformats it). */
export const isoDate = z.iso.date({ error: 'must be a date written YYYY-MM-DD' });

export { iamPrincipalArn };

const awsAccount = z.string().regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account id, quoted in YAML' });
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: 'must be an AWS region such as eu-west-2' });
const email = z.email({ error: 'must be an e-mail address' });
/** A public web address: https only, as the register itself is served. */
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be a web address starting with https://' });
/** A lower-case DNS host name with at least two labels (no scheme, path or trailing dot). */
const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/, { error: 'must be a lower-case host name such as register.example.nhs.uk (no https:// and no path)' });
/** Prices are read as exact decimals (lib/billing/money.ts): more places than that would be silently lost. */
const priceDecimals = (v: number) => decimalPlaces(v) <= PRICE_DECIMALS;
const priceDecimalsError = { error: `must have at most ${PRICE_DECIMALS} decimal places` };
const money = z.number().nonnegative({ error: 'must be zero or more' }).refine(priceDecimals, priceDecimalsError);

/** A roster reference such as CM-04: letters, an optional hyphen, digits. Spaces are refused so a name cannot be typed in. */
const citizenMemberRef = z.string().regex(/^[A-Za-z]{1,10}-?\d{1,4}$/, {
  error: "must be a roster reference such as CM-04 (letters, optional '-', digits), not a person's name",
});

/**
 * A researcher's reference on their organisation's roster (e.g. NCL-R-014), never a name:
 * it becomes the source identity of every AWS session they open, so CloudTrail names the
 * person whichever role they act through. AWS takes 2-64 letters, digits and _+=,.@- .
 */
export const researcherId = z.string().regex(/^[A-Za-z0-9_+=,.@-]{2,64}$/, {
  error: 'must be 2-64 letters, digits or _+=,.@- (a roster reference such as NCL-R-014, not a name: AWS records it as the source identity)',
});

/** The shared external id a principal in another account passes to assume the project role (sts:ExternalId). */
const externalId = z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, { error: 'must be 2-1224 letters, digits or _+=,.@:/- (AWS external id characters)' });

/** One approved person: who they are, and the IAM principal they sign in through. */
export const researcherSchema = z.strictObject({
  id: researcherId,
  /** The IAM role or user the person signs in through (their organisation's, or one of this account). */
  principal: iamPrincipalArn,
  /** Required when `principal` is in another AWS account than the platform's (lib/config/checks.ts). */
  externalId: externalId.optional(),
});

const tierSchema = z.strictObject({
  label: nonEmpty,
  accessFeePerMonth: money,
  pricePerTbScanned: money,
  /** Applies to the price per TB scanned (not to the access fee). */
  multiplier: z.number().positive({ error: 'must be more than zero' }).refine(priceDecimals, priceDecimalsError).default(1),
  /**
   * Projects charged at this tier are commercial users: each must record its
   * benefit-sharing terms (benefit.sharing), as a project of a company must whatever its tier.
   */
  commercial: z.boolean().default(false),
});

/** How often a project reports what it delivered (benefit.reports), and its final report's deadline. */
const outcomeReportingSchema = z.strictObject({
  /** A report is due every this many months from the start of the approved period, until it ends. */
  intervalMonths: z.int().min(1, { error: 'must be at least 1' }).max(60, { error: 'must be at most 60' }).default(12),
  /** The final report is due this many days after the approved period ends. */
  finalReportWithinDays: z.int().min(0, { error: 'must be zero or more' }).max(730, { error: 'must be at most 730' }).default(90),
});
export const DEFAULT_OUTCOME_REPORTING = { intervalMonths: 12, finalReportWithinDays: 90 } as const;

/**
 * How long the audit trail is kept under S3 Object Lock in COMPLIANCE mode (nobody, not
 * even the account root, can delete it or shorten the period before then), in calendar
 * years: `retention.auditYears`.
 *
 * Eight years, chosen from the NHS England Records Management Code of Practice for
 * Health and Social Care (2021, updated 2023): its retention schedule keeps adult health
 * records for 8 years after the last entry, and an access audit trail is the evidence of
 * who saw the records derived from them, so it should live at least as long as a
 * challenge about that use can arise (the GP Good Practice Guidelines likewise keep
 * access audit trails 8 years "for probity"). The Code asks for review, not automatic
 * destruction, at the end of a retention period: nothing expires the trail after 8
 * years; a records manager decides. Confirm the period with your Data Protection Officer
 * and records manager before the first deployment.
 */
export const DEFAULT_AUDIT_RETENTION_YEARS = 8;

export const platformSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{2,30}$/, {
    error: 'must be 3-31 characters of a-z, 0-9 and -, starting with a letter (it prefixes stack and resource names)',
  }),
  displayName: nonEmpty,
  description: nonEmpty.optional(),
  aws: z
    .strictObject({
      account: awsAccount.optional(),
      region: awsRegion.optional(),
      /**
       * Encrypt the account's Glue Data Catalog with the platform key. Account-wide (one
       * setting per account and region): turn it on in an account dedicated to the SDE.
       */
      encryptDataCatalog: z.boolean().default(false),
    })
    .default({ encryptDataCatalog: false }),
  /** Lake Formation administrators besides the deploying role (which is always added). */
  admins: z.array(iamPrincipalArn).min(1, { error: 'name at least one Lake Formation administrator' }),
  /**
   * The one role besides the ingestion function that may read or change the
   * pseudonymisation key (a sealed, alarmed emergency role). @default none: only the function
   */
  breakGlassRole: iamPrincipalArn.optional(),
  retention: z
    .strictObject({
      landingDays: z.int().min(1).max(365).default(7),
      quarantineDays: z.int().min(1).max(3650).default(90),
      queryResultsDays: z.int().min(1).max(3650).default(30),
      /**
       * Old versions of curated objects (a batch rewritten without people who opted out later
       * keeps its previous version this long, readable only by the platform's own roles).
       */
      curatedNoncurrentDays: z.int().min(1).max(3650).default(30),
      accessLogsDays: z.int().min(90).max(3650).default(2555),
      /** Audit trail retention under S3 Object Lock COMPLIANCE mode: it can never be shortened once set. */
      auditYears: z.int().min(1).max(100).default(DEFAULT_AUDIT_RETENTION_YEARS),
    })
    .default({
      landingDays: 7,
      quarantineDays: 90,
      queryResultsDays: 30,
      curatedNoncurrentDays: 30,
      accessLogsDays: 2555,
      auditYears: DEFAULT_AUDIT_RETENTION_YEARS,
    }),
  alerts: z.strictObject({
    securityEmails: z.array(email).min(1, { error: 'name at least one security team e-mail address' }),
  }),
  pricing: z.strictObject({
    currency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code such as GBP' }),
    tiers: z.record(identifier, tierSchema),
    /**
     * What AWS charges the platform per TB Athena scans, in USD (set your region's price).
     * Project budgets (limits.monthlyBudgetUsd) are AWS Budgets limits in USD; statements
     * estimate a project's AWS spend with this when AWS Budgets' figure is not at hand.
     */
    awsUsdPerTbScanned: money.default(5),
  }),
  /** Output checking: disclosure thresholds and the reviewers (lib/airlock/README.md). */
  airlock: airlockSchema.optional(),
  /**
   * The national data opt-out applied again to curated data whenever a new list arrives
   * (`sde optout apply`; on AWS the opt-out state machine): docs/ingestion.md#later-opt-outs.
   */
  nationalDataOptOut: z
    .strictObject({
      /** Alarm when the list last applied is older than this many days (ingestion already fails closed on a missing list). */
      maxListAgeDays: z.int().min(1).max(90).default(7),
      /**
       * A list that would remove more than this share of any dataset's rows is refused
       * without an explicit override: a wrong file (a whole population) must not empty the platform.
       */
      maxRemovedShare: z.number().gt(0).max(1).default(0.05),
    })
    .default({ maxListAgeDays: 7, maxRemovedShare: 0.05 }),
  /**
   * The re-identification risk an approval may carry without a recorded acceptance
   * (`sde risk`, docs/disclosure-risk.md): the share of people in equivalence classes of
   * fewer than 5 over the grant's quasi-identifiers (the worst measure). Absent: no gate.
   */
  disclosureRisk: z
    .strictObject({
      ceiling: z.number().min(0).max(1),
      /** Every active approval must record its measured risk (approval.disclosureRisk). */
      requireAssessment: z.boolean().default(true),
    })
    .optional(),
  /** The public transparency register's website (RegisterStack) and what it tells people about their own data. */
  register: z.strictObject({
    /**
     * How a person stops their data being used, in plain words, and where to do it: the
     * register shows it on every page (in England, the national data opt-out).
     */
    optOut: z.strictObject({ text: nonEmpty, url: httpsUrl.optional() }),
    /** Whom the public contacts about the platform's use of data: a team or an office, never a person's name. */
    contact: z
      .strictObject({ name: nonEmpty, email: email.optional(), url: httpsUrl.optional() })
      .refine((c) => c.email !== undefined || c.url !== undefined, { error: 'give an email or a url (or both) for the contact' }),
      /**
       * The register's own public names and their certificate. Unset, it is served on
       * CloudFront's *.cloudfront.net name, whose certificate policy AWS fixes (older TLS
       * allowed); with a domain, viewers are held to TLS 1.2 or later.
       */
      domain: z
        .strictObject({
          names: z.array(hostname).min(1, { error: 'name at least one host name, e.g. register.example.nhs.uk' }),
          certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/, {
            error: 'must be the ARN of an ACM certificate in us-east-1 (CloudFront uses certificates from that region only), covering every name',
          }),
        })
        .optional(),
  }),
  governance: z
    .strictObject({
      /** Refuse a project approval that does not record the citizen members present. */
      requireCitizenMembers: z.boolean().default(true),
      minimumCitizenMembers: z.int().min(0).default(2),
      /**
       * Also require each active approval to name the citizen members present
       * (approval.citizenMembers: roster references, never personal names), so the quorum
       * can be checked against the committee's published membership, not just a number.
       */
      requireNamedCitizenMembers: z.boolean().default(false),
      /** When projects owe a report of the benefit they delivered (`sde governance-report`, the register). */
      outcomeReports: outcomeReportingSchema.default(DEFAULT_OUTCOME_REPORTING),
    })
    .default({ requireCitizenMembers: true, minimumCitizenMembers: 2, requireNamedCitizenMembers: false, outcomeReports: DEFAULT_OUTCOME_REPORTING }),
});

/** C0 and C1 controls have no place in a name or placeholder (normalisation refuses them in cells too). */
function noControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
  }
  return true;
}

/** A placeholder written in a cell (`-`, `&`, `1801-01-01`): compared with the value after normalisation and trimming. */
const placeholderValue = z
  .string({ error: 'must be text: quote placeholders in YAML ("99", not 99)' })
  .trim()
  .min(1, { error: 'must not be empty (an empty cell is null already)' })
  .max(64, { error: 'must be at most 64 characters' })
  .refine(noControlCharacters, { error: 'must not hold control characters' });

/** A column name as the supplier's header writes it (`ADMIDATE`): printable, no line breaks. */
const sourceHeaderName = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(128, { error: 'must be at most 128 characters' })
  .refine(noControlCharacters, { error: 'must not hold control characters' });

export const columnSchema = z.strictObject({
  name: identifier,
  /** The name in the supplier's header, when it is not `name` (HES writes `ADMIDATE`). @default name */
  source: sourceHeaderName.optional(),
  description: nonEmpty,
  type: z.enum(COLUMN_TYPES),
  required: z.boolean().default(false),
  /** The value domain (see formatSchema): required for a string kept in clear. */
  format: formatSchema.optional(),
  classification: z.enum(CLASSIFICATIONS),
  rule: z.enum(RULES),
  /** Curated column name, when the rule's default name does not read well. */
  as: identifier.optional(),
  /** Date columns: how the supplier writes the date. @default YYYY-MM-DD */
  dateFormat: z.enum(DATE_FORMATS).optional(),
  /**
   * Values the supplier writes for "not known" or "none" (`1801-01-01`, `-`, `99`): they become
   * null (counted per column in the manifest), and are never checked against the type or format.
   */
  nulls: z.array(placeholderValue).min(1, { error: 'list at least one value, or remove nulls' }).optional(),
  /**
   * String columns with a format: codes the supplier writes outside the format that are kept as
   * written (`&` for "not known" in an OPCS-4 column, `Z99999999` for an LSOA not known); in a
   * list, each element may be one. Use nulls instead to store them as null.
   */
  placeholders: z.array(placeholderValue).min(1, { error: 'list at least one value, or remove placeholders' }).optional(),
  /**
   * pseudonymise on a record key only: the namespace its pseudonyms are keyed in. Datasets
   * that name the same scope link a key to the same pseudonym (HES APC and HES A&E both
   * keyed on PSEUDO_HESID). @default the dataset's name
   */
  scope: identifier.optional(),
  /** age_band only: the date column the age is measured at (default: the load date). */
  ageAt: identifier.optional(),
  /** age_band only: width of each band in years. */
  bandYears: z.int().min(1).max(20).optional(),
  /** Integer and decimal columns: the smallest value accepted (required when the column is kept). */
  min: z.number().optional(),
  /** Integer and decimal columns: the largest value accepted (required when the column is kept). */
  max: z.number().optional(),
  /**
   * postcode_lsoa only: the postcode-to-LSOA lookup, a CSV file (`postcode,lsoa`) named by
   * its file name: on AWS the object `_reference/<name>` in the landing bucket, locally
   * `reference/<name>` under the config directory.
   */
  lookup: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.csv$/, { error: 'must be a CSV file name such as postcode-lsoa.csv (letters, digits, . _ -)' })
    .optional(),
});

export const datasetSchema = z.strictObject({
  name: identifier,
  title: nonEmpty,
  description: nonEmpty,
  supplier: nonEmpty,
  source: z
    .strictObject({
      format: z.literal('csv').default('csv'),
      delimiter: z.string().length(1, { error: 'must be one character' }).default(','),
      quote: z.string().length(1, { error: 'must be one character' }).default('"'),
      /** windows-1252 is what Windows exports as "ANSI"; latin1 is ISO-8859-1 (its bytes 0x80-0x9F are control characters). */
      encoding: z.enum(['utf-8', 'windows-1252', 'latin1', 'utf-16le']).default('utf-8'),
      header: z.boolean().default(true),
      /** How header names are matched with the columns' source names: exactly, or ignoring case. */
      headerMatch: z.enum(HEADER_MATCHES).optional(),
      /**
       * Required with header: false: the number of fields in each record, stating that the
       * columns are listed in the supplier's order (a file whose first record has another
       * count is quarantined).
       */
      columnCount: z.int().min(1).optional(),
    })
    .default({ format: 'csv', delimiter: ',', quote: '"', encoding: 'utf-8', header: true }),
  /**
   * The column that identifies the person, pseudonymised so their rows link: their NHS number
   * (format nhs_number), or another identifier such as a council's client id (format record_id).
   */
  personKey: identifier.optional(),
  /** Apply the national data opt-out to this dataset. */
  nationalDataOptOut: z.boolean().default(true),
  /** How the opt-out is applied when the person key is not an NHS number, or an NHS number may be missing. */
  optOut: z
    .strictObject({
      /** The column holding the NHS number the opt-out list is matched on. @default the person key, when it is an NHS number */
      nhsNumber: identifier.optional(),
      /** Rows with no NHS number cannot be checked against the list: keep them (counted in the manifest) or reject them. */
      withoutNhsNumber: z.enum(ROWS_WITHOUT_NHS_NUMBER).optional(),
      /**
       * supplier: the supplier removed opted-out people before delivery (HES extracts from NHS
       * England), so the platform has no list to match; `statement` then cites where the
       * supplier says so. It is shown on the public register. @default platform
       */
      appliedBy: z.enum(OPT_OUT_APPLIERS).optional(),
      /** The supplier's statement that it applied the opt-out (a data sharing agreement and its clause, a release note). */
      statement: nonEmptyText().optional(),
    })
    .optional(),
  columns: z.preprocess(
    (columns, ctx) => {
      for (const [i, bad] of badColumnGroups(columns))
        ctx.issues.push({
          code: 'custom',
          path: [i, 'name'],
          input: bad,
          message: `has the column group ${bad}, which must count up and stand for at most ${MAX_GROUP_COLUMNS} columns, such as {01..20}`,
        });
      return expandColumnGroups(columns);
    },
    z.array(columnSchema).min(1, { error: 'a dataset needs at least one column' }),
  ),
});

/** Plain-English text of at least `words` words: a benefit stated in one word says nothing. */
function plainText(words: number, what: string) {
  return nonEmpty
    .max(1000, { error: 'must be at most 1000 characters: say it in a few plain sentences' })
    .refine((v) => v.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length >= words, { error: `must be at least ${words} words: ${what}` });
}

/**
 * A link or a reference to where an outcome can be checked: an https:// link (the register
 * makes it a link), or a reference in words such as a DOI or a board paper. A link with any
 * other scheme is refused, so nothing but https is ever made a link on the public page.
 */
export const outcomeReference = nonEmpty
  .max(500, { error: 'must be at most 500 characters' })
  .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^https:\/\/[^\s/?#]+[^\s]*$/i.test(v), {
    error: 'must be an https:// link (no other kind of link) or a reference in words, such as "doi:10.1234/abc" or "NCL ICB Board paper, January 2027, item 7"',
  });

/** One thing a project delivered: a publication, a change to a service, a product, data returned to the platform. */
export const outcomeSchema = z.strictObject({
  date: isoDate,
  kind: z.enum(OUTCOME_KINDS),
  /** What it is, in plain English, with no one's name. */
  title: plainText(3, 'say what was delivered'),
  reference: outcomeReference,
});

/** An outcome report to the committee: what the project delivered so far, or at its end. */
export const outcomeReportSchema = z.strictObject({
  date: isoDate,
  /** The report at the end of the project (after its period ends, or when it stops early). */
  final: z.boolean().default(false),
  summary: plainText(3, 'say what the report told the committee'),
});

/**
 * The public benefit the project promised (who, how, by when) and what it delivered. The
 * schema takes it as optional so that its absence is reported by checks.ts with the fix,
 * not as a bare "required"; every project must state it.
 */
export const benefitSchema = z.strictObject({
  /** Who benefits, in plain English (e.g. "people in North Central London who need a hospital bed in winter"). */
  whoBenefits: plainText(2, 'say who benefits'),
  /** How they benefit, in plain English. */
  how: plainText(6, 'say in a sentence how they benefit'),
  /** The date by which the benefit is expected. */
  byWhen: isoDate,
  /** Commercial users only (required for them): the agreement on sharing what they gain. */
  sharing: z
    .strictObject({
      /** The reference of the signed benefit-sharing agreement. */
      agreement: nonEmpty.max(200, { error: 'must be at most 200 characters' }),
      terms: z.array(z.enum(BENEFIT_SHARING_TERMS)).min(1, { error: `name at least one of: ${BENEFIT_SHARING_TERMS.join(', ')}` }),
      /** The terms in plain English, for the public register. */
      summary: plainText(6, 'say in plain English what the NHS and the public receive'),
    })
    .optional(),
  /** What the project delivered, recorded as it happens. */
  outcomes: z.array(outcomeSchema).default([]),
  /** The outcome reports made to the committee (due at platform.yaml's governance.outcomeReports). */
  reports: z.array(outcomeReportSchema).default([]),
});


/** `{01..20}` in a column's name: one entry stands for a group of identical columns. */
const GROUP = /\{(\d{1,3})\.\.(\d{1,3})\}/;
/** A group stands for at most this many columns (a typo such as {1..1000} must not make a thousand). */
export const MAX_GROUP_COLUMNS = 200;

/**
 * Expands column groups before validation: an entry whose name holds `{01..20}` becomes one
 * column per number, with the number (zero-padded to the width written first) put in place of
 * the braces in its name, source, as and description. A malformed group is left for the
 * schema to refuse (braces are not identifier characters).
 */
/** The entries (by position as written) whose group cannot be expanded: a range counting down, or too many columns. */
function badColumnGroups(columns: unknown): [number, string][] {
  if (!Array.isArray(columns)) return [];
  return columns.flatMap((column: unknown, i) => {
    const name = typeof column === 'object' && column !== null ? (column as Record<string, unknown>).name : undefined;
    const m = typeof name === 'string' ? GROUP.exec(name) : null;
    if (m === null) return [];
    const [from, to] = [Number(m[1]), Number(m[2])];
    return to < from || to - from + 1 > MAX_GROUP_COLUMNS ? [[i, m[0]] as [number, string]] : [];
  });
}

export function expandColumnGroups(columns: unknown): unknown {
  if (!Array.isArray(columns)) return columns;
  return columns.flatMap((column: unknown) => {
    if (typeof column !== 'object' || column === null) return [column];
    const entry = column as Record<string, unknown>;
    const m = typeof entry.name === 'string' ? GROUP.exec(entry.name) : null;
    if (m === null) return [column];
    const [from, to] = [Number(m[1]), Number(m[2])];
    if (to < from || to - from + 1 > MAX_GROUP_COLUMNS) return [column];
    const width = m[1].length;
    const out: unknown[] = [];
    for (let n = from; n <= to; n++) {
      const number = String(n).padStart(width, '0');
      const fill = (v: unknown) => (typeof v === 'string' ? v.replace(GROUP, number) : v);
      out.push({ ...entry, name: fill(entry.name), source: fill(entry.source), as: fill(entry.as), description: fill(entry.description) });
    }
    // Keys that were absent stay absent (a strict schema must not see source: undefined as written).
    return out.map((c) => Object.fromEntries(Object.entries(c as Record<string, unknown>).filter(([, v]) => v !== undefined)));
  });
}

export const projectDatasetSchema = z.strictObject({
  columns: z.array(identifier).min(1, { error: 'name at least one curated column, or remove the dataset' }),
  /** A Lake Formation row filter expression (PartiQL subset), e.g. "region_code = 'E40000003'". */
  rowFilter: nonEmpty.optional(),
  /**
   * Which rows the filter leaves, in plain English ("emergency admissions only"): what the
   * access matrix and the public register show instead of the expression. Required with a
   * row filter (lib/config/checks.ts).
   */
  rowFilterDescription: nonEmpty.optional(),
});

export const projectSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{2,39}$/, {
    error: 'must be 3-40 characters of a-z, 0-9 and -, starting with a letter',
  }),
  title: nonEmpty,
  status: z.enum(PROJECT_STATUSES).default('active'),
  organisation: z.strictObject({
    name: nonEmpty,
    type: z.enum(ORGANISATION_TYPES),
    tier: identifier,
  }),
  purpose: z.enum(PURPOSES),
  /** The purpose in plain English, for the public register. */
  summary: nonEmpty,
  /** The promised public benefit, benefit-sharing terms (commercial users) and outcomes. */
  benefit: benefitSchema.optional(),
  lawfulBasis: z.strictObject({
    article6: nonEmpty,
    article9: nonEmpty,
    commonLawDuty: nonEmpty,
  }),
  approval: z.strictObject({
    committee: nonEmpty,
    reference: nonEmpty,
    date: isoDate,
    citizenMembersPresent: z.int().min(0, { error: 'must be zero or more' }),
    /**
     * The citizen members present, by their reference on the committee's published roster
     * (e.g. CM-04). A reference, not a name: the config, the register and every report
     * built from it stay free of personal data.
     */
    citizenMembers: z.array(citizenMemberRef).optional(),
    /** The approval's measured re-identification risk, as `sde risk` reported it. */
    disclosureRisk: z
      .strictObject({
        measuredOn: isoDate,
        /** What it was measured on (for the synthetic example: the population and seed). */
        source: nonEmpty,
        people: z.int().min(0),
        /** Share of people in classes of fewer than 5 / 10, the worst measure of the grant. */
        shareBelow5: z.number().min(0).max(1),
        shareBelow10: z.number().min(0).max(1),
        measure: nonEmpty,
      })
      .optional(),
    /** The committee's acceptance of a risk above platform.yaml's disclosureRisk.ceiling. */
    riskAcceptance: z
      .strictObject({
        reference: nonEmpty,
        date: isoDate,
        /** The highest share below 5 the committee accepts for this grant. */
        acceptedShareBelow5: z.number().min(0).max(1),
        reason: nonEmpty,
      })
      .optional(),
  }),
  period: z.strictObject({ start: isoDate, end: isoDate }),
  /** The named people the approval covers, each with the principal they sign in through. */
  researchers: z.array(researcherSchema).min(1, { error: 'name at least one researcher' }),
  datasets: z.record(identifier, projectDatasetSchema),
  limits: z.strictObject({
    /** Athena's smallest allowed per-query cutoff is 10 MB. */
    bytesScannedPerQuery: z.int().min(10_000_000, { error: 'must be at least 10000000 (10 MB, the Athena minimum)' }),
    monthlyBudgetUsd: z.number().positive({ error: 'must be more than zero' }),
  }),
});

export type PlatformConfig = z.infer<typeof platformSchema>;
export type ColumnConfig = z.infer<typeof columnSchema>;
export type DatasetConfig = z.infer<typeof datasetSchema>;
export type ProjectConfig = z.infer<typeof projectSchema>;
export type ResearcherConfig = z.infer<typeof researcherSchema>;
export type Tier = z.infer<typeof tierSchema>;
export type BenefitConfig = z.infer<typeof benefitSchema>;
export type OutcomeConfig = z.infer<typeof outcomeSchema>;
export type OutcomeReportingConfig = z.infer<typeof outcomeReportingSchema>;
