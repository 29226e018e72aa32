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

function issuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey) && new Date(cert.validTo) > new Date();
}

function subjectValues(subject: string, attribute: string): string[] {
  // X509Certificate.subject is one `ATTR=value` per line.
  return subject.split('\n').filter((line) => line.startsWith(`${attribute}=`)).map((line) => line.slice(attribute.length + 1));
}

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
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
  const peer = socket.getPeerX509Certificate();
  if (peer !== undefined) {
    if (config.requestHeaderCA !== undefined && issuedBy(peer, config.requestHeaderCA)) {
      const cn = subjectValues(peer.subject, 'CN')[0] ?? '';
      const allowed = config.requestHeaderAllowedNames.length === 0 || config.requestHeaderAllowedNames.includes(cn);
      const identity = allowed ? fromRequestHeaders(headers) : undefined;
      if (identity !== undefined) return identity;
    }
    if (issuedBy(peer, config.clientCA)) {
      const user = subjectValues(peer.subject, 'CN')[0];
      if (user !== undefined && user !== '') {
        return { user, groups: withAuthenticated(subjectValues(peer.subject, 'O')), extra: {} };
      }
    }
  }
  throw new SimError(401, 'Unauthorized', 'Unauthorized');
}

export function isPrivileged(identity: Identity): boolean {
  return identity.groups.includes('system:masters');
}
