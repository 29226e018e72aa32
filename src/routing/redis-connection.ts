// How kcp-edge reaches Redis: standalone, Sentinel or Cluster, described by config or by one URL
// (`--redis`, KCP_EDGE_REDIS_URL), with credentials and TLS material from files (see
// redis-secret-files.ts: they are followed, so rotated Secrets apply on the next reconnect). The
// gateway's clients fail fast while disconnected (no offline queue), so a cold lookup during an outage
// becomes a 503 instead of a hung request.
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { DEFAULT_KEY_PREFIX } from './redis-keys.ts';
import { openSecretFile, passwordFromFile, type SecretFile } from './redis-secret-files.ts';

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

export interface RedisEndpoint {
  host: string;
  port: number;
}

/** TLS to Redis (rediss://). Without caFile the system's CAs are trusted; certFile and keyFile present a client certificate. */
export interface RedisTlsConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The name the server certificate must carry (and SNI), when it is not the host connected to (an IP, a Sentinel-announced address). */
  serverName?: string;
}

export interface RedisConnectionConfig {
  mode: RedisMode;
  /** standalone: the server; sentinel: the sentinels; cluster: the seed nodes. */
  nodes: readonly RedisEndpoint[];
  /** Sentinel: the monitored master's name. */
  masterName?: string;
  /** ACL user (Redis 6+); without one, the password is the `default` user's (requirepass). */
  username?: string;
  /** A password written into the URL. Prefer passwordFile: a URL ends up in ConfigMaps and process lists. */
  password?: string;
  /** File holding the password (one trailing newline ignored), re-read when it changes. */
  passwordFile?: string;
  /** Sentinel: ACL user and password file of the sentinels themselves, when they require auth of their own. */
  sentinelUsername?: string;
  sentinelPasswordFile?: string;
  db?: number;
  /** TLS (rediss://); absent for plain TCP. With Sentinel it applies to the sentinels and to the master alike. */
  tls?: RedisTlsConfig;
  /** Prefix of every key and of the change channel; default `kcp-edge:`. */
  keyPrefix: string;
  /** Bound on one command's round trip; a stalled server must not stall requests. */
  commandTimeoutMs?: number;
}

export type RedisClient = Redis | Cluster;

/**
 * The URL as it may appear in a message: a password in it is replaced by `***`. Works on URLs that do
 * not parse too, since those end up in error messages.
 */
export function redactRedisUrl(text: string): string {
  const m = /^([^:/?#]*:\/\/)(.*)@/.exec(text);
  if (m === null) return text;
  const auth = m[2]!;
  const colon = auth.indexOf(':');
  const redacted = colon < 0 ? '***' : `${auth.slice(0, colon)}:***`;
  return `${m[1]}${redacted}@${text.slice(m[0].length)}`;
}

/**
 * Parses `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS),
 * `redis+sentinel://[user:pass@]h1:p1,h2:p2/masterName[/db]` and `redis+cluster://h1:p1,h2:p2`.
 * A `prefix` query parameter overrides the key prefix. Errors show the URL without its password.
 */
export function parseRedisUrl(text: string): RedisConnectionConfig {
  const shown = redactRedisUrl(text);
  const match = /^(rediss?)(\+sentinel|\+cluster)?:\/\/(?:([^@/]*)@)?([^/?]+)(\/[^?]*)?(?:\?(.*))?$/.exec(text);
  if (match === null) throw new Error(`invalid Redis URL "${shown}": expected redis://host:port, redis+sentinel://… or redis+cluster://…`);
  const [, scheme, variant, auth, hosts, pathPart, query] = match;
  const mode: RedisMode = variant === '+sentinel' ? 'sentinel' : variant === '+cluster' ? 'cluster' : 'standalone';
  const nodes = (hosts ?? '').split(',').map((hostPort) => parseEndpoint(hostPort, shown));
  if (mode === 'standalone' && nodes.length !== 1) throw new Error(`invalid Redis URL "${shown}": one host expected`);
  const config: RedisConnectionConfig = { mode, nodes, keyPrefix: DEFAULT_KEY_PREFIX, ...(scheme === 'rediss' ? { tls: {} } : {}) };
  if (auth !== undefined && auth !== '') {
    const colon = auth.indexOf(':');
    let user: string;
    let password: string;
    try {
      user = decodeURIComponent(colon < 0 ? '' : auth.slice(0, colon));
      password = decodeURIComponent(colon < 0 ? auth : auth.slice(colon + 1));
    } catch {
      throw new Error(`invalid Redis URL "${shown}": bad percent-encoding in the user or password`);
    }
    if (user !== '') config.username = user;
    if (password !== '') config.password = password;
  }
  const segments = (pathPart ?? '').split('/').filter((s) => s !== '');
  if (mode === 'sentinel') {
    const name = segments.shift();
    if (name === undefined) throw new Error(`invalid Redis URL "${shown}": the Sentinel master name is missing (redis+sentinel://h:p/name)`);
    config.masterName = name;
  }
  if (segments.length > 0) {
    if (mode === 'cluster') throw new Error(`invalid Redis URL "${shown}": Redis Cluster has no databases`);
    const db = Number(segments[0]);
    if (!Number.isInteger(db) || db < 0 || segments.length > 1) throw new Error(`invalid Redis URL "${shown}": bad database "${segments.join('/')}"`);
    config.db = db;
  }
  const prefix = new URLSearchParams(query ?? '').get('prefix');
  if (prefix !== null) config.keyPrefix = prefix;
  return config;
}

function parseEndpoint(hostPort: string, shownUrl: string): RedisEndpoint {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
  // A host with an @ in it is the tail of a password that was not percent-encoded: not shown.
  if (m === null) throw new Error(`invalid Redis URL "${shownUrl}": bad host${hostPort.includes('@') ? ' (an @ in the password must be written %40)' : ` "${hostPort}"`}`);
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

/**
 * Options ioredis reads each time it (re)connects, computed from the followed files at that moment.
 * ioredis copies its options at construction and reads `password`, `tls`, … from that copy on every
 * connect; replacing those properties with getters is how a rotated file reaches the next connection.
 */
type LiveOptions = Partial<Record<'password' | 'sentinelPassword' | 'tls' | 'sentinelTLS', () => unknown>>;

function followLive(target: object, live: LiveOptions): void {
  for (const [key, get] of Object.entries(live)) {
    Object.defineProperty(target, key, { get, set: () => undefined, enumerable: true, configurable: true });
  }
}

/** Opens the files a connection names; throws (naming the file) when one cannot be read, releasing the others. */
function openSecrets(config: RedisConnectionConfig): { live: LiveOptions; release(): void } {
  const opened: SecretFile[] = [];
  const open = (file: string | undefined): SecretFile | undefined => {
    if (file === undefined) return undefined;
    const secret = openSecretFile(file);
    opened.push(secret);
    return secret;
  };
  const release = () => opened.splice(0).forEach((s) => s.release());
  try {
    const password = open(config.passwordFile);
    const sentinelPassword = open(config.sentinelPasswordFile);
    const tls = config.tls;
    const ca = open(tls?.caFile);
    const cert = open(tls?.certFile);
    const key = open(tls?.keyFile);
    const live: LiveOptions = {};
    if (password !== undefined) live.password = () => passwordFromFile(password.text);
    if (sentinelPassword !== undefined) live.sentinelPassword = () => passwordFromFile(sentinelPassword.text);
    if (tls !== undefined) {
      live.tls = (): ConnectionOptions => ({
        ...(ca === undefined ? {} : { ca: ca.text }),
        ...(cert === undefined ? {} : { cert: cert.text }),
        ...(key === undefined ? {} : { key: key.text }),
        ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
      });
      if (config.mode === 'sentinel') live.sentinelTLS = live.tls;
    }
    return { live, release };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * A client for the connection; it connects at once. Throws when a file the connection names cannot be
 * read. The files are followed until the client ends (quit or disconnect).
 */
export function createRedisClient(config: RedisConnectionConfig, options: ClientOptions = {}): RedisClient {
  if (config.nodes.length === 0) throw new Error('Redis: no server configured');
  const secrets = openSecrets(config);
  const { live } = secrets;
  const common: RedisOptions = {
    enableOfflineQueue: options.failFast !== true,
    maxRetriesPerRequest: options.noRetry === true ? 0 : 1,
    autoResubscribe: false,
    // Connected below, once the live options are in place.
    lazyConnect: true,
    retryStrategy: options.noRetry === true ? () => null : (times: number) => Math.min(50 * times, 1000),
    ...(config.commandTimeoutMs !== undefined && !options.subscriber ? { commandTimeout: config.commandTimeoutMs } : {}),
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
  };
  let client: RedisClient;
  switch (config.mode) {
    case 'standalone': {
      const node = config.nodes[0]!;
      client = new Redis({ ...common, host: node.host, port: node.port, db: config.db ?? 0 });
      followLive(client.options, live);
      break;
    }
    case 'sentinel':
      client = new Redis({
        ...common,
        sentinels: config.nodes.map((n) => ({ ...n })),
        name: config.masterName ?? 'mymaster',
        db: config.db ?? 0,
        // ioredis asks the sentinels again and again by default, whatever retryStrategy says.
        ...(options.noRetry === true ? { sentinelRetryStrategy: () => null } : {}),
        ...(config.sentinelUsername === undefined ? {} : { sentinelUsername: config.sentinelUsername }),
        // Despite its name, this makes the connection to the master use `tls`; `sentinelTLS` is for the sentinels.
        ...(config.tls === undefined ? {} : { enableTLSForSentinelMode: true }),
      });
      followLive(client.options, live);
      break;
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: common.enableOfflineQueue ?? false,
        clusterRetryStrategy: common.retryStrategy ?? (() => null),
        lazyConnect: true,
        // Node connections (ioredis makes one per node it discovers, each with its own copy of these
        // options) connect on their first command: after '+node' below made their options live.
        redisOptions: { ...common, lazyConnect: true },
      };
      const cluster = new Cluster(
        config.nodes.map((n) => ({ ...n })),
        clusterOptions,
      );
      followLive(cluster.options.redisOptions ?? {}, live);
      cluster.on('+node', (node: Redis) => followLive(node.options, live));
      client = cluster;
      break;
    }
  }
  client.once('end', () => secrets.release());
  client.connect().catch(() => undefined);
  return client;
}

export type RedisFailure = 'credentials' | 'permission' | 'tls' | 'unreachable' | 'other';

/** What kind of trouble a Redis error message reports, so that messages can say what to check. */
export function classifyRedisError(message: string): RedisFailure {
  // Anywhere in the message: ioredis wraps a sentinel's refusal ("All sentinels are unreachable … Last error: NOAUTH …").
  if (/\b(WRONGPASS|NOAUTH)\b/.test(message)) return 'credentials';
  if (/\bNOPERM\b/.test(message)) return 'permission';
  if (/certificate|self[- ]signed|SSL|TLS|wrong version number|EPROTO/i.test(message)) return 'tls';
  if (/ECONNREFUSED|ECONNRESET|Connection is closed|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH/.test(message)) return 'unreachable';
  return 'other';
}
