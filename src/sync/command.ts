// `kcp-edge sync --config FILE`: run the sync worker until SIGTERM/SIGINT, logging through pino at the
// config's log.level like the gateway.
import { pino } from 'pino';
import { exitCode, runUntilStopped } from '../command/lifecycle.ts';
import { ListenAddressError, parseListenAddress, type ListenAddress } from '../command/listen-address.ts';
import type { Command } from '../command/types.ts';
import { isConfigError } from '../config/index.ts';
import { loadSyncConfig } from './config.ts';
import { serveSyncHttp } from './http.ts';
import { SyncWorker } from './worker.ts';

/** Reconciles in flight finish and the watches close within this; a stuck endpoint does not hold the exit. */
const drainTimeoutMs = 15_000;

export const command: Command = {
  summary: 'mirror APIExport objects to the service cluster and carry status back',
  options: {
    config: { type: 'string', default: 'config/sync.yaml' },
    listen: { type: 'string' },
  },
  async run(values) {
    // The flag is checked before the file: a bad invocation is told so whatever the config says.
    let listenFlag: ListenAddress | undefined;
    try {
      listenFlag = typeof values.listen === 'string' ? parseListenAddress(values.listen, '') : undefined;
    } catch (err) {
      if (!(err instanceof ListenAddressError)) throw err;
      process.stderr.write(`kcp-edge sync: --listen: ${err.message}\n`);
      return exitCode.usage;
    }
    let config;
    try {
      config = await loadSyncConfig(String(values.config));
    } catch (err) {
      if (!isConfigError(err)) throw err;
      process.stderr.write(`kcp-edge sync: ${err.message}\n`);
      return exitCode.config;
    }
    const log = pino({ name: 'kcp-edge-sync', level: config.logLevel }, pino.destination(2));
    const worker = new SyncWorker({
      agentName: config.agentName,
      resources: config.resources,
      kcp: config.kcp,
      endpointSlice: config.endpointSlice,
      endpoints: config.endpoints,
      service: config.service,
      concurrency: config.workers,
      resyncMs: config.resyncMs,
      cleanupMs: config.cleanupMs,
      log,
    });
    // A bare port (`--listen 8080`) keeps the config's host.
    const listen = listenFlag === undefined ? config.listen : { host: listenFlag.host || config.listen.host, port: listenFlag.port };
    const { server, port } = await serveSyncHttp(worker, listen);
    worker.start();
    log.info({ agent: config.agentName, listen: `${listen.host}:${port}` }, 'sync worker started');
    return runUntilStopped({
      log,
      drainTimeoutMs,
      async drain() {
        server.close();
        await worker.stop();
      },
    });
  },
};
