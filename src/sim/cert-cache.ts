// openssl runs take hundreds of milliseconds on a busy machine, and a test suite starts dozens of shards
// and clients from one CA: identical requests for the same CA are issued once and reused.
import type { CertificateAuthority, IssueOptions, KeyPair } from './pki.ts';

const issued = new WeakMap<CertificateAuthority, Map<string, Promise<KeyPair>>>();

export function issueCached(ca: CertificateAuthority, options: IssueOptions): Promise<KeyPair> {
  let byRequest = issued.get(ca);
  if (byRequest === undefined) issued.set(ca, (byRequest = new Map()));
  const key = JSON.stringify(options);
  let pair = byRequest.get(key);
  if (pair === undefined) {
    pair = ca.issue(options);
    byRequest.set(key, pair);
    pair.catch(() => byRequest.delete(key));
  }
  return pair;
}
