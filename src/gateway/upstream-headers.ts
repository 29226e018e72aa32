// The headers a shard receives. Client headers pass except those that are hop-by-hop, that the
// gateway alone may set (X-Remote-*: requestheader authentication trusts them), or that carry the
// client's own credentials; then the identity the gateway vouches for is added.
import type { Identity } from '../auth/identity.ts';
import { withoutBearerSubprotocol } from '../auth/credentials.ts';

export interface HeaderPolicy {
  /** Drop Impersonate-* (by default they pass: the shard authorizes impersonation itself). */
  dropImpersonation: boolean;
}

// Hop-by-hop (RFC 9110 §7.6.1) plus what undici sets itself (host) or refuses (expect), the client's
// credentials (authorization: the shard trusts the gateway's word instead) and what the gateway sets.
const neverForwarded = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
  'expect',
  'authorization',
  'audit-id',
  'x-forwarded-for',
]);

/**
 * Client headers for the shard as a flat [name, value, …] array. For an upgrade, `Upgrade` and
 * `Connection: Upgrade` are kept and the bearer WebSocket subprotocol is removed.
 */
export function forwardedClientHeaders(rawHeaders: readonly string[], policy: HeaderPolicy, upgrade: boolean): string[] {
  const out: string[] = [];
  let connectionTokens: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 10 && rawHeaders[i]!.toLowerCase() === 'connection') {
      connectionTokens ??= new Set();
      for (const token of rawHeaders[i + 1]!.split(',')) connectionTokens.add(token.trim().toLowerCase());
    }
  }
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.charCodeAt(0) === 58 /* ':' HTTP/2 pseudo-header */) continue;
    const lower = name.toLowerCase();
    if (neverForwarded.has(lower)) {
      if (upgrade && lower === 'upgrade') out.push(name, rawHeaders[i + 1]!);
      continue;
    }
    if (lower.startsWith('x-remote-')) continue;
    if (policy.dropImpersonation && lower.startsWith('impersonate-')) continue;
    if (connectionTokens !== undefined && connectionTokens.has(lower)) continue;
    if (upgrade && lower === 'sec-websocket-protocol') {
      const remaining = withoutBearerSubprotocol(rawHeaders[i + 1]!);
      if (remaining !== '') out.push(name, remaining);
      continue;
    }
    out.push(name, rawHeaders[i + 1]!);
  }
  if (upgrade) out.push('connection', 'Upgrade');
  return out;
}

// Built once per identity: authenticators return the same Identity object for the same credentials.
const identityHeaderCache = new WeakMap<Identity, readonly string[]>();

/** X-Remote-User, one X-Remote-Group per group, X-Remote-Extra-<escaped key> per extra value. */
export function identityHeaders(identity: Identity): readonly string[] {
  let headers = identityHeaderCache.get(identity);
  if (headers === undefined) {
    const list = ['x-remote-user', identity.user];
    for (const group of identity.groups) list.push('x-remote-group', group);
    for (const key of Object.keys(identity.extra)) {
      const name = 'x-remote-extra-' + escapeExtraKey(key);
      for (const value of identity.extra[key]!) list.push(name, value);
    }
    headers = Object.freeze(list);
    identityHeaderCache.set(identity, headers);
  }
  return headers;
}

// RFC 7230 token characters; anything else (and '%' itself) is percent-encoded, as client-go does for
// Impersonate-Extra- and kube-apiserver's requestheader authenticator unescapes.
const tokenChar = /[!#$&'*+\-.^_`|~0-9A-Za-z]/;

export function escapeExtraKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += tokenChar.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// Response headers that describe the gateway↔shard connection, not the response.
const hopByHopResponse = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer', 'te', 'http2-settings']);

/** The shard's Connection header's tokens (the headers it names are hop-by-hop); undefined when it names none. */
function connectionNamed(connection: string | string[] | undefined): Set<string> | undefined {
  // keep-alive and close (nearly every response) name no header: no Set to build.
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return undefined;
  const named = new Set<string>();
  for (const token of String(connection).split(',')) named.add(token.trim().toLowerCase());
  return named;
}

/**
 * The shard's response headers for the client as a flat [name, value, …] list without the hop-by-hop
 * ones (and those the shard's Connection header names), then the gateway's `added` [lower-case name,
 * value, …] pairs the shard did not send itself. A new list rather than deletes on undici's object:
 * deleting turns it into a slow dictionary that writeHead then walks.
 */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>, added: readonly string[] = []): (string | string[])[] {
  const named = connectionNamed(headers.connection);
  const out: (string | string[])[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || hopByHopResponse.has(name) || named?.has(name) === true) continue;
    out.push(name, value);
  }
  for (let i = 0; i < added.length; i += 2) if (headers[added[i]!] === undefined) out.push(added[i]!, added[i + 1]!);
  return out;
}

/**
 * The same headers as one HTTP/2 header block: a flat [name, value, …] list, `:status` first, one pair
 * per value of a repeated header. node:http2 takes such a list as it is, where a header object is
 * first copied into one of its own (which the stream then keeps for its whole life).
 */
export function clientResponseHeaderBlock(statusCode: number, headers: Record<string, string | string[] | undefined>, added: readonly string[] = []): string[] {
  const named = connectionNamed(headers.connection);
  const out = [':status', String(statusCode)];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || hopByHopResponse.has(name) || named?.has(name) === true) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (let i = 0; i < value.length; i++) out.push(name, value[i]!);
  }
  for (let i = 0; i < added.length; i += 2) if (headers[added[i]!] === undefined) out.push(added[i]!, added[i + 1]!);
  return out;
}
