import * as path from 'node:path';
import { ConfigError, lapsedProjects, loadConfig, projectAccess, projectState, validateConfigDir } from '../../lib/config';
import { ConfigFixture, EXAMPLE_CONFIG, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const fixtures: ConfigFixture[] = [];
afterAll(() => fixtures.forEach((f) => f.cleanup()));

function fixture(source?: string): ConfigFixture {
  const f = new ConfigFixture(source);
  fixtures.push(f);
  return f;
}

function problemsOf(f: ConfigFixture) {
  return validateConfigDir(f.dir, { today: TEST_TODAY }).problems;
}

describe('the example configurations', () => {
  test('config/ is valid and has the datasets and projects the README describes', () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    expect(config.datasets.map((d) => d.name).sort()).toEqual(['demographics', 'gp_events', 'hes_apc', 'hospital_episodes', 'prescriptions']);
    const tiers = new Set(config.projects.map((p) => p.organisation.tier));
    expect(tiers).toEqual(new Set(['nhs', 'academic', 'commercial']));
    expect(config.projects.map((p) => projectState(p, TEST_TODAY)).sort()).toEqual(['active', 'active', 'active', 'expired', 'expired']);
  });

  test('a second region with other datasets and projects is valid', () => {
    const config = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
    expect(config.platform.name).toBe('northwest-sde');
    expect(config.datasets.find((d) => d.name === 'maternity_bookings')?.source.delimiter).toBe('|');
  });

  test('the second region uses the new domains: windows-1252, code lists and vocabularies, a dataset keyed on a client id, postcode_lsoa', () => {
    const config = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
    const maternity = config.datasets.find((d) => d.name === 'maternity_bookings')!;
    const care = config.datasets.find((d) => d.name === 'social_care_assessments')!;
    expect(maternity.source.encoding).toBe('windows-1252');
    // The vocabulary file's codes are in the model (and so in the config the ingestion functions bundle).
    expect(maternity.columns.find((c) => c.name === 'ethnicity')?.format).toMatchObject({ vocabulary: 'vocabularies/ethnic-category.yaml', codes: expect.arrayContaining(['A', 'Z']) });
    expect(care.personKey).toBe('client_id');
    expect(care.columns.find((c) => c.name === 'client_id')).toMatchObject({ format: 'record_id', rule: 'pseudonymise' });
    expect(care.optOut).toEqual({ nhsNumber: 'nhs_number', withoutNhsNumber: 'keep' });
    expect(care.columns.find((c) => c.name === 'home_postcode')).toMatchObject({ rule: 'postcode_lsoa', lookup: 'postcode-lsoa.csv' });
  });

  test('the example config states a value domain for every string it keeps and a range for every number', () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    for (const c of config.datasets.flatMap((d) => d.columns.filter((x) => x.rule === 'keep'))) {
      if (c.type === 'string') expect([c.name, c.format === undefined]).toEqual([c.name, false]);
      if (c.type === 'integer' || c.type === 'decimal') expect([c.name, c.min !== undefined && c.max !== undefined]).toEqual([c.name, true]);
    }
  });

  test('defaults are filled in', () => {
    const config = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
    expect(config.platform.retention.queryResultsDays).toBe(30);
    expect(config.platform.pricing.tiers.public_sector.multiplier).toBe(1);
    expect(config.datasets[0].columns[0].required).toBe(true);
  });
});

describe('refused configurations: each names the file and the field', () => {
  const cases: { name: string; file: string; field: RegExp | string; message: RegExp; change: (f: ConfigFixture) => void }[] = [
    {
      name: 'malformed YAML',
      file: 'projects/ucl-multimorbidity.yaml',
      field: /^line \d+, column \d+$/,
      message: /is not valid YAML/,
      change: (f) => f.write('projects/ucl-multimorbidity.yaml', 'id: ucl-multimorbidity\ntitle: [unclosed\n'),
    },
    {
      name: 'a duplicated YAML key',
      file: 'platform.yaml',
      field: /^line \d+/,
      message: /not valid YAML.*unique/i,
      change: (f) => f.write('platform.yaml', 'name: a-sde\nname: b-sde\n'),
    },
    {
      name: 'an unknown key (a misspelt rowFilter)',
      file: 'projects/medisight-prescribing.yaml',
      field: 'datasets.prescriptions.rowFiltr',
      message: /unknown key "rowFiltr"/,
      change: (f) =>
        f.edit('projects/medisight-prescribing.yaml', (d) => {
          d.datasets.prescriptions.rowFiltr = d.datasets.prescriptions.rowFilter;
          delete d.datasets.prescriptions.rowFilter;
        }),
    },
    {
      name: 'a granted column that does not exist after de-identification',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'datasets.gp_events.columns[5]',
      message: /column "free_text" is dropped at de-identification/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => d.datasets.gp_events.columns.push('free_text')),
    },
    {
      name: 'a granted column that never existed',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'datasets.gp_events.columns[0]',
      message: /column "patient_id" does not exist in the curated table of "gp_events"/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => (d.datasets.gp_events.columns[0] = 'patient_id')),
    },
    {
      name: 'a grant of a direct identifier',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'datasets.demographics.columns[0]',
      message: /"nhs_number" is a direct identifier/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.datasets.demographics.columns[0] = 'nhs_number')),
    },
    {
      name: 'a grant of a dropped direct identifier (a name)',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'datasets.demographics.columns[5]',
      message: /"family_name" is a direct identifier and is dropped/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => d.datasets.demographics.columns.push('family_name')),
    },
    {
      name: 'a project with no approval record',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'approval',
      message: /is missing/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => delete d.approval),
    },
    {
      name: 'a project whose period has ended, still active',
      file: 'projects/kcl-covid-recovery.yaml',
      field: 'period.end',
      message: /ended on 2025-07-31, but status is active/,
      change: (f) => f.edit('projects/kcl-covid-recovery.yaml', (d) => delete d.status),
    },
    {
      name: 'a duplicated project id',
      file: 'projects/zz-copy.yaml',
      field: 'id',
      message: /project id "ncl-winter-planning" is also used by .*ncl-winter-planning.yaml/,
      change: (f) => f.write('projects/zz-copy.yaml', require('node:fs').readFileSync(f.path('projects/ncl-winter-planning.yaml'), 'utf8')),
    },
    {
      name: 'a duplicated dataset name',
      file: 'datasets/zz-copy.yaml',
      field: 'name',
      message: /dataset name "gp_events" is also used by/,
      change: (f) => f.write('datasets/zz-copy.yaml', require('node:fs').readFileSync(f.path('datasets/gp_events.yaml'), 'utf8')),
    },
    {
      name: 'a dataset rule that keeps a direct identifier in clear',
      file: 'datasets/prescriptions.yaml',
      field: 'columns[2] (prescriber_name).rule',
      message: /would keep a direct identifier in clear/,
      change: (f) => f.edit('datasets/prescriptions.yaml', (d) => (d.columns[2].rule = 'keep')),
    },
    {
      name: 'free text kept unscrubbed',
      file: 'datasets/gp_events.yaml',
      field: 'columns[7] (free_text).rule',
      message: /keeps free text unchanged/,
      change: (f) => f.edit('datasets/gp_events.yaml', (d) => (d.columns[7].rule = 'keep')),
    },
    {
      name: 'a rule on the wrong type',
      file: 'datasets/gp_events.yaml',
      field: 'columns[4] (snomed_code).rule',
      message: /"date_to_month" cannot be applied to a string column/,
      change: (f) => f.edit('datasets/gp_events.yaml', (d) => (d.columns[4].rule = 'date_to_month')),
    },
    {
      name: 'an unknown de-identification rule',
      file: 'datasets/gp_events.yaml',
      field: 'columns[4].rule',
      message: /is "hash", which is not allowed/,
      change: (f) => f.edit('datasets/gp_events.yaml', (d) => (d.columns[4].rule = 'hash')),
    },
    {
      name: 'two columns producing one curated name',
      file: 'datasets/demographics.yaml',
      field: 'columns (sex, ethnicity)',
      message: /all produce the curated column "sex"/,
      change: (f) => f.edit('datasets/demographics.yaml', (d) => (d.columns[5].as = 'sex')),
    },
    {
      name: 'an opt-out dataset without a person key',
      file: 'datasets/gp_events.yaml',
      field: 'personKey',
      message: /national data opt-out cannot be applied/,
      change: (f) => f.edit('datasets/gp_events.yaml', (d) => delete d.personKey),
    },
    {
      name: 'age measured at a column that is not a date',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[2] (date_of_birth).ageAt',
      message: /names "provider_code", which is not a date column/,
      change: (f) => f.edit('datasets/hospital_episodes.yaml', (d) => (d.columns[2].ageAt = 'provider_code')),
    },
    {
      name: 'a tier with no price',
      file: 'projects/medisight-prescribing.yaml',
      field: 'organisation.tier',
      message: /is "pharma", which is not a pricing tier/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.organisation.tier = 'pharma')),
    },
    {
      name: 'a malformed researcher principal ARN',
      file: 'projects/medisight-prescribing.yaml',
      field: 'researchers[0].principal',
      message: /must be an IAM role or user ARN/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.researchers[0].principal = 'arn:aws:iam::4444:role/x')),
    },
    {
      name: 'a researcher in the old shape (a principal ARN alone)',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'researchers[1]',
      message: /is "arn:aws:iam::111122223333:role\/ncl-icb-analyst", a principal alone: researchers are now named people/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.researchers[1] = 'arn:aws:iam::111122223333:role/ncl-icb-analyst')),
    },
    {
      name: 'a researcher named rather than referenced (a space is not a source identity)',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'researchers[0].id',
      message: /a roster reference such as NCL-R-014, not a name/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.researchers[0].id = 'Jane Example')),
    },
    {
      name: 'the same researcher listed twice (AWS compares source identities exactly, so case is not a second person)',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'researchers[1].id',
      message: /"ncl-r-0014" is listed twice/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.researchers[1].id = 'ncl-r-0014')),
    },
    {
      name: 'a principal in another account without an external id',
      file: 'projects/medisight-prescribing.yaml',
      field: 'researchers[1].externalId',
      message: /is missing, but the principal is in account 444455556666, outside the platform's \(111122223333\)/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => delete d.researchers[1].externalId),
    },
    {
      name: 'a scan limit below the Athena minimum',
      file: 'projects/medisight-prescribing.yaml',
      field: 'limits.bytesScannedPerQuery',
      message: /at least 10000000/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.limits.bytesScannedPerQuery = 1000)),
    },
    {
      name: 'an approval without the citizen quorum',
      file: 'projects/medisight-prescribing.yaml',
      field: 'approval.citizenMembersPresent',
      message: /requires at least 2 citizen members/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.approval.citizenMembersPresent = 1)),
    },
    {
      name: 'an approval over the disclosure-risk ceiling without a risk acceptance',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'approval.riskAcceptance',
      message: /is missing, but 100.0% of people are in classes under 5 .* over platform.yaml's ceiling of 5.0%/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => delete d.approval.riskAcceptance),
    },
    {
      name: 'a risk acceptance that does not cover the measured risk',
      file: 'projects/ucl-multimorbidity.yaml',
      field: 'approval.riskAcceptance.acceptedShareBelow5',
      message: /does not cover it/,
      change: (f) => f.edit('projects/ucl-multimorbidity.yaml', (d) => (d.approval.riskAcceptance.acceptedShareBelow5 = 0.5)),
    },
    {
      name: 'an active approval without its measured risk when platform.yaml requires it',
      file: 'projects/medisight-prescribing.yaml',
      field: 'approval.disclosureRisk',
      message: /requires every active approval to record its measured re-identification risk/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => delete d.approval.disclosureRisk),
    },
    {
      name: 'a risk accepted before it was measured',
      file: 'projects/ncl-winter-planning.yaml',
      field: 'approval.riskAcceptance.date',
      message: /before the risk was measured/,
      change: (f) => f.edit('projects/ncl-winter-planning.yaml', (d) => (d.approval.riskAcceptance.date = '2026-11-01')),
    },
    {
      name: 'risk figures that cannot both be true',
      file: 'projects/medisight-prescribing.yaml',
      field: 'approval.disclosureRisk.shareBelow10',
      message: /less than shareBelow5/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.approval.disclosureRisk.shareBelow10 = 0.0001)),
    },
    {
      name: 'an approval dated in the future',
      file: 'projects/medisight-prescribing.yaml',
      field: 'approval.date',
      message: /in the future/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.approval.date = '2027-01-01')),
    },
    {
      name: 'a date that is not a real date',
      file: 'projects/medisight-prescribing.yaml',
      field: 'period.end',
      message: /YYYY-MM-DD/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.period.end = '2027-02-30')),
    },
    {
      name: 'a grant of a dataset that does not exist',
      file: 'projects/medisight-prescribing.yaml',
      field: 'datasets.dispensing',
      message: /names dataset "dispensing", which is not defined/,
      change: (f) => f.edit('projects/medisight-prescribing.yaml', (d) => (d.datasets.dispensing = { columns: ['bnf_code'] })),
    },
    {
      name: 'an empty file',
      file: 'projects/medisight-prescribing.yaml',
      field: '',
      message: /the file is empty/,
      change: (f) => f.write('projects/medisight-prescribing.yaml', ''),
    },
    {
      name: 'a register certificate outside us-east-1 (CloudFront cannot use it)',
      file: 'platform.yaml',
      field: 'register.domain.certificateArn',
      message: /ACM certificate in us-east-1/,
      change: (f) =>
        f.edit('platform.yaml', (d) => (d.register = { domain: { names: ['register.example.nhs.uk'], certificateArn: 'arn:aws:acm:eu-west-2:111122223333:certificate/0b1c2d3e-1111-2222-3333-444455556666' } })),
    },
    {
      name: 'a register name written as a URL',
      file: 'platform.yaml',
      field: 'register.domain.names[0]',
      message: /lower-case host name .*no https:\/\//,
      change: (f) =>
        f.edit('platform.yaml', (d) => (d.register = { domain: { names: ['https://register.example.nhs.uk/'], certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/0b1c2d3e-1111-2222-3333-444455556666' } })),
    },
    // Allow-lists for what is kept (issue: de-identified by construction).
    {
      name: 'a string kept in clear with no format (value domain)',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[3] (sex).format',
      message: /string kept in clear must state its value domain/,
      change: (f) => f.edit('datasets/hospital_episodes.yaml', (d) => delete d.columns.find((c: { name: string }) => c.name === 'sex').format),
    },
    {
      name: 'a number kept in clear with no range',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[15] (length_of_stay).max',
      message: /number kept in clear must state its range/,
      change: (f) => f.edit('datasets/hospital_episodes.yaml', (d) => delete d.columns.find((c: { name: string }) => c.name === 'length_of_stay').max),
    },
    {
      name: 'a date of birth kept in full',
      file: 'datasets/demographics.yaml',
      field: 'columns[3] (date_of_birth).rule',
      message: /keeps a full date that is a quasi-identifier/,
      change: (f) =>
        f.edit('datasets/demographics.yaml', (d) => {
          const c = d.columns.find((x: { name: string }) => x.name === 'date_of_birth');
          c.rule = 'keep';
          delete c.as;
          delete c.bandYears;
        }),
    },
    {
      name: 'a quasi-identifying timestamp kept in full',
      file: 'datasets/gp_events.yaml',
      field: 'columns[3] (event_date).rule',
      message: /keeps a full timestamp that is a quasi-identifier/,
      change: (f) =>
        f.edit('datasets/gp_events.yaml', (d) => {
          const c = d.columns.find((x: { name: string }) => x.name === 'event_date');
          c.type = 'timestamp';
          c.rule = 'keep';
          delete c.as;
        }),
    },
    {
      name: 'postcode_lsoa with no lookup',
      file: 'datasets/demographics.yaml',
      field: 'columns[7] (postcode).lookup',
      message: /postcode_lsoa needs a postcode-to-LSOA lookup/,
      change: (f) => f.edit('datasets/demographics.yaml', (d) => (d.columns.find((c: { name: string }) => c.name === 'postcode').rule = 'postcode_lsoa')),
    },
    {
      name: 'a format on a column that is not text',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[15] (length_of_stay).format',
      message: /applies to string columns only/,
      change: (f) => f.edit('datasets/hospital_episodes.yaml', (d) => (d.columns.find((c: { name: string }) => c.name === 'length_of_stay').format = 'icd10')),
    },
    {
      name: 'an NHS number kept in clear under its format',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[1] (nhs_number).rule',
      message: /direct identifier|keeps a nhs_number in clear/,
      change: (f) => f.edit('datasets/hospital_episodes.yaml', (d) => (d.columns.find((c: { name: string }) => c.name === 'nhs_number').rule = 'keep')),
    },
    {
      name: 'a vocabulary file that does not exist',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[3] (sex).format.vocabulary',
      message: /does not exist/,
      change: (f) => f.remove('vocabularies/person-stated-gender.yaml'),
    },
    {
      name: 'a vocabulary path that leaves the config directory',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[3].format.vocabulary',
      message: /under the config directory.*no \.\./,
      change: (f) => f.edit('datasets/hospital_episodes.yaml', (d) => (d.columns.find((c: { name: string }) => c.name === 'sex').format = { vocabulary: '../../etc/passwd.yaml' })),
    },
    {
      name: 'a code listed twice in a vocabulary',
      file: 'vocabularies/ethnic-category.yaml',
      field: 'codes',
      message: /listed twice/,
      change: (f) => f.edit('vocabularies/ethnic-category.yaml', (d) => d.codes.push({ code: 'A', label: 'again' })),
    },
    {
      name: 'a person key that is neither an NHS number nor a record key',
      file: 'datasets/gp_events.yaml',
      field: 'personKey',
      message: /not marked format: nhs_number or format: record_id/,
      change: (f) => f.edit('datasets/gp_events.yaml', (d) => (d.personKey = 'snomed_code')),
    },
    {
      name: 'the opt-out applied to a dataset keyed on a record id with no NHS number column named',
      file: 'datasets/gp_events.yaml',
      field: 'optOut.nhsNumber',
      message: /is not an NHS number, so name the column the opt-out list is matched on/,
      change: (f) => f.edit('datasets/gp_events.yaml', (d) => (d.personKey = 'event_id')),
    },
    {
      name: 'an NHS number that may be missing, with no decision on such rows',
      file: 'datasets/gp_events.yaml',
      field: 'optOut.withoutNhsNumber',
      message: /a row without an NHS number cannot be checked against the opt-out list/,
      change: (f) =>
        f.edit('datasets/gp_events.yaml', (d) => {
          d.personKey = 'event_id';
          d.columns.find((c: { name: string }) => c.name === 'event_id').rule = 'pseudonymise';
          d.columns.find((c: { name: string }) => c.name === 'nhs_number').required = false;
          d.columns.find((c: { name: string }) => c.name === 'nhs_number').rule = 'drop';
          d.optOut = { nhsNumber: 'nhs_number' };
        }),
    },
    {
      name: 'scrub_free_text on a column not marked free_text',
      file: 'datasets/hospital_episodes.yaml',
      field: 'columns[3] (sex).format',
      message: /must be free_text for rule scrub_free_text/,
      change: (f) => f.edit('datasets/hospital_episodes.yaml', (d) => (d.columns.find((c: { name: string }) => c.name === 'sex').rule = 'scrub_free_text')),
    },
    {
      name: 'a missing platform.yaml',
      file: 'platform.yaml',
      field: '',
      message: /is missing/,
      change: (f) => f.remove('platform.yaml'),
    },
    {
      name: 'no datasets',
      file: 'datasets',
      field: '',
      message: /holds no dataset/,
      change: (f) => f.remove('datasets'),
    },
  ];

  test.each(cases)('$name', ({ file, field, message, change }) => {
    const f = fixture();
    change(f);
    const problems = problemsOf(f);
    const expectedFile = f.path(file);
    const match = problems.find(
      (p) => path.resolve(p.file) === expectedFile && (typeof field === 'string' ? p.field === field : field.test(p.field)) && message.test(p.message),
    );
    expect({ match: match !== undefined, problems }).toEqual(expect.objectContaining({ match: true }));
    expect(match!.fix.length).toBeGreaterThan(10);
  });

  test('every problem is reported, not only the first', () => {
    const f = fixture()
      .edit('projects/ucl-multimorbidity.yaml', (d) => delete d.approval)
      .edit('datasets/prescriptions.yaml', (d) => (d.columns[2].rule = 'keep'))
      .edit('projects/medisight-prescribing.yaml', (d) => (d.organisation.tier = 'pharma'))
      .write('projects/broken.yaml', 'id: [');
    const files = new Set(problemsOf(f).map((p) => path.basename(p.file)));
    expect(files).toEqual(new Set(['ucl-multimorbidity.yaml', 'prescriptions.yaml', 'medisight-prescribing.yaml', 'broken.yaml']));
  });

  test('loadConfig throws one ConfigError whose message lists every problem with its fix', () => {
    const f = fixture()
      .edit('projects/ucl-multimorbidity.yaml', (d) => delete d.approval)
      .edit('projects/medisight-prescribing.yaml', (d) => (d.organisation.tier = 'pharma'));
    expect.assertions(4);
    try {
      loadConfig(f.dir, { today: TEST_TODAY });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const message = (e as ConfigError).message;
      expect(message).toMatch(/2 problems/);
      expect(message).toMatch(/ucl-multimorbidity\.yaml: approval: is missing\n\s+fix: record the data access committee approval/);
      expect(message).toMatch(/medisight-prescribing\.yaml: organisation\.tier: .*\n\s+fix: use one of: nhs, academic, charity, commercial/);
    }
  });

  test('not a directory', () => {
    const { problems } = validateConfigDir('/definitely/not/here', { today: TEST_TODAY });
    expect(problems).toEqual([expect.objectContaining({ message: 'is not a configuration directory' })]);
  });
});

describe('the disclosure-risk gate', () => {
  test('within the ceiling no acceptance is needed; lowering the ceiling below a recorded figure needs one', () => {
    expect(problemsOf(fixture())).toEqual([]);
    const lower = fixture().edit('platform.yaml', (d) => (d.disclosureRisk.ceiling = 0.001));
    expect(problemsOf(lower)).toEqual([expect.objectContaining({ file: expect.stringMatching(/medisight-prescribing.yaml$/), field: 'approval.riskAcceptance' })]);
  });

  test('without disclosureRisk in platform.yaml there is no gate (a deployment opts in)', () => {
    const none = fixture().edit('platform.yaml', (d) => delete d.disclosureRisk);
    none.edit('projects/ncl-winter-planning.yaml', (d) => delete d.approval.riskAcceptance);
    expect(problemsOf(none)).toEqual([]);
  });

  test('an expired approval is not held to the gate', () => {
    const f = fixture();
    expect(problemsOf(f.edit('projects/kcl-covid-recovery.yaml', (d) => delete d.approval.disclosureRisk))).toEqual([]);
  });

  test('sde risk loads a config that lacks the figures the gate needs (riskGate: false)', () => {
    const f = fixture().edit('projects/ncl-winter-planning.yaml', (d) => delete d.approval.riskAcceptance);
    expect(() => loadConfig(f.dir, { today: TEST_TODAY })).toThrow(ConfigError);
    expect(loadConfig(f.dir, { today: TEST_TODAY, riskGate: false }).projects).toHaveLength(5);
  });
});

describe('project states and access', () => {
  test('an expired project stays in the config and receives no access', () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    const expired = config.projects.find((p) => p.id === 'kcl-covid-recovery')!;
    expect(projectState(expired, TEST_TODAY)).toBe('expired');
    expect(projectAccess(config, expired)).toEqual([]);
  });

  test('a project past its end date is expired even before anyone marks it', () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    const medisight = config.projects.find((p) => p.id === 'medisight-prescribing')!;
    expect(projectState(medisight, '2027-10-01')).toBe('expired');
    expect(projectState(medisight, '2026-09-30')).toBe('not_started');
    expect(projectState({ ...medisight, status: 'suspended' }, TEST_TODAY)).toBe('suspended');
  });

  test('a project still marked active after its end date never blocks the deployment that removes its access', () => {
    const fixture = new ConfigFixture().edit('projects/kcl-covid-recovery.yaml', (d) => delete d.status);
    try {
      // `sde validate` asks for the file to say what is true...
      expect(() => loadConfig(fixture.dir, { today: TEST_TODAY })).toThrow(/ended on 2025-07-31, but status is active/);
      // ...while a deployment goes ahead, with the project treated as expired: nothing granted.
      const config = loadConfig(fixture.dir, { today: TEST_TODAY, lapsedProjects: 'revoke' });
      const kcl = config.projects.find((p) => p.id === 'kcl-covid-recovery')!;
      expect(lapsedProjects(config).map((p) => p.id)).toEqual(['kcl-covid-recovery']);
      expect([projectState(kcl, TEST_TODAY), projectAccess(config, kcl)]).toEqual(['expired', []]);
    } finally {
      fixture.cleanup();
    }
  });

  test('an active project gets exactly its approved columns and row filter', () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    const medisight = config.projects.find((p) => p.id === 'medisight-prescribing')!;
    expect(projectAccess(config, medisight).map((a) => ({ dataset: a.dataset.name, columns: a.columnNames, rowFilter: a.rowFilter }))).toEqual([
      { dataset: 'prescriptions', columns: ['bnf_code', 'gp_practice_code', 'issue_month', 'quantity'], rowFilter: "bnf_code LIKE '0208%'" },
    ]);
  });
});

describe('row filters in project grants', () => {
  test('a row filter that does not parse is refused with its position', () => {
    const f = fixture().edit('projects/medisight-prescribing.yaml', (d) => (d.datasets.prescriptions.rowFilter = "bnf_code LIKE '0208%' AND"));
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({ field: 'datasets.prescriptions.rowFilter', message: expect.stringMatching(/does not parse: expected a column name \(at character 26\)/) }),
    ]);
  });

  test('a row filter on an unknown or dropped column is refused', () => {
    const f = fixture().edit('projects/medisight-prescribing.yaml', (d) => (d.datasets.prescriptions.rowFilter = "prescriber_name = 'X' OR bnf_cod = '1'"));
    expect(problemsOf(f).map((p) => p.message)).toEqual([
      expect.stringMatching(/names column "prescriber_name", which is not in the curated table/),
      expect.stringMatching(/names column "bnf_cod"/),
    ]);
  });

  test('access carries the canonical filter text both engines receive', () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    const ncl = config.projects.find((p) => p.id === 'ncl-winter-planning')!;
    expect(projectAccess(config, ncl).find((a) => a.dataset.name === 'hospital_episodes')?.rowFilter).toBe(
      "admission_method IN ('21', '22', '23', '24', '25', '28')",
    );
  });
});
