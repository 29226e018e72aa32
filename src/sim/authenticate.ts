// Who is calling: a client certificate from the shard's CA (CN = user, O = groups), or, when the
// certificate was issued by the requestheader CA to an allowed name, the X-Remote-* headers it carries
// (kube-apiserver's requestheader authentication). Anybody else's X-Remote-* headers are ignored.
import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SimError } from './errors.ts';
import type { Identity } from './types.ts';

export interface AuthConfig {
  clientCA: X509Certificate;
  requestHeaderCA?: X509Certificate;
  requestHeaderAllowedNames: string[];
}

/**
 * What a connection's client certificate was checked against: the signature check is the costly part of a
 * request, and the certificate cannot change on a connection, so it is done once per connection and CA.
 */
interface PeerChecks {
  peer: X509Certificate;
  /** CN and O of the subject, read once. */
  commonName: string;
  organizations: string[];
  validUntil: number;
  issuers: Map<X509Certificate, boolean>;
}
const checkedPeers = new WeakMap<TLSSocket, PeerChecks>();

function peerOf(socket: TLSSocket): PeerChecks | undefined {
  const known = checkedPeers.get(socket);
  if (known !== undefined) return known;
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined) return undefined;
  const subject = peer.subject;
  const checks = {
    peer,
    commonName: subjectValues(subject, 'CN')[0] ?? '',
    organizations: subjectValues(subject, 'O'),
    validUntil: new Date(peer.validTo).getTime(),
    issuers: new Map<X509Certificate, boolean>(),
  };
  checkedPeers.set(socket, checks);
  return checks;
}

function issuedBy(checks: PeerChecks, ca: X509Certificate): boolean {
  let signed = checks.issuers.get(ca);
  if (signed === undefined) checks.issuers.set(ca, (signed = checks.peer.checkIssued(ca) && checks.peer.verify(ca.publicKey)));
  return signed && checks.validUntil > Date.now();
}

function subjectValues(subject: string, attribute: string): string[] {
  // X509Certificate.subject is one `ATTR=value` per line.
  return subject
    .split('\n')
    .filter((line) => line.startsWith(`${attribute}=`))
    .map((line) => line.slice(attribute.length + 1));
}

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function fromRequestHeaders(headers: IncomingHttpHeaders): Identity | undefined {
  const user = headerValues(headers, 'x-remote-user')[0];
  if (user === undefined) return undefined;
  const extra: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-remote-extra-') || value === undefined) continue;
    // Keys are percent-encoded on the wire and case-insensitive (kube lower-cases them).
    const key = decodeURIComponent(name.slice('x-remote-extra-'.length)).toLowerCase();
    extra[key] = [...(extra[key] ?? []), ...(Array.isArray(value) ? value : [value])];
  }
  return { user, groups: withAuthenticated(headerValues(headers, 'x-remote-group')), extra };
}

function withAuthenticated(groups: string[]): string[] {
  return groups.includes('system:authenticated') ? groups : [...groups, 'system:authenticated'];
}

export function authenticate(socket: TLSSocket, headers: IncomingHttpHeaders, config: AuthConfig): Identity {
  const checks = peerOf(socket);
  if (checks !== undefined) {
    if (config.requestHeaderCA !== undefined && issuedBy(checks, config.requestHeaderCA)) {
      const cn = checks.commonName;
      const allowed = config.requestHeaderAllowedNames.length === 0 || config.requestHeaderAllowedNames.includes(cn);
      const identity = allowed ? fromRequestHeaders(headers) : undefined;
      if (identity !== undefined) return identity;
    }
    if (issuedBy(checks, config.clientCA)) {
      const user = checks.commonName;
      if (user !== '') {
        return { user, groups: withAuthenticated([...checks.organizations]), extra: {} };
      }
    }
  }
  throw new SimError(401, 'Unauthorized', 'Unauthorized');
}

export function isPrivileged(identity: Identity): boolean {
  return identity.groups.includes('system:masters');
}
