// A gateway running from a validated config file, following the edits that can apply live. Shared by
// `kcp-edge serve` and the local stack (`kcp-edge dev`), so the stack runs exactly what production runs.
import type { Logger } from 'pino';
import type { OrgRealmsSettings } from '../auth/realm-settings.ts';
import { startGateway, type Gateway } from '../gateway/server.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { gatewayConfigKind } from './gateway-config.ts';
import { gatewayDependencies, type DependencyOverrides } from './gateway-dependencies.ts';
import { followGatewayCertificates } from './follow-certificates.ts';
import { watchConfig, type Config } from '../config/index.ts';
import { configRevision, startAdminListener, statusObservers, type RunningAdmin } from './admin-listener.ts';
import { releaseHeapWhenQuiet } from './heap-release.ts';

export interface RunningGateway {
  gateway: Gateway;
  /** The admin listener (/metrics, status page), when the config has one. */
  admin?: RunningAdmin;
  /** Drains the gateway (within the configured bound), then closes the routing store and watchers. */
  close(): Promise<void>;
}

/**
 * Fields that apply without a restart are log.level and the org-realm settings (and the files routing
 * and tokens name); the others are listed.
 */
function fieldsNeedingRestart(next: Config<GatewayConfig>, previous: Config<GatewayConfig>): string[] {
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  const changed: string[] = [];
  if (differs(next.listen, previous.listen)) changed.push('listen');
  if (next.workers !== previous.workers) changed.push('workers');
  // Certificate files are followed (certificate-files.ts): only naming other files needs a restart.
  if (next.tls.certFile !== previous.tls.certFile || next.tls.keyFile !== previous.tls.keyFile) changed.push('tls');
  if (differs(next.routing, previous.routing)) changed.push('routing');
  // orgRealms settings apply live (see onChange); adding or removing the block needs a restart.
  const { orgRealms: nextRealms, clientCA: _nextCA, ...nextAuth } = next.authentication;
  const { orgRealms: previousRealms, clientCA: _previousCA, ...previousAuth } = previous.authentication;
  if (differs(nextAuth, previousAuth) || (nextRealms === undefined) !== (previousRealms === undefined)) changed.push('authentication');
  const upstreamFiles = (u: Config<GatewayConfig>['upstream']) => [u.certFile, u.keyFile, u.caFile];
  if (differs(upstreamFiles(next.upstream), upstreamFiles(previous.upstream))) changed.push('upstream');
  if (differs(next.headers, previous.headers)) changed.push('headers');
  if (differs(next.connections, previous.connections)) changed.push('connections');
  if (differs(next.shardHealth, previous.shardHealth)) changed.push('shardHealth');
  if (next.drainTimeoutMs !== previous.drainTimeoutMs) changed.push('drain');
  // The policy file itself is followed live; only naming another one (or none) needs a restart.
  if (differs(next.rateLimit, previous.rateLimit)) changed.push('rateLimit');
  return changed;
}

/**
 * Starts the gateway `config` (loaded from `file`) describes. Throws ConfigError when a file the config
 * names (the routing table) is invalid.
 */
export async function runGateway(file: string, config: Config<GatewayConfig>, logger: Logger, overrides: DependencyOverrides = {}): Promise<RunningGateway> {
  const deps = await gatewayDependencies(config, logger, overrides);
  const status = config.admin === undefined ? undefined : statusObservers();
  if (status !== undefined) deps.options.observers = [...(deps.options.observers ?? []), status.rejections];
  let revision = configRevision(config);
  let gateway: Gateway;
  let admin: RunningAdmin | undefined;
  try {
    gateway = await startGateway(deps.options);
  } catch (err) {
    await deps.close();
    throw err;
  }
  if (config.admin !== undefined && status !== undefined) {
    try {
      admin = await startAdminListener(
        config.admin,
        gateway,
        deps.options,
        { ...status, revision: () => revision, redisLimiter: config.rateLimit !== undefined && (overrides.routing ?? config.routing).kind === 'redis' },
        logger,
        overrides.worker,
      );
    } catch (err) {
      await gateway.close();
      await deps.close();
      throw err;
    }
  }
  // Each process (every worker of a multi-process serve too) follows the files itself.
  const certificates = followGatewayCertificates(
    config,
    {
      serving: (tls) => {
        gateway.setServingCredentials(tls);
        // An admin listener on the serving certificate (no tls of its own) follows it too.
        if (admin !== undefined && config.admin?.tls.certFile === config.tls.certFile && config.admin.tls.keyFile === config.tls.keyFile) {
          admin.server.setServingCertificate(tls.certPem, tls.keyPem);
        }
      },
      upstream: (credentials) => {
        gateway.setUpstreamCredentials(credentials);
        deps.setUpstreamCredentials(credentials);
      },
      ...(admin === undefined
        ? {}
        : {
            admin: {
              serving: (certPem: string, keyPem: string) => admin!.server.setServingCertificate(certPem, keyPem),
              clientCA: (clientCAPem: string) => admin!.server.setClientCA(clientCAPem),
            },
          }),
    },
    { registry: gateway.metrics, log: logger.child({ component: 'tls' }) },
  );
  const heapRelease =
    config.memoryReleaseAfterQuietMs === 0
      ? { stop: () => undefined }
      : releaseHeapWhenQuiet({ quietForMs: config.memoryReleaseAfterQuietMs, registry: gateway.metrics, log: logger.child({ component: 'memory' }) });
  const configWatch = await watchConfig(gatewayConfigKind, file, {
    log: logger.child({ component: 'config' }),
    onChange(next, previous) {
      revision = configRevision(next);
      if (next.logLevel !== previous.logLevel) logger.level = next.logLevel;
      const realms = next.authentication.orgRealms;
      if (deps.orgRealms !== undefined && realms !== undefined && JSON.stringify(realms) !== JSON.stringify(previous.authentication.orgRealms)) {
        deps.orgRealms.registry.setSettings(structuredClone(realms) as OrgRealmsSettings);
      }
      const restart = fieldsNeedingRestart(next, previous);
      if (restart.length > 0) logger.warn({ fields: restart }, 'config changed in fields that apply on restart');
    },
  }).catch(async (err: unknown) => {
    heapRelease.stop();
    certificates.close();
    await admin?.close();
    await gateway.close();
    await deps.close();
    throw err;
  });
  let closing: Promise<void> | undefined;
  return {
    gateway,
    ...(admin === undefined ? {} : { admin }),
    close() {
      closing ??= (async () => {
        configWatch.close();
        heapRelease.stop();
        certificates.close();
        try {
          await admin?.close();
          await gateway.close();
        } finally {
          await deps.close();
        }
      })();
      return closing;
    },
  };
}
