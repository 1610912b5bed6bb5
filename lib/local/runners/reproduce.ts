/**
 * `sde output reproduce`: runs again, on this machine, the queries that made a request's
 * outputs, and compares each result's SHA-256 with the one the platform recorded when the
 * query first ran (and with the file submitted to the airlock). When they differ it says
 * what changed: the curated objects the query read (a batch added, replaced or removed),
 * the engine version, or only the order of the rows.
 */
import type { AirlockStore } from '../../airlock/store';
import type { SdeConfig } from '../../config/model';
import { curatedDifferences, sha256Text } from '../../query/provenance';
import { formatCsv } from '../../reports/format';
import { queryAsProject, syncCuratedCache } from './query';

export interface ReproducedFile {
  readonly file: string;
  /** match: the same bytes; differs: another result; not_reproducible: no recorded query (a file, not an sde query result). */
  readonly status: 'match' | 'differs' | 'not_reproducible';
  readonly expectedSha256?: string;
  readonly gotSha256?: string;
  /** What is different about the inputs, when anything is. */
  readonly notes: readonly string[];
}

export async function reproduceRequest(options: {
  readonly config: SdeConfig;
  readonly workdir: string;
  readonly store: AirlockStore;
  readonly requestId: string;
  /**
   * The researcher it runs as (queries run only as a named researcher of the project, and
   * the audit trail records them). @default the request's requester
   */
  readonly researcher?: string;
}): Promise<ReproducedFile[]> {
  const request = await options.store.read(options.requestId);
  const out: ReproducedFile[] = [];
  let curatedRoot: string | undefined;
  for (const f of request.files) {
    const p = f.provenance;
    if (!p || f.queryText === undefined) {
      out.push({ file: f.name, status: 'not_reproducible', notes: ['it was submitted as a file, not as the kept result of an sde query run (--query-id)'] });
      continue;
    }
    const notes: string[] = [];
    if (sha256Text(f.queryText) !== p.querySha256) {
      out.push({
        file: f.name,
        status: 'differs',
        expectedSha256: p.resultSha256,
        notes: ['the kept query text does not match the SHA-256 recorded when it ran'],
      });
      continue;
    }
    curatedRoot ??= await syncCuratedCache(options.config, options.workdir);
    const result = await queryAsProject({
      config: options.config,
      workdir: options.workdir,
      projectId: request.projectId,
      sql: f.queryText,
      maxRows: p.maxRows + 1,
      researcher: options.researcher ?? request.requester,
      curatedRoot,
    });
    const rows = result.rows.slice(0, p.maxRows);
    const csv = formatCsv({ ...result, rows });
    const got = sha256Text(csv);
    const data = curatedDifferences(p.curatedObjects, result.curatedObjects);
    notes.push(...data.map((d) => `curated data: ${d}`));
    if (result.engine.version !== p.engine.version)
      notes.push(`engine: ${p.engine.name} ${p.engine.version} then, ${result.engine.name} ${result.engine.version} now`);
    if (got !== p.resultSha256) {
      const sortLines = (text: string) => text.split('\n').slice(1).sort().join('\n');
      // Same rows in another order: a query without ORDER BY may return them so.
      const original = await options.store.readSubmitted(request.id, f.name);
      if (sortLines(original.toString('utf8')) === sortLines(csv))
        notes.push('the same rows in another order (add ORDER BY to the query to make the order part of it)');
    }
    if (got === p.resultSha256 && f.submitted.sha256 !== p.resultSha256) notes.push('the submitted file is not the recorded result');
    out.push({
      file: f.name,
      status: got === p.resultSha256 && f.submitted.sha256 === got ? 'match' : 'differs',
      expectedSha256: p.resultSha256,
      gotSha256: got,
      notes,
    });
  }
  return out;
}
