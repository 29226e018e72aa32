// From a validated gateway config to what startGateway needs: the routing store it names, the
// authenticators it enables and the PEMs it read. Everything opened here is closed by `close()`.
import type { Logger } from 'pino';
import { ClientCertificateAuthenticator } from '../auth/client-certificate.ts';
import type { Authenticator } from '../auth/identity.ts';
import type { GatewayOptions } from '../gateway/server.ts';
import { EmbeddedRoutingTable } from '../routing/embedded-store.ts';
import type { RoutingTable } from '../routing/types.ts';
import type { GatewayConfig, RoutingSource } from './gateway-config.ts';
import type { Config } from './loader.ts';
import { TokenFileAuthenticator } from './token-file-authenticator.ts';

export interface GatewayDependencies {
  options: GatewayOptions;
  close(): Promise<void>;
}

/** Opens the routing store a config names. The redis store joins here as a second `kind`. */
export async function openRoutingTable(source: RoutingSource, log: Logger): Promise<RoutingTable> {
  switch (source.kind) {
    case 'embedded':
      return EmbeddedRoutingTable.open(source.file, { log: log.child({ component: 'routing' }) });
  }
}

export async function gatewayDependencies(config: Config<GatewayConfig>, logger: Logger): Promise<GatewayDependencies> {
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
  };
  try {
    const routing = await openRoutingTable(config.routing, logger);
    opened.push(routing);
    const authenticators: Authenticator[] = [];
    if (config.authentication.tokenFile !== undefined) {
      const tokens = await TokenFileAuthenticator.open(config.authentication.tokenFile, { log: logger.child({ component: 'auth' }) });
      opened.push(tokens);
      authenticators.push(tokens);
    }
    if (config.authentication.clientCA !== undefined) authenticators.push(new ClientCertificateAuthenticator());

    const options: GatewayOptions = {
      listen: { host: config.listen.host, port: config.listen.port },
      tls: {
        certPem: config.tls.cert,
        keyPem: config.tls.key,
        ...(config.authentication.clientCA === undefined ? {} : { clientCAPem: config.authentication.clientCA }),
      },
      routing,
      authenticators,
      upstream: {
        clientCertPem: config.upstream.cert,
        clientKeyPem: config.upstream.key,
        ...(config.upstream.ca === undefined ? {} : { caPem: config.upstream.ca }),
      },
      headers: { dropImpersonation: config.headers.impersonation === 'drop', droppedGroups: [...config.headers.droppedGroups] },
      drainTimeoutMs: config.drainTimeoutMs,
      logger,
    };
    return { options, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
