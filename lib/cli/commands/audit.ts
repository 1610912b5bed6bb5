import * as path from 'node:path';
import { loadConfig } from '../../config/loader';
import { bucketNames } from '../../local/workdir';
import { AuditEngine } from '../../audit/audit-engine';
import { describeReadResult, readTrail } from '../../audit/cloudtrail-reader';
import type { CloudTrailRecord } from '../../audit/cloudtrail-record';
import { dedupeByEventId, describeDeduplication } from '../../audit/dedupe';
import { AUDIT_DIR } from '../../audit/local-audit-writer';
import { AuditQueryError, auditQueryContext, bindParameters, findNamedQuery, NAMED_QUERIES } from '../../audit/named-queries';
import { describeVerifyReport, verifyTrail } from '../../audit/verify';
import { Command, CONFIG_OPTION, TODAY_OPTION, TRAIL_VERIFICATION_OPTIONS, UsageError, verifyOptionsFrom, WORKDIR_OPTION } from '../command';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** Cells longer than this are cut in table output (json and csv keep them whole). */
const TABLE_CELL_MAX = 80;

export const auditCommand: Command = {
  name: 'audit',
  summary: "answer the security team's questions from an audit trail, or check the trail is intact",
  usage:
    '--query NAME [--param k=v ...] [--trail DIR ...] [--format table|json|csv] | verify [--trail DIR] [--public-keys FILE] [--audit-key FILE] [--published FILE] | --list',
  description: [
    'Runs the named audit queries (the same ones deployed as Athena named queries for the security',
    "team) in DuckDB over CloudTrail records: the local runtime's trail (<workdir>/audit) or any folders",
    'of real CloudTrail files (--trail DIR, repeatable: {"Records":[...]} .json or .json.gz, JSON arrays,',
    "NDJSON; Logstash exports' @timestamp is read as eventTime). Each event is counted once: records",
    'with an eventID seen before are dropped and counted. Files or records that cannot be read are',
    'skipped and counted on stderr, never silently dropped.',
    '',
    '  sde audit --list                                      the queries and their parameters',
    '  sde audit --query access-denied',
    '  sde audit --query data-access-by-principal --param principal=ncl-icb-analyst --format csv',
    '  sde audit verify [--trail DIR]                        check the local trail / CloudTrail digests',
    '  sde audit verify --trail bucket-copy --public-keys keys.json   ...with digest signatures',
    '  sde audit verify --published register.json            ...and the head a register published',
    '',
    'verify reports any missing, altered, reordered or unsigned record. The local trail: against its',
    'hash chain and the heads signed with the local audit key (keys/audit/, or --audit-key), and any',
    'head published earlier (--published). Real CloudTrail: every digest signature (with the keys',
    '`aws cloudtrail list-public-keys` exports, --public-keys; the newest digest needs its S3 metadata',
    'saved as <digest>.metadata.json), the digest chain and every log file hash. An empty trail, or one',
    'whose signatures could not be checked, does not verify.',
    'Exit status: 0 verified or query run; 1 if verify finds a problem or could not check everything; 2 on bad usage.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTION,
    ...WORKDIR_OPTION,
    ...TODAY_OPTION,
    query: { type: 'string', valueName: 'NAME', description: 'the named query to run (see --list)' },
    param: { type: 'string', multiple: true, valueName: 'k=v', description: 'a query parameter; repeat for several' },
    trail: {
      type: 'string',
      multiple: true,
      valueName: 'DIR',
      description: 'folder (or file) of CloudTrail records; repeat for several, each event counted once (default: <workdir>/audit)',
    },
    ...TRAIL_VERIFICATION_OPTIONS,
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
    const trails = ((values.trail as string[] | undefined) ?? [path.join(values.workdir as string, AUDIT_DIR)]).map((t) => path.resolve(t));

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
      const options = verifyOptionsFrom(values);
      let ok = true;
      for (const trail of trails) {
        let report;
        try {
          report = await verifyTrail(trail, options);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        if (trails.length > 1) (report.ok ? out : err)(`${trail}:`);
        for (const line of describeVerifyReport(report)) (report.ok ? out : err)(line);
        ok &&= report.ok;
      }
      return ok ? 0 : 1;
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

    const records: CloudTrailRecord[] = [];
    for (const trail of trails) {
      let read;
      try {
        read = await readTrail(trail);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      for (const line of describeReadResult(read)) err(trails.length > 1 ? `${trail}: ${line}` : line);
      records.push(...read.records.map((r) => r.record));
    }
    // The same event in two inputs (an export and the bucket copy, say) is one event.
    const once = dedupeByEventId(records, (r) => r);
    for (const line of describeDeduplication(once)) err(line);

    const engine = await AuditEngine.open(once.items, ctx);
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
