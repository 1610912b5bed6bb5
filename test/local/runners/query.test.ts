import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../lib/cli/cli';
import { loadConfig } from '../../../lib/config';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../../helpers/config-fixture';
import { uploadCuratedParquet } from '../../helpers/curated-parquet';

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

  test('missing options are usage errors', async () => {
    expect((await sde('query', '--sql', 'SELECT 1')).code).toBe(2);
    expect((await sde('query', '--project', 'x')).code).toBe(2);
  });
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
    const r = await sde(
      'output',
      'request',
      '--project',
      'medisight-prescribing',
      '--query-id',
      id,
      '--statement',
      'Items by BNF code',
      '--description',
      'Items by BNF code: a COUNT grouped by code',
    );
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
