/**
 * Public benefit in the config: every project states it, a commercial user records its
 * benefit-sharing terms, delivered outcomes and reports are dated within the project's
 * life, and the outcome-report schedule is judged the same way everywhere.
 */
import * as path from 'node:path';
import { addMonths, ConfigProblem, isCommercial, loadConfig, outcomeReportStatus, ProjectConfig, validateConfigDir } from '../../lib/config';
import { ConfigFixture, EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const fixtures: ConfigFixture[] = [];
afterAll(() => fixtures.forEach((f) => f.cleanup()));

function fixture(source?: string): ConfigFixture {
  const f = new ConfigFixture(source);
  fixtures.push(f);
  return f;
}

function problemsOf(f: ConfigFixture, today = TEST_TODAY): ConfigProblem[] {
  return validateConfigDir(f.dir, { today }).problems;
}

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the example configurations state their benefit', () => {
  test('every example project has a benefit statement and one outcome; the commercial one has sharing terms', () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    for (const p of config.projects) {
      expect(p.benefit?.whoBenefits).toBeTruthy();
      expect(p.benefit?.outcomes).toHaveLength(1);
      expect(isCommercial(p, config.platform) ? p.benefit?.sharing : 'n/a').toBeTruthy();
    }
    expect(config.projects.filter((p) => isCommercial(p, config.platform)).map((p) => p.id)).toEqual(['medisight-prescribing']);
    expect(config.platform.governance.outcomeReports).toEqual({ intervalMonths: 6, finalReportWithinDays: 90 });
  });

  test('a platform.yaml without outcomeReports takes the default schedule', () => {
    const f = fixture(SECOND_CONFIG);
    expect(loadConfig(f.dir, { today: TEST_TODAY }).platform.governance.outcomeReports).toEqual({ intervalMonths: 12, finalReportWithinDays: 90 });
  });
});

describe('refused: each names the file, the field and the fix', () => {
  const cases: { name: string; file: string; field: string | RegExp; message: RegExp; change: (f: ConfigFixture) => void }[] = [
    {
      name: 'a project without a benefit statement',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'benefit',
      message: /every project must state the public benefit/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => delete d.benefit),
    },
    {
      name: 'an expired project without a benefit statement (it stays on the register)',
      file: 'projects/kcl-covid-recovery.yaml',
      field: 'benefit',
      message: /every project must state the public benefit/,
      change: (f) => f.edit('projects/kcl-covid-recovery.yaml', (d) => delete d.benefit),
    },
    {
      name: 'a commercial project without benefit-sharing terms',
      file: 'projects/medisight-prescribing.yaml',
      field: 'benefit.sharing',
      message: /the organisation is a company, so the project must record the benefit-sharing terms/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => delete d.benefit.sharing),
    },
    {
      name: 'a company moved to a public tier, still without sharing terms',
      file: 'projects/medisight-prescribing.yaml',
      field: 'benefit.sharing',
      message: /company/,
      change: (f) =>
        f.edit('projects/medisight-prescribing.yaml', (d) => {
          delete d.benefit.sharing;
          d.organisation.tier = 'academic';
        }),
    },
    {
      name: 'a university on the commercial tier without sharing terms',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'benefit.sharing',
      message: /tier "commercial" is marked commercial/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => (d.organisation.tier = 'commercial')),
    },
    {
      name: 'sharing terms with no term named',
      file: 'projects/medisight-prescribing.yaml',
      field: 'benefit.sharing.terms',
      message: /name at least one of: royalties/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.benefit.sharing.terms = [])),
    },
    {
      name: 'a sharing term outside the list',
      file: 'projects/medisight-prescribing.yaml',
      field: 'benefit.sharing.terms[0]',
      message: /"goodwill", which is not allowed/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.benefit.sharing.terms = ['goodwill'])),
    },
    {
      name: 'a benefit stated in one word',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'benefit.how',
      message: /at least 6 words/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => (d.benefit.how = 'TBC')),
    },
    {
      name: 'no date by which the benefit is expected',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'benefit.byWhen',
      message: /is missing|must be a date written YYYY-MM-DD/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => delete d.benefit.byWhen),
    },
    {
      name: 'a benefit expected before the project could use the data',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'benefit.byWhen',
      message: /before the project's access begins/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => (d.benefit.byWhen = '2026-05-31')),
    },
    {
      name: 'an outcome dated in the future',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'benefit.outcomes[0].date',
      message: /in the future/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.outcomes[0].date = '2026-11-23')),
    },
    {
      name: 'an outcome of an unknown kind',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'benefit.outcomes[0].kind',
      message: /"press_release", which is not allowed/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.outcomes[0].kind = 'press_release')),
    },
    {
      name: 'an outcome linked over plain http',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'benefit.outcomes[0].reference',
      message: /must be an https:\/\/ link/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.outcomes[0].reference = 'http://www.example.nhs.uk/plan')),
    },
    {
      name: 'an outcome without a reference',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'benefit.outcomes[0].reference',
      message: /must not be empty|expected string/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.outcomes[0].reference = '   ')),
    },
    {
      name: 'a report dated in the future',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'benefit.reports[0].date',
      message: /in the future/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.reports[0].date = '2027-01-01')),
    },
    {
      name: 'two final reports',
      file: 'projects/kcl-covid-recovery.yaml',
      field: 'benefit.reports[1].final',
      message: /second final report/,
      change: (f) => f.edit('projects/kcl-covid-recovery.yaml', (d) => (d.benefit.reports[0].final = true)),
    },
    {
      name: 'an unknown key in the benefit block (a misspelt outcomes)',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'benefit.outcome',
      message: /unknown key "outcome"/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.outcome = d.benefit.outcomes)),
    },
    {
      name: 'a reporting interval of zero months',
      file: 'platform.yaml',
      field: 'governance.outcomeReports.intervalMonths',
      message: /at least 1/,
      change: (f) => f.edit('platform.yaml', (d) => (d.governance.outcomeReports.intervalMonths = 0)),
    },
  ];

  test.each(cases)('$name', ({ file, field, message, change }) => {
    const f = fixture();
    change(f);
    const problems = problemsOf(f);
    const hit = problems.find((p) => p.file === path.join(f.dir, file) || p.file.endsWith(file));
    expect(hit).toBeDefined();
    const matching = problems.filter((p) => p.file.endsWith(file) && (typeof field === 'string' ? p.field === field : field.test(p.field)));
    expect(matching.map((p) => p.message).join('\n')).toMatch(message);
    for (const p of matching) expect(p.fix.length).toBeGreaterThan(10);
  });
});

describe('disguises do not get past the checks', () => {
  test('a company on any tier, and any organisation on any tier marked commercial, must record sharing terms', () => {
    const r = rng(24);
    for (let i = 0; i < 12; i++) {
      const tier = `t${Math.floor(r() * 1e6).toString(36)}`;
      const company = r() < 0.5;
      const f = fixture();
      f.edit('platform.yaml', (d) => {
        d.pricing.tiers[tier] = { label: 'Another tier', accessFeePerMonth: 1, pricePerTbScanned: 1, ...(company ? {} : { commercial: true }) };
      });
      f.edit('projects/ucl-multimorbidity.yaml', (d) => {
        d.organisation.tier = tier;
        d.organisation.type = company ? 'company' : ['nhs', 'university', 'charity', 'local_authority'][Math.floor(r() * 4)];
      });
      const problems = problemsOf(f).filter((p) => p.field === 'benefit.sharing');
      expect(problems).toHaveLength(1);
    }
  });

  test('benefit text made of punctuation, numbers or spaces is not a statement', () => {
    const r = rng(7);
    const junk = ['-', '.', '…', '0', '1', '—', '?', 'n/a'];
    for (let i = 0; i < 20; i++) {
      const words = Array.from({ length: 6 + Math.floor(r() * 10) }, () => junk[Math.floor(r() * (junk.length - 1))]);
      const f = fixture();
      f.edit('projects/ucl-multimorbidity.yaml', (d) => (d.benefit.how = words.join(r() < 0.5 ? ' ' : '\t')));
      expect(problemsOf(f).map((p) => p.field)).toContain('benefit.how');
    }
  });

  test('only https links are links: other schemes written as links are refused, references in words are kept', () => {
    const refused = ['http://example.nhs.uk', 'HTTP://EXAMPLE.NHS.UK', 'ftp://example.org/x', 'javascript://%0aalert(1)', 'data://text/html,x', 'https://', 'https:// spaced.example'];
    for (const reference of refused) {
      const f = fixture();
      f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.outcomes[0].reference = reference));
      expect(problemsOf(f).map((p) => p.field)).toContain('benefit.outcomes[0].reference');
    }
    for (const reference of ['doi:10.1234/abc', 'ISBN 978-0-00-000000-0', 'https://doi.org/10.1234/abc', 'Board paper, January 2027, item 7']) {
      const f = fixture();
      f.edit('projects/ncl-winter-planning.yaml', (d) => (d.benefit.outcomes[0].reference = reference));
      expect(problemsOf(f)).toEqual([]);
    }
  });
});

describe('outcome reports: when they are due', () => {
  const settings = { intervalMonths: 6, finalReportWithinDays: 90 };
  const project = (start: string, end: string, reports: { date: string; final?: boolean }[], status: ProjectConfig['status'] = 'active') =>
    ({ status, period: { start, end }, benefit: { reports: reports.map((r) => ({ summary: 'x', final: false, ...r })) } }) as unknown as ProjectConfig;

  test('calendar months, the day clamped to the month', () => {
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-08-31', -6)).toBe('2026-02-28');
    expect(addMonths('2026-11-15', 14)).toBe('2028-01-15');
  });

  test('not due before the first interval; overdue the day after it passes with no report; a late report clears it', () => {
    const p = project('2026-04-01', '2028-03-31', []);
    expect(outcomeReportStatus(p, settings, '2026-10-01')).toMatchObject({ overdue: false, nextDue: '2026-10-01', overdueSince: null });
    expect(outcomeReportStatus(p, settings, '2026-09-30')).toMatchObject({ overdue: false, nextDue: '2026-10-01' });
    const late = outcomeReportStatus(project('2026-04-01', '2028-03-31', []), settings, '2026-10-02');
    expect(late.overdueSince).toBe('2026-10-01');
    // The example config: UCL's first report fell due on 1 December 2026.
    expect(outcomeReportStatus(project('2026-06-01', '2029-05-31', []), settings, '2026-12-02').overdueSince).toBe('2026-12-01');
    expect(outcomeReportStatus(project('2026-04-01', '2028-03-31', [{ date: '2026-11-15' }]), settings, '2026-11-16').overdue).toBe(false);
    // A report from the interval before does not answer the next one.
    expect(outcomeReportStatus(project('2026-04-01', '2028-03-31', [{ date: '2026-09-30' }]), settings, '2027-04-02').overdueSince).toBe('2027-04-01');
  });

  test('an ended project owes a final report: flagged at once, overdue after the deadline, cleared by a final report', () => {
    const ended = project('2024-02-01', '2025-07-31', [{ date: '2025-02-03' }], 'expired');
    expect(outcomeReportStatus(ended, settings, '2025-08-15')).toMatchObject({ finalReport: { due: '2025-10-29', received: null, overdue: false }, overdue: false });
    expect(outcomeReportStatus(ended, settings, '2025-10-30')).toMatchObject({ finalReport: { received: null, overdue: true }, overdue: true });
    const done = project('2024-02-01', '2025-07-31', [{ date: '2025-09-12', final: true }], 'expired');
    expect(outcomeReportStatus(done, settings, '2026-11-22')).toMatchObject({ finalReport: { received: '2025-09-12', overdue: false }, overdue: false });
    // Lapsed (still marked active, period over) is ended too.
    expect(outcomeReportStatus(project('2024-02-01', '2025-07-31', []), settings, '2026-01-01').finalReport?.overdue).toBe(true);
  });

  test('random schedules: a report on every due date is never overdue; with none, overdue exactly once the first is due', () => {
    const r = rng(99);
    for (let i = 0; i < 300; i++) {
      const interval = 1 + Math.floor(r() * 24);
      const start = `${2020 + Math.floor(r() * 6)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 31)).padStart(2, '0')}`;
      const startOk = addMonths(start, 0);
      const end = addMonths(startOk, 1 + Math.floor(r() * 60));
      const today = addMonths(startOk, Math.floor(r() * 40));
      const s = { intervalMonths: interval, finalReportWithinDays: 90 };
      const dues: string[] = [];
      for (let k = 1; addMonths(startOk, k * interval) <= end; k++) dues.push(addMonths(startOk, k * interval));
      const onTime = project(
        startOk,
        end,
        dues.filter((d) => d <= today).map((date) => ({ date })),
      );
      const status = outcomeReportStatus(onTime, s, today);
      expect(status.overdueSince).toBeNull();
      const none = outcomeReportStatus(project(startOk, end, []), s, today);
      expect(none.overdueSince !== null).toBe(dues.length > 0 && dues[0] < today);
    }
  });
});
