// The admin listener of a running gateway, from its config: the authenticators it names, the status
// page's sources, and with workers the port they share.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { startAdminServer, type AdminServer } from '../admin/admin-server.ts';
import { gatewayStatus, RecentRejections } from '../admin/gateway-status.ts';
import { ClientCertificateAuthenticator } from '../auth/client-certificate.ts';
import type { Authenticator } from '../auth/identity.ts';
import { TokenFileAuthenticator } from '../auth/token-file-authenticator.ts';
import type { Gateway, GatewayOptions } from '../gateway/server.ts';
import type { WorkerRole } from '../gateway/workers/protocol.ts';
import type { ShardHealthSnapshot } from '../routing/shard-health.ts';
import type { AdminConfig } from './gateway-config.ts';

export interface RunningAdmin {
  server: AdminServer;
  close(): Promise<void>;
}

/** A short, stable name for a config's content: equal configs, equal revisions. */
export function configRevision(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
}

/** Created before the gateway, which tells it every finished request (one comparison each). */
export function statusObservers(): { rejections: RecentRejections } {
  return { rejections: new RecentRejections() };
}

/** What the Redis limiter last counted (kcp_edge_ratelimit_known_replicas); undefined without one. */
async function replicasSeen(gateway: Gateway): Promise<number | undefined> {
  const gauge = gateway.metrics.getSingleMetric('kcp_edge_ratelimit_known_replicas');
  if (gauge === undefined) return undefined;
  const value = (await gauge.get()).values[0]?.value;
  return value === undefined || value === 0 ? undefined : value;
}

export async function startAdminListener(
  admin: AdminConfig,
  gateway: Gateway,
  options: GatewayOptions,
  status: { rejections: RecentRejections; revision: () => string; /** The limiter shares its counts through Redis. */ redisLimiter: boolean },
  logger: Logger,
  worker: WorkerRole | undefined,
): Promise<RunningAdmin> {
  const log = logger.child({ component: 'admin' });
  const authenticators: Authenticator[] = [];
  const opened: { close(): Promise<void> }[] = [];
  if (admin.clientCA !== undefined) authenticators.push(new ClientCertificateAuthenticator());
  if (admin.tokenFile !== undefined) {
    const tokens = await TokenFileAuthenticator.open(admin.tokenFile, { log });
    opened.push(tokens);
    authenticators.push(tokens);
  }
  const health = options.health as (typeof options.health & { snapshot?: () => Record<string, ShardHealthSnapshot> }) | undefined;
  const snapshot = health?.snapshot;
  const server = await startAdminServer({
    listen: worker === undefined ? admin.listen : { host: admin.listen.host, port: worker.adminPort ?? admin.listen.port, reusePort: true },
    tls: { certPem: admin.tls.cert, keyPem: admin.tls.key, ...(admin.clientCA === undefined ? {} : { clientCAPem: admin.clientCA }) },
    authenticators,
    group: admin.group,
    metrics: gateway.exposition,
    status: () =>
      gatewayStatus({
        routing: options.routing,
        ...(snapshot === undefined ? {} : { health: { snapshot: () => snapshot.call(health) } }),
        inflight: () => gateway.inflight,
        rejections: status.rejections,
        configRevision: status.revision(),
        host: hostname(),
        ...(status.redisLimiter ? { replicasSeen: () => replicasSeen(gateway) } : {}),
        ...(worker === undefined ? {} : { worker: { slot: worker.slot, count: worker.count } }),
      }),
    log,
  });
  return {
    server,
    async close() {
      await server.close();
      for (const o of opened) await o.close();
    },
  };
}
