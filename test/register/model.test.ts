import * as fs from 'node:fs';
import * as path from 'node:path';
import { airlockEvent } from '../../lib/airlock/audit-events';
import type { CloudTrailRecord } from '../../lib/audit/cloudtrail-record';
import { localAuditEnv, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import { runCli } from '../../lib/cli/cli';
import { loadConfig } from '../../lib/config';
import { buildRegister, countText, formatBytes, publicCount, Register, RegisterProject } from '../../lib/register/model';
import { readLocalRecords } from '../../lib/local/runners/register';
import { renderRegisterCsv, renderRegisterHtml, renderRegisterJson } from '../../lib/register/render';
import { ConfigFixture, EXAMPLE_CONFIG, REPO_ROOT, SECOND_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { tempDir, writeStory } from './helpers';
import { awsRecords } from './aws-helpers';
import { cloudTrailKey, signedTrail, writeTrailFolder } from '../audit/helpers/signed-cloudtrail';
import { slipRecordIn } from '../audit/helpers/tamper';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const workdir = tempDir('sde-register-model-');
const written = writeStory(config, workdir);
let register: Register;
const project = (id: string): RegisterProject => register.projects.find((p) => p.id === id)!;

beforeAll(async () => {
  const read = await readLocalRecords(workdir);
  expect(read.records).toHaveLength(written.length);
  register = buildRegister(config, read.records);
});
afterAll(() => fs.rmSync(workdir, { recursive: true, force: true }));

describe('publicCount', () => {
  test.each([
    [0, 7, '0'],
    [1, 7, 'fewer than 8'],
    [7, 7, 'fewer than 8'],
    [8, 7, '8'],
    [10, 10, 'fewer than 11'],
    [11, 10, '11'],
  ])('%i with threshold %i reads "%s"', (n, threshold, text) => {
    expect(countText(publicCount(n, threshold))).toBe(text);
  });
});

test('formatBytes uses decimal units', () => {
  expect([formatBytes(0), formatBytes(999), formatBytes(12_000_000), formatBytes(1_500_000_000), formatBytes(2.5e12)]).toEqual([
    '0 bytes',
    '999 bytes',
    '12 MB',
    '1.5 GB',
    '2.5 TB',
  ]);
});

describe('the register of the example config', () => {
  test("says how the national data opt-out was applied to each dataset, with the supplier's statement where the supplier applied it", () => {
    const hes = register.projects.find((p) => p.id === 'nel-hes-admissions-pilot')!.datasets.find((d) => d.name === 'hes_apc')!;
    expect(hes.optOut).toEqual({ appliedBy: 'supplier', statement: expect.stringMatching(/^NHS England applies the national data opt-out/) });
    const episodes = register.projects.find((p) => p.id === 'ncl-winter-planning')!.datasets.find((d) => d.name === 'hospital_episodes')!;
    expect(episodes.optOut).toEqual({ appliedBy: 'platform' });
    const html = renderRegisterHtml(register);
    expect(html).toContain('the supplier removed the records of people who opted out (national data opt-out) before sending the data');
    expect(html).toContain("Supplier's statement: NHS England applies the national data opt-out");
    expect(
      JSON.parse(renderRegisterJson(register)).projects.find((p: { id: string }) => p.id === 'nel-hes-admissions-pilot').datasets[0].optOut.appliedBy,
    ).toBe('supplier');
  });

  test('lists every project in the config, expired ones included, with its status', () => {
    expect(register.projects.map((p) => [p.id, p.status])).toEqual([
      ['kcl-covid-recovery', 'expired'],
      ['medisight-prescribing', 'active'],
      ['ncl-winter-planning', 'active'],
      ['nel-hes-admissions-pilot', 'expired'],
      ['ucl-multimorbidity', 'active'],
    ]);
    expect(register.asOf).toBe(TEST_TODAY);
    expect(register.disclosure.threshold).toBe(10); // platform.yaml airlock.suppressionThreshold
  });

  test('says who, why, on what legal basis and approval, for how long', () => {
    const ncl = project('ncl-winter-planning');
    expect(ncl.organisation).toEqual({
      name: 'NHS North Central London Integrated Care Board',
      type: 'nhs',
      typeLabel: 'NHS organisation',
      tier: 'nhs',
      tierLabel: 'NHS and local authority',
    });
    expect(ncl.purposeLabel).toBe('Planning health and care services');
    expect(ncl.summary).toMatch(/^Estimate how many emergency hospital beds/);
    expect(ncl.legalBasis.article9).toMatch(/Article 9\(2\)\(h\)/);
    expect(ncl.approval).toEqual({ committee: 'OneLondon Data Access Committee', date: '2026-03-12', reference: 'DAC-2026-014', citizenMembersPresent: 3 });
    expect(ncl.period).toEqual({ start: '2026-04-01', end: '2028-03-31' });
    expect(project('medisight-prescribing').organisation.typeLabel).toBe('Company (commercial)');
  });

  test('names the approved datasets and kinds of data in lay terms, even for an expired project', () => {
    const kcl = project('kcl-covid-recovery');
    expect(kcl.datasets.map((d) => d.name)).toEqual(['hospital_episodes']);
    expect(kcl.datasets[0].kinds.map((k) => k.kind)).toEqual(['pseudonym', 'sensitive', 'quasi_identifier', 'other']);
    expect(kcl.datasets[0].kinds[0].label).toBe('pseudonym (from a direct identifier)');
    const ncl = project('ncl-winter-planning');
    const episodes = ncl.datasets.find((d) => d.name === 'hospital_episodes')!;
    expect(episodes.someRowsOnly).toBe(true);
    expect(episodes.kinds.map((k) => k.kind)).toContain('partition');
    expect(ncl.datasets.find((d) => d.name === 'demographics')!.someRowsOnly).toBe(false);
  });

  test('counts queries per month, shows only counts above the threshold, and withholds data scanned beside a withheld count', () => {
    const ncl = project('ncl-winter-planning').activity;
    expect(ncl.firstUse).toBe('2026-10-03');
    expect(ncl.lastUse).toBe('2026-11-03');
    expect(ncl.months).toEqual([
      {
        month: '2026-10',
        queries: { count: 12 },
        refusedQueries: { count: 0 },
        dataScannedBytes: 12_000_000,
        dataScanned: '12 MB',
        outputsReleased: { count: 0 },
      },
      {
        month: '2026-11',
        queries: { fewerThan: 11 },
        refusedQueries: { fewerThan: 11 },
        dataScannedBytes: null,
        dataScanned: 'not shown (few queries)',
        outputsReleased: { count: 0 },
      },
    ]);
  });

  test('counts releases (not refused ones) and says when some queries had no bytes recorded', () => {
    const ucl = project('ucl-multimorbidity').activity;
    expect(ucl.months).toEqual([
      {
        month: '2026-11',
        // 8 queries: under the threshold of 10, so the count and the data scanned are withheld.
        queries: { fewerThan: 11 },
        refusedQueries: { count: 0 },
        dataScannedBytes: null,
        dataScanned: 'not shown (few queries)',
        outputsReleased: { fewerThan: 11 },
      },
    ]);
  });

  test('a project with no recorded use has no months and no dates', () => {
    expect(project('medisight-prescribing').activity).toEqual({ firstUse: null, lastUse: null, months: [] });
  });
});

describe('attribution', () => {
  const env = localAuditEnv(config);
  const query = (over: Partial<Parameters<typeof projectQueryEvent>[1]> = {}) =>
    projectQueryEvent(env, { projectId: 'ncl-winter-planning', sessionName: 's', queryString: 'SELECT 1', time: new Date('2026-11-01T00:00:00Z'), ...over });
  const months = (records: CloudTrailRecord[], id = 'ncl-winter-planning', threshold = 0) =>
    buildRegister(config, records, { threshold }).projects.find((p) => p.id === id)!.activity.months;

  test('by the Athena workgroup, as on AWS, even without the local project field', () => {
    const r = query();
    const { sdeProjectId: _drop, ...rest } = r.additionalEventData!;
    expect(months([{ ...r, additionalEventData: rest }])[0].queries).toEqual({ count: 1 });
  });

  test('a workgroup that is not a project workgroup is not project use', () => {
    const r = query();
    expect(months([{ ...r, requestParameters: { ...r.requestParameters, workGroup: 'primary' } }])).toEqual([]);
  });

  test('the same record read twice (trail and airlock event file) is counted once', () => {
    const r = query();
    expect(months([r, r])[0].queries).toEqual({ count: 1 });
  });

  test('a project not in the config is ignored', () => {
    const release = airlockEvent(env, {
      name: 'ReleaseOutput',
      time: new Date('2026-11-01T00:00:00Z'),
      actor: 'x',
      requestId: 'r',
      projectId: 'not-a-project',
      state: 'released',
    });
    expect(buildRegister(config, [release as unknown as CloudTrailRecord]).projects.every((p) => p.activity.months.length === 0)).toBe(true);
  });

  test('other events (ingestion, Lake Formation, other airlock steps) are not queries', () => {
    const submit = airlockEvent(env, {
      name: 'SubmitOutputRequest',
      time: new Date('2026-11-01T00:00:00Z'),
      actor: 'x',
      requestId: 'r',
      projectId: 'ncl-winter-planning',
      state: 'submitted',
    });
    expect(months([submit as unknown as CloudTrailRecord])).toEqual([]);
  });
});

describe('the data files', () => {
  test('register.json is the model, and parses back to it', () => {
    expect(JSON.parse(renderRegisterJson(register))).toEqual(JSON.parse(JSON.stringify(register)));
  });

  test('register.csv has one row per project and month of use', () => {
    const lines = renderRegisterCsv(register).trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^project_id,project_title,organisation,/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([
      'kcl-covid-recovery',
      'medisight-prescribing',
      'ncl-winter-planning',
      'ncl-winter-planning',
      'nel-hes-admissions-pilot',
      'ucl-multimorbidity',
    ]);
    // The register of this file is built from records in memory, not verified: every row says so.
    expect(lines[0]).toMatch(/,outputs_released,audit_verified,audit_last_verified$/);
    expect(lines[3]).toMatch(/,2026-10,12,0,12000000,0,not checked,$/);
    expect(lines[4]).toMatch(/,2026-11,fewer than 11,fewer than 11,,0,not checked,$/);
  });

  test('register.csv neutralises spreadsheet formulas coming from the config', () => {
    const fixture = new ConfigFixture().edit('projects/medisight-prescribing.yaml', (d) => {
      d.organisation.name = '=HYPERLINK("http://example.invalid")';
    });
    try {
      const csv = renderRegisterCsv(buildRegister(loadConfig(fixture.dir, { today: TEST_TODAY }), []));
      expect(csv).toContain(`"'=HYPERLINK(""http://example.invalid"")"`);
      expect(csv).not.toMatch(/,=HYPERLINK/);
    } finally {
      fixture.cleanup();
    }
  });

  test('the HTML escapes text from the config', () => {
    const fixture = new ConfigFixture().edit('projects/medisight-prescribing.yaml', (d) => {
      d.summary = 'Counts <script>alert(1)</script> only';
    });
    try {
      const html = renderRegisterHtml(buildRegister(loadConfig(fixture.dir, { today: TEST_TODAY }), []));
      expect(html).toContain('Counts &lt;script&gt;alert(1)&lt;/script&gt; only');
      expect(html).not.toMatch(/<script/i);
    } finally {
      fixture.cleanup();
    }
  });

  test('another region config builds a register with its own threshold default', () => {
    const second = loadConfig(SECOND_CONFIG, { today: TEST_TODAY });
    const r = buildRegister(second, []);
    expect(r.projects.length).toBe(second.projects.length);
    expect(r.disclosure.threshold).toBeGreaterThanOrEqual(1);
  });
});

describe('sde register', () => {
  test('writes the three files from the workdir trail', async () => {
    const out = path.join(workdir, 'published');
    const lines: string[] = [];
    const code = await runCli(['register', '--config', EXAMPLE_CONFIG, '--workdir', workdir, '--out', out, '--today', TEST_TODAY], {
      out: (l) => lines.push(l),
      err: () => undefined,
    });
    expect(code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['index.html', 'register.csv', 'register.json']);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'register.json'), 'utf8')) as Register;
    expect(json.projects.find((p) => p.id === 'ncl-winter-planning')!.activity.months[0].queries).toEqual({ count: 12 });
  });

  test('--trail reads a folder of CloudTrail files instead', async () => {
    const out = path.join(workdir, 'from-trail');
    const code = await runCli(
      [
        'register',
        '--config',
        EXAMPLE_CONFIG,
        '--workdir',
        path.join(workdir, 'other-workdir'),
        '--trail',
        path.join(workdir, 'audit'),
        '--out',
        out,
        '--today',
        TEST_TODAY,
      ],
      {
        out: () => undefined,
        err: () => undefined,
      },
    );
    expect(code).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'register.json'), 'utf8')) as Register;
    expect(json.projects.find((p) => p.id === 'ucl-multimorbidity')!.activity.months).toHaveLength(1);
  });

  test('says when its records were last verified and publishes the signed head, which sde audit verify --published then checks', async () => {
    const out = path.join(workdir, 'attested');
    const lines: string[] = [];
    expect(
      await runCli(['register', '--config', EXAMPLE_CONFIG, '--workdir', workdir, '--out', out, '--today', TEST_TODAY], {
        out: () => undefined,
        err: () => undefined,
      }),
    ).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'register.json'), 'utf8')) as Register;
    expect(json.auditTrail).toMatchObject({
      verified: true,
      method: 'local-hash-chain',
      records: written.length,
      problems: 0,
      signedHead: { v: 1, seq: written.length, alg: 'ECDSA_SHA_256' },
      publicKey: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----/),
    });
    expect(Date.now() - Date.parse(json.auditTrail!.checkedAt)).toBeLessThan(60_000);
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toMatch(
      new RegExp(
        `The use figures come from ${written.length} audit records, last verified on <time datetime="[^"]+">\\d+ \\w+ \\d{4} at \\d{2}:\\d{2} UTC</time> against their hash chain and its signed head`,
      ),
    );
    expect(html).toContain(`entry ${written.length}, hash <code>${json.auditTrail!.signedHead!.sha256}</code>`);
    expect(fs.readFileSync(path.join(out, 'register.csv'), 'utf8').trimEnd().split('\r\n')[1]).toMatch(/,yes,\d{4}-\d{2}-\d{2}T[\d:.]+Z$/);
    const verify = await runCli(['audit', 'verify', '--workdir', workdir, '--published', path.join(out, 'register.json')], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
    });
    expect(verify).toBe(0);
  });

  test('refuses to publish from a trail with one forged record; with --allow-unverified publishes it marked UNVERIFIED everywhere', async () => {
    const forgedWorkdir = tempDir('sde-register-forged-');
    try {
      fs.cpSync(workdir, forgedWorkdir, { recursive: true });
      // A query that never happened, slipped into a record file.
      slipRecordIn(path.join(forgedWorkdir, 'audit'), (records) => ({
        ...records.find((r) => r.eventSource === 'athena.amazonaws.com')!,
        eventID: '00000000-0000-4000-8000-00000000f0f0',
      }));
      const out = path.join(forgedWorkdir, 'site');
      const err: string[] = [];
      const argv = ['register', '--config', EXAMPLE_CONFIG, '--workdir', forgedWorkdir, '--out', out, '--today', TEST_TODAY];
      expect(await runCli(argv, { out: () => undefined, err: (l) => err.push(l) })).toBe(1);
      expect(err.join('\n')).toMatch(
        /did not verify, so nothing is published from it \(1 problem\):\n\s+unchained: record 00000000-0000-4000-8000-00000000f0f0/,
      );
      expect(fs.existsSync(out)).toBe(false);

      expect(await runCli([...argv, '--allow-unverified'], { out: () => undefined, err: () => undefined })).toBe(0);
      const json = JSON.parse(fs.readFileSync(path.join(out, 'register.json'), 'utf8')) as Register;
      expect(json.auditTrail).toMatchObject({ verified: false, problems: 1, records: written.length + 1 });
      expect(json.auditTrail!.signedHead).toBeUndefined();
      expect(fs.readFileSync(path.join(out, 'index.html'), 'utf8')).toMatch(
        /<strong>Warning: the use figures below come from \d+ audit records that could NOT be verified/,
      );
      expect(fs.readFileSync(path.join(out, 'register.csv'), 'utf8').trimEnd().split('\r\n')[1]).toMatch(/,NO,\d{4}-/);
    } finally {
      fs.rmSync(forgedWorkdir, { recursive: true, force: true });
    }
  });

  test('an airlock event only in the unchained airlock/events.jsonl cannot be verified, and is refused', async () => {
    const other = tempDir('sde-register-events-');
    try {
      fs.cpSync(workdir, other, { recursive: true });
      const event = airlockEvent(
        { accountId: '000000000000', region: 'eu-west-2' },
        {
          name: 'ReleaseOutput',
          time: new Date('2026-11-20T10:00:00Z'),
          actor: 'checker',
          requestId: 'req-20261120-0000beef',
          projectId: 'ucl-multimorbidity',
          state: 'released',
        },
      );
      fs.mkdirSync(path.join(other, 'airlock'), { recursive: true });
      fs.writeFileSync(path.join(other, 'airlock', 'events.jsonl'), `${JSON.stringify(event)}\n`);
      const err: string[] = [];
      const code = await runCli(['register', '--config', EXAMPLE_CONFIG, '--workdir', other, '--today', TEST_TODAY], {
        out: () => undefined,
        err: (l) => err.push(l),
      });
      expect(code).toBe(1);
      expect(err.join('\n')).toMatch(/1 airlock event in .*events\.jsonl is not in the hash-chained trail, so cannot be verified/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('--trail with a copy of a CloudTrail bucket: verified with --public-keys, refused without, and a folder with no digests refused', async () => {
    const key = cloudTrailKey();
    const { awsQuery } = awsRecords(config);
    const queries = Array.from({ length: 9 }, (_, i) => awsQuery(`q-${i}`, `2026-11-0${i + 1}T10:00:00Z`));
    const copy = path.join(workdir, 'bucket-copy');
    writeTrailFolder(copy, signedTrail(key, [{ delivered: '2026-11-10T12:00:00Z', records: queries }]));
    const keys = path.join(workdir, 'keys.json');
    fs.writeFileSync(keys, JSON.stringify(key.listPublicKeys));
    const out = path.join(workdir, 'from-bucket');
    const err: string[] = [];
    const run = (...extra: string[]) =>
      runCli(
        ['register', '--config', EXAMPLE_CONFIG, '--workdir', path.join(workdir, 'none'), '--trail', copy, '--out', out, '--today', TEST_TODAY, ...extra],
        {
          out: () => undefined,
          err: (l) => err.push(l),
        },
      );
    expect(await run()).toBe(1);
    expect(err.join('\n')).toMatch(/signature-not-checked/);
    expect(await run('--public-keys', keys)).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'register.json'), 'utf8')) as Register;
    expect(json.auditTrail).toMatchObject({ verified: true, method: 'cloudtrail-digests', records: 9, newestDigest: { endTime: '2026-11-10T13:00:00Z' } });
    expect(json.projects.find((p) => p.id === 'ncl-winter-planning')!.activity.months).toEqual([
      // 9 queries: under the airlock's threshold of 10, so the register says "fewer than 11".
      expect.objectContaining({ month: '2026-11', queries: { fewerThan: 11 } }),
    ]);
    err.length = 0;
    const noDigests = await runCli(
      [
        'register',
        '--config',
        EXAMPLE_CONFIG,
        '--workdir',
        workdir,
        '--trail',
        path.join(REPO_ROOT, 'test', 'fixtures', 'cloudtrail', 'real'),
        '--out',
        out,
        '--today',
        TEST_TODAY,
      ],
      {
        out: () => undefined,
        err: (l) => err.push(l),
      },
    );
    expect(noDigests).toBe(1);
    expect(err.join('\n')).toMatch(/nothing-to-verify/);
  });

  test('a missing --trail is a usage error, not a crash', async () => {
    const err: string[] = [];
    const code = await runCli(['register', '--config', EXAMPLE_CONFIG, '--workdir', workdir, '--trail', path.join(workdir, 'no-such-trail')], {
      out: () => undefined,
      err: (l) => err.push(l),
    });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/no-such-trail: no such file or folder/);
  });

  test('defaults to <workdir>/out/register', async () => {
    const code = await runCli(['register', '--config', EXAMPLE_CONFIG, '--workdir', workdir, '--today', TEST_TODAY], {
      out: () => undefined,
      err: () => undefined,
    });
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(workdir, 'out', 'register', 'index.html'))).toBe(true);
  });
});
