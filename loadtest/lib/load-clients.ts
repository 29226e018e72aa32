// The load generators of the side-by-side comparison, one per protocol on the client hop: wrk speaks
// HTTP/1.1 (it offers no ALPN), h2load speaks HTTP/2 — what kubectl and every client-go program
// (Flux, ArgoCD) negotiate with a gateway that offers it. Same connection count, one request in flight
// per connection, so the two tables are comparable.
import { runH2load } from './h2load.ts';
import { runWrk, type WrkOptions, type WrkResult } from './wrk.ts';

export type ClientHop = 'h1' | 'h2';

export interface LoadClient {
  hop: ClientHop;
  protocol: 'HTTP/1.1' | 'HTTP/2';
  /** Heading of its table in the report. */
  title: string;
  /** What a reader must know to read its table, printed above it. */
  note?: string;
  /** Command → Debian package that provides it. */
  packages: Record<string, string>;
  /** One line for the report's method paragraph. */
  method(o: { threads: number; connections: number }): string;
  run(options: WrkOptions): Promise<WrkResult>;
}

export const wrkClient: LoadClient = {
  hop: 'h1',
  protocol: 'HTTP/1.1',
  title: 'HTTP/1.1 on the client hop (wrk)',
  packages: { wrk: 'wrk' },
  method: (o) => `wrk -t${o.threads} -c${o.connections} (HTTP/1.1: wrk offers no ALPN)`,
  run: runWrk,
};

export const h2loadClient: LoadClient = {
  hop: 'h2',
  protocol: 'HTTP/2',
  title: 'HTTP/2 on the client hop (what kubectl speaks)',
  note:
    'Direct over HTTP/2 makes the upstream itself (Node\'s http2) serve HTTP/2, while every proxy reaches it over HTTP/1.1: "vs direct" ' +
    'here is relative to a costlier baseline than in the HTTP/1.1 table. Compare the proxies with each other, by CPU per request, and ' +
    'with their own HTTP/1.1 figures ("vs own HTTP/1.1": req/s over HTTP/2 ÷ req/s over HTTP/1.1, same target, same rounds).',
  packages: { h2load: 'nghttp2-client' },
  method: (o) =>
    `h2load -t${o.threads} -c${o.connections} -m1 (one stream in flight per connection, like one wrk connection; ALPN offers h2 only and every ` +
    'run checks h2 was negotiated); p50/p99 from its per-request log',
  run: runH2load,
};

const byHop: Record<ClientHop, LoadClient> = { h1: wrkClient, h2: h2loadClient };

/** `--clients h1,h2` (the default: both) → the load clients, in that order. */
export function parseClients(text: string | undefined): LoadClient[] {
  if (text === undefined) return [wrkClient, h2loadClient];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !(n in byHop));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--clients takes h1, h2 or h1,h2; got "${text}"`);
  return [...new Set(names as ClientHop[])].map((n) => byHop[n]);
}
