// One undici Pool per shard, over mTLS with the gateway's client certificate and verifying the shard
// against its CA. A pool is replaced when the shard's URL or CA changes, and every pool when the
// gateway's own credentials do: a pool's connections keep the TLS identity they were opened with, so
// only a new pool makes new requests use new credentials.
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import { Pool, type Client } from 'undici';
import type { Shard } from '../routing/types.ts';
import { h2ShardClient } from './h2-shard-client.ts';
import type { UpstreamCredentials } from './tls-material.ts';

/**
 * h2: requests and watches share connections as streams, as many per connection as the shard's SETTINGS
 * allow (Go's server default is 250), each stream flow-controlled on its own so a slow watch client stalls
 * only its stream. h1: one connection per request in flight. h2-for-watches (the default): long-running
 * requests (watches, followed logs) as HTTP/2 streams, where sharing a connection is what counts, and
 * short requests over HTTP/1.1 keep-alive connections: undici's HTTP/2 streams cost 1.1–1.25x their CPU
 * per request (measured side by side). Upgrades take HTTP/1.1 in every mode.
 */
export type UpstreamProtocol = 'h1' | 'h2' | 'h2-for-watches';
export const defaultUpstreamProtocol: UpstreamProtocol = 'h2-for-watches';

export interface UpstreamOptions extends UpstreamCredentials {
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  protocol?: UpstreamProtocol;
}

/**
 * The gateway's own ceiling on streams per shard connection; the shard's SETTINGS_MAX_CONCURRENT_STREAMS
 * lowers it (undici never goes above the peer's), and Node's servers advertise no limit at all.
 */
export const maxStreamsPerConnection = 1000;

interface PoolEntry {
  url: string;
  ca: string | undefined;
  pool: Pool;
  /** h2-for-watches: the HTTP/2 pool for long-running requests, made on the first one. */
  streams: Pool | undefined;
}

export class ShardPools {
  #upstream: UpstreamOptions;
  readonly #entries = new Map<string, PoolEntry>();
  /** Pools replaced while requests (watches) still ran on them: closed once those end, destroyed on close(). */
  readonly #retired = new Set<Pool>();
  /** By CA PEM ('' = the system's): shards of one CA share it. Made from the current credentials. */
  readonly #contexts = new Map<string, SecureContext>();
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly protocol: UpstreamProtocol;

  constructor(upstream: UpstreamOptions) {
    this.#upstream = upstream;
    this.connectTimeoutMs = upstream.connectTimeoutMs ?? 5_000;
    this.headersTimeoutMs = upstream.headersTimeoutMs ?? 60_000;
    this.protocol = upstream.protocol ?? defaultUpstreamProtocol;
  }

  /** The pool for a request to `shard`; `longRunning` for a watch or a followed log. */
  poolFor(shard: Shard, longRunning = false): Pool {
    let entry = this.#entries.get(shard.name);
    if (entry === undefined || entry.url !== shard.url || entry.ca !== shard.ca) {
      if (entry !== undefined) this.#retireEntry(entry);
      entry = { url: shard.url, ca: shard.ca, pool: this.#newPool(shard, this.protocol === 'h2' ? 'h2' : 'h1'), streams: undefined };
      this.#entries.set(shard.name, entry);
    }
    if (!longRunning || this.protocol !== 'h2-for-watches') return entry.pool;
    return (entry.streams ??= this.#newPool(shard, 'h2'));
  }

  #newPool(shard: Shard, protocol: 'h1' | 'h2'): Pool {
    const connect = { ...this.tlsOptions(shard), timeout: this.connectTimeoutMs };
    return protocol === 'h2'
      ? new Pool(shard.url, {
          // A connection holds up to the shard's stream limit; the pool opens another when all are full.
          connections: null,
          allowH2: true,
          h2Options: { maxConcurrentStreams: maxStreamsPerConnection },
          keepAliveTimeout: 30_000,
          headersTimeout: this.headersTimeoutMs,
          // Offer h2 first: a shard that follows the client's ALPN order must not fall back to HTTP/1.1.
          connect: { ...connect, allowH2: true, preferH2: true },
          // A new request must not wait behind watches on a session the shard is closing: see h2-shard-client.ts.
          factory: (origin, options) => h2ShardClient(origin, options as Client.Options, maxStreamsPerConnection),
        })
      : new Pool(shard.url, {
          // Each watch holds a connection for its lifetime: the pool must not cap them.
          connections: null,
          pipelining: 1,
          // undici offers h2 by default and kube-apiserver takes it: h1 must say so.
          allowH2: false,
          keepAliveTimeout: 30_000,
          headersTimeout: this.headersTimeoutMs,
          connect,
        });
  }

  /** Requests each shard's pool holds now, queued or running (undici's own count). */
  *requestsByShard(): Iterable<readonly [string, number]> {
    for (const [name, entry] of this.#entries) yield [name, entry.pool.stats.size + (entry.streams?.stats.size ?? 0)] as const;
  }

  /**
   * TLS options to reach a shard with the gateway's client certificate (pools and upgrade pipes). One
   * secure context per CA, shared by every connection: given PEMs instead, each connection parses the
   * key and certificates into a context of its own, which measured ~28 KB of RSS and ~0.6 ms of CPU
   * more per connection, and a watch holds a connection for its whole life.
   */
  tlsOptions(shard: Shard): ConnectionOptions {
    const ca = shard.ca ?? this.#upstream.caPem;
    let secureContext = this.#contexts.get(ca ?? '');
    if (secureContext === undefined) {
      secureContext = createSecureContext({
        cert: this.#upstream.clientCertPem,
        key: this.#upstream.clientKeyPem,
        ...(ca === undefined ? {} : { ca }),
        minVersion: 'TLSv1.2',
      });
      this.#contexts.set(ca ?? '', secureContext);
    }
    return { secureContext, minVersion: 'TLSv1.2' };
  }

  /**
   * New requests and upgrades connect with these credentials from now on; requests and watches already
   * running keep their connections, whose pools close once the last of them ends.
   */
  setCredentials(credentials: UpstreamCredentials): void {
    // The timeouts and protocol were read at construction; only the credentials are kept from here on.
    this.#upstream = { ...credentials };
    for (const entry of this.#entries.values()) this.#retireEntry(entry);
    this.#entries.clear();
    this.#contexts.clear();
  }

  #retireEntry(entry: PoolEntry): void {
    this.#retire(entry.pool);
    if (entry.streams !== undefined) this.#retire(entry.streams);
  }

  #retire(pool: Pool): void {
    this.#retired.add(pool);
    // close() lets in-flight requests finish and takes no new ones.
    void pool
      .close()
      .catch(() => undefined)
      .finally(() => this.#retired.delete(pool));
  }

  async close(): Promise<void> {
    const pools = [...this.#entries.values()].flatMap((e) => (e.streams === undefined ? [e.pool] : [e.pool, e.streams])).concat([...this.#retired]);
    this.#entries.clear();
    this.#retired.clear();
    this.#contexts.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}
