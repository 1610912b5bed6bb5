/**
 * The approval risk measure: the platform's SQL run in DuckDB over real Parquet, checked
 * against a hand-worked example and, on generated data, against an independent
 * implementation in TypeScript; the Athena runner running the very same SQL text (through
 * a stand-in Athena that answers from DuckDB, paging and all); and the verdict against the
 * ceiling and the approval's acceptance.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { loadConfig } from '../../lib/config';
import type { ProjectConfig } from '../../lib/config/schema';
import { athenaRiskRunner } from '../../lib/governance/athena-risk';
import { judgeRisk, measureProjectRisk, projectRiskQuery, type RiskQueryRunner } from '../../lib/governance/disclosure-risk';
import { duckdbRiskRunner } from '../../lib/local/runners/risk';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

type Row = Record<string, string | null>;

/** Writes rows of the named columns as the dataset's curated Parquet (one batch). */
async function writeTable(root: string, dataset: string, columns: readonly string[], rows: readonly Row[]): Promise<void> {
  const dir = path.join(root, dataset, 'load_date=2026-11-01');
  fs.mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const lit = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
  const values =
    rows.length === 0
      ? `SELECT ${columns.map((col) => `NULL::VARCHAR AS ${col}`).join(', ')} WHERE false`
      : `SELECT * FROM (VALUES ${rows.map((r) => `(${columns.map((col) => lit(r[col] ?? null)).join(', ')})`).join(', ')}) t(${columns.join(', ')})`;
  await c.run(`COPY (${values}) TO '${path.join(dir, 'batch-0001.parquet')}' (FORMAT parquet)`);
  c.closeSync();
  instance.closeSync();
}

function project(datasets: ProjectConfig['datasets']): ProjectConfig {
  const base = config.projects.find((p) => p.id === 'ncl-winter-planning')!;
  return { ...base, id: 'risk-test', datasets };
}

async function measure(tables: Record<string, { columns: string[]; rows: Row[] }>, grant: ProjectConfig['datasets']) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-risk-'));
  roots.push(root);
  for (const [name, t] of Object.entries(tables)) await writeTable(root, name, t.columns, t.rows);
  const runner = await duckdbRiskRunner(config, root);
  try {
    return await measureProjectRisk(config, project(grant), runner);
  } finally {
    runner.close();
  }
}

const episode = (person: string, age: string, sex: string, month: string): Row => ({
  person_id: person,
  age_band_at_admission: age,
  sex,
  admission_month: month,
  admission_method: '21',
});
const EPISODE_COLUMNS = ['person_id', 'age_band_at_admission', 'sex', 'admission_month', 'admission_method'];

describe('a hand-worked example', () => {
  // Six people in 40-44/F admitted in March: a class of 6. Person p7 alone in 80-84/M in May.
  // Persons p1 and p2 also have a second admission, in April and June: their trajectories differ from everyone's.
  const rows = [
    ...['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((p) => episode(p, '40-44', 'F', '2026-03')),
    episode('p7', '80-84', 'M', '2026-05'),
    episode('p1', '40-44', 'F', '2026-04'),
    episode('p2', '40-44', 'F', '2026-06'),
  ];
  const grant = { hospital_episodes: { columns: ['person_id', 'age_band_at_admission', 'sex', 'admission_month'] } };

  test('quasi-identifiers: p7 is in a class of 1, p1 and p2 also (their second admission); 3 of 7 under 5; under 10 all 7', async () => {
    const risk = await measure({ hospital_episodes: { columns: EPISODE_COLUMNS, rows } }, grant);
    const qi = risk.measures.find((m) => m.kind === 'quasi_identifiers')!;
    expect(qi).toMatchObject({ people: 7, below5: 3, below10: 7, maxRecordsPerPerson: 2 });
    const trajectory = risk.measures.find((m) => m.kind === 'trajectory')!;
    // Trajectories: p3..p6 share one (class of 4 < 5), p1, p2, p7 are unique: all 7 under 5.
    expect(trajectory).toMatchObject({ people: 7, below5: 7, below10: 7 });
    expect(risk.worst?.kind).toBe('trajectory');
  });

  test('without the pseudonym in the grant, only the quasi-identifiers are measured', async () => {
    const risk = await measure(
      { hospital_episodes: { columns: EPISODE_COLUMNS, rows } },
      { hospital_episodes: { columns: ['age_band_at_admission', 'sex', 'admission_month'] } },
    );
    expect(risk.measures.map((m) => m.kind)).toEqual(['quasi_identifiers']);
  });

  test('the row filter of the grant is applied: rows outside it are not measured', async () => {
    const filtered = [...rows, { ...episode('p8', '90+', 'F', '2026-01'), admission_method: '11' }];
    const risk = await measure(
      { hospital_episodes: { columns: EPISODE_COLUMNS, rows: filtered } },
      { hospital_episodes: { ...grant.hospital_episodes, rowFilter: "admission_method IN ('21')" } },
    );
    expect(risk.measures[0].people).toBe(7);
  });
});

/** An independent k-anonymity count, record by record, for the generated cases. */
function oracle(rows: readonly Row[], qis: readonly string[]) {
  const key = (r: Row) => JSON.stringify(qis.map((q) => r[q]));
  const classes = new Map<string, Set<string>>();
  for (const r of rows) classes.set(key(r), (classes.get(key(r)) ?? new Set()).add(r.person_id!));
  const personK = new Map<string, number>();
  for (const r of rows) personK.set(r.person_id!, Math.min(personK.get(r.person_id!) ?? Infinity, classes.get(key(r))!.size));
  const profiles = new Map<string, string[]>();
  for (const r of rows) profiles.set(r.person_id!, [...(profiles.get(r.person_id!) ?? []), key(r)]);
  const byProfile = new Map<string, number>();
  const profileOf = (p: string) => JSON.stringify([...profiles.get(p)!].sort());
  for (const p of profiles.keys()) byProfile.set(profileOf(p), (byProfile.get(profileOf(p)) ?? 0) + 1);
  const count = (ks: number[], k: number) => ks.filter((x) => x < k).length;
  const qiKs = [...personK.values()];
  const trajKs = [...profiles.keys()].map((p) => byProfile.get(profileOf(p))!);
  return { people: personK.size, qi: [count(qiKs, 5), count(qiKs, 10)], trajectory: [count(trajKs, 5), count(trajKs, 10)] };
}

test('property: the SQL agrees with an independent count on generated episodes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          person: fc.integer({ min: 1, max: 40 }),
          age: fc.constantFrom('0-4', '40-44', '85+'),
          sex: fc.constantFrom('1', '2', '9'),
          month: fc.constantFrom('2026-01', '2026-02', '2026-03'),
        }),
        { minLength: 1, maxLength: 120 },
      ),
      async (generated) => {
        const rows = generated.map((g) => episode(`p${g.person}`, g.age, g.sex, g.month));
        const risk = await measure(
          { hospital_episodes: { columns: EPISODE_COLUMNS, rows } },
          { hospital_episodes: { columns: ['person_id', 'age_band_at_admission', 'sex', 'admission_month'] } },
        );
        const expected = oracle(rows, ['admission_month', 'age_band_at_admission', 'sex']);
        const qi = risk.measures.find((m) => m.kind === 'quasi_identifiers')!;
        const trajectory = risk.measures.find((m) => m.kind === 'trajectory')!;
        expect([qi.people, qi.below5, qi.below10]).toEqual([expected.people, ...expected.qi]);
        expect([trajectory.people, trajectory.below5, trajectory.below10]).toEqual([expected.people, ...expected.trajectory]);
      },
    ),
    { numRuns: 25 },
  );
});

test("linked datasets: the pseudonym in two grants joins each person's trajectories", async () => {
  // Twelve people with one identical admission each: a class of 12 in each table. Person d1 also appears in demographics
  // with a different age band from the other eleven: linked, they are alone.
  const eps = Array.from({ length: 12 }, (_, i) => episode(`d${i + 1}`, '40-44', 'F', '2026-03'));
  const demo = Array.from({ length: 12 }, (_, i) => ({ person_id: `d${i + 1}`, age_band: i === 0 ? '85+' : '40-44', sex: 'F' }));
  const risk = await measure(
    { hospital_episodes: { columns: EPISODE_COLUMNS, rows: eps }, demographics: { columns: ['person_id', 'age_band', 'sex'], rows: demo } },
    {
      hospital_episodes: { columns: ['person_id', 'age_band_at_admission', 'sex', 'admission_month'] },
      demographics: { columns: ['person_id', 'age_band', 'sex'] },
    },
  );
  const linked = risk.measures.find((m) => m.kind === 'linked')!;
  expect(linked).toMatchObject({ people: 12, below5: 1, below10: 1, datasets: ['demographics', 'hospital_episodes'] });
  expect(risk.measures.find((m) => m.kind === 'trajectory' && m.datasets[0] === 'hospital_episodes')).toMatchObject({ below5: 0 });
});

describe('on AWS: the same SQL in Athena', () => {
  /** A stand-in Athena: runs the SQL it is given in DuckDB, answers in Athena's shapes, two rows a page. */
  function standInAthena(runner: RiskQueryRunner, state: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED') {
    const seen: string[] = [];
    let rows: Record<string, unknown>[] = [];
    let polls = 0;
    return {
      seen,
      client: {
        async send(command: unknown) {
          if (command instanceof StartQueryExecutionCommand) {
            seen.push(command.input.QueryString!);
            expect(command.input.WorkGroup).toBe('onelondon-sde-platform');
            rows = await runner.run(command.input.QueryString!);
            return { QueryExecutionId: 'q-1' };
          }
          if (command instanceof GetQueryExecutionCommand) {
            polls++;
            return { QueryExecution: { Status: { State: polls < 2 ? 'RUNNING' : state, StateChangeReason: 'SYNTAX_ERROR' } } };
          }
          if (command instanceof GetQueryResultsCommand) {
            const names = Object.keys(rows[0] ?? {});
            const all = [names, ...rows.map((r) => names.map((n) => (r[n] === null ? null : String(r[n]))))];
            const start = Number(command.input.NextToken ?? 0);
            const page = all.slice(start, start + 2);
            return {
              ResultSet: {
                ResultSetMetadata: { ColumnInfo: names.map((n) => ({ Name: n })) },
                Rows: page.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
              },
              ...(start + 2 < all.length ? { NextToken: String(start + 2) } : {}),
            };
          }
          throw new Error('unexpected command');
        },
      },
    };
  }

  test('the Athena runner gets the same text and returns the same measures as DuckDB', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-risk-athena-'));
    roots.push(root);
    // The columns ncl-winter-planning is granted, on a few synthetic people.
    const rows = Array.from({ length: 30 }, (_, i) => ({
      ...episode(`a${i % 11}`, ['40-44', '85+'][i % 2], '2', `2026-0${(i % 3) + 1}`),
      discharge_month: `2026-0${(i % 3) + 1}`,
      lsoa_code: `E0100000${i % 4}`,
    }));
    await writeTable(root, 'hospital_episodes', [...EPISODE_COLUMNS, 'discharge_month', 'lsoa_code'], rows);
    await writeTable(
      root,
      'demographics',
      ['person_id', 'age_band', 'sex', 'lsoa_code', 'gp_practice_code'],
      Array.from({ length: 11 }, (_, i) => ({
        person_id: `a${i}`,
        age_band: '40-44',
        sex: String(i % 2),
        lsoa_code: 'E01000001',
        gp_practice_code: `F8${i % 3}001`,
      })),
    );
    const duck = await duckdbRiskRunner(config, root);
    try {
      const p = config.projects.find((x) => x.id === 'ncl-winter-planning')!;
      const local = await measureProjectRisk(config, p, duck);
      const athena = standInAthena(duck);
      const remote = await measureProjectRisk(
        config,
        p,
        athenaRiskRunner({ athena: athena.client, workgroup: 'onelondon-sde-platform', sleep: async () => undefined }),
      );
      expect(athena.seen).toEqual([projectRiskQuery(config, p)!.sql]);
      expect(remote).toEqual(local);
      expect(local.measures.length).toBe(5);
      const failing = standInAthena(duck, 'FAILED');
      await expect(
        athenaRiskRunner({ athena: failing.client, workgroup: 'onelondon-sde-platform', sleep: async () => undefined }).run('SELECT 1 AS x'),
      ).rejects.toThrow(/failed: SYNTAX_ERROR/);
    } finally {
      duck.close();
    }
  });

  test('the SQL reads the Glue tables by name and uses nothing DuckDB-only', () => {
    const sql = projectRiskQuery(
      config,
      config.projects.find((p) => p.id === 'ucl-multimorbidity')!,
    )!.sql;
    expect(sql).toMatch(/"onelondon_sde_curated"\."gp_events"/);
    expect(sql).toMatch(/array_join\(array_agg\(/);
    expect(sql).not.toMatch(/string_agg|list\(|read_parquet|::/);
  });
});

describe('the verdict', () => {
  const ncl = config.projects.find((p) => p.id === 'ncl-winter-planning')!;
  const risk = (share: number) => ({
    projectId: ncl.id,
    measures: [],
    worst: {
      id: 'm1',
      kind: 'quasi_identifiers' as const,
      label: 'x',
      datasets: [],
      columns: [],
      people: 100,
      below5: share * 100,
      below10: share * 100,
      shareBelow5: share,
      shareBelow10: share,
      maxRecordsPerPerson: 1,
    },
  });
  test('within the ceiling, accepted, over it', () => {
    expect(judgeRisk(config, ncl, risk(0.01)).verdict).toBe('within_ceiling');
    expect(judgeRisk(config, ncl, risk(0.9)).verdict).toBe('accepted');
    const withoutAcceptance = { ...ncl, approval: { ...ncl.approval, riskAcceptance: undefined } };
    expect(judgeRisk(config, withoutAcceptance, risk(0.9))).toMatchObject({ verdict: 'over_ceiling', message: expect.stringMatching(/no risk acceptance/) });
    const partly = { ...ncl, approval: { ...ncl.approval, riskAcceptance: { ...ncl.approval.riskAcceptance!, acceptedShareBelow5: 0.5 } } };
    expect(judgeRisk(config, partly, risk(0.9)).message).toMatch(/beyond the 50.0% the approval accepts/);
    const expired = config.projects.find((p) => p.id === 'kcl-covid-recovery')!;
    expect(judgeRisk(config, expired, risk(0.9))).toMatchObject({ verdict: 'not_held', message: expect.stringMatching(/expired, so it is not held/) });
  });
});
