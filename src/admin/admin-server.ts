// The admin listener: its own port and TLS, for operators and Prometheus, never for tenants. It serves
// /metrics (kcp's front-proxy refuses anonymous scrapes too, and metrics name every shard and org) and
// the status page. Every request needs a client certificate from the admin CA or a bearer token from the
// admin token file, and the identity must be in the configured group.
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Authenticator, Identity } from '../auth/identity.ts';
import type { MetricsExposition } from '../gateway/stages/gateway-endpoints.ts';
import { failureStatus, type StatusReason } from '../kube/status.ts';
import type { Log } from '../log.ts';
import { statusPageHtml } from './status-page.ts';

export interface AdminServerOptions {
  /** reusePort: one of several worker processes sharing the port. */
  listen: { host: string; port: number; reusePort?: boolean };
  tls: { certPem: string; keyPem: string; clientCAPem?: string };
  /** Tried in order (client certificate, token file); the first identity wins. */
  authenticators: Authenticator[];
  /** The identity must carry this group. */
  group: string;
  metrics: MetricsExposition;
  /** The status page's data; absent = no status page. */
  status?: () => Promise<unknown>;
  log?: Log;
}

export interface AdminServer {
  url: string;
  port: number;
  /** New handshakes use this certificate and key (already checked: see gateway/tls-material.ts); the admin client CA stays. */
  setServingCertificate(certPem: string, keyPem: string): void;
  /**
   * New handshakes accept client certificates of this bundle (already checked). Only for a listener
   * started with a client CA: whether clients are asked for a certificate is fixed at start.
   */
  setClientCA(clientCAPem: string): void;
  close(): Promise<void>;
}

const noStore = { 'cache-control': 'no-cache, private', 'x-content-type-options': 'nosniff' };

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  // What a rotation replaces: setSecureContext takes the whole context, so both halves are kept here.
  const current = { ...options.tls };
  const contextOptions = () => ({
    cert: current.certPem,
    key: current.keyPem,
    minVersion: 'TLSv1.2' as const,
    ...(current.clientCAPem === undefined ? {} : { ca: current.clientCAPem }),
  });
  const server: Server = createServer(
    {
      ...contextOptions(),
      // Ask for a certificate, accept connections without one: a token is the other way in.
      ...(options.tls.clientCAPem === undefined ? {} : { requestCert: true, rejectUnauthorized: false }),
    },
    (req, res) => void handle(req, res, options),
  );
  const { host, port: wanted, reusePort = false } = options.listen;
  server.listen({ host, port: wanted, ...(reusePort ? { reusePort: true, exclusive: true } : {}) });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    setServingCertificate(certPem, keyPem) {
      current.certPem = certPem;
      current.keyPem = keyPem;
      server.setSecureContext(contextOptions());
    },
    setClientCA(clientCAPem) {
      if (options.tls.clientCAPem === undefined) throw new Error('the admin listener was started without a client CA');
      current.clientCAPem = clientCAPem;
      server.setSecureContext(contextOptions());
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Status pages keep polling connections open: nothing here is worth waiting for.
      server.closeAllConnections();
      await closed;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: AdminServerOptions): Promise<void> {
  let user = '';
  // The admin access log: who looked, at what, from which process (pid is on every line).
  res.once('finish', () => options.log?.info({ auditID: req.headers['audit-id'], path: req.url, user, code: res.statusCode }, 'admin request'));
  try {
    const identity = await authenticate(req, options.authenticators);
    user = identity?.user ?? '';
    if (identity === undefined) return fail(res, 401, 'Unauthorized', 'Unauthorized');
    if (!identity.groups.includes(options.group)) {
      return fail(res, 403, 'Forbidden', `forbidden: User "${identity.user}" is not in group "${options.group}"`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'MethodNotAllowed', 'only GET is served here');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const body = await options.metrics.metrics();
      res.writeHead(200, { ...noStore, 'content-type': options.metrics.contentType });
      res.end(body);
      return;
    }
    if (options.status !== undefined && (path === '/' || path === '/status')) {
      res.writeHead(200, {
        ...noStore,
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      });
      res.end(statusPageHtml);
      return;
    }
    if (options.status !== undefined && path === '/status.json') {
      const body = JSON.stringify(await options.status());
      res.writeHead(200, { ...noStore, 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    fail(res, 404, 'NotFound', 'the admin listener serves /metrics, /status and /status.json');
  } catch (err) {
    options.log?.warn({ err: err instanceof Error ? err.message : String(err), path: req.url }, 'admin request failed');
    if (!res.headersSent) fail(res, 500, 'InternalError', 'Internal error occurred');
    else res.destroy();
  }
}

async function authenticate(req: IncomingMessage, authenticators: Authenticator[]): Promise<Identity | undefined> {
  const socket = req.socket as TLSSocket;
  const certificate = socket.authorized ? socket.getPeerCertificate() : undefined;
  const header = req.headers.authorization;
  const token = header !== undefined && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
  const credentials = {
    token: token === '' ? undefined : token,
    clientCertificate: certificate === undefined || Object.keys(certificate).length === 0 ? undefined : certificate,
    org: undefined,
    workspace: undefined,
  };
  for (const authenticator of authenticators) {
    try {
      const identity = await authenticator.authenticate(credentials);
      if (identity !== undefined) return identity;
    } catch {
      return undefined; // a token this authenticator judged and refused
    }
  }
  return undefined;
}

function fail(res: ServerResponse, code: number, reason: StatusReason, message: string): void {
  const body = JSON.stringify(failureStatus(code, reason, message));
  res.writeHead(code, { ...noStore, 'content-type': 'application/json', ...(code === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(body);
}
