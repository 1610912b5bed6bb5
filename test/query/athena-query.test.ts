/**
 * `sde query --athena`: the request it sends, Athena's result read back as the local
 * engine's (so it prints the same), its failures, and the command without credentials.
 * Athena itself cannot run here; no stand-in for it is used.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { randomInt } from 'node:crypto';
import { athenaFailure, athenaQueryRequest, athenaResult } from '../../lib/query/athena-query';
import { queryCommand } from '../../lib/cli/commands/query';
import { UsageError } from '../../lib/cli/command';
import { loadConfig } from '../../lib/config';
import { curatedDatabaseName, projectWorkgroupName } from '../../lib/config/naming';
import { formatCsv, formatTable } from '../../lib/reports/format';
import { EXAMPLE_CONFIG, TEST_TODAY } from '../helpers/config-fixture';

const config = loadConfig(EXAMPLE_CONFIG, { today: TEST_TODAY });
const col = (Name: string, Type: string) => ({ Name, Label: Name, Type });
const row = (...values: (string | undefined)[]) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) });

test("the request names the project's own workgroup and the curated database, and carries the SQL unchanged", () => {
  const sql = 'SELECT admission_month, count(*) AS n FROM hospital_episodes GROUP BY 1';
  expect(athenaQueryRequest(config, 'ncl-winter-planning', sql)).toEqual({
    QueryString: sql,
    WorkGroup: projectWorkgroupName(config, 'ncl-winter-planning'),
    QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: curatedDatabaseName(config) },
  });
  expect(() => athenaQueryRequest(config, 'no-such-project', sql)).toThrow(/there is no project "no-such-project"/);
});

test('the header row is dropped by position, not by value; NULLs, numbers, booleans and text read as the local engine gives them', () => {
  const columns = [col('area', 'varchar'), col('n', 'bigint'), col('mean', 'double'), col('flag', 'boolean'), col('amount', 'decimal')];
  const result = athenaResult(
    [
      {
        columns,
        rows: [row('area', 'n', 'mean', 'flag', 'amount'), row('area', '12', '1.5', 'true', '10.25'), row(undefined, undefined, undefined, 'false', undefined)],
      },
      { rows: [row('B', '9007199254740993', '2', 'false', '3.00')] },
    ],
    1234,
  );
  expect(result.columns).toEqual(['area', 'n', 'mean', 'flag', 'amount']);
  expect(result.rows).toEqual([
    ['area', 12, 1.5, true, '10.25'],
    [null, null, null, false, null],
    // Beyond 2^53 the digits are kept, not rounded.
    ['B', '9007199254740993', 2, false, '3.00'],
  ]);
  expect(result.bytesScanned).toBe(1234);
});

test('printed exactly as a local result with the same values is (generated tables)', () => {
  for (let t = 0; t < 50; t++) {
    const width = randomInt(1, 6);
    const types = Array.from({ length: width }, () => ['varchar', 'integer', 'bigint', 'double'][randomInt(4)]);
    const columns = types.map((type, i) => col(`c${i}`, type));
    const local: unknown[][] = [];
    const rows = [row(...columns.map((c) => c.Name))];
    for (let r = 0; r < randomInt(0, 20); r++) {
      const values = types.map((type) => {
        if (randomInt(10) === 0) return undefined;
        if (type === 'varchar') return `v${randomInt(1000)},"=x`;
        if (type === 'double') return String(randomInt(-1000, 1000) / 8);
        return String(randomInt(-100000, 100000));
      });
      rows.push(row(...values));
      local.push(values.map((v, i) => (v === undefined ? null : types[i] === 'varchar' ? v : Number(v))));
    }
    const fromAthena = athenaResult([{ columns, rows }], 0);
    const fromLocal = { columns: columns.map((c) => c.Name), rows: local, tables: [], bytesScanned: 0 };
    expect(formatTable(fromAthena)).toBe(formatTable(fromLocal));
    expect(formatCsv(fromAthena)).toBe(formatCsv(fromLocal));
  }
});

test("a failed query says Athena's reason, and what to do when the approval does not cover it", () => {
  expect(athenaFailure('FAILED', 'Insufficient Lake Formation permission(s) on demographics')).toMatch(/^the query failed: Insufficient Lake Formation/);
  expect(athenaFailure('FAILED', 'Insufficient permissions to execute the query.')).toMatch(/approval does not cover it.*sde access-matrix/);
  expect(athenaFailure('CANCELLED', undefined)).toBe('the query cancelled: Athena gave no reason');
  expect(athenaFailure('FAILED', "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved")).not.toMatch(/approval/);
});

describe('sde query --athena without AWS credentials', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: path.join(os.tmpdir(), 'sde-no-such-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(os.tmpdir(), 'sde-no-such-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
  afterAll(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const run = async (extra: Record<string, unknown>) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await queryCommand.run({
      values: {
        project: 'ncl-winter-planning',
        sql: 'SELECT 1',
        format: 'table',
        'max-rows': '10',
        athena: true,
        config: EXAMPLE_CONFIG,
        today: TEST_TODAY,
        workdir: os.tmpdir(),
        ...extra,
      },
      positionals: [],
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  test('refuses cleanly: exit 1, one line saying to sign in, no stack trace, nothing printed as a result', async () => {
    const r = await run({});
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^sde query --athena: no AWS credentials: .*Sign in as the project role \(from the analysis workspace\), or leave out --athena/s);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  }, 20_000);

  test('--as is refused on Athena (the session is the person), and an unknown project is a usage error', async () => {
    await expect(run({ as: 'NCL-R-0022' })).rejects.toThrow(UsageError);
    await expect(run({ project: 'no-such-project' })).rejects.toThrow(/there is no project "no-such-project"/);
  });
});
