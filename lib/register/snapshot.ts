/**
 * What the register Lambda knows of the config: exactly what `buildRegister` reads, taken
 * from the validated config at synth and built into the function's code. A governance
 * change reaches the published register through the same reviewed `cdk deploy` as the
 * grants themselves, and the function holds no researcher, admin or reviewer identity.
 */
import { airlockSettings } from '../config/airlock-settings';
import type { SdeConfig } from '../config/model';
import type { DatasetConfig, PlatformConfig, ProjectConfig } from '../config/schema';

/** The snapshot's file name in the publisher's bundle, next to its code. */
export const REGISTER_SNAPSHOT_FILE = 'register-snapshot.json';

/** The project fields the register publishes or judges status by; nothing else is carried. */
export type SnapshotProject = Pick<
  ProjectConfig,
  'id' | 'title' | 'status' | 'organisation' | 'purpose' | 'summary' | 'benefit' | 'lawfulBasis' | 'period' | 'datasets'
> & {
  readonly approval: Pick<ProjectConfig['approval'], 'committee' | 'reference' | 'date' | 'citizenMembersPresent'>;
};

export interface RegisterConfigSnapshot {
  readonly platform: Pick<PlatformConfig, 'name' | 'displayName' | 'description' | 'pricing'> & {
    /** When outcome reports fall due: the register flags the overdue. */
    readonly governance: { readonly outcomeReports: PlatformConfig['governance']['outcomeReports'] };
    /** What the register tells people about their own data (how to opt out, whom to contact). */
    readonly register: Pick<PlatformConfig['register'], 'optOut' | 'contact'>;
  };
  readonly datasets: readonly DatasetConfig[];
  readonly projects: readonly SnapshotProject[];
  /** The disclosure threshold (the airlock's suppressionThreshold). */
  readonly threshold: number;
}

export function registerConfigSnapshot(config: SdeConfig): RegisterConfigSnapshot {
  const { platform } = config;
  return {
    platform: {
      name: platform.name,
      displayName: platform.displayName,
      description: platform.description,
      pricing: platform.pricing,
      governance: { outcomeReports: platform.governance.outcomeReports },
      register: { optOut: platform.register.optOut, contact: platform.register.contact },
    },
    datasets: config.datasets.map(({ file: _file, ...d }) => d),
    // Picked field by field, so a field added to projects later is not carried unless added here.
    projects: config.projects.map((p) => ({
      id: p.id,
      title: p.title,
      status: p.status,
      organisation: p.organisation,
      purpose: p.purpose,
      summary: p.summary,
      benefit: p.benefit,
      lawfulBasis: p.lawfulBasis,
      approval: {
        committee: p.approval.committee,
        reference: p.approval.reference,
        date: p.approval.date,
        citizenMembersPresent: p.approval.citizenMembersPresent,
      },
      period: p.period,
      datasets: p.datasets,
    })),
    threshold: airlockSettings(platform).suppressionThreshold,
  };
}

/**
 * The config `buildRegister` takes, from a snapshot, judged on `today`. The cast is the
 * point: `buildRegister` reads only the snapshot's fields (test/register/publish.test.ts
 * holds the two registers equal), and the fields it never reads (admins, alerts,
 * researchers) are absent, so nothing can publish them.
 */
export function configFromSnapshot(snapshot: RegisterConfigSnapshot, today: string): SdeConfig {
  return {
    dir: '',
    today,
    platform: { ...snapshot.platform, file: 'platform.yaml' } as unknown as SdeConfig['platform'],
    datasets: snapshot.datasets.map((d) => ({ ...d, file: `datasets/${d.name}.yaml` })),
    projects: snapshot.projects.map((p) => ({ ...p, file: `projects/${p.id}.yaml` }) as unknown as SdeConfig['projects'][number]),
  };
}
