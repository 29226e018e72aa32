// The gateway: one TLS listener speaking HTTP/2 and HTTP/1.1 (ALPN), every request through the same
// pipeline, graceful drain on close().
import { once } from 'node:events';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createSecureServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { pino } from 'pino';
import type { Log } from '../log.ts';
import type { Registry } from 'prom-client';
import type { Authenticator } from '../auth/identity.ts';
import { createGatewayMetrics, type GatewayMetrics } from '../metrics.ts';
import { defaultOpenWatchLimits, OpenWatchCap, type OpenWatchLimits } from '../ratelimit/open-watch-cap.ts';
import type { Limiter } from '../ratelimit/types.ts';
import type { RoutingTable, ShardHealth } from '../routing/types.ts';
import { clientConnectionLimits, serverOptionsFor, type ClientConnectionLimits } from './client-connection-limits.ts';
import { Connections } from './connections.ts';
import { cutOffDownShards } from './down-shard-cutoff.ts';
import { UnansweredRequests } from './unanswered-cutoff.ts';
import { endMovedWatches } from './moved-watch-cutoff.ts';
import { spliceMovedWatch } from './watch-splice.ts';
import { refuseStaleResourceVersions } from './stages/refuse-stale-resource-versions.ts';
import { RequestContext, type ClientRequest, type RequestObserver } from './context.ts';
import { Http2Request, Http2Response } from './http2-exchange.ts';
import { Http2IdleSessions } from './http2-idle-sessions.ts';
import type { InFlightView } from './in-flight-set.ts';
import { compose, type Stage } from './pipeline.ts';
import { answerClientError } from './respond.ts';
import { ShardPools, type UpstreamOptions } from './shard-pools.ts';
import { admitToWorkspace } from './stages/admit-to-workspace.ts';
import { capOpenWatches } from './stages/cap-open-watches.ts';
import { authenticate, defaultDroppedGroups } from './stages/authenticate.ts';
import { forward } from './stages/forward.ts';
import { limitRate } from './stages/limit-rate.ts';
import { serveGatewayEndpoints, type MetricsExposition } from './stages/gateway-endpoints.ts';
import { parseWorkspacePath } from './stages/parse-workspace-path.ts';
import { publishEdgeEndpoints } from './stages/publish-edge-endpoints.ts';
import { resolveWorkspace } from './stages/resolve-workspace.ts';
import type { ServingCredentials, UpstreamCredentials } from './tls-material.ts';
import { routeInClusterClients } from './stages/route-in-cluster-clients.ts';

export interface GatewayOptions {
  /**
   * port 0 = ephemeral. reusePort: one of several processes listening on the same port (SO_REUSEPORT),
   * the kernel spreading connections among them.
   */
  listen: { host: string; port: number; reusePort?: boolean };
  /**
   * Serving certificate; with clientCAPem, client certificates it signs are a way to authenticate (and
   * clients are asked for one). Without clientCAPem at start, none is asked for, whatever is set later.
   */
  tls: ServingCredentials;
  routing: RoutingTable;
  /** Tried in order; the first identity wins. */
  authenticators: Authenticator[];
  upstream: UpstreamOptions;
  headers?: {
    /** Drop Impersonate-* headers (default false: they pass and the shard authorizes impersonation). */
    dropImpersonation?: boolean;
    /** Groups never passed to a shard, `prefix*` patterns allowed (default: kcp's front-proxy list, defaultDroppedGroups). */
    droppedGroups?: string[];
  };
  /**
   * The shard connection pools, when something else also talks to shards through them (the
   * service-account authenticator's lookups); made from `upstream` otherwise. Closed by close().
   */
  pools?: ShardPools;
  /** Default 3 MiB; larger request bodies get 413. */
  maxBodyBytes?: number;
  /** Timeouts and HTTP/2 limits of client connections; each left out has kube-apiserver's default. */
  connections?: Partial<Omit<ClientConnectionLimits, 'http2'>> & { http2?: Partial<ClientConnectionLimits['http2']> };
  /** How long close() lets requests finish before cutting them (default 30 s). */
  drainTimeoutMs?: number;
  logger?: Log;
  /** Shard health tracking; without it every shard not marked down is tried. */
  health?: ShardHealth;
  /** The rate policy; without it nothing is rate limited. The caller owns it (closes it after the gateway). */
  limiter?: Limiter;
  /** Bounds on open watches in this process, in total and per organisation; default defaultOpenWatchLimits. */
  watchLimits?: OpenWatchLimits;
  /** Registry of this gateway's metrics; other components register on it too. Default: a new one. */
  registry?: Registry;
  /** What the admin listener's /metrics serves; default that registry. A worker process serves its whole process group's. */
  exposition?: MetricsExposition;
  /** Told about every request besides the access log (audit, the status page); none by default. */
  observers?: RequestObserver[];
  /** Wraps the stages in trace spans (tracing/); absent = the bare stages, no cost. */
  traceStages?: (stages: readonly Stage[]) => Stage[];
}

export interface Gateway {
  url: string;
  port: number;
  metrics: Registry;
  /** What /metrics of the admin listener serves. */
  exposition: MetricsExposition;
  /** Requests in flight now, watches included: read by the status page, never changed. */
  inflight: InFlightView<RequestContext>;
  /**
   * New TLS handshakes use these (checked beforehand: see tls-material.ts); open connections, their
   * watches included, keep the certificate they were opened with.
   */
  setServingCredentials(tls: ServingCredentials): void;
  /** New shard connections use these; requests and watches running on older ones finish there. */
  setUpstreamCredentials(credentials: UpstreamCredentials): void;
  /** Graceful drain: stop accepting, finish short requests, end watches, then close. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const logger = options.logger ?? pino({ name: 'kcp-edge-gateway' });
  const metrics = createGatewayMetrics(options.registry);
  const pools = options.pools ?? new ShardPools(options.upstream);
  metrics.observeUpstream(() => pools.requestsByShard());
  const connections = new Connections();
  const observer = withObservers(accessObserver(connections, metrics, logger), options.observers ?? []);

  const unanswered = new UnansweredRequests(pools.connectTimeoutMs + pools.headersTimeoutMs);
  const headerPolicy = { dropImpersonation: options.headers?.dropImpersonation ?? false };
  const stages: Stage[] = [
    serveGatewayEndpoints({ routing: options.routing, isDraining: () => connections.draining }),
    routeInClusterClients,
    parseWorkspacePath,
    resolveWorkspace(options.routing),
    authenticate(options.authenticators, options.headers?.droppedGroups ?? defaultDroppedGroups),
    ...(options.limiter === undefined ? [] : [limitRate(options.limiter)]),
    admitToWorkspace(options.health),
    refuseStaleResourceVersions({ pools, headers: headerPolicy }),
    capOpenWatches(new OpenWatchCap(options.watchLimits ?? defaultOpenWatchLimits), metrics),
    publishEdgeEndpoints(options.routing),
    forward({
      pools,
      headers: headerPolicy,
      metrics,
      health: options.health,
      maxBodyBytes: options.maxBodyBytes ?? 3 * 1024 * 1024,
      unanswered,
    }),
  ];
  const pipeline = compose(options.traceStages === undefined ? stages : options.traceStages(stages));

  const askForClientCertificate = options.tls.clientCAPem !== undefined;
  const limits = clientConnectionLimits(options.connections);
  const server = createSecureServer({
    ...serverOptionsFor(limits),
    ...secureContextOptions(options.tls),
    allowHTTP1: true,
    // Ask for a certificate but accept connections without one: tokens are the other way in.
    ...(askForClientCertificate ? { requestCert: true, rejectUnauthorized: false } : {}),
  });

  server.on('secureConnection', (socket: TLSSocket) => connections.addSocket(socket));
  const idleSessions = new Http2IdleSessions(limits.idleTimeoutMs, (session) => logger.debug({ remote: session.socket?.remoteAddress }, 'HTTP/2 connection idle: closing it'));
  server.on('session', (session: ServerHttp2Session) => {
    connections.addSession(session);
    idleSessions.addSession(session);
  });
  // A session torn down by nghttp2 (ERR_HTTP2_ERROR): too many resets (rapid reset), refused streams
  // or invalid frames. The client sees a GOAWAY; the operator sees this. A client merely vanishing
  // (ECONNRESET and the like) is no news.
  server.on('sessionError', (err: NodeJS.ErrnoException, session: ServerHttp2Session) => {
    const level = err.code === 'ERR_HTTP2_ERROR' ? 'warn' : 'debug';
    logger[level]({ err: err.message, code: err.code, remote: session.socket?.remoteAddress }, 'HTTP/2 connection torn down');
  });
  // HTTP/1.1 requests Node refuses before the pipeline sees them (head too slow, too large, malformed)
  // get a Status like every other error; Node would answer with an empty body.
  server.on('clientError', answerClientError);
  // `on`, not `once`, for 'close': clientClosed runs its body once by itself, and once() wraps every
  // listener in a closure and a state object, per request.
  const start = (ctx: RequestContext): void => {
    connections.requestStarted(ctx);
    void pipeline(ctx);
  };
  // HTTP/1.1 requests (no ALPN, or http/1.1).
  const streamListenersBefore = new Set(server.listeners('stream'));
  server.on('request', (req: ClientRequest, res: ServerResponse) => {
    const ctx = new RequestContext(req, res, undefined, observer);
    res.on('close', ctx.clientClosed);
    start(ctx);
  });
  // HTTP/2 requests off the core API. Listening for 'request' made node:http2 add its compatibility
  // layer's 'stream' listener, which would wrap every HTTP/2 stream as well: ours replaces it.
  // A reset from the client surfaces as 'error' on the stream; 'close' ends the request. One function for
  // every stream: nothing per request.
  const onStreamError = (err: Error): void => logger.debug({ err: err.message }, 'HTTP/2 stream error');
  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    stream.on('error', onStreamError);
    stream.on('aborted', destroyAbortedStream);
    idleSessions.streamOpened(stream);
    const ctx = new RequestContext(new Http2Request(stream, headers, rawHeaders), new Http2Response(stream), undefined, observer);
    (stream as StreamOfRequest)[requestOfStream] = ctx;
    stream.on('close', http2RequestClosed);
    start(ctx);
  };
  for (const listener of server.listeners('stream')) {
    if (!streamListenersBefore.has(listener)) server.removeListener('stream', listener as () => void);
  }
  server.on('stream', onStream);
  // HTTP/1.1 Upgrade (WebSocket, SPDY) arrives here even on the HTTP/2-capable server.
  server.on('upgrade', (req: ClientRequest, socket: Duplex, head: Buffer) => {
    if (connections.draining) {
      socket.destroy();
      return;
    }
    const ctx = new RequestContext(req, undefined, { socket, head }, observer);
    connections.requestStarted(ctx);
    socket.once('close', ctx.clientClosed);
    void pipeline(ctx);
  });
  server.on('tlsClientError', (err: Error, socket: Socket) => {
    logger.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
    // Node leaves the socket open once someone listens here: a handshake that timed out would hold it.
    socket.destroy();
  });

  // exclusive: in a cluster worker, bind this process's own socket rather than one the primary shares
  // out (which would put the primary in the accept path); outside a cluster it changes nothing.
  const { host: address, port: wanted, reusePort = false } = options.listen;
  server.listen({ host: address, port: wanted, ...(reusePort ? { reusePort: true, exclusive: true } : {}) });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = options.listen.host.includes(':') ? `[${options.listen.host}]` : options.listen.host;
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const stopCutoff = options.health === undefined ? () => undefined : cutOffDownShards(connections.inflight, options.health);
  const spliceDeps = { pools, headers: headerPolicy, metrics, health: options.health };
  const stopMovedCutoff = endMovedWatches(connections.inflight, options.routing, 500, (ctx, to) => spliceMovedWatch(ctx, to, spliceDeps));
  let closing: Promise<void> | undefined;

  return {
    url: `https://${host}:${port}`,
    port,
    metrics: metrics.registry,
    exposition: options.exposition ?? metrics.registry,
    inflight: connections.inflight,
    setServingCredentials(tls) {
      // Replaces the context every later handshake starts from (and with it the session ticket keys, so
      // no session resumes past a CA change); sockets already up hold a reference to the old one.
      server.setSecureContext(secureContextOptions(askForClientCertificate ? tls : { certPem: tls.certPem, keyPem: tls.keyPem }));
    },
    setUpstreamCredentials(credentials) {
      pools.setCredentials(credentials);
    },
    close() {
      closing ??= (async () => {
        stopCutoff();
        unanswered.stop();
        stopMovedCutoff();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await connections.drain(drainTimeoutMs);
        await closed;
        await pools.close();
      })();
      return closing;
    },
  };
}

/** The request a stream carries, until the stream closes. */
const requestOfStream = Symbol('request of stream');
type StreamOfRequest = ServerHttp2Stream & { [requestOfStream]?: RequestContext | undefined };

/**
 * A stream's close ends its request, and the stream lets go of it and of anything still waiting for a
 * 'drain'. Closed streams can stay reachable for V8's young-generation collector for a while (measured:
 * most were promoted while V8 pretenured some of node:http2's objects, see cli.ts), so a closed stream
 * must keep nothing of its request alive with it.
 */
function http2RequestClosed(this: StreamOfRequest): void {
  const ctx = this[requestOfStream];
  this[requestOfStream] = undefined;
  this.removeAllListeners('drain');
  ctx?.clientClosed();
}

/**
 * A stream the client reset (RST_STREAM) before our response ended. node:http2 closes it only once that
 * response is flushed, which after a reset with NO_ERROR (what Node and undici clients send on close)
 * never happens when data for a slow client is still buffered: no 'close', so the request and its
 * upstream watch would live on. A Go server cancels the handler on any reset; destroying does the same.
 */
function destroyAbortedStream(this: ServerHttp2Stream): void {
  this.destroy();
}

/** The part of the listener's options a certificate rotation replaces (setSecureContext takes all of it). */
function secureContextOptions(tls: ServingCredentials): { cert: string; key: string; ca?: string; minVersion: 'TLSv1.2' } {
  return { cert: tls.certPem, key: tls.keyPem, ...(tls.clientCAPem === undefined ? {} : { ca: tls.clientCAPem }), minVersion: 'TLSv1.2' };
}

/** The access observer alone when nothing else observes: nothing added per request. */
function withObservers(access: RequestObserver, more: RequestObserver[]): RequestObserver {
  if (more.length === 0) return access;
  const started = more.filter((o) => o.responseStarted !== undefined);
  const forwarding = more.filter((o) => o.requestForwarding !== undefined);
  return {
    requestFinished(ctx) {
      access.requestFinished(ctx);
      for (const o of more) o.requestFinished(ctx);
    },
    responseStarted(ctx) {
      for (const o of started) o.responseStarted!(ctx);
    },
    ...(forwarding.length === 0
      ? {}
      : {
          requestForwarding(ctx: RequestContext): void {
            for (const o of forwarding) o.requestForwarding!(ctx);
          },
        }),
  };
}

function accessObserver(connections: Connections, metrics: GatewayMetrics, logger: Log): RequestObserver {
  return {
    requestFinished(ctx: RequestContext): void {
      connections.requestFinished(ctx);
      const seconds = (performance.now() - ctx.startedAt) / 1000;
      // 499: the client went away before any answer (nginx's convention).
      const code = ctx.statusCode === 0 ? 499 : ctx.statusCode;
      const verb = ctx.attrs?.verb ?? (ctx.req.method ?? '').toLowerCase();
      metrics.observeRequest(ctx.shard, verb, code, seconds);
      // The access line's object is built only when it will be written (benches and busy sites run at warn).
      if (logger.isLevelEnabled?.('info') === false) return;
      const err = ctx.error;
      logger.info(
        {
          auditID: ctx.auditId,
          proto: ctx.req.httpVersion,
          method: ctx.req.method,
          path: ctx.path,
          verb,
          workspace: ctx.target?.route.path,
          shard: ctx.shard || undefined,
          user: ctx.identity?.user,
          code,
          ms: Math.round(seconds * 1e6) / 1e3,
          error: err?.code,
          reason: err?.internalReason,
        },
        'request',
      );
    },
  };
}
