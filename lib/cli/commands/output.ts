/**
 * `sde output`: the safe-outputs airlock (see lib/airlock/README.md), on the local runtime
 * or, with `--airlock-bucket NAME`, on AWS (the AirlockStack's bucket and signing key).
 *
 *   sde output request   --project ID (--file PATH | --query-id ID) ... --description [FILE:]TEXT ... [--statement TEXT] [--as PRINCIPAL]
 *   sde output check     --request ID
 *   sde output show      --request ID
 *   sde output classify  --request ID --as REVIEWER --file NAME --column COL --role ROLE [--statistic KIND] --reason TEXT
 *   sde output override  --request ID --as REVIEWER --file NAME --finding ID --reason TEXT
 *   sde output review    --request ID --as REVIEWER --approve [--note TEXT] | --return | --reject [--reason TEXT]
 *   sde output resubmit  --request ID (--file PATH | --query-id ID) ... --description [FILE:]TEXT ... [--as PRINCIPAL]
 *   sde output release   --request ID [--as PRINCIPAL]
 *   sde output reproduce --request ID
 *   sde output verify    MANIFEST [--public-key PEM]
 *   sde output list      [--project ID] [--format text|json]
 *
 * Every action, allowed or refused, produces an audit event; locally the command hands it
 * to the sink given to createOutputCommand (by default <workdir>/airlock/events.jsonl). On
 * AWS no local record is written: CloudTrail is the record (see lib/airlock/README.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AuditSink } from '../../airlock/audit-events';
import type { AwsActor } from '../../airlock/aws-identity';
import { reportBrief, SERVICE_ACTIONS, type ReportBrief, type ServiceCall, type ServiceResponse } from '../../airlock/release-service';
import { AirlockInputError, AirlockService, verifyWithWorkdirKey, type OutputFileInput } from '../../airlock/airlock-service';
import type { FileReport } from '../../airlock/report';
import type { S3Send } from '../../airlock/s3-store';
import { AIRLOCK_DIR, AirlockConflictError, AirlockStoreError, type AirlockStore } from '../../airlock/store';
import { resolveReviewer, type AirlockSettings } from '../../config/airlock-settings';
import type { TableSpec } from '../../airlock/table-shape';
import { describeVerifyReport } from '../../airlock/verify';
import type { OutputRequest, Refusal } from '../../airlock/workflow';
import { loadConfig } from '../../config/loader';
import type { SdeConfig } from '../../config/model';
import { Command, CONFIG_OPTION, TODAY_OPTION, UsageError, WORKDIR_OPTION } from '../command';
import { findQueryResult, readQueryRecord } from '../query-results';
import { COLUMN_ROLES, STATISTIC_KINDS, type ColumnRole, type StatisticKind } from '../../airlock/table-shape';
import { RULES } from '../../airlock/rules';

const ACTIONS = ['request', 'check', 'show', 'classify', 'override', 'review', 'resubmit', 'release', 'reproduce', 'verify', 'list'] as const;
type Action = (typeof ACTIONS)[number];

export interface OutputCommandOptions {
  /**
   * The audit sink for one run, given the loaded config and the workdir: plug the local
   * hash-chained audit writer in here. @default append to <workdir>/airlock/events.jsonl
   */
  readonly auditSink?: (ctx: { readonly config: SdeConfig; readonly workdir: string }) => AuditSink;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** The airlock settings for a config (tests, embedding). @default airlockSettings(config.platform), i.e. platform.yaml */
  readonly settings?: (config: SdeConfig) => AirlockSettings;
  /**
   * The AWS side for `--airlock-bucket` (tests point it at the local S3 API and a local
   * key). @default SDK clients with the default credential chain, in platform.yaml's aws.region
   */
  readonly aws?: (ctx: { readonly region: string | undefined }) => AwsSide;
}

/** What `--airlock-bucket` runs over. */
export interface AwsSide {
  readonly s3: S3Send;
  /**
   * One call to the release service at `url` (AirlockStack output ReleaseServiceUrl), signed
   * with the caller's credentials: every check, classification, override, review and release
   * on AWS is made there, never by the reviewer's own S3 or KMS calls.
   */
  readonly callService: (url: string, call: ServiceCall) => Promise<ServiceResponse>;
  /** The caller's identity (STS GetCallerIdentity); throws when there are no credentials. */
  readonly callerArn: () => Promise<string>;
}

/** The SDK clients for AWS: default credential chain, the region from platform.yaml (else the SDK's own lookup). */
async function defaultAwsSide(region: string | undefined): Promise<AwsSide> {
  // The SDK warns on every client that Node 20 support ends in 2027: about our runtime, not the call.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const { callReleaseService } = await import('../../airlock/release-service-client');
  const s3: S3Client = new S3Client(region ? { region } : {});
  return {
    s3,
    callService: async (url, call) => {
      // The same default credential chain the S3 client uses: the caller's own reviewer role.
      const sts = new STSClient(region ? { region } : {});
      try {
        return await callReleaseService(url, call, await sts.config.credentials());
      } finally {
        sts.destroy();
      }
    },
    callerArn: async () => {
      const sts = new STSClient(region ? { region } : {});
      try {
        const arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
        if (arn === undefined) throw new Error('STS did not say who you are');
        return arn;
      } finally {
        sts.destroy();
      }
    },
  };
}

/** A failure of AWS (no credentials, access denied, no such bucket, network): a message, not a stack trace. */
function awsFailure(e: unknown): string | undefined {
  const x = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  if (x === null || typeof x !== 'object') return undefined;
  if (x.name === 'CredentialsProviderError' || x.name === 'TokenProviderError') {
    return `no AWS credentials: ${(x.message ?? '').replace(/\.$/, '')}. Sign in (aws sso login, or AWS_PROFILE / AWS_ACCESS_KEY_ID) as your airlock role, or leave out --airlock-bucket to use the local airlock.`;
  }
  if (x.$metadata !== undefined) {
    const status =
      x.$metadata.httpStatusCode !== undefined
        ? ` (HTTP ${x.$metadata.httpStatusCode}${x.$metadata.requestId ? `, request ${x.$metadata.requestId}` : ''})`
        : '';
    const hint =
      x.name === 'AccessDenied' || x.name === 'AccessDeniedException'
        ? ': your role may not do this here (researchers only submit; reviewers check, review and release)'
        : x.name === 'NoSuchBucket'
          ? ': check --airlock-bucket (the AirlockStack output AirlockBucketName)'
          : '';
    return `AWS refused the call: ${x.name ?? 'Error'}: ${x.message ?? ''}${status}${hint}`;
  }
  if (['ENOTFOUND', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN'].includes(x.code ?? '')) return `AWS cannot be reached: ${x.message ?? x.code}`;
  return undefined;
}

/** `[FILE:]VALUE`: a value for one named file, or (without FILE:) for every file. */
function perFile(raw: readonly string[], fileNames: readonly string[], option: string): Map<string | undefined, string> {
  const out = new Map<string | undefined, string>();
  for (const v of raw) {
    const colon = v.indexOf(':');
    const prefix = colon > 0 ? v.slice(0, colon) : undefined;
    const [file, value] = prefix !== undefined && fileNames.includes(prefix) ? [prefix, v.slice(colon + 1)] : [undefined, v];
    if (out.has(file)) throw new UsageError(`--${option} is given twice for ${file ?? 'every file'}`);
    out.set(file, value);
  }
  return out;
}

function columns(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  return list;
}

/**
 * Locally, --as names a reviewer by their id in platform.yaml (REVIEWER-1) or their principal.
 * Anyone else is passed on as typed, so the workflow refuses (and records) the attempt,
 * saying who may review.
 */
function reviewerAs(airlock: AirlockService, typed: string): string {
  return resolveReviewer(airlock.settings, typed) ?? typed;
}

function one(values: Record<string, unknown>, name: string, action: Action): string {
  const v = values[name];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`sde output ${action} needs --${name}`);
  return v;
}

function stateWords(r: OutputRequest): string {
  switch (r.state) {
    case 'first_approval':
      return 'approved by 1 of 2 reviewers';
    case 'second_approval':
      return 'approved by 2 of 2 reviewers: ready to release';
    default:
      return r.state;
  }
}

/** An outcome of the local service, or the release service's answer read as one. */
type Decided<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

function refusedLines(outcome: Decided<unknown>, err: (line: string) => void): number {
  if (outcome.ok) return 0;
  err(`Refused (${outcome.refusal.errorCode}): ${outcome.refusal.message}`);
  return 1;
}

export function createOutputCommand(options: OutputCommandOptions = {}): Command {
  return {
    name: 'output',
    summary: 'the safe-outputs airlock: request, check, review (two people), release and verify research outputs',
    usage: 'request|check|show|classify|override|review|resubmit|release|reproduce|verify|list [options]',
    description: [
      'Moves a research output from a project out of the environment only after automatic disclosure checks',
      'and the approval of two different reviewers named in platform.yaml (airlock.reviewers), neither of them',
      'the requester. Each release is written to <workdir>/airlock/released/<project>/<request>/ with a signed',
      'manifest (ECDSA P-256 / SHA-256) that anyone can verify.',
      '',
      'On AWS: add --airlock-bucket NAME (the AirlockStack output AirlockBucketName) to request, show and list, and',
      '--release-service URL (the AirlockStack output ReleaseServiceUrl) to check, classify, override, review and',
      'release. Requests, state and reports then live in that bucket (submissions/<project>/, requests/), releases',
      'under released/<project>/<request>/ (readable by the project role only, once released). The release service',
      'is the only writer of request state and releases and the only signer (the KMS key alias/<platform>/airlock-signing):',
      'the bucket and key policies deny everyone else. The default AWS credentials are used, in platform.yaml',
      'aws.region: researchers run request with the project role, reviewers call the service with their own reviewer',
      'role, which (not --as) names them in the request and the manifest.',
      'No local audit record is written: CloudTrail is the record (kms:Sign always; the S3 calls once the trail',
      "records the airlock bucket's data events, which the AuditStack does not select yet).",
      'Two reviewers acting at once cannot both win: the state is written with S3 conditional writes, and the loser',
      'is told to run the command again.',
      '',
      '  sde output request   --project ID (--file PATH | --query-id ID) ... --description [FILE:]TEXT ... [--statement TEXT]',
      '                       [--count-columns [FILE:]COLS] [--magnitude-columns [FILE:]COLS] [--contributions [FILE:]PATH]',
      '  sde output check     --request ID            run the disclosure checks (again); a report per file',
      '  sde output show      --request ID            the request, its files, findings and history (the whole thread)',
      '  sde output classify  --request ID --as REVIEWER --file NAME --column COL --role category|count|statistic|magnitude',
      "                       [--statistic KIND] --reason TEXT   a reviewer decides a column's role; the files are checked again",
      '  sde output override  --request ID --as REVIEWER --file NAME --finding ID --reason TEXT',
      '                       a reviewer records why a disclosive finding (differencing, degrees of freedom) does not disclose',
      '  sde output review    --request ID --as REVIEWER --approve [--note TEXT] | --return --reason TEXT | --reject --reason TEXT',
      '  sde output resubmit  --request ID (--file PATH | --query-id ID) ... --description [FILE:]TEXT ...  answer a returned request',
      '  sde output release   --request ID            after two approvals: copy out and sign',
      "  sde output reproduce --request ID            run the request's sde query outputs again and compare their SHA-256",
      '  sde output verify    MANIFEST [--public-key PEM]  (needs no config)',
      '  sde output list      [--project ID] [--format text|json]',
      '',
      "Checks (ACRO defaults, platform.yaml airlock:): the platform decides each column's role from the data; every",
      'numeric column (1.0, 3e0, 01, 1,204, -3, any digits) is a count unless a reviewer classifies it otherwise.',
      'Counts 1..threshold suppressed, secondary suppression, other counts rounded; means, medians, percentages and',
      'rates checked against their group sizes, minimum and maximum suppressed; dominance (n, k) and p-ratio on',
      'magnitudes given their contributions; residual degrees of freedom of model outputs; survival tables and',
      "histograms; zeros, negatives, missing values and free text to a reviewer; differencing against the project's",
      'earlier releases. Row-level output is refused. Only CSV tables are checked automatically: any other file goes',
      'to a reviewer, who must approve it with --note. --query-id ID requests the kept result of one of the',
      "project's sde query runs (locally), with how it was made (query hash, curated objects, engine).",
      '',
      'Exit status: 0 done; 1 refused (the reason is printed and audited) or verify failed; 2 bad usage.',
    ].join('\n'),
    options: {
      project: { type: 'string', valueName: 'ID', description: 'request/list: the project' },
      file: {
        type: 'string',
        multiple: true,
        valueName: 'PATH',
        description: 'request/resubmit: an output file (CSV; anything else goes to a reviewer); repeat for several. classify/override: the file name',
      },
      'query-id': {
        type: 'string',
        multiple: true,
        valueName: 'ID',
        description: "request: the kept result of one of the project's sde query runs; repeat for several",
      },
      statement: { type: 'string', valueName: 'TEXT', description: 'request: what the output is and why it is needed' },
      description: {
        type: 'string',
        multiple: true,
        valueName: '[FILE:]TEXT',
        description: 'request/resubmit: what each file is and how it was made (required for every file)',
      },
      note: {
        type: 'string',
        valueName: 'TEXT',
        description: 'review --approve: what you checked and why it is safe (required when the checks left findings)',
      },
      column: { type: 'string', valueName: 'COL', description: 'classify: the column' },
      role: { type: 'string', valueName: 'ROLE', description: `classify: ${COLUMN_ROLES.join(', ')}` },
      statistic: { type: 'string', valueName: 'KIND', description: `classify --role statistic: ${STATISTIC_KINDS.join(', ')}` },
      finding: { type: 'string', valueName: 'ID', description: 'override: the finding (its id in the report)' },
      as: {
        type: 'string',
        valueName: 'WHO',
        description:
          "who acts: request (a researcher's id; default: the project's first researcher), review (a reviewer's id in platform.yaml airlock.reviewers, such as REVIEWER-1, or their principal; required locally), release; on AWS you request as the person you signed in as, and review and release as your reviewer role",
      },
      request: { type: 'string', valueName: 'ID', description: 'check/review/release: the request id' },
      approve: { type: 'boolean', description: 'review: approve' },
      return: { type: 'boolean', description: 'review: return to the researcher (with --reason)' },
      reject: { type: 'boolean', description: 'review: reject (with --reason)' },
      reason: { type: 'string', valueName: 'TEXT', description: 'review/classify/override: why (required to return, reject, classify or override)' },
      'count-columns': {
        type: 'string',
        multiple: true,
        valueName: '[FILE:]COLS',
        description: 'request: columns to check as counts as well (labels only add checks; every numeric column is a count anyway)',
      },
      'magnitude-columns': {
        type: 'string',
        multiple: true,
        valueName: '[FILE:]COLS',
        description: 'request: magnitude (sum) columns: the dominance checks are added',
      },
      contributions: {
        type: 'string',
        multiple: true,
        valueName: '[FILE:]PATH',
        description: 'request: the contributions CSV behind a magnitude table (never released)',
      },
      'public-key': { type: 'string', valueName: 'PEM', description: "verify: the public key to trust (default: this workdir's signing key)" },
      format: { type: 'string', default: 'text', valueName: 'text|json', description: 'list/verify: output format' },
      'airlock-bucket': {
        type: 'string',
        valueName: 'NAME',
        description: 'on AWS: the airlock bucket (AirlockStack output AirlockBucketName); default: the local airlock in --workdir',
      },
      'release-service': {
        type: 'string',
        valueName: 'URL',
        description:
          'with --airlock-bucket, check/classify/override/review/release: the release service (AirlockStack output ReleaseServiceUrl), called with your reviewer role',
      },
      ...CONFIG_OPTION,
      ...WORKDIR_OPTION,
      ...TODAY_OPTION,
    },
    allowPositionals: true,
    async run({ values, positionals, out, err }) {
      const [action, ...rest] = positionals;
      if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
        throw new UsageError(`say what to do: ${ACTIONS.join(', ')} (see sde output --help)`);
      }
      const act = action as Action;
      if (act !== 'verify' && rest.length > 0) throw new UsageError(`unexpected argument "${rest.join(' ')}"`);
      if (act === 'verify' && rest.length !== 1) throw new UsageError('sde output verify takes one MANIFEST path');
      const format = values.format as string;
      if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);

      const workdir = path.resolve(values.workdir as string);
      const bucket = values['airlock-bucket'] as string | undefined;
      if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
        throw new UsageError(`--airlock-bucket "${bucket}" is not an S3 bucket name`);
      const serviceUrl = values['release-service'] as string | undefined;
      if (serviceUrl !== undefined && bucket === undefined) throw new UsageError('--release-service is for AWS: give --airlock-bucket NAME too');
      if (bucket !== undefined && serviceUrl === undefined && (SERVICE_ACTIONS as readonly string[]).includes(act))
        throw new UsageError(
          `on AWS, ${act} runs in the airlock's release service (the only writer of request state and releases): give --release-service URL (the AirlockStack output ReleaseServiceUrl)`,
        );
      if (act === 'verify') {
        if (bucket !== undefined)
          throw new UsageError('sde output verify works on a downloaded release and needs no bucket: leave out --airlock-bucket and give --public-key PEM');
        return verify(rest[0], workdir, values, format, out, err);
      }
      const config = loadConfig(values.config as string, { today: values.today as string | undefined });
      let airlock: AirlockService;
      /** On AWS: the release service, where every decision is made. */
      let service: ((call: ServiceCall) => Promise<ServiceResponse>) | undefined;
      /** On AWS: who the caller is; reviews and releases are recorded as this, never as --as. */
      let actor: AwsActor | undefined;
      if (bucket === undefined) {
        airlock = new AirlockService({
          config,
          workdir,
          settings: options.settings?.(config),
          sink: options.auditSink?.({ config, workdir }),
          now: options.now,
        });
      } else {
        const aws = options.aws?.({ region: config.platform.aws.region }) ?? (await defaultAwsSide(config.platform.aws.region));
        let callerArn: string;
        try {
          callerArn = await aws.callerArn();
        } catch (e) {
          err(`sde output: ${awsFailure(e) ?? `cannot tell who you are on AWS: ${(e as Error).message}`}`);
          return 1;
        }
        const { S3AirlockStore } = await import('../../airlock/s3-store');
        const { awsActor } = await import('../../airlock/aws-identity');
        const store: AirlockStore = new S3AirlockStore({ client: aws.s3, bucket });
        // No local record on AWS: CloudTrail data events and KMS Sign calls are the record.
        airlock = new AirlockService({
          config,
          workdir,
          store,
          settings: options.settings?.(config),
          sink: () => undefined,
          now: options.now,
          // Never used: a release on AWS is the service's, and the key policy lets only it sign.
          signer: () => Promise.reject(new Error('on AWS only the release service signs')),
        });
        if (serviceUrl !== undefined) service = (call) => aws.callService(serviceUrl, call);
        actor = awsActor(callerArn, { platformName: config.platform.name, reviewers: airlock.settings.reviewers });
      }
      /**
       * Who acts: locally --as; on AWS the caller's identity (a different --as is refused): a
       * reviewer or release service by its role, a researcher by the person the session was opened for.
       */
      const resolveAs =
        (how: 'actingAs' | 'requestingAs') =>
        async (claimed: string | undefined): Promise<string | undefined> => {
          // Locally, a reviewer may be named by their id in platform.yaml.
          if (actor === undefined) return how === 'actingAs' && claimed !== undefined ? reviewerAs(airlock, claimed) : claimed;
          const resolved = (await import('../../airlock/aws-identity'))[how](actor, claimed);
          if (!resolved.ok) throw new UsageError(resolved.message);
          return resolved.who;
        };
      const who = resolveAs('actingAs');
      /** On AWS: the service's answer as the local service's outcome (its errors as the same exceptions). */
      const remote = async <T>(call: ServiceCall, value: (r: ServiceResponse) => T): Promise<Decided<T>> => {
        const r = await service!(call);
        if (r.error !== undefined) {
          if (r.error.kind === 'input') throw new AirlockInputError(r.error.message);
          if (r.error.kind === 'conflict') throw new AirlockConflictError(r.error.message);
          throw new AirlockStoreError(r.error.message);
        }
        if (!r.ok) return { ok: false, refusal: r.refusal! };
        return { ok: true, value: value(r) };
      };
      const checked = (r: ServiceResponse) => ({ request: r.request!, reports: r.reports ?? [] });
      const requester = resolveAs('requestingAs');
      try {
        switch (act) {
          case 'request':
          case 'resubmit':
            if (bucket !== undefined && values['query-id'] !== undefined) {
              throw new UsageError(
                "--query-id takes a result kept by the local sde query; on AWS, download the query's result from the project's Athena results and give it with --file",
              );
            }
            return await runRequest(
              airlock,
              workdir,
              values,
              out,
              err,
              await requester(values.as as string | undefined),
              act === 'resubmit' ? one(values, 'request', act) : undefined,
            );
          case 'show':
            return await showRequest(airlock, one(values, 'request', act), format, out);
          case 'classify': {
            const reviewer = actor === undefined ? reviewerAs(airlock, one(values, 'as', act)) : (await who(values.as as string | undefined))!;
            const role = one(values, 'role', act);
            if (!(COLUMN_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${COLUMN_ROLES.join(', ')}, not "${role}"`);
            const statistic = values.statistic as string | undefined;
            if (statistic !== undefined && !(STATISTIC_KINDS as readonly string[]).includes(statistic))
              throw new UsageError(`--statistic must be one of ${STATISTIC_KINDS.join(', ')}, not "${statistic}"`);
            const c = {
              file: oneFile(values, act),
              column: one(values, 'column', act),
              role: role as ColumnRole,
              ...(statistic === undefined ? {} : { statistic: statistic as StatisticKind }),
              reason: (values.reason as string | undefined) ?? '',
            };
            const id = one(values, 'request', act);
            const outcome = service ? await remote({ action: 'classify', request: id, ...c }, checked) : await airlock.classify(id, reviewer, c);
            if (!outcome.ok) return refusedLines(outcome, err);
            printChecked(outcome.value.reports, outcome.value.request.id, airlock, out);
            out(`Request ${outcome.value.request.id} is ${stateWords(outcome.value.request)}: the files were checked again and the approvals start over.`);
            return outcome.value.request.state === 'returned' ? 1 : 0;
          }
          case 'override': {
            const reviewer = actor === undefined ? reviewerAs(airlock, one(values, 'as', act)) : (await who(values.as as string | undefined))!;
            const o = { file: oneFile(values, act), finding: one(values, 'finding', act), reason: (values.reason as string | undefined) ?? '' };
            const id = one(values, 'request', act);
            const outcome = service ? await remote({ action: 'override', request: id, ...o }, (r) => r.request!) : await airlock.override(id, reviewer, o);
            if (!outcome.ok) return refusedLines(outcome, err);
            out(`Recorded why ${values.finding as string} does not disclose; request ${outcome.value.id} is ${stateWords(outcome.value)}.`);
            return 0;
          }
          case 'reproduce': {
            if (bucket !== undefined) throw new UsageError('sde output reproduce runs the queries on the local runtime: leave out --airlock-bucket');
            const { reproduceRequest } = require('../../local/runners/reproduce') as typeof import('../../local/runners/reproduce');
            const results = await reproduceRequest({ config, workdir, store: airlock.store, requestId: one(values, 'request', act) });
            let failed = 0;
            for (const r of results) {
              const line = `${r.file}: ${r.status === 'match' ? 'reproduced (same SHA-256)' : r.status === 'differs' ? 'DIFFERS' : 'not reproducible'}${
                r.expectedSha256 ? ` (recorded ${r.expectedSha256.slice(0, 12)}…${r.gotSha256 ? `, now ${r.gotSha256.slice(0, 12)}…` : ''})` : ''
              }`;
              (r.status === 'differs' ? err : out)(line);
              for (const n of r.notes) (r.status === 'differs' ? err : out)(`    ${n}`);
              if (r.status === 'differs') failed++;
            }
            return failed > 0 ? 1 : 0;
          }
          case 'check': {
            const id = one(values, 'request', act);
            const outcome = service ? await remote({ action: 'check', request: id }, checked) : await airlock.check(id);
            if (!outcome.ok) return refusedLines(outcome, err);
            const { request, reports } = outcome.value;
            printChecked(reports, request.id, airlock, out);
            if (request.state === 'returned') {
              err(`Request ${request.id} was returned: ${request.decision?.reason ?? ''}`);
              return 1;
            }
            out(`Request ${request.id} is checked. Next: two reviewers run sde output review --request ${request.id} --as REVIEWER --approve`);
            return 0;
          }
          case 'review': {
            const chosen = (['approve', 'return', 'reject'] as const).filter((d) => values[d] === true);
            if (chosen.length !== 1) throw new UsageError('say exactly one of --approve, --return or --reject');
            const reviewer = actor === undefined ? reviewerAs(airlock, one(values, 'as', act)) : (await who(values.as as string | undefined))!;
            const id = one(values, 'request', act);
            const reason = (chosen[0] === 'approve' ? values.note : values.reason) as string | undefined;
            const outcome = service
              ? await remote({ action: 'review', request: id, decision: chosen[0], ...(reason === undefined ? {} : { reason }) }, (r) => r.request!)
              : await airlock.review(id, reviewer, chosen[0], reason);
            if (!outcome.ok) return refusedLines(outcome, err);
            out(`Request ${outcome.value.id} is ${stateWords(outcome.value)}.`);
            return 0;
          }
          case 'release': {
            const id = one(values, 'request', act);
            const releaser = await who(values.as as string | undefined);
            const outcome = service
              ? await remote({ action: 'release', request: id }, (r) => ({
                  request: r.request!,
                  manifestPath: r.manifestPath ?? '',
                  ...(r.completed ? { completed: r.completed } : {}),
                  signingKeyId: r.signingKeyId,
                }))
              : await airlock.release(id, releaser);
            if (!outcome.ok) return refusedLines(outcome, err);
            const completed = outcome.value.completed;
            if (completed === undefined) out(`Released request ${outcome.value.request.id} of project ${outcome.value.request.projectId}.`);
            else if (completed.published === 0)
              out(
                `Request ${outcome.value.request.id} of project ${outcome.value.request.projectId} was released already, and its copy is readable: nothing to do.`,
              );
            else
              out(
                `Request ${outcome.value.request.id} of project ${outcome.value.request.projectId} was released already; its copy was checked against the approved files and ${completed.published} object${completed.published === 1 ? ' was' : 's were'} made readable (the release had stopped before publishing).`,
              );
            out(`  manifest: ${outcome.value.manifestPath}`);
            if (service === undefined) {
              out(`  verify with: sde output verify ${outcome.value.manifestPath} --public-key ${airlock.publicKeyPath}`);
            } else {
              const folder = outcome.value.manifestPath.replace(/manifest\.json$/, '');
              out(`  the project role downloads it: aws s3 cp --recursive ${folder} ${outcome.value.request.id}/`);
              out(`  and verifies it: sde output verify ${outcome.value.request.id}/manifest.json --public-key airlock-signing.pem`);
              const keyId = ('signingKeyId' in outcome.value ? outcome.value.signingKeyId : undefined) ?? `alias/${config.platform.name}/airlock-signing`;
              out(`  (the trusted key: aws kms get-public-key --key-id ${keyId}, DER; openssl pkey -pubin -inform DER converts it to PEM)`);
            }
            return 0;
          }
          case 'list': {
            const requests = await airlock.list(values.project as string | undefined);
            if (format === 'json') {
              out(
                JSON.stringify(
                  requests.map((r) => ({
                    id: r.id,
                    project: r.projectId,
                    state: r.state,
                    requester: r.requester,
                    submittedAt: r.submittedAt,
                    files: r.files.map((f) => f.name),
                  })),
                  null,
                  2,
                ),
              );
              return 0;
            }
            if (requests.length === 0) out('No output requests.');
            for (const r of requests) out(`${r.id}  ${r.projectId}  ${stateWords(r)}  ${r.submittedAt}  ${r.files.map((f) => f.name).join(', ')}`);
            return 0;
          }
        }
      } catch (e) {
        if (e instanceof AirlockInputError) throw new UsageError(e.message);
        if (e instanceof AirlockConflictError) {
          err(`Not done: ${e.message}`);
          return 1;
        }
        if (e instanceof AirlockStoreError) {
          err(`sde output ${act}: ${e.message}`);
          return 1;
        }
        const failure = bucket !== undefined ? awsFailure(e) : undefined;
        if (failure !== undefined) {
          err(`sde output ${act}: ${failure}`);
          return 1;
        }
        throw e;
      }
    },
  };
}

/** Verifying needs no config: anyone with the release and the public key can do it. */
function verify(
  manifest: string,
  workdir: string,
  values: Record<string, unknown>,
  format: string,
  out: (l: string) => void,
  err: (l: string) => void,
): number {
  const keyPath = values['public-key'] as string | undefined;
  let pem: string | undefined;
  if (keyPath !== undefined) {
    try {
      pem = fs.readFileSync(keyPath, 'utf8');
    } catch {
      throw new UsageError(`--public-key ${keyPath} cannot be read`);
    }
  }
  let report;
  try {
    report = verifyWithWorkdirKey(manifest, path.join(workdir, AIRLOCK_DIR), pem);
  } catch (e) {
    if (e instanceof AirlockInputError) throw new UsageError(e.message);
    throw e;
  }
  if (format === 'json') out(JSON.stringify({ ok: report.ok, manifest: report.manifestPath, items: report.items }, null, 2));
  else for (const line of describeVerifyReport(report)) (report.ok ? out : err)(line);
  return report.ok ? 0 : 1;
}

function oneFile(values: Record<string, unknown>, action: Action): string {
  const files = (values.file as string[] | undefined) ?? [];
  if (files.length !== 1) throw new UsageError(`sde output ${action} needs one --file NAME (the file's name in the request)`);
  return path.basename(files[0]);
}

function printChecked(reports: readonly (FileReport | ReportBrief)[], id: string, airlock: AirlockService, out: (l: string) => void): void {
  for (const full of reports) {
    const report = 'reportVersion' in full ? reportBrief(full) : full;
    const changed = report.cellsChanged;
    out(`${report.file}: ${report.outcome}${changed > 0 ? ` (${changed} cell${changed === 1 ? '' : 's'} changed)` : ''}`);
    for (const r of report.refusals) out(`    refused: ${r.reason}`);
    for (const f of report.findings)
      out(`    ${f.severity === 'disclosive' ? 'DISCLOSIVE' : 'review'} ${f.id} (${RULES[f.rule].title}): ${f.message.slice(0, 200)}`);
    out(`    report: ${airlock.store.reportPath(id, report.file, 'txt')}`);
  }
}

async function showRequest(airlock: AirlockService, id: string, format: string, out: (l: string) => void): Promise<number> {
  const thread = await airlock.thread(id);
  if (format === 'json') {
    out(JSON.stringify(thread, null, 2));
    return 0;
  }
  for (const r of thread) {
    out(`${r.id}  ${r.projectId}  ${stateWords(r)}  requested by ${r.requester} at ${r.submittedAt}${r.resubmits ? `  (resubmits ${r.resubmits})` : ''}`);
    if (r.statement) out(`  statement: ${r.statement}`);
    for (const f of r.files) {
      out(`  file ${f.name} (${f.submitted.bytes} bytes): ${f.checked?.outcome ?? 'not checked'}`);
      if (f.description) out(`    description: ${f.description}`);
      if (f.provenance)
        out(
          `    made by sde query ${f.provenance.queryExecutionId} (query sha256 ${f.provenance.querySha256.slice(0, 12)}…, ${f.provenance.curatedObjects.length} curated object(s), ${f.provenance.engine.name} ${f.provenance.engine.version})`,
        );
      for (const c of f.classifications ?? [])
        out(`    column ${c.column} classified ${c.role}${c.statistic ? ` (${c.statistic})` : ''} by ${c.reviewer}: ${c.reason}`);
      for (const x of f.checked?.findings ?? []) {
        const o = (r.overrides ?? []).find((v) => v.file === f.name && v.finding === x.id);
        out(`    finding ${x.id}: ${x.severity} (${RULES[x.rule].title}, ${x.cells} cell(s))${o ? `; overridden by ${o.reviewer}: ${o.reason}` : ''}`);
      }
    }
    for (const h of r.history) out(`  ${h.time}  ${h.actor}  ${h.action}${h.from ? ` ${h.from} ->` : ''} ${h.to}${h.reason ? `: ${h.reason}` : ''}`);
  }
  return 0;
}

async function runRequest(
  airlock: AirlockService,
  workdir: string,
  values: Record<string, unknown>,
  out: (l: string) => void,
  err: (l: string) => void,
  requester: string | undefined,
  resubmits?: string,
): Promise<number> {
  const previous = resubmits === undefined ? undefined : await airlock.read(resubmits);
  const projectId = previous?.projectId ?? one(values, 'project', 'request');
  if (previous && values.project !== undefined && values.project !== projectId)
    throw new UsageError(`request ${resubmits} is of project ${projectId}, not ${String(values.project)}`);
  const queryIds = (values['query-id'] as string[] | undefined) ?? [];
  const fromQueries = queryIds.map((id) => ({ path: findQueryResult(workdir, projectId, id), record: readQueryRecord(workdir, projectId, id) }));
  const paths = [...((values.file as string[] | undefined) ?? []), ...fromQueries.map((q) => q.path)];
  if (paths.length === 0) throw new UsageError(`sde output ${resubmits ? 'resubmit' : 'request'} needs at least one --file PATH or --query-id ID`);
  const names = paths.map((p) => path.basename(p));
  const counts = perFile((values['count-columns'] as string[] | undefined) ?? [], names, 'count-columns');
  const magnitudes = perFile((values['magnitude-columns'] as string[] | undefined) ?? [], names, 'magnitude-columns');
  const contributions = perFile((values.contributions as string[] | undefined) ?? [], names, 'contributions');
  const descriptions = perFile((values.description as string[] | undefined) ?? [], names, 'description');
  if (contributions.has(undefined) && paths.length > 1)
    throw new UsageError('with several files, say which one the contributions are for: --contributions FILE:PATH');
  if (descriptions.has(undefined) && paths.length > 1) throw new UsageError('with several files, describe each: --description FILE:TEXT for each file');
  const files = paths.map((p, i) => {
    const name = names[i];
    const countColumns = columns(counts.get(name) ?? counts.get(undefined));
    const magnitudeColumns = columns(magnitudes.get(name) ?? magnitudes.get(undefined));
    const spec: TableSpec | undefined =
      countColumns === undefined && magnitudeColumns === undefined
        ? undefined
        : { ...(countColumns ? { countColumns } : {}), ...(magnitudeColumns ? { magnitudeColumns } : {}) };
    const contributionsPath = contributions.get(name) ?? contributions.get(undefined);
    const description = descriptions.get(name) ?? descriptions.get(undefined);
    const record = fromQueries.find((q) => q.path === p)?.record;
    const { sql, projectId: _p, ...provenance } = record ?? { sql: undefined, projectId: undefined };
    return {
      path: p,
      ...(description === undefined ? {} : { description }),
      ...(record ? { provenance: provenance as NonNullable<OutputFileInput['provenance']>, queryText: sql } : {}),
      ...(spec ? { spec } : {}),
      ...(contributionsPath ? { contributionsPath } : {}),
    };
  });
  const outcome = await airlock.request({
    projectId,
    files,
    statement: (values.statement as string | undefined) ?? previous?.statement,
    requester: requester ?? previous?.requester,
    ...(resubmits === undefined ? {} : { resubmits }),
  });
  if (!outcome.ok) return refusedLines(outcome, err);
  out(
    `Submitted output request ${outcome.value.id} for project ${projectId} (${files.length} file${files.length === 1 ? '' : 's'})${resubmits ? `, answering ${resubmits}` : ''}.`,
  );
  out(`Next: sde output check --request ${outcome.value.id}`);
  return 0;
}
