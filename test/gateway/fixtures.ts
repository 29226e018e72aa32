// Real servers for gateway tests: a PKI, HTTPS "shards" that record what reached them, an in-memory
// routing table, and a gateway started in front of them. Everything listens on 127.0.0.1:0.
import { once } from 'node:events';
import { request as httpsRequest } from 'node:https';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { StaticTokenAuthenticator } from '../../src/auth/static-token.ts';
import { ClientCertificateAuthenticator } from '../../src/auth/client-certificate.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/server.ts';
import type { Resolution, Route, RoutingTable, Shard } from '../../src/routing/types.ts';
import { cancelHandlersOnReset, goResetTolerance } from '../../src/sim/go-http2-server.ts';
import { createCertificateAuthority, issueLoopbackServer, type CertificateAuthority, type KeyPair } from '../../src/sim/pki.ts';

export interface Pki {
  ca: CertificateAuthority;
  gatewayServing: KeyPair;
  gatewayClient: KeyPair;
  shardServing: KeyPair;
  clientCA: CertificateAuthority;
}

let pkiOnce: Promise<Pki> | undefined;
/** One PKI per test file: issuing certificates costs openssl runs. */
export function testPki(): Promise<Pki> {
  pkiOnce ??= (async () => {
    const ca = await createCertificateAuthority('test-ca');
    const clientCA = await createCertificateAuthority('test-client-ca');
    const [gatewayServing, gatewayClient, shardServing] = await Promise.all([
      issueLoopbackServer(ca, 'gateway'),
      ca.issue({ commonName: 'kcp-edge-gateway', usage: 'client' }),
      issueLoopbackServer(ca, 'shard'),
    ]);
    return { ca, gatewayServing, gatewayClient, shardServing, clientCA };
  })();
  return pkiOnce;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  clientCertCN: string | undefined;
}

export interface TestShard {
  url: string;
  /** HTTP/2 and HTTP/1.1 by ALPN (its own preference first, as a Go shard), upgrades over HTTP/1.1. */
  server: Http2SecureServer;
  seen: SeenRequest[];
  /** Cuts every connection at once, as a crashed shard process does. */
  cutConnections(): void;
}

export type ShardHandler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void;

const echo: ShardHandler = (_req, res, seen) => {
  const body = JSON.stringify({ kind: 'Echo', url: seen.url, user: seen.headers['x-remote-user'] ?? null });
  res.writeHead(200, { 'content-type': 'application/json', 'audit-id': String(seen.headers['audit-id'] ?? '') });
  res.end(body);
};

/**
 * An HTTPS server that requires the gateway's client certificate, records requests and answers with
 * `handler`. Handlers see what HTTP/1.1's and HTTP/2's compatibility objects share; the recorded headers
 * leave out HTTP/2's pseudo-headers.
 */
export async function startTestShard(t: TestContext, pki: Pki, handler: ShardHandler = echo): Promise<TestShard> {
  const seen: SeenRequest[] = [];
  const options = {
    cert: pki.shardServing.certPem,
    key: pki.shardServing.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: true,
    ...goResetTolerance,
  };
  const server = createSecureServer(options, (h2req, h2res) => {
    const req = h2req as unknown as IncomingMessage;
    const res = h2res as unknown as ServerResponse;
    const chunks: Buffer[] = [];
    const record: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: withoutPseudoHeaders(req.headers),
      rawHeaders: withoutPseudoRawHeaders(req.rawHeaders),
      body: '',
      clientCertCN: (req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN as string | undefined,
    };
    seen.push(record);
    // Bodies are read only for requests that have one, so streaming handlers can answer at once.
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
      handler(req, res, record);
      return;
    }
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      record.body = Buffer.concat(chunks).toString('utf8');
      handler(req, res, record);
    });
  });
  // A shard is a Go server: a reset stream ends its handler whatever the code.
  cancelHandlersOnReset(server);
  const sockets = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const cutConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    cutConnections();
    server.close();
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen, cutConnections };
}

function withoutPseudoHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) if (!name.startsWith(':')) out[name] = headers[name];
  return out;
}

function withoutPseudoRawHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!raw[i]!.startsWith(':')) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/** Routing table over fixed maps; `cluster` names resolve too, as in the real stores. */
export class StaticRoutingTable implements RoutingTable {
  readonly shards = new Map<string, Shard>();
  readonly routes = new Map<string, Route>();

  addShard(name: string, url: string, ca?: string): this {
    this.shards.set(name, { name, url, ...(ca === undefined ? {} : { ca }), state: 'active', labels: {} });
    return this;
  }

  addRoute(path: string, shard: string, cluster: string): this {
    this.routes.set(path, { path, shard, cluster, phase: 'Ready', rev: 1 });
    return this;
  }

  async resolve(pathOrCluster: string): Promise<Resolution | undefined> {
    const route = this.routes.get(pathOrCluster) ?? [...this.routes.values()].find((r) => r.cluster === pathOrCluster);
    if (route === undefined) return undefined;
    const shard = this.shards.get(route.shard);
    return shard === undefined ? undefined : { route, shard };
  }
  async getShard(name: string): Promise<Shard | undefined> {
    return this.shards.get(name);
  }
  async listShards(): Promise<Shard[]> {
    return [...this.shards.values()];
  }
  async countRoutesByShard(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const r of this.routes.values()) counts[r.shard] = (counts[r.shard] ?? 0) + 1;
    return counts;
  }
  ready(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

export const tokens = 'alice-token,alice,1001,"dev,system:masters"\nbob-token,bob,1002,\n';

export async function startTestGateway(t: TestContext, pki: Pki, routing: RoutingTable, overrides: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gateway = await startGateway({
    listen: { host: '127.0.0.1', port: 0 },
    tls: { certPem: pki.gatewayServing.certPem, keyPem: pki.gatewayServing.keyPem, clientCAPem: pki.clientCA.certPem },
    routing,
    authenticators: [StaticTokenAuthenticator.fromCsv(tokens), new ClientCertificateAuthenticator()],
    upstream: { clientCertPem: pki.gatewayClient.certPem, clientKeyPem: pki.gatewayClient.keyPem, caPem: pki.ca.certPem, connectTimeoutMs: 2000 },
    logger: pino({ level: 'silent' }),
    drainTimeoutMs: 2000,
    ...overrides,
  });
  t.after(() => gateway.close());
  return gateway;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request to the gateway, trusting the test CA; a fresh connection each time. */
export function get(
  gateway: Gateway,
  pki: Pki,
  path: string,
  {
    token = 'alice-token',
    headers = {},
    method = 'GET',
    body,
    onHead,
  }: {
    token?: string | null;
    headers?: Record<string, string | string[]>;
    method?: string;
    body?: string | Buffer;
    /** Called when the response head arrives, long before a watch's body ends. */
    onHead?: (status: number) => void;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        // host/port/path, not a URL: a URL would normalise the path (%2e%2e → ..) before we send it.
        host: '127.0.0.1',
        port: gateway.port,
        path,
        method,
        ca: pki.ca.certPem,
        agent: false,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
      },
      (res) => {
        onHead?.(res.statusCode ?? 0);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
