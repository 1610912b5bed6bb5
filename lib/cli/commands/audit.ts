import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { bucketNames } from '../../local/workdir';
import { AuditEngine } from '../../audit/audit-engine';
import { describeReadResult, readTrail } from '../../audit/cloudtrail-reader';
import { AUDIT_DIR } from '../../audit/local-audit-writer';
import { AuditQueryError, auditQueryContext, bindParameters, findNamedQuery, NAMED_QUERIES } from '../../audit/named-queries';
import { describeVerifyReport, verifyTrail } from '../../audit/verify';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError, WORKDIR_OPTION } from '../command';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** Cells longer than this are cut in table output (json and csv keep them whole). */
const TABLE_CELL_MAX = 80;

export const auditCommand: Command = {
  name: 'audit',
  summary: "answer the security team's questions from an audit trail, or check the trail is intact",
  usage: '--query NAME [--param k=v ...] [--trail DIR] [--format table|json|csv] | verify [--trail DIR] | --list',
  description: [
    'Runs the named audit queries (the same ones deployed as Athena named queries for the security',
    "team) in DuckDB over CloudTrail records: the local runtime's trail (<workdir>/audit) or any folder",
    'of real CloudTrail files (--trail DIR: {"Records":[...]} .json or .json.gz, JSON arrays, NDJSON).',
    'Files or records that cannot be read are skipped and counted on stderr, never silently dropped.',
    '',
    '  sde audit --list                                      the queries and their parameters',
    '  sde audit --query access-denied',
    '  sde audit --query data-access-by-principal --param principal=ncl-icb-analyst --format csv',
    '  sde audit verify [--trail DIR]                        check the hash chain / CloudTrail digests',
    '',
    'verify reports any missing, altered or reordered record: for the local trail against its hash',
    'chain, for real CloudTrail against its digest files (digest signatures are not checked offline).',
    'Exit status: 0 on success; 1 if verify finds a problem (or has nothing to check); 2 on bad usage.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    ...TODAY_OPTION,
    query: { type: 'string', valueName: 'NAME', description: 'the named query to run (see --list)' },
    param: { type: 'string', multiple: true, valueName: 'k=v', description: 'a query parameter; repeat for several' },
    trail: { type: 'string', valueName: 'DIR', description: 'folder (or file) of CloudTrail records (default: <workdir>/audit)' },
    format: { type: 'string', default: 'table', valueName: 'table|json|csv', description: 'output format' },
    list: { type: 'boolean', description: 'list the named queries' },
    'curated-bucket': {
      type: 'string',
      multiple: true,
      valueName: 'NAME',
      description: "name of the curated bucket in the trail (dataset-access); repeat for several (default: the local runtime's, <platform>-curated)",
    },
  },
  allowPositionals: true,
  async run({ values, positionals, out, err }) {
    const [action, ...extra] = positionals;
    if (extra.length > 0 || (action !== undefined && action !== 'verify')) {
      throw new UsageError(`unexpected argument "${[action, ...extra].filter((a) => a !== 'verify').join(' ')}": the only sub-command is verify`);
    }
    const trail = path.resolve((values.trail as string | undefined) ?? path.join(values.workdir as string, AUDIT_DIR));

    if (values.list) {
      for (const q of NAMED_QUERIES) {
        const params = q.parameters.map((p) => `--param ${p.name}=${p.required ? 'VALUE' : "[VALUE, '' for all]"}`).join(' ');
        out(`${q.name}${params ? ` ${params}` : ''}`);
        out(`    ${q.title}. ${q.description}`);
      }
      return 0;
    }

    if (action === 'verify') {
      if (values.query !== undefined) throw new UsageError('verify takes no --query');
      const report = await verifyTrail(trail);
      for (const line of describeVerifyReport(report)) (report.ok ? out : err)(line);
      return report.ok ? 0 : 1;
    }

    const name = values.query as string | undefined;
    if (name === undefined) throw new UsageError('say what to do: --query NAME, verify, or --list');
    if (!NAMED_QUERIES.some((q) => q.name === name)) {
      throw new UsageError(`there is no query "${name}"; the queries are: ${NAMED_QUERIES.map((q) => q.name).join(', ')}`);
    }
    const format = values.format as string;
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be table, json or csv, not "${format}"`);
    const params = parseParams((values.param as string[] | undefined) ?? []);
    try {
      bindParameters(findNamedQuery(name), params); // refuse bad parameters before reading any file
    } catch (e) {
      if (e instanceof AuditQueryError) throw new UsageError(e.message);
      throw e;
    }

    const config = loadConfig(values.config as string, { today: values.today as string | undefined });
    // The local runtime's curated bucket (lib/local/workdir.ts) unless the trail is from elsewhere.
    const curatedBuckets = (values['curated-bucket'] as string[] | undefined) ?? [bucketNames(config).curated];
    const ctx = auditQueryContext(config, { curatedBuckets });

    let read;
    try {
      read = await readTrail(trail);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    for (const line of describeReadResult(read)) err(line);

    const engine = await AuditEngine.open(
      read.records.map((r) => r.record),
      ctx,
    );
    try {
      let result;
      try {
        result = await engine.run(name, params);
      } catch (e) {
        // Parameter problems are the user's to fix; anything else is a bug and keeps its stack.
        if (e instanceof AuditQueryError) throw new UsageError(e.message);
        throw e;
      }
      for (const line of render(result.columns, result.rows, format as Format)) out(line);
      if (format === 'table') err(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`);
    } finally {
      engine.close();
    }
    return 0;
  },
};

function parseParams(raw: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of raw) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param must be NAME=VALUE, not "${p}"`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return params;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function render(columns: readonly string[], rows: readonly Record<string, unknown>[], format: Format): string[] {
  if (format === 'json') return [JSON.stringify(rows, null, 2)];
  if (format === 'csv') {
    const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [columns.map(quote).join(','), ...rows.map((r) => columns.map((c) => quote(cellText(r[c]))).join(','))];
  }
  const cut = (s: string) => {
    const one = s.replace(/\s+/g, ' ');
    return one.length > TABLE_CELL_MAX ? `${one.slice(0, TABLE_CELL_MAX - 1)}…` : one;
  };
  const cells = rows.map((r) => columns.map((c) => cut(cellText(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (row: readonly string[]) =>
    row
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}
