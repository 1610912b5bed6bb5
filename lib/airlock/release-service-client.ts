/**
 * The reviewer's side of the release service (release-service.ts): one SigV4-signed POST to
 * its IAM-authorised function URL, signed with the caller's own credentials (the default
 * chain: their reviewer role). Lambda checks the signature and tells the service who
 * called; nothing in the body can say otherwise.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ServiceCall, ServiceResponse } from './release-service';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** What `fetch` needs to send: the signed request. */
export interface SignedRequest {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The SHA-256 (or HMAC-SHA-256 with a secret) the signer asks for, from node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    throw new Error('not used by SigV4 signing');
  }
}

function bytes(d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof d === 'string') return d;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** `https://<id>.lambda-url.<region>.on.aws/`: the only URLs a call is signed for (credentials are not sent elsewhere). */
const FUNCTION_URL = /^https:\/\/[a-z0-9]{20,64}\.lambda-url\.([a-z]{2}(?:-[a-z]+)+-\d)\.on\.aws\/?$/;

/** The region of a function URL, or undefined if it is not one. */
export function functionUrlRegion(url: string): string | undefined {
  return FUNCTION_URL.exec(url)?.[1];
}

/** The signed POST of one call (pure apart from the clock: give `now` to make it repeatable). */
export async function signedServiceRequest(url: string, call: ServiceCall, credentials: AwsCredentials, now: Date = new Date()): Promise<SignedRequest> {
  const region = functionUrlRegion(url);
  if (region === undefined)
    throw new Error(`${url} is not a Lambda function URL (https://<id>.lambda-url.<region>.on.aws/): give the AirlockStack output ReleaseServiceUrl`);
  const { hostname } = new URL(url);
  const body = JSON.stringify(call);
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: NodeSha256 });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname, path: '/', query: {}, headers: { host: hostname, 'content-type': 'application/json' }, body },
    { signingDate: now },
  );
  return { url: `https://${hostname}/`, method: 'POST', headers: signed.headers as Record<string, string>, body };
}

/** Sends a call and reads the service's answer; a non-JSON answer (Lambda's own 403 for a bad signature) is an error naming the status. */
export async function callReleaseService(
  url: string,
  call: ServiceCall,
  credentials: AwsCredentials,
  send: (r: SignedRequest) => Promise<{ status: number; text: string }> = async (r) => {
    const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
    return { status: res.status, text: await res.text() };
  },
): Promise<ServiceResponse> {
  const { status, text } = await send(await signedServiceRequest(url, call, credentials));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const answer = parsed as ServiceResponse | undefined;
  if (answer !== null && typeof answer === 'object' && typeof answer.ok === 'boolean' && (answer.request ?? answer.refusal ?? answer.error) !== undefined)
    return answer;
  const message = parsed !== null && typeof parsed === 'object' && 'Message' in parsed ? String((parsed as { Message: unknown }).Message) : text.slice(0, 200);
  return {
    ok: false,
    error: {
      kind: status === 401 || status === 403 ? 'store' : 'input',
      message: `the release service answered HTTP ${status}${message ? `: ${message}` : ''}${status === 403 ? ' (your role may not call it: reviewers call it with their own reviewer role)' : ''}`,
    },
  };
}
