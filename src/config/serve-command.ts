// `kcp-edge serve --config FILE`: the production entry. Validates the whole config first (every
// problem listed, exit 1), then runs the gateway, follows config edits that can apply live, and on
// SIGTERM/SIGINT drains within the configured bound before exiting.
import type { Logger } from 'pino';
import type { OrgRealmsSettings } from '../auth/realm-settings.ts';
import type { Command, OptionValues } from '../cli.ts';
import { gatewayConfigKind, type GatewayConfig } from './gateway-config.ts';
import { isConfigError } from './issues.ts';
import { loadConfig, type Config } from './loader.ts';
import { watchConfig } from './watch.ts';

/** Fields that apply without a restart; a change to any other field is logged as needing one. */
function describeRestartNeeded(next: Config<GatewayConfig>, previous: Config<GatewayConfig>): string[] {
  const changed: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  if (differs(next.listen, previous.listen)) changed.push('listen');
  if (next.tls.cert !== previous.tls.cert || next.tls.key !== previous.tls.key) changed.push('tls');
  if (differs(next.routing, previous.routing)) changed.push('routing');
  // orgRealms settings apply live (see onChange); adding or removing the block needs a restart.
  const { orgRealms: nextRealms, ...nextAuth } = next.authentication;
  const { orgRealms: previousRealms, ...previousAuth } = previous.authentication;
  if (differs(nextAuth, previousAuth) || (nextRealms === undefined) !== (previousRealms === undefined)) changed.push('authentication');
  if (differs(next.upstream, previous.upstream)) changed.push('upstream');
  if (differs(next.headers, previous.headers)) changed.push('headers');
  if (next.drainTimeoutMs !== previous.drainTimeoutMs) changed.push('drain');
  // The policy file itself is followed live; only naming another one (or none) needs a restart.
  if (differs(next.rateLimit, previous.rateLimit)) changed.push('rateLimit');
  return changed;
}

async function serve(values: OptionValues): Promise<number> {
  const file = values['config'];
  if (typeof file !== 'string') {
    process.stderr.write('kcp-edge serve: --config FILE is required\n');
    return 2;
  }
  let config: Config<GatewayConfig>;
  try {
    config = await loadConfig(gatewayConfigKind, file);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`kcp-edge serve: ${err.message}\n`);
    return 1;
  }
  if (values['check'] === true) {
    // The files the config names are config too: check the routing table as serve would load it.
    if (config.routing.kind === 'embedded') {
      const { routingFileKind } = await import('../routing/embedded-file.ts');
      try {
        await loadConfig(routingFileKind, config.routing.file);
      } catch (err) {
        if (!isConfigError(err)) throw err;
        process.stderr.write(`kcp-edge serve: ${err.message}\n`);
        return 1;
      }
    }
    process.stdout.write(`${file}: valid\n`);
    return 0;
  }

  // Loaded only now: a config check never pays for the gateway's imports.
  const [{ pino }, { startGateway }, { gatewayDependencies, redisRoutingSource }] = await Promise.all([
    import('pino'),
    import('../gateway/server.ts'),
    import('./gateway-options.ts'),
  ]);
  const logger: Logger = pino({ name: 'kcp-edge', level: config.logLevel });
  const redisUrl = values['redis'];
  let overrides: Parameters<typeof gatewayDependencies>[2] = {};
  try {
    if (typeof redisUrl === 'string') overrides = { routing: redisRoutingSource(redisUrl) };
  } catch (err) {
    process.stderr.write(`kcp-edge serve: --redis: ${(err as Error).message}\n`);
    return 2;
  }
  let deps: Awaited<ReturnType<typeof gatewayDependencies>>;
  try {
    deps = await gatewayDependencies(config, logger, overrides);
  } catch (err) {
    // An invalid routing table is a config problem like any other: list it and exit 1.
    if (!isConfigError(err)) throw err;
    process.stderr.write(`kcp-edge serve: ${err.message}\n`);
    return 1;
  }
  const gateway = await startGateway(deps.options).catch(async (err: unknown) => {
    await deps.close();
    throw err;
  });
  logger.info({ url: gateway.url, config: file }, 'kcp-edge gateway serving');

  // Routing and token files follow their own edits; here the gateway config itself.
  const configWatch = await watchConfig(gatewayConfigKind, file, {
    log: logger.child({ component: 'config' }),
    onChange(next, previous) {
      if (next.logLevel !== previous.logLevel) logger.level = next.logLevel;
      const realms = next.authentication.orgRealms;
      if (deps.orgRealms !== undefined && realms !== undefined && JSON.stringify(realms) !== JSON.stringify(previous.authentication.orgRealms)) {
        deps.orgRealms.registry.setSettings(structuredClone(realms) as OrgRealmsSettings);
      }
      const restart = describeRestartNeeded(next, previous);
      if (restart.length > 0) logger.warn({ fields: restart }, 'config changed in fields that apply on restart');
    },
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal, boundMs: config.drainTimeoutMs }, 'draining');
      // The gateway cuts what is left at the bound; this guard only catches a drain that hangs anyway.
      const guard = setTimeout(() => {
        logger.error('drain overran its bound; exiting');
        process.exit(1);
      }, config.drainTimeoutMs + 5_000);
      guard.unref();
      configWatch.close();
      void gateway
        .close()
        .then(() => deps.close())
        .then(
          () => {
            logger.info('drained; bye');
            resolve(0);
          },
          (err: unknown) => {
            logger.error({ err }, 'drain failed');
            resolve(1);
          },
        );
    };
    process.on('SIGTERM', stop).on('SIGINT', stop);
  }).then((code) => {
    // Everything is closed; should a stray handle keep the process up, do not wait for it.
    setTimeout(() => process.exit(code), 1_000).unref();
    return code;
  });
}

export const command: Command = {
  summary: 'run the gateway from a config file (validated first; every problem is listed)',
  options: {
    config: { type: 'string' },
    check: { type: 'boolean', default: false },
    // The shared routing table in Redis instead of the config's routing store (redis://, redis+sentinel://, redis+cluster://).
    redis: { type: 'string' },
  },
  run: serve,
};
