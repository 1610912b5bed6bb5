import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../lib/cli/cli';
import { loadConfig } from '../../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { uploadCuratedParquet } from '../../helpers/curated-parquet';
import { readTrail } from '../../../lib/audit/cloudtrail-reader';
import { AUDIT_DIR } from '../../../lib/audit/local-audit-writer';
import { usageFromTrail } from '../../../lib/billing/usage';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-query-'));
const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-staging-'));
afterAll(() => [workdir, staging].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

beforeAll(async () => {
  // Curated Parquet is put into the local curated bucket through the S3 API, as ingestion does.
  await uploadCuratedParquet(config, workdir, staging, 30);
});

async function sde(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...argv, '--config', EXAMPLE_CONFIG, '--workdir', workdir, '--today', TEST_TODAY], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sde query', () => {
  test('an approved query prints its rows', async () => {
    const r = await sde('query', '--project', 'medisight-prescribing', '--sql', 'SELECT count(*) AS items FROM prescriptions', '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ items: 10 }]);
    expect(r.err).toMatch(/1 row; \d+ bytes scanned/);
  });

  test('a refused query prints why, and no data', async () => {
    const r = await sde('query', '--project', 'medisight-prescribing', '--sql', 'SELECT person_id FROM prescriptions');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('Refused: Project medisight-prescribing is not approved for column "person_id" of table "prescriptions".');
  });

  test('--max-rows limits what is printed, and says so', async () => {
    const r = await sde(
      'query',
      '--project',
      'ucl-multimorbidity',
      '--sql',
      'SELECT person_id FROM demographics ORDER BY person_id',
      '--format',
      'csv',
      '--max-rows',
      '5',
    );
    expect(r.code).toBe(0);
    expect(r.out.split('\r\n').filter(Boolean)).toHaveLength(6);
    expect(r.err).toMatch(/5 rows \(more not shown/);
  });

  test('every query, allowed or refused, is in the audit trail', async () => {
    const r = await sde('audit', '--query', 'access-denied', '--format', 'json');
    expect(r.code).toBe(0);
    const denied = JSON.parse(r.out);
    expect(denied.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(denied)).toContain('medisight-prescribing');
    const verify = await sde('audit', 'verify');
    expect(verify.code).toBe(0);
  });

  test.each([
    ['an unknown column', 'SELECT no_such_column FROM prescriptions', /Referenced column "no_such_column" not found/],
    ['a type error', "SELECT quantity + 'a' FROM prescriptions", /Error: /],
    ['a failed cast', 'SELECT CAST(gp_practice_code AS INTEGER) FROM prescriptions', /Conversion Error: Could not convert string/],
    ['a syntax error', 'SELEC bnf_code FROM prescriptions', /^Query failed: Parser Error: syntax error at or near "SELEC"/],
    ['an unknown function', "SELECT no_such_function('x') FROM prescriptions", /no_such_function/],
    ['an overflow', 'SELECT 9223372036854775807::BIGINT + 1 FROM prescriptions', /Out of Range Error|overflow/],
  ])('a mistake in the SQL (%s) prints the reason, exits 1 and prints no stack trace', async (_name, sql, reason) => {
    const r = await sde('query', '--project', 'medisight-prescribing', '--sql', sql);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(reason);
    expect(r.err).not.toMatch(/\n\s+at |unexpected error/);
  });

  test('a failed query is in the audit trail, and is not billed', async () => {
    const sql = 'SELECT no_such_column_either FROM prescriptions';
    await sde('query', '--project', 'medisight-prescribing', '--sql', sql);
    const records = (await readTrail(path.join(workdir, AUDIT_DIR))).records.map((r) => r.record);
    const started = records.filter((r) => r.eventName === 'StartQueryExecution' && r.requestParameters?.queryString === sql);
    expect(started.map((r) => [r.errorCode, r.additionalEventData?.sdeQueryState])).toEqual([[undefined, 'FAILED']]);
    const billed = usageFromTrail(started, () => 'medisight-prescribing');
    expect([billed.usage, billed.failed]).toEqual([[], 1]);
  });

  test('the query runs as a named researcher of the project, recorded as the source identity; anyone else is refused', async () => {
    const sql = "SELECT count(*) AS n FROM prescriptions WHERE bnf_code <> 'as-test'";
    const ok = await sde('query', '--project', 'medisight-prescribing', '--as', 'MSA-R-0044', '--sql', sql);
    expect(ok.code).toBe(0);
    const stranger = await sde('query', '--project', 'medisight-prescribing', '--as', 'NCL-R-0014', '--sql', sql);
    expect(stranger.code).toBe(1);
    expect(stranger.err).toBe('Refused: "NCL-R-0014" is not one of the named researchers of project medisight-prescribing (MSA-R-0031, MSA-R-0044).');
    const records = (await readTrail(path.join(workdir, AUDIT_DIR))).records.map((r) => r.record);
    const mine = records.filter((r) => r.eventName === 'StartQueryExecution' && r.requestParameters?.queryString === sql);
    expect(mine.map((r) => [r.userIdentity?.sessionContext?.sourceIdentity, r.errorCode])).toEqual([
      ['MSA-R-0044', undefined],
      ['NCL-R-0014', 'AccessDenied'],
    ]);
  });

  test('missing options are usage errors', async () => {
    expect((await sde('query', '--sql', 'SELECT 1')).code).toBe(2);
    expect((await sde('query', '--project', 'x')).code).toBe(2);
  });
});

test('a workdir with nothing ingested says so, and how to fix it', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'sde-empty-'));
  try {
    const err: string[] = [];
    const code = await runCli(
      [
        'query',
        '--project',
        'medisight-prescribing',
        '--sql',
        'SELECT count(*) FROM prescriptions',
        '--config',
        EXAMPLE_CONFIG,
        '--workdir',
        empty,
        '--today',
        TEST_TODAY,
      ],
      {
        out: () => undefined,
        err: (l) => err.push(l),
      },
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/^Nothing has been ingested into .* yet.*Run `sde demo`.*`sde ingest --dataset NAME --file FILE`/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

describe('a query result, requested for release by its id', () => {
  test('sde query keeps the result and prints its id; the airlock takes exactly that result', async () => {
    const q = await sde(
      'query',
      '--project',
      'medisight-prescribing',
      '--sql',
      'SELECT bnf_code, count(*) AS items FROM prescriptions GROUP BY bnf_code',
      '--format',
      'csv',
    );
    expect(q.code).toBe(0);
    const id = /query id ([0-9a-f-]{36})/.exec(q.err)![1];
    const kept = fs.readFileSync(path.join(workdir, 'results', 'medisight-prescribing', `${id}.csv`), 'utf8');
    expect(kept.trimEnd()).toBe(q.out);
    const r = await sde('output', 'request', '--project', 'medisight-prescribing', '--query-id', id, '--statement', 'Items by BNF code');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Submitted output request \S+ for project medisight-prescribing \(1 file\)/);
  });

  test('another project cannot request it, and a made-up id is refused before any file is read', async () => {
    const q = await sde('query', '--project', 'medisight-prescribing', '--sql', 'SELECT count(*) AS items FROM prescriptions');
    const id = /query id ([0-9a-f-]{36})/.exec(q.err)![1];
    const other = await sde('output', 'request', '--project', 'ucl-multimorbidity', '--query-id', id);
    expect(other.code).toBe(2);
    expect(other.err).toContain(`project ucl-multimorbidity has no kept result for query ${id}`);
    const traversal = await sde('output', 'request', '--project', 'medisight-prescribing', '--query-id', '../../keys/pseudonym');
    expect(traversal.code).toBe(2);
    expect(traversal.err).toContain('is not a query id');
  });
});
