// `kcp-edge serve --config FILE`: the production entry. Validates the whole config first (every
// problem listed, exit 1), then runs the gateway, follows config edits that can apply live, and on
// SIGTERM/SIGINT drains within the configured bound before exiting. With more than one worker this
// process supervises that many forked copies of itself instead (gateway/workers/), each of which runs
// the gateway exactly as below, told by the supervisor rather than a signal when to drain.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { exitCode, runUntilStopped } from '../command/lifecycle.ts';
import type { Command, OptionValues } from '../command/types.ts';
import { onDrainRequest, reportListening, workerRole } from '../gateway/workers/worker-link.ts';
import { gatewayConfigKind, workerCount, type GatewayConfig } from './gateway-config.ts';
import type { RedisConnectionConfig } from '../routing/redis-connection.ts';
import { redisConnectionFromFlags, redisFlags } from '../routing/redis-flags.ts';
import { isConfigError, loadConfig, type Config } from '../config/index.ts';

function reportConfigError(err: unknown): number {
  if (!isConfigError(err)) throw err;
  process.stderr.write(`kcp-edge serve: ${err.message}\n`);
  return exitCode.config;
}

/** `--workers`: the same values as the config's field; null for anything else. */
function workersOption(value: string): number | 'auto' | null {
  if (value === 'auto') return 'auto';
  const count = /^\d+$/.test(value) ? Number(value) : 0;
  return count >= 1 && count <= 256 ? count : null;
}

async function serve(values: OptionValues): Promise<number> {
  const file = values['config'];
  if (typeof file !== 'string') {
    process.stderr.write('kcp-edge serve: --config FILE is required\n');
    return exitCode.usage;
  }
  const workersWanted = typeof values['workers'] === 'string' ? workersOption(values['workers']) : undefined;
  if (workersWanted === null) {
    process.stderr.write('kcp-edge serve: --workers: must be a whole number from 1 to 256, or "auto"\n');
    return exitCode.usage;
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

  // Flags only, no environment: the config file is where a deployment says how to reach Redis.
  let redis: RedisConnectionConfig | undefined;
  try {
    redis = redisConnectionFromFlags({ values });
  } catch (err) {
    process.stderr.write(`kcp-edge serve: ${(err as Error).message}\n`);
    return exitCode.usage;
  }
  if (redis === undefined && Object.keys(redisFlags).some((flag) => values[flag] !== undefined)) {
    process.stderr.write('kcp-edge serve: the --redis-* flags go with --redis URL\n');
    return exitCode.usage;
  }
  const { pino } = await import('pino');
  const logger: Logger = pino({ name: 'kcp-edge', level: config.logLevel });
  const role = workerRole();
  const workers = workersWanted === undefined ? config.workers : workerCount(workersWanted);
  if (role === undefined && workers > 1) {
    // The supervisor never loads the gateway: its workers do.
    const { superviseWorkers } = await import('../gateway/workers/supervisor.ts');
    const code = await superviseWorkers({
      count: workers,
      port: config.listen.port,
      ...(config.admin === undefined ? {} : { adminPort: config.admin.listen.port }),
      drainTimeoutMs: config.drainTimeoutMs,
      logger,
      configFile: file,
    });
    setTimeout(() => process.exit(code), 1_000).unref();
    return code;
  }

  // Loaded only now: a config check (or a supervisor) never pays for the gateway's imports.
  const [{ runGateway }, { redisRoutingSource }] = await Promise.all([import('./run-gateway.ts'), import('./gateway-dependencies.ts')]);
  const overrides: Parameters<typeof runGateway>[3] = {
    ...(redis === undefined ? {} : { routing: redisRoutingSource(redis, String(values['redis'])) }),
    ...(role === undefined ? {} : { worker: role }),
  };

  let running: Awaited<ReturnType<typeof runGateway>>;
  try {
    running = await runGateway(file, config, logger, overrides);
  } catch (err) {
    return reportConfigError(err);
  }
  if (role === undefined) {
    logger.info({ url: running.gateway.url, config: file, ...(running.admin === undefined ? {} : { admin: running.admin.server.url }) }, 'kcp-edge gateway serving');
  } else {
    logger.info({ url: running.gateway.url, worker: role.slot, ...(running.admin === undefined ? {} : { admin: running.admin.server.url }) }, 'worker listening');
    reportListening(running.gateway.url, running.gateway.port, running.admin?.server.port);
  }

  return runUntilStopped({
    log: logger,
    // The gateway cuts what is left at its own bound; this one only catches a drain that hangs anyway.
    drainTimeoutMs: config.drainTimeoutMs + 5_000,
    drain: () => running.close(),
    ...(role === undefined ? {} : { onDrainRequest }),
  });
}

/** A cluster worker's channel to its supervisor keeps it up whatever happened: once serve is over (it drained, or could not start), it exits with the status the CLI set. */
async function serveThenExitIfWorker(values: OptionValues): Promise<number> {
  try {
    return await serve(values);
  } finally {
    if (cluster.isWorker) setTimeout(() => process.exit(), 0).unref();
  }
}

export const command: Command = {
  summary: 'run the gateway from a config file (validated first; every problem is listed)',
  options: {
    config: { type: 'string' },
    check: { type: 'boolean', default: false },
    // The shared routing table in Redis instead of the config's routing store (redis://, rediss://,
    // redis+sentinel://, redis+cluster://), with the --redis-* flags for credentials and TLS files.
    ...redisFlags,
    // Worker processes (a number or "auto"), instead of the config's `workers`.
    workers: { type: 'string' },
  },
  run: serveThenExitIfWorker,
};
