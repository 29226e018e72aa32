// How kcp-edge reaches Redis: standalone, Sentinel or Cluster, described by config or by one URL
// (`--redis`, KCP_EDGE_REDIS_URL). The gateway's clients fail fast while disconnected (no offline
// queue), so a cold lookup during an outage becomes a 503 instead of a hung request.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { DEFAULT_KEY_PREFIX } from './redis-keys.ts';

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisConnectionConfig {
  mode: RedisMode;
  /** standalone: the server; sentinel: the sentinels; cluster: the seed nodes. */
  nodes: readonly RedisEndpoint[];
  /** Sentinel: the monitored master's name. */
  masterName?: string;
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean;
  /** Prefix of every key and of the change channel; default `kcp-edge:`. */
  keyPrefix: string;
  /** Bound on one command's round trip; a stalled server must not stall requests. */
  commandTimeoutMs?: number;
}

export type RedisClient = Redis | Cluster;

/**
 * Parses `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS),
 * `redis+sentinel://[user:pass@]h1:p1,h2:p2/masterName[/db]` and `redis+cluster://h1:p1,h2:p2`.
 * A `prefix` query parameter overrides the key prefix.
 */
export function parseRedisUrl(text: string): RedisConnectionConfig {
  const match = /^(rediss?)(\+sentinel|\+cluster)?:\/\/(?:([^@/]*)@)?([^/?]+)(\/[^?]*)?(?:\?(.*))?$/.exec(text);
  if (match === null) throw new Error(`invalid Redis URL "${text}": expected redis://host:port, redis+sentinel://… or redis+cluster://…`);
  const [, scheme, variant, auth, hosts, pathPart, query] = match;
  const mode: RedisMode = variant === '+sentinel' ? 'sentinel' : variant === '+cluster' ? 'cluster' : 'standalone';
  const nodes = (hosts ?? '').split(',').map((hostPort) => parseEndpoint(hostPort, text));
  if (mode === 'standalone' && nodes.length !== 1) throw new Error(`invalid Redis URL "${text}": one host expected`);
  const config: RedisConnectionConfig = { mode, nodes, keyPrefix: DEFAULT_KEY_PREFIX, tls: scheme === 'rediss' };
  if (auth !== undefined && auth !== '') {
    const colon = auth.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? '' : auth.slice(0, colon));
    const password = decodeURIComponent(colon < 0 ? auth : auth.slice(colon + 1));
    if (user !== '') config.username = user;
    if (password !== '') config.password = password;
  }
  const segments = (pathPart ?? '').split('/').filter((s) => s !== '');
  if (mode === 'sentinel') {
    const name = segments.shift();
    if (name === undefined) throw new Error(`invalid Redis URL "${text}": the Sentinel master name is missing (redis+sentinel://h:p/name)`);
    config.masterName = name;
  }
  if (segments.length > 0) {
    if (mode === 'cluster') throw new Error(`invalid Redis URL "${text}": Redis Cluster has no databases`);
    const db = Number(segments[0]);
    if (!Number.isInteger(db) || db < 0 || segments.length > 1) throw new Error(`invalid Redis URL "${text}": bad database "${segments.join('/')}"`);
    config.db = db;
  }
  const prefix = new URLSearchParams(query ?? '').get('prefix');
  if (prefix !== null) config.keyPrefix = prefix;
  return config;
}

function parseEndpoint(hostPort: string, url: string): RedisEndpoint {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
  if (m === null) throw new Error(`invalid Redis URL "${url}": bad host "${hostPort}"`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return { host, port: m[2] === undefined ? 6379 : Number(m[2]) };
}

export interface ClientOptions {
  /** A connection used only for SUBSCRIBE; it re-subscribes itself so it can drop caches first. */
  subscriber?: boolean;
  /** Fail commands at once while disconnected instead of queueing them (the request path). */
  failFast?: boolean;
  /** Give up reconnecting (CLI commands): fail on the first connection error instead of retrying. */
  noRetry?: boolean;
}

export function createRedisClient(config: RedisConnectionConfig, options: ClientOptions = {}): RedisClient {
  const common: RedisOptions = {
    enableOfflineQueue: options.failFast !== true,
    maxRetriesPerRequest: options.noRetry === true ? 0 : 1,
    autoResubscribe: false,
    lazyConnect: false,
    retryStrategy: options.noRetry === true ? () => null : (times: number) => Math.min(50 * times, 1000),
    ...(config.commandTimeoutMs !== undefined && !options.subscriber ? { commandTimeout: config.commandTimeoutMs } : {}),
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.tls === true ? { tls: {} } : {}),
  };
  switch (config.mode) {
    case 'standalone': {
      const node = config.nodes[0];
      if (node === undefined) throw new Error('Redis: no server configured');
      return new Redis({ ...common, host: node.host, port: node.port, db: config.db ?? 0 });
    }
    case 'sentinel':
      return new Redis({ ...common, sentinels: config.nodes.map((n) => ({ ...n })), name: config.masterName ?? 'mymaster', db: config.db ?? 0 });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: common.enableOfflineQueue ?? false,
        clusterRetryStrategy: common.retryStrategy ?? (() => null),
        redisOptions: common,
      };
      return new Cluster(config.nodes.map((n) => ({ ...n })), clusterOptions);
    }
  }
}
