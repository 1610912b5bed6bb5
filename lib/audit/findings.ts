/** What `verify` can find, shared by the local chain check and the CloudTrail digest check. */

export type FindingKind =
  // the local hash chain and its signed heads
  | 'missing'
  | 'altered'
  | 'reordered'
  | 'unchained'
  | 'broken-link'
  | 'duplicate'
  | 'corrupt-chain'
  | 'unreadable-record'
  | 'empty-trail'
  | 'unsigned-head'
  | 'corrupt-heads'
  | 'bad-head-signature'
  | 'heads-out-of-order'
  | 'head-mismatch'
  | 'truncated'
  | 'unsigned-entries'
  | 'key-changed'
  | 'published-head-mismatch'
  | 'no-trusted-key'
  | 'interrupted-write'
  // CloudTrail digests
  | 'digest-unreadable'
  | 'digest-missing'
  | 'digest-altered'
  | 'digest-moved'
  | 'digest-gap'
  | 'digest-chain-restarted'
  | 'digest-unsigned'
  | 'digest-signature-invalid'
  | 'digest-key-unknown'
  | 'signature-not-checked'
  | 'log-file-missing'
  | 'log-file-altered'
  | 'not-in-digest'
  | 'pending-digest'
  | 'nothing-to-verify';

export interface VerifyFinding {
  readonly kind: FindingKind;
  /** Errors fail verification; warnings are worth a look but may be benign. */
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export const error = (kind: FindingKind, message: string): VerifyFinding => ({ kind, severity: 'error', message });
export const warning = (kind: FindingKind, message: string): VerifyFinding => ({ kind, severity: 'warning', message });

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
