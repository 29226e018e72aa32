// Reads what a client offers to prove who it is: a bearer token (Authorization header, or for
// WebSockets the bearer subprotocol browsers and kubectl use) and a client certificate the TLS layer
// verified against the gateway's client CA.
import type { IncomingHttpHeaders } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';

const bearerSubprotocolPrefix = 'base64url.bearer.authorization.k8s.io.';

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    // RFC 7235: the scheme is case-insensitive.
    if (authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ') {
      const token = authorization.slice(7).trim();
      return token === '' ? undefined : token;
    }
    return undefined;
  }
  const protocols = headers['sec-websocket-protocol'];
  if (protocols === undefined) return undefined;
  for (const raw of protocols.split(',')) {
    const protocol = raw.trim();
    if (protocol.startsWith(bearerSubprotocolPrefix)) {
      const token = Buffer.from(protocol.slice(bearerSubprotocolPrefix.length), 'base64url').toString('utf8');
      return token === '' ? undefined : token;
    }
  }
  return undefined;
}

/**
 * True when a request carries more than one Authorization header. Node keeps only the first in
 * `headers`, and another hop may keep the last: such a request has no one meaning, so it is refused.
 */
export function hasRepeatedAuthorization(rawHeaders: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}

/** The Sec-WebSocket-Protocol value with the bearer entry removed (the token must not travel on). */
export function withoutBearerSubprotocol(value: string): string {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith(bearerSubprotocolPrefix))
    .join(', ');
}

// getPeerCertificate() builds a fresh object on every call; a connection's certificate never changes.
const verifiedCertificates = new WeakMap<object, PeerCertificate | null>();

/**
 * The client certificate of a connection, when the client sent one and it chains to the client CA.
 * `key` identifies the connection (the TLS socket, or the HTTP/2 session whose socket this is).
 */
export function verifiedClientCertificate(key: object, socket: TLSSocket): PeerCertificate | undefined {
  let certificate = verifiedCertificates.get(key);
  if (certificate === undefined) {
    certificate = null;
    if (socket.authorized === true && typeof socket.getPeerCertificate === 'function') {
      const peer = socket.getPeerCertificate();
      if (peer !== null && typeof peer === 'object' && peer.subject !== undefined) certificate = peer;
    }
    verifiedCertificates.set(key, certificate);
  }
  return certificate ?? undefined;
}
