// Bounds on what a client connection may hold or cost, with kube-apiserver's serving defaults
// (k8s.io/apiserver secure_serving.go: ReadHeaderTimeout 32 s, IdleTimeout 90 s for HTTP/1.1 and
// HTTP/2, 100 concurrent streams), turned into the options of node:http2's server. What Node does
// itself is only configured here: the header timeout and keep-alive of HTTP/1.1, the TLS handshake
// bound, SETTINGS_MAX_CONCURRENT_STREAMS and nghttp2's RST_STREAM rate limit (the CVE-2023-44487
// "rapid reset" mitigation). The HTTP/2 idle timeout, which Node lacks, is http2-idle-sessions.ts.
import type { ServerOptions as Http1ServerOptions } from 'node:http';
import type { SecureServerOptions } from 'node:http2';

export interface ClientConnectionLimits {
  /**
   * HTTP/1.1: the request head must be complete this long after the connection opened or the previous
   * response ended, or the client gets 408 and the connection closes. Also bounds the TLS handshake.
   */
  readHeaderTimeoutMs: number;
  /**
   * A connection with nothing in flight is closed after this long: HTTP/1.1 keep-alive between
   * requests, HTTP/2 sessions without an open stream (a watch keeps its stream open, so never counts).
   * 0 = never.
   */
  idleTimeoutMs: number;
  http2: {
    /** SETTINGS_MAX_CONCURRENT_STREAMS: streams one connection may have open at once. */
    maxConcurrentStreams: number;
    /**
     * Stream resets (RST_STREAM) a client may send in a burst, refilled at `resetsPerSecond`; beyond
     * that the connection is torn down (GOAWAY). Cancelling a request or a watch costs one.
     */
    resetBurst: number;
    resetsPerSecond: number;
  };
}

export const defaultClientConnectionLimits: ClientConnectionLimits = Object.freeze({
  readHeaderTimeoutMs: 32_000,
  idleTimeoutMs: 90_000,
  // nghttp2's own defaults (1000 resets, 33/s) let one connection put a thousand cancelled requests
  // into the pipeline before it is cut; a client cancelling more than a few requests a second is rare.
  http2: Object.freeze({ maxConcurrentStreams: 100, resetBurst: 200, resetsPerSecond: 20 }),
});

/** Fills what `given` leaves out with the defaults. */
export function clientConnectionLimits(given: Partial<Omit<ClientConnectionLimits, 'http2'>> & { http2?: Partial<ClientConnectionLimits['http2']> } = {}): ClientConnectionLimits {
  const d = defaultClientConnectionLimits;
  return {
    readHeaderTimeoutMs: given.readHeaderTimeoutMs ?? d.readHeaderTimeoutMs,
    idleTimeoutMs: given.idleTimeoutMs ?? d.idleTimeoutMs,
    http2: { ...d.http2, ...given.http2 },
  };
}

/**
 * The node:http2 server options that enforce `limits` (everything but the HTTP/2 idle timeout).
 * http1Options takes every option of http.createServer (Node's documentation; its type names fewer).
 */
export function serverOptionsFor(limits: ClientConnectionLimits): SecureServerOptions & { http1Options: Http1ServerOptions } {
  const headers = limits.readHeaderTimeoutMs;
  return {
    // Go bounds the handshake by ReadHeaderTimeout too; Node's default is 120 s.
    handshakeTimeout: headers,
    // Dead peers holding a watch open are found by the kernel (kube-apiserver: 3 min).
    keepAlive: true,
    keepAliveInitialDelay: 180_000,
    settings: { maxConcurrentStreams: limits.http2.maxConcurrentStreams },
    streamResetBurst: limits.http2.resetBurst,
    streamResetRate: limits.http2.resetsPerSecond,
    http1Options: {
      headersTimeout: headers,
      // Node refuses a request timeout shorter than the header timeout; 300 s is its default.
      requestTimeout: Math.max(300_000, headers),
      keepAliveTimeout: limits.idleTimeoutMs,
      // Node checks the header timeout on this tick (default 30 s, which made a 60 s bound ~75 s).
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(headers / 4))),
    },
  };
}
