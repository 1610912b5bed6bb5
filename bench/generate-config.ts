/**
 * Writes a synthetic, valid governance config of any size: `tables` datasets and
 * `projects` projects, for the synth benchmark and the scale tests.
 *
 * Deterministic: the same options always write the same files, and project i depends
 * only on (seed, i), so a config with n + 1 projects is the config with n projects plus
 * one more file (what the shard-stability test needs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { grantableColumnNames } from '../lib/config/curated';
import type { DatasetConfig } from '../lib/config/schema';

export interface GeneratedConfigOptions {
  /** Directory to write into (created if missing; existing files are overwritten). */
  readonly dir: string;
  readonly projects: number;
  /** @default 50 */
  readonly tables?: number;
  /** @default 1 */
  readonly seed?: number;
  /** The day periods are judged against (pass the same to loadConfig). @default '2026-11-22' */
  readonly today?: string;
}

export const GENERATED_TODAY = '2026-11-22';

/** mulberry32: a small seeded PRNG, good enough to vary test data reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)];
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
function sample<T>(r: () => number, items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(r() * pool.length), 1)[0]);
  return out;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
export const generatedDatasetName = (i: number) => `dataset_${pad(i + 1, 2)}`;
export const generatedProjectId = (i: number) => `gen-project-${pad(i + 1, 4)}`;

/** Optional extra columns a generated dataset may have, beyond the fixed ones. */
const EXTRA_COLUMNS = [
  { name: 'gp_practice_code', description: 'ODS code of the practice', type: 'string', format: 'ods_code', classification: 'quasi_identifier', rule: 'keep' },
  { name: 'lsoa_code', description: 'Lower layer super output area', type: 'string', format: 'lsoa', classification: 'quasi_identifier', rule: 'keep' },
  { name: 'postcode', description: 'Postcode of residence', type: 'string', format: 'postcode', classification: 'quasi_identifier', rule: 'postcode_outward' },
  { name: 'date_of_birth', description: 'Date of birth', type: 'date', classification: 'quasi_identifier', rule: 'age_band', bandYears: 5 },
  { name: 'sex', description: 'Sex as recorded', type: 'string', format: { codes: ['1', '2', '9'] }, classification: 'quasi_identifier', rule: 'keep' },
  { name: 'ethnicity', description: 'Ethnic category', type: 'string', format: { codes: ['A', 'B', 'C', 'Z'] }, classification: 'sensitive', rule: 'keep' },
  { name: 'snomed_code', description: 'SNOMED CT concept', type: 'string', format: 'snomed', classification: 'sensitive', rule: 'keep' },
  { name: 'provider_code', description: 'Provider ODS code', type: 'string', format: 'ods_code', classification: 'other', rule: 'keep' },
  { name: 'quantity', description: 'Quantity', type: 'integer', min: 0, max: 100000, classification: 'other', rule: 'keep' },
  { name: 'unit', description: 'Unit of the value', type: 'string', format: { codes: ['kg', 'mmHg', 'mmol/L'] }, classification: 'other', rule: 'keep' },
  { name: 'discharge_date', description: 'Date of discharge', type: 'date', classification: 'quasi_identifier', rule: 'date_to_year' },
  { name: 'clinician_note', description: 'Free-text note', type: 'string', format: 'free_text', classification: 'sensitive', rule: 'drop' },
  { name: 'given_name', description: 'Given name', type: 'string', classification: 'direct_identifier', rule: 'drop' },
] as const;

interface GeneratedDataset {
  readonly doc: Record<string, unknown>;
  /** Curated column names a project may be granted. */
  readonly grantable: string[];
}

function dataset(i: number, seed: number): GeneratedDataset {
  const r = rng(seed * 7919 + i);
  const extras = sample(r, EXTRA_COLUMNS, int(r, 3, 9));
  const columns = [
    { name: 'record_id', description: 'Record key', type: 'string', required: true, format: 'record_id', classification: 'other', rule: 'keep' },
    {
      name: 'nhs_number',
      description: 'NHS number',
      type: 'string',
      required: true,
      format: 'nhs_number',
      classification: 'direct_identifier',
      rule: 'pseudonymise',
      as: 'person_id',
    },
    { name: 'event_date', description: 'Date of the event', type: 'date', required: true, classification: 'quasi_identifier', rule: 'date_to_month' },
    { name: 'category', description: 'Category code', type: 'string', format: { codes: ['A', 'B', 'C'] }, classification: 'other', rule: 'keep' },
    { name: 'value', description: 'Measured value', type: 'decimal', min: 0, max: 10000, classification: 'sensitive', rule: 'keep' },
    ...extras,
  ];
  return {
    doc: {
      name: generatedDatasetName(i),
      title: `Generated dataset ${i + 1}`,
      description: 'Synthetic dataset written by bench/generate-config.ts for scale tests.',
      supplier: 'Synthetic supplier',
      personKey: 'nhs_number',
      nationalDataOptOut: true,
      columns,
    },
    // The curated names come from the same rules the platform applies.
    grantable: grantableColumnNames({ columns } as unknown as DatasetConfig),
  };
}

const ORGANISATIONS = [
  { name: 'NHS North Central London ICB', type: 'nhs', tier: 'nhs' },
  { name: "King's College London", type: 'university', tier: 'academic' },
  { name: 'University College London', type: 'university', tier: 'academic' },
  { name: 'London Borough of Camden', type: 'local_authority', tier: 'nhs' },
  { name: 'Health Foundation (charity)', type: 'charity', tier: 'charity' },
  { name: 'MediSight Analytics Ltd', type: 'company', tier: 'commercial' },
] as const;

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function project(i: number, seed: number, today: string, datasets: readonly GeneratedDataset[]): Record<string, unknown> {
  const r = rng(seed * 104729 + i);
  const id = generatedProjectId(i);
  const org = pick(r, ORGANISATIONS);
  // Most projects are active; a few have ended or not started yet (they get nothing).
  const roll = r();
  const state = roll < 0.9 ? 'active' : roll < 0.95 ? 'expired' : 'not_started';
  const start = state === 'not_started' ? addDays(today, int(r, 5, 90)) : addDays(today, -int(r, 30, 700));
  const end = state === 'expired' ? addDays(today, -int(r, 1, 20)) : addDays(start > today ? start : today, int(r, 30, 1000));
  const approval = addDays(state === 'not_started' ? today : start, -int(r, 1, 60));
  const chosen = sample(
    r,
    datasets.map((_, k) => k),
    int(r, 1, 5),
  ).sort((a, b) => a - b);
  const grants: Record<string, { columns: string[]; rowFilter?: string; rowFilterDescription?: string }> = {};
  for (const k of chosen) {
    const ds = datasets[k];
    const columns = sample(r, ds.grantable, int(r, 2, ds.grantable.length));
    const filters = ["category IN ('A','B')", 'value > 10', "category LIKE 'X%' AND value IS NOT NULL", "NOT category = 'Z'"];
    grants[ds.doc.name as string] = r() < 0.3 ? { columns, rowFilter: pick(r, filters), rowFilterDescription: 'some rows only (generated)' } : { columns };
  }
  return {
    id,
    title: `Generated project ${i + 1}: a synthetic approval for scale testing`,
    ...(state === 'expired' ? { status: 'expired' } : {}),
    organisation: org,
    purpose: r() < 0.5 ? 'research' : 'planning',
    summary: 'A synthetic project written by bench/generate-config.ts.',
    // No random draw here, so the rest of a generated config stays as it was for a seed.
    benefit: {
      whoBenefits: 'Patients and services of the generated region',
      how: 'A synthetic statement of how the people named above benefit from this project.',
      byWhen: end,
      ...(org.type === 'company'
        ? {
            sharing: {
              agreement: `GEN-BSA-${pad(i + 1, 4)}`,
              terms: ['shared_results'],
              summary: 'Results are shared free with the NHS of the generated region.',
            },
          }
        : {}),
    },
    lawfulBasis: { article6: 'UK GDPR Article 6(1)(e)', article9: 'UK GDPR Article 9(2)(j)', commonLawDuty: 'De-personalised data only' },
    approval: { committee: 'Generated Data Access Committee', reference: `GEN-${pad(i + 1, 4)}`, date: approval, citizenMembersPresent: int(r, 2, 5) },
    period: { start, end },
    researchers: Array.from({ length: int(r, 1, 3) }, (_, n) => ({
      id: `GEN-${pad(i + 1, 4)}-R${n + 1}`,
      principal: `arn:aws:iam::111122223333:role/${id}-researcher-${n + 1}`,
    })),
    datasets: grants,
    limits: { bytesScannedPerQuery: pick(r, [10_000_000_000, 50_000_000_000, 100_000_000_000]), monthlyBudgetUsd: int(r, 50, 2000) },
  };
}

const PLATFORM = {
  name: 'bench-sde',
  displayName: 'Generated Secure Data Environment (benchmark)',
  aws: { region: 'eu-west-2' },
  admins: ['arn:aws:iam::111122223333:role/SdePlatformAdmin'],
  alerts: { securityEmails: ['sde-security@example.nhs.uk'] },
  register: {
    optOut: { text: 'Register a national data opt-out to stop your data being used.', url: 'https://www.nhs.uk/your-nhs-data-matters/' },
    contact: { name: 'Benchmark data protection office', email: 'dpo@example.nhs.uk' },
  },
  pricing: {
    currency: 'GBP',
    tiers: {
      nhs: { label: 'NHS and local authority', accessFeePerMonth: 0, pricePerTbScanned: 5 },
      academic: { label: 'University research', accessFeePerMonth: 250, pricePerTbScanned: 5, multiplier: 1.5 },
      charity: { label: 'Charity research', accessFeePerMonth: 150, pricePerTbScanned: 5, multiplier: 1.25 },
      commercial: { label: 'Commercial', accessFeePerMonth: 2000, pricePerTbScanned: 5, multiplier: 4 },
    },
  },
};

/** Writes platform.yaml, datasets/ and projects/ under `dir`; returns `dir`. */
export function writeGeneratedConfig(options: GeneratedConfigOptions): string {
  const { dir, projects } = options;
  const tables = options.tables ?? 50;
  const seed = options.seed ?? 1;
  const today = options.today ?? GENERATED_TODAY;
  fs.mkdirSync(path.join(dir, 'datasets'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'projects'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'platform.yaml'), stringify(PLATFORM));
  const datasets = Array.from({ length: tables }, (_, i) => dataset(i, seed));
  for (const ds of datasets) fs.writeFileSync(path.join(dir, 'datasets', `${ds.doc.name}.yaml`), stringify(ds.doc));
  for (let i = 0; i < projects; i++) {
    fs.writeFileSync(path.join(dir, 'projects', `${generatedProjectId(i)}.yaml`), stringify(project(i, seed, today, datasets)));
  }
  return dir;
}
