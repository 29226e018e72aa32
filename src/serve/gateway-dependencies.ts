// From a validated gateway config to what startGateway needs: the routing store it names, the
// authenticators it enables and the PEMs it read. Everything opened here is closed by `close()`.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { ClientCertificateAuthenticator } from '../auth/client-certificate.ts';
import type { Authenticator } from '../auth/identity.ts';
import { registerAuthMetrics, type AuthMetrics } from '../auth/metrics.ts';
import { OrgRealmAuthenticator } from '../auth/org-realm-authenticator.ts';
import { RealmRegistry } from '../auth/realm-registry.ts';
import type { OrgRealmsSettings } from '../auth/realm-settings.ts';
import { RedisRealmOverrides } from '../auth/redis-realm-overrides.ts';
import type { GatewayOptions } from '../gateway/server.ts';
import type { UpstreamCredentials } from '../gateway/tls-material.ts';
import { workerGroupMetrics } from '../gateway/workers/group-metrics.ts';
import type { WorkerRole } from '../gateway/workers/protocol.ts';
import { createLimiter } from '../ratelimit/create-limiter.ts';
import { EmbeddedRoutingTable } from '../routing/embedded-store.ts';
import { registerRoutingMetrics, type RoutingMetrics } from '../routing/metrics.ts';
import { createRedisClient, redactRedisUrl, type RedisConnectionConfig } from '../routing/redis-connection.ts';
import { RedisRoutingTable } from '../routing/redis-routing-table.ts';
import { onSecretFileEvent } from '../routing/redis-secret-files.ts';
import { ShardHealthChecker } from '../routing/shard-health.ts';
import type { RoutingTable } from '../routing/types.ts';
import type { DeepReadonly, Config } from '../config/index.ts';
import type { GatewayConfig, RoutingSource } from './gateway-config.ts';
import { TokenFileAuthenticator } from '../auth/token-file-authenticator.ts';
import { ServiceAccountAuthenticator, type ServiceAccountSettings } from '../auth/service-account-authenticator.ts';
import { ShardObjectReader } from '../gateway/shard-object-reader.ts';
import { TokenWebhookAuthenticator, type TokenWebhookSettings } from '../auth/token-webhook.ts';
import { ShardPools } from '../gateway/shard-pools.ts';

export interface GatewayDependencies {
  options: GatewayOptions;
  /** Present when org realms are configured; its registry takes settings reloads. */
  orgRealms?: OrgRealmAuthenticator;
  /** Rotated upstream credentials for what connects to shards besides the gateway's pools (health probes, the indexer). */
  setUpstreamCredentials(credentials: UpstreamCredentials): void;
  close(): Promise<void>;
}

/**
 * The org-realm authenticator of a config. With the shared Redis routing store, per-org overrides
 * also come from Redis (next to the routing table, same key prefix), so every replica agrees.
 */
async function openOrgRealms(
  settings: OrgRealmsSettings,
  source: DeepReadonly<RoutingSource>,
  metrics: AuthMetrics,
  logger: Logger,
  opened: { close(): Promise<void> }[],
): Promise<OrgRealmAuthenticator> {
  const log = logger.child({ component: 'auth' });
  const realms = new RealmRegistry(settings);
  if (source.kind === 'redis') {
    const redis = { ...source.redis, nodes: source.redis.nodes.map((n) => ({ ...n })) };
    const client = createRedisClient(redis, { failFast: true });
    const subscriber = createRedisClient(redis, { subscriber: true });
    for (const c of [client, subscriber]) c.on('error', () => undefined); // reported by the routing table; overrides keep their last value
    opened.push({ close: async () => void (client.disconnect(), subscriber.disconnect()) });
    await new RedisRealmOverrides({ client, subscriber, keyPrefix: redis.keyPrefix, log }).follow(realms);
  }
  const authenticator = new OrgRealmAuthenticator({ realms, metrics, log });
  opened.push(authenticator);
  return authenticator;
}

/** Opens the routing store a config names. */
export async function openRoutingTable(source: DeepReadonly<RoutingSource>, log: Logger, metrics?: RoutingMetrics): Promise<RoutingTable> {
  switch (source.kind) {
    case 'embedded':
      return EmbeddedRoutingTable.open(source.file, { log: log.child({ component: 'routing' }) });
    case 'redis': {
      const routingLog = log.child({ component: 'routing', redis: source.url });
      const table = new RedisRoutingTable({
        redis: { ...source.redis, nodes: source.redis.nodes.map((n) => ({ ...n })) },
        cacheMax: source.cacheMax,
        negativeTtlMs: source.negativeTtlMs,
        log: routingLog,
        ...(metrics === undefined ? {} : { metrics }),
      });
      // Start serving even when Redis is down or refuses the credentials (not ready, cold lookups 503):
      // it joins when Redis does, a rotated password file included.
      await table
        .waitUntilSynced(5_000)
        .catch(() => routingLog.warn({ ...(table.lastError === undefined ? {} : { err: table.lastError }) }, 'routing table: Redis not reachable yet; serving 503 until it is'));
      return table;
    }
  }
}

/** The routing source `--redis URL` (and its --redis-* flags) stands for: the shared table with default cache settings. */
export function redisRoutingSource(redis: RedisConnectionConfig, url: string): RoutingSource {
  return { kind: 'redis', redis, url: redactRedisUrl(url), cacheMax: 100_000, negativeTtlMs: 5_000, runIndexer: false, seedShards: [] };
}

export interface DependencyOverrides {
  /** Use this routing store instead of the config's (`serve --redis URL`). */
  routing?: RoutingSource;
  /**
   * This process is one of several workers of a serve (gateway/workers/): it listens on the port it is
   * given with SO_REUSEPORT, serves the whole group's /metrics, divides the in-memory rate limits, and
   * leaves the indexer lease to the first worker. Everything else stays per worker and needs no sharing:
   * route and token caches (each fills its own), shard health (each probes and counts failures itself),
   * upstream pools, and with Redis the limiter, which registers each worker as a replica of its own.
   */
  worker?: WorkerRole;
}

export async function gatewayDependencies(config: Config<GatewayConfig>, logger: Logger, overrides: DependencyOverrides = {}): Promise<GatewayDependencies> {
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
  };
  // What else connects to shards with the upstream credentials, told when they rotate.
  const rotated: ((credentials: UpstreamCredentials) => void)[] = [];
  try {
    const registry = new Registry();
    const routingMetrics = registerRoutingMetrics(registry);
    const source = overrides.routing ?? config.routing;
    if (source.kind === 'redis') {
      // The files are named, never their content.
      const secretLog = logger.child({ component: 'redis' });
      const unsubscribe = onSecretFileEvent(({ file, outcome }) =>
        outcome === 'changed'
          ? secretLog.info({ file }, 'Redis secret file changed; new connections use it')
          : secretLog.warn({ file }, 'Redis secret file is missing or empty; keeping what it held before'),
      );
      opened.push({ close: async () => unsubscribe() });
    }
    const routing = await openRoutingTable(source, logger, routingMetrics);
    opened.push(routing);
    const worker = overrides.worker;
    // The lease alone keeps it to one process; only the first worker contends, so the others hold no
    // connection for it. A restarted first worker contends again; so do other replicas' first workers.
    if (source.kind === 'redis' && source.runIndexer && (worker?.slot ?? 0) === 0) {
      // One replica (the lease holder) keeps the routes true, using the gateway's upstream certificate.
      const [{ startLeasedIndexer }, { RedisRouteStore }] = await Promise.all([import('../routing/indexer.ts'), import('../routing/redis-route-store.ts')]);
      const store = RedisRouteStore.connect({ ...source.redis, nodes: source.redis.nodes.map((n) => ({ ...n })) });
      const credentials = { certPem: config.upstream.cert, keyPem: config.upstream.key, ...(config.upstream.ca === undefined ? {} : { caPem: config.upstream.ca }) };
      const seedShards = source.seedShards.map((s) => ({ ...s, labels: { ...s.labels } }));
      const lease = startLeasedIndexer(store, credentials, logger.child({ component: 'indexer' }), seedShards);
      rotated.push((next) => lease.setCredentials({ certPem: next.clientCertPem, keyPem: next.clientKeyPem, ...(next.caPem === undefined ? {} : { caPem: next.caPem }) }));
      opened.push({
        async close() {
          await lease.stop();
          await store.close();
        },
      });
    }
    let health: ShardHealthChecker | undefined;
    if (config.shardHealth.enabled) {
      const healthLog = logger.child({ component: 'shard-health' });
      const record = routing instanceof RedisRoutingTable ? routing.shardHealthRecorder(`${hostname()}/${process.pid}`) : undefined;
      const checker = new ShardHealthChecker({
        shards: routing,
        clientCertPem: config.upstream.cert,
        clientKeyPem: config.upstream.key,
        ...(config.upstream.ca === undefined ? {} : { caPem: config.upstream.ca }),
        intervalMs: config.shardHealth.intervalMs,
        downIntervalMs: config.shardHealth.downIntervalMs,
        failureThreshold: config.shardHealth.failureThreshold,
        metrics: routingMetrics,
        onChange(shard, up, reason) {
          if (up) healthLog.info({ shard }, 'shard is up');
          else healthLog.warn({ shard, reason }, 'shard is down: its workspaces get 503 until it recovers');
          record?.(shard, up, reason);
        },
      });
      checker.start();
      rotated.push((credentials) => checker.setCredentials(credentials));
      opened.push({ close: async () => checker.stop() });
      health = checker;
    }
    const authenticators: Authenticator[] = [];
    if (config.authentication.tokenFile !== undefined) {
      const tokens = await TokenFileAuthenticator.open(config.authentication.tokenFile, { log: logger.child({ component: 'auth' }) });
      opened.push(tokens);
      authenticators.push(tokens);
    }
    // Both shard traffic and the service-account lookups go through the same mTLS pools.
    const upstream = {
      clientCertPem: config.upstream.cert,
      clientKeyPem: config.upstream.key,
      ...(config.upstream.ca === undefined ? {} : { caPem: config.upstream.ca }),
      connectTimeoutMs: config.upstream.connectTimeoutMs,
      headersTimeoutMs: config.upstream.responseHeaderTimeoutMs,
      protocol: config.upstream.protocol,
    };
    const pools = new ShardPools(upstream);
    opened.push({ close: () => pools.close() });
    // One set of authentication counters, whichever authenticator refused or accepted.
    const authMetrics = registerAuthMetrics(registry);
    const serviceAccounts = config.authentication.serviceAccounts;
    if (serviceAccounts !== undefined) {
      const lookup = serviceAccounts.lookup;
      const authenticator = new ServiceAccountAuthenticator({
        settings: structuredClone(serviceAccounts.settings) as ServiceAccountSettings,
        lookup:
          lookup === undefined
            ? undefined
            : new ShardObjectReader({ routing, pools, identity: { user: lookup.user, groups: [...lookup.groups] }, timeoutMs: lookup.timeoutMs, health }),
        metrics: authMetrics,
      });
      opened.push(authenticator);
      authenticators.push(authenticator);
    }
    // After the token file: a static token is no JWT, and the realms would count it as a failure.
    const orgRealms =
      config.authentication.orgRealms === undefined
        ? undefined
        : await openOrgRealms(structuredClone(config.authentication.orgRealms) as OrgRealmsSettings, overrides.routing ?? config.routing, authMetrics, logger, opened);
    if (orgRealms !== undefined) authenticators.push(orgRealms);
    if (config.authentication.clientCA !== undefined) authenticators.push(new ClientCertificateAuthenticator());
    // Last: only tokens nothing else accepted are sent out of the process.
    if (config.authentication.webhook !== undefined) {
      const webhook = new TokenWebhookAuthenticator(structuredClone(config.authentication.webhook) as TokenWebhookSettings, authMetrics);
      opened.push(webhook);
      authenticators.push(webhook);
    }

    const limiter =
      config.rateLimit === undefined
        ? undefined
        : await createLimiter({
            ...(config.rateLimit.policyFile === undefined ? {} : { policyFile: config.rateLimit.policyFile }),
            // Shared by every replica through the routing store's Redis; in this process otherwise.
            ...(source.kind === 'redis' ? { redis: { ...source.redis, nodes: source.redis.nodes.map((n) => ({ ...n })) } } : {}),
            registry,
            log: logger.child({ component: 'ratelimit' }),
            ...(worker === undefined ? {} : { processes: worker.count }),
          });
    if (limiter !== undefined) opened.push(limiter);

    // Loaded only when configured: without an audit config nothing observes requests for it.
    const audit = config.audit === undefined ? undefined : await (await import('./audit-log.ts')).openAuditLog(config.audit, registry, logger);
    if (audit !== undefined) opened.push(audit);
    const tracing = config.tracing === undefined ? undefined : (await import('../tracing/request-tracing.ts')).createRequestTracing(config.tracing);
    if (tracing !== undefined) opened.push({ close: () => tracing.shutdown() });
    const observers = [...(audit === undefined ? [] : [audit.observer]), ...(tracing === undefined ? [] : [tracing.observer])];

    const options: GatewayOptions = {
      listen: worker === undefined ? { host: config.listen.host, port: config.listen.port } : { host: config.listen.host, port: worker.port, reusePort: true },
      tls: {
        certPem: config.tls.cert,
        keyPem: config.tls.key,
        ...(config.authentication.clientCA === undefined ? {} : { clientCAPem: config.authentication.clientCA }),
      },
      routing,
      authenticators,
      upstream,
      connections: { ...config.connections, http2: { ...config.connections.http2 } },
      pools,
      headers: { dropImpersonation: config.headers.impersonation === 'drop', droppedGroups: [...config.headers.droppedGroups] },
      drainTimeoutMs: config.drainTimeoutMs,
      watchLimits: { ...config.watches },
      logger,
      registry,
      ...(worker === undefined ? {} : { exposition: workerGroupMetrics(registry) }),
      ...(health === undefined ? {} : { health }),
      ...(limiter === undefined ? {} : { limiter }),
      ...(observers.length === 0 ? {} : { observers }),
      ...(tracing === undefined ? {} : { traceStages: tracing.traceStages }),
    };
    return {
      options,
      ...(orgRealms === undefined ? {} : { orgRealms }),
      setUpstreamCredentials: (credentials) => rotated.forEach((tell) => tell(credentials)),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
