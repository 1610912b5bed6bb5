/**
 * What billing needs from the governance config, and nothing more: the pricing tiers and,
 * per project, the organisation (statements go to organisations, never to researchers),
 * the approved period, the budget and the workgroup. A plain JSON-safe snapshot, so the
 * billing Lambda can be given exactly this (and no researcher ARN) at deployment.
 */
import type { SdeConfig } from '../config/model';
import type { ProjectConfig } from '../config/schema';
import { projectWorkgroupName } from '../config/naming';
import type { WorkgroupProjects } from './usage';

export interface BillingTier {
  readonly label: string;
  readonly accessFeePerMonth: number;
  readonly pricePerTbScanned: number;
  readonly multiplier: number;
}

export interface BillingPricing {
  readonly currency: string;
  readonly tiers: Readonly<Record<string, BillingTier>>;
  /** What AWS charges the platform per TB Athena scans, in USD: the budget is compared with this. */
  readonly awsUsdPerTbScanned: number;
}

export interface BillingProject {
  readonly id: string;
  readonly title: string;
  readonly status: ProjectConfig['status'];
  readonly organisation: { readonly name: string; readonly type: string; readonly tier: string };
  readonly period: { readonly start: string; readonly end: string };
  readonly approvalReference: string;
  readonly monthlyBudgetUsd: number;
  readonly workgroup: string;
}

export interface BillingInputs {
  readonly platformName: string;
  readonly displayName: string;
  readonly pricing: BillingPricing;
  readonly projects: readonly BillingProject[];
}

export function billingInputs(config: SdeConfig): BillingInputs {
  const { pricing } = config.platform;
  return {
    platformName: config.platform.name,
    displayName: config.platform.displayName,
    pricing: {
      currency: pricing.currency,
      awsUsdPerTbScanned: pricing.awsUsdPerTbScanned,
      tiers: Object.fromEntries(
        Object.entries(pricing.tiers).map(([id, t]) => [
          id,
          { label: t.label, accessFeePerMonth: t.accessFeePerMonth, pricePerTbScanned: t.pricePerTbScanned, multiplier: t.multiplier },
        ]),
      ),
    },
    projects: config.projects.map((p) => ({
      id: p.id,
      title: p.title,
      status: p.status,
      organisation: { name: p.organisation.name, type: p.organisation.type, tier: p.organisation.tier },
      period: { start: p.period.start, end: p.period.end },
      approvalReference: p.approval.reference,
      monthlyBudgetUsd: p.limits.monthlyBudgetUsd,
      workgroup: projectWorkgroupName(config, p.id),
    })),
  };
}

/** The project a workgroup belongs to, for the usage readers. */
export function workgroupProjects(inputs: BillingInputs): WorkgroupProjects {
  const byWorkgroup = new Map(inputs.projects.map((p) => [p.workgroup, p.id]));
  return (workgroup) => byWorkgroup.get(workgroup);
}
