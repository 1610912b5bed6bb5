/**
 * A SATRE self-assessment: the requirements of the Standard Architecture for Trusted
 * Research Environments (UK) that bear on this platform, each judged against the loaded
 * config and the constructs the code base has, with the evidence and what remains open.
 *
 * The statements are short paraphrases written for this platform, numbered by SATRE's
 * four pillars; they are not quotations of the standard, and the list is a curated
 * subset, not the whole specification. Pure: the config and the set of capabilities in,
 * assessments out (satre-capabilities.ts finds the capabilities).
 */
import type { SdeConfig } from '../config/model';

export const PILLARS = ['Information governance', 'Computing technology', 'Data management', 'Supporting capabilities'] as const;
export type Pillar = (typeof PILLARS)[number];

export type SatreStatus = 'met' | 'partly' | 'open';

/** Constructs and reports that evidence requirements; each is looked for by satre-capabilities.ts. */
export const CAPABILITIES = {
  secureBucket: 'SecureBucket construct (KMS customer-managed key, TLS-only policy, no public access, versioning, Object Lock)',
  platformKey: 'PlatformKey construct (KMS key with rotation)',
  lakeFormationGrants: 'LakeFormationGrants construct (column grants and row filters per project)',
  projectWorkspace: 'ProjectWorkspace construct (project role requiring MFA, Athena workgroup with enforced settings and scan limit, budget)',
  auditStack: 'AuditStack (CloudTrail with data events, validated log files, Object Lock audit bucket)',
  securityAlarms: 'SecurityAlarms construct (metric-filter alarms to the security e-mails)',
  airlockStack: 'AirlockStack (output airlock: disclosure checks, two reviewers, signed releases)',
  analysisWorkspace:
    'AnalysisWorkspaceStack (secure browser with no download, upload, clipboard or print; private network; project roles read results only from it)',
  ingestion: 'ingestion core (lib/ingest/core: row validation, quarantine, opt-out, de-identification)',
  ingestionStack: 'IngestionStack (ingestion Lambdas on AWS)',
  register: 'transparency register (lib/register, `sde register`)',
  registerStack: 'RegisterStack (register published on AWS)',
  billing: 'tiered billing (lib/billing, `sde bill`, lambdas/billing)',
  billingStack: 'BillingStack (monthly statements on AWS from Athena query metadata)',
  governanceReport: 'governance report (`sde governance-report`)',
  accessMatrix: 'access matrix (`sde access-matrix`)',
  complianceGates: 'compliance gates at synth (lib/compliance/gates.ts: cdk-nag AwsSolutions, HIPAA, NIST 800-53, Control Tower guard rules)',
} as const;
export type Capability = keyof typeof CAPABILITIES;

export interface Assessment {
  /** Pillar number and item, e.g. "1.3". */
  readonly id: string;
  readonly pillar: Pillar;
  /** Our paraphrase of the requirement. */
  readonly requirement: string;
  readonly status: SatreStatus;
  /** The construct, setting or report that meets it. */
  readonly evidence: readonly string[];
  /** What remains to be done; empty when met. */
  readonly open: readonly string[];
}

interface Requirement {
  readonly pillar: Pillar;
  readonly requirement: string;
  readonly judge: (config: SdeConfig, has: (c: Capability) => boolean) => { evidence: string[]; open: string[] };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Evidence for a capability, or the gap it leaves. */
function need(has: (c: Capability) => boolean, c: Capability, evidence: string[], open: string[], gap: string): void {
  if (has(c)) evidence.push(CAPABILITIES[c]);
  else open.push(gap);
}

const REQUIREMENTS: readonly Requirement[] = [
  // 1. Information governance
  {
    pillar: 'Information governance',
    requirement: 'Every project is approved through a defined data access process before it gets any data, and the approval is recorded.',
    judge: (c) => ({
      evidence: [
        `${plural(c.projects.length, 'project')} in projects/*.yaml, each with approval (committee, reference, date); \`sde validate\` and \`cdk synth\` refuse a project without one`,
      ],
      open: [],
    }),
  },
  {
    pillar: 'Information governance',
    requirement: 'Members of the public take part in overseeing access decisions.',
    judge: (c, has) => {
      const g = c.platform.governance;
      const evidence: string[] = [];
      const open: string[] = [];
      if (g.requireCitizenMembers && g.minimumCitizenMembers > 0)
        evidence.push(
          `platform.yaml governance.requireCitizenMembers: true, minimumCitizenMembers: ${g.minimumCitizenMembers} (an approval without the citizen quorum is refused)`,
        );
      else open.push('set governance.requireCitizenMembers: true and minimumCitizenMembers of at least 1 in platform.yaml');
      if (g.requireNamedCitizenMembers)
        evidence.push('platform.yaml governance.requireNamedCitizenMembers: true (approvals name the citizen members present by roster reference)');
      else
        open.push(
          'set governance.requireNamedCitizenMembers: true so every active approval names the citizen members present (new and extended ones must already, under `sde validate --since`)',
        );
      need(has, 'governanceReport', evidence, open, "give the citizens' advisory group a report of governance changes");
      return { evidence, open };
    },
  },
  {
    pillar: 'Information governance',
    requirement: 'A public register lists the projects, who runs them, why, and which data they use.',
    judge: (_c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'register', evidence, open, 'generate a public register of projects from the config and the audit trail');
      need(has, 'registerStack', evidence, open, 'publish the register on AWS (a RegisterStack created by lib/app.ts)');
      return { evidence, open };
    },
  },
  {
    pillar: 'Information governance',
    requirement: 'Each project records its legal basis for processing and the common law duty of confidentiality.',
    judge: (c) => ({
      evidence: [`lawfulBasis (article6, article9, commonLawDuty) is required in every project file (${plural(c.projects.length, 'project')})`],
      open: [],
    }),
  },
  {
    pillar: 'Information governance',
    requirement: 'Access ends when the approved period ends.',
    judge: (_c, has) => {
      const evidence = [
        'projectAccess (lib/config/model.ts) grants nothing outside the approved period; `sde validate` refuses an active project past its end date',
      ];
      const open: string[] = [];
      need(has, 'lakeFormationGrants', evidence, open, 'compile grants per project from the approved period on AWS');
      return { evidence, open };
    },
  },
  {
    pillar: 'Information governance',
    requirement: "People's objections to the use of their data (the national data opt-out) are honoured.",
    judge: (c, has) => {
      const without = c.datasets.filter((d) => !d.nationalDataOptOut).map((d) => d.name);
      const evidence = [`nationalDataOptOut applied to ${plural(c.datasets.length - without.length, 'dataset')} of ${c.datasets.length} (datasets/*.yaml)`];
      const open: string[] = [];
      if (without.length > 0) open.push(`opt-out not applied to ${without.join(', ')}: confirm they hold no person-level records`);
      need(has, 'ingestion', evidence, open, 'remove opted-out people at ingestion');
      return { evidence, open };
    },
  },
  // 2. Computing technology
  {
    pillar: 'Computing technology',
    requirement: 'Data is encrypted at rest with keys the platform controls, and in transit.',
    judge: (_c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'secureBucket', evidence, open, 'encrypt every data bucket with a customer-managed KMS key and refuse non-TLS requests');
      need(has, 'platformKey', evidence, open, 'a customer-managed KMS key with rotation');
      return { evidence, open };
    },
  },
  {
    pillar: 'Computing technology',
    requirement: 'Users are authenticated strongly and act through roles limited to their project.',
    judge: (c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'projectWorkspace', evidence, open, 'a per-project role (with MFA) and workgroup');
      evidence.push(
        `${plural(
          new Set(c.projects.flatMap((p) => p.researchers.map((r) => r.id))).size,
          'named researcher',
        )} in projects/*.yaml, each admitted to their own projects' roles only, as themselves (the session's source identity), with MFA in the last hour, within the approved period`,
      );
      return { evidence, open };
    },
  },
  {
    pillar: 'Computing technology',
    requirement: 'Every access is logged in a tamper-evident audit trail that is kept for a defined period.',
    judge: (c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'auditStack', evidence, open, 'a CloudTrail trail with data events and an immutable audit store');
      evidence.push(
        `platform.yaml retention.auditYears: ${c.platform.retention.auditYears} (Object Lock compliance mode); local runtime: hash-chained CloudTrail-format trail (\`sde audit verify\`)`,
      );
      return { evidence, open };
    },
  },
  {
    pillar: 'Computing technology',
    requirement: 'Security events raise alerts that reach the people responsible.',
    judge: (c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'securityAlarms', evidence, open, 'alarms on security-relevant events');
      evidence.push(`platform.yaml alerts.securityEmails: ${plural(c.platform.alerts.securityEmails.length, 'address', 'addresses')}`);
      open.push('an incident response procedure (who acts on an alarm, and how fast) is not part of this repository');
      return { evidence, open };
    },
  },
  {
    pillar: 'Computing technology',
    requirement: 'Infrastructure is defined as code and checked against security controls before deployment.',
    judge: (_c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'complianceGates', evidence, open, 'run security rule packs at synth and fail on findings');
      return { evidence, open };
    },
  },
  {
    pillar: 'Computing technology',
    requirement: 'Analysis happens inside the environment: researchers cannot copy data out except through checked outputs.',
    judge: (_c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'projectWorkspace', evidence, open, 'query access inside project workgroups whose results stay in the platform');
      need(has, 'airlockStack', evidence, open, 'an output airlock');
      need(has, 'analysisWorkspace', evidence, open, 'an analysis workspace that results can be read only from, with no download, upload, clipboard or print');
      open.push(
        'analysis is by SQL (the Athena console, or sde query --athena from a shell in the workspace network): no managed desktop with statistical software is provided',
      );
      return { evidence, open };
    },
  },
  // 3. Data management
  {
    pillar: 'Data management',
    requirement: 'Data is de-identified before researchers can see it, by a documented rule for each field.',
    judge: (c) => {
      const columns = c.datasets.reduce((n, d) => n + d.columns.length, 0);
      return {
        evidence: [
          `${plural(columns, 'column')} in ${plural(c.datasets.length, 'dataset')}, each with a classification and a de-identification rule; \`sde validate\` refuses a direct identifier kept in clear or granted`,
        ],
        open: [],
      };
    },
  },
  {
    pillar: 'Data management',
    requirement: 'Incoming data is checked, and bad data is kept apart rather than loaded.',
    judge: (_c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'ingestion', evidence, open, 'validate incoming rows and quarantine bad files');
      need(has, 'ingestionStack', evidence, open, 'run ingestion on AWS (an IngestionStack created by lib/app.ts)');
      return { evidence, open };
    },
  },
  {
    pillar: 'Data management',
    requirement: 'Each project sees only the minimum data its approval names (columns and rows).',
    judge: (c, has) => {
      const filtered = c.projects.filter((p) => Object.values(p.datasets).some((g) => g.rowFilter !== undefined)).length;
      const evidence = [`per-project column grants in projects/*.yaml; ${plural(filtered, 'project')} also limited by row filters`];
      const open: string[] = [];
      need(has, 'lakeFormationGrants', evidence, open, 'enforce the grants with Lake Formation on AWS');
      need(has, 'accessMatrix', evidence, open, 'a readable access matrix for the committee');
      return { evidence, open };
    },
  },
  {
    pillar: 'Data management',
    requirement: 'Outputs are checked for disclosure risk before they leave.',
    judge: (c, has) => {
      const evidence: string[] = [];
      const open: string[] = [];
      need(has, 'airlockStack', evidence, open, 'an output airlock with disclosure checks');
      if (c.platform.airlock)
        evidence.push(
          `platform.yaml airlock: counts up to ${c.platform.airlock.suppressionThreshold} suppressed, ${plural(c.platform.airlock.reviewers.length, 'reviewer')}`,
        );
      else open.push('set the airlock thresholds and reviewers in platform.yaml (airlock:)');
      return { evidence, open };
    },
  },
  {
    pillar: 'Data management',
    requirement: 'Data is kept only as long as needed, with retention defined for each kind of data.',
    judge: (c) => ({
      evidence: [
        `platform.yaml retention: landing ${c.platform.retention.landingDays} days, quarantine ${c.platform.retention.quarantineDays} days, query results ${c.platform.retention.queryResultsDays} days, access logs ${c.platform.retention.accessLogsDays} days`,
      ],
      open: ['the curated zone has no retention period or review date'],
    }),
  },
  {
    pillar: 'Data management',
    requirement: 'Projects cannot link their extracts with each other through shared identifiers.',
    judge: () => ({
      evidence: ['pseudonyms are HMAC-SHA256 with a platform key researchers never see'],
      open: ['one pseudonymisation key serves every project: per-project re-keying is not yet built'],
    }),
  },
  // 4. Supporting capabilities
  {
    pillar: 'Supporting capabilities',
    requirement: 'The cost of the service is recovered on a published, consistent basis.',
    judge: (c, has) => {
      const evidence = [
        `platform.yaml pricing: ${plural(Object.keys(c.platform.pricing.tiers).length, 'tier')} in ${c.platform.pricing.currency} (${Object.keys(c.platform.pricing.tiers).join(', ')})`,
      ];
      const open: string[] = [];
      need(has, 'billing', evidence, open, 'produce statements per project from recorded usage');
      need(has, 'billingStack', evidence, open, 'run the monthly billing job on AWS (a BillingStack created by lib/app.ts)');
      return { evidence, open };
    },
  },
  {
    pillar: 'Supporting capabilities',
    requirement: 'Changes to governance are reviewed, and reported to those who oversee the service.',
    judge: (_c, has) => {
      const evidence = ['config/ changes through pull requests, checked by `sde validate` (with --since, approvals of new and extended projects)'];
      const open: string[] = [];
      need(has, 'governanceReport', evidence, open, 'a plain-English report of governance changes for the oversight group');
      return { evidence, open };
    },
  },
  {
    pillar: 'Supporting capabilities',
    requirement: 'Researchers are trained and accredited before they get access.',
    judge: () => ({
      evidence: [],
      open: ['the config does not record researcher training or accreditation: add it to projects and check it in `sde validate`'],
    }),
  },
];

/** Judges every requirement: met when nothing is open, partly when there is evidence and something open, open otherwise. */
export function assessSatre(config: SdeConfig, capabilities: ReadonlySet<Capability>): Assessment[] {
  const counters = new Map<Pillar, number>();
  const has = (c: Capability) => capabilities.has(c);
  return REQUIREMENTS.map((r) => {
    const n = (counters.get(r.pillar) ?? 0) + 1;
    counters.set(r.pillar, n);
    const { evidence, open } = r.judge(config, has);
    const status: SatreStatus = open.length === 0 ? 'met' : evidence.length > 0 ? 'partly' : 'open';
    return { id: `${PILLARS.indexOf(r.pillar) + 1}.${n}`, pillar: r.pillar, requirement: r.requirement, status, evidence, open };
  });
}
