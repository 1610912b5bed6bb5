/**
 * The reviewer's call to the release service: a SigV4-signed POST to its function URL, and
 * only to a function URL (the credentials sign nothing else). Lambda's check of the
 * signature is AWS's and cannot run here; what is built is checked.
 */
import { callReleaseService, functionUrlRegion, signedServiceRequest } from '../../lib/airlock/release-service-client';

const URL_ = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-2.on.aws/';
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
const AT = new Date(Date.UTC(2026, 10, 22, 9, 30, 0));

test('the call is a POST of its JSON, signed for Lambda in the URL region with the session token', async () => {
  const r = await signedServiceRequest(URL_, { action: 'check', request: 'req-20261122-0000abcd' }, CREDS, AT);
  expect(r.method).toBe('POST');
  expect(r.url).toBe(URL_);
  expect(JSON.parse(r.body)).toEqual({ action: 'check', request: 'req-20261122-0000abcd' });
  expect(r.headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261122\/eu-west-2\/lambda\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
  );
  expect(r.headers['x-amz-date']).toBe('20261122T093000Z');
  expect(r.headers['x-amz-security-token']).toBe('session-token');
  expect(r.headers.host).toBe('abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-2.on.aws');
});

test('the signature covers the body: a different call, or other credentials, sign differently; the same sign the same', async () => {
  const sig = async (call: Parameters<typeof signedServiceRequest>[1], creds = CREDS) =>
    /Signature=([0-9a-f]+)/.exec((await signedServiceRequest(URL_, call, creds, AT)).headers.authorization)![1];
  const a = await sig({ action: 'review', request: 'req-20261122-0000abcd', decision: 'approve' });
  expect(await sig({ action: 'review', request: 'req-20261122-0000abcd', decision: 'approve' })).toBe(a);
  expect(await sig({ action: 'review', request: 'req-20261122-0000abcd', decision: 'reject', reason: 'not safe' })).not.toBe(a);
  expect(await sig({ action: 'review', request: 'req-20261122-0000abcd', decision: 'approve' }, { ...CREDS, secretAccessKey: 'other' })).not.toBe(a);
});

test('credentials sign only for a Lambda function URL: look-alike hosts are refused before anything is signed', async () => {
  expect(functionUrlRegion(URL_)).toBe('eu-west-2');
  for (const bad of [
    'https://evil.example/',
    'http://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-2.on.aws/',
    'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-2.on.aws.evil.example/',
    'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-2.on.aws@evil.example/',
    'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-2.on.aws/other/path',
    `${URL_}?x=1`,
  ]) {
    expect(functionUrlRegion(bad)).toBeUndefined();
    await expect(signedServiceRequest(bad, { action: 'check', request: 'req-20261122-0000abcd' }, CREDS)).rejects.toThrow(/is not a Lambda function URL/);
  }
});

test("the service's answer is returned; Lambda's own refusal (not the service's JSON) is an error naming the status", async () => {
  const call = { action: 'check', request: 'req-20261122-0000abcd' } as const;
  const answer = { ok: false, actor: 'x', refusal: { code: 'not_a_reviewer', errorCode: 'AccessDenied', message: 'no' } };
  expect(await callReleaseService(URL_, call, CREDS, async () => ({ status: 403, text: JSON.stringify(answer) }))).toEqual(answer);
  const forbidden = await callReleaseService(URL_, call, CREDS, async () => ({ status: 403, text: '{"Message":"Forbidden"}' }));
  expect(forbidden.ok).toBe(false);
  expect(forbidden.error?.message).toMatch(/HTTP 403: Forbidden \(your role may not call it/);
  const html = await callReleaseService(URL_, call, CREDS, async () => ({ status: 502, text: '<html>bad gateway</html>' }));
  expect(html.error?.message).toMatch(/HTTP 502/);
});
