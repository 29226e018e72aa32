// `kcp-edge serve --config FILE`: the production entry. Validates the whole config first (every
// problem listed, exit 1), then runs the gateway, follows config edits that can apply live, and on
// SIGTERM/SIGINT drains within the configured bound before exiting.
import type { Logger } from 'pino';
import type { Command, OptionValues } from '../cli.ts';
import { gatewayConfigKind, type GatewayConfig } from './gateway-config.ts';
import { isConfigError } from './issues.ts';
import { loadConfig, type Config } from './loader.ts';

function reportConfigError(err: unknown): number {
  if (!isConfigError(err)) throw err;
  process.stderr.write(`kcp-edge serve: ${err.message}\n`);
  return 1;
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
    return reportConfigError(err);
  }
  if (values['check'] === true) {
    // The files the config names are config too: check the routing table as serve would load it.
    if (config.routing.kind === 'embedded') {
      const { routingFileKind } = await import('../routing/embedded-file.ts');
      try {
        await loadConfig(routingFileKind, config.routing.file);
      } catch (err) {
        return reportConfigError(err);
      }
    }
    process.stdout.write(`${file}: valid\n`);
    return 0;
  }

  // Loaded only now: a config check never pays for the gateway's imports.
  const [{ pino }, { runGateway }, { redisRoutingSource }] = await Promise.all([
    import('pino'),
    import('./run-gateway.ts'),
    import('./gateway-options.ts'),
  ]);
  const logger: Logger = pino({ name: 'kcp-edge', level: config.logLevel });
  const redisUrl = values['redis'];
  let overrides: Parameters<typeof runGateway>[3] = {};
  try {
    if (typeof redisUrl === 'string') overrides = { routing: redisRoutingSource(redisUrl) };
  } catch (err) {
    process.stderr.write(`kcp-edge serve: --redis: ${(err as Error).message}\n`);
    return 2;
  }
  let running: Awaited<ReturnType<typeof runGateway>>;
  try {
    running = await runGateway(file, config, logger, overrides);
  } catch (err) {
    return reportConfigError(err);
  }
  logger.info({ url: running.gateway.url, config: file }, 'kcp-edge gateway serving');

  const code = await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal, boundMs: config.drainTimeoutMs }, 'draining');
      // The gateway cuts what is left at the bound; this guard only catches a drain that hangs anyway.
      setTimeout(() => {
        logger.error('drain overran its bound; exiting');
        process.exit(1);
      }, config.drainTimeoutMs + 5_000).unref();
      running.close().then(
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
  });
  // Everything is closed; should a stray handle keep the process up, do not wait for it.
  setTimeout(() => process.exit(code), 1_000).unref();
  return code;
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
