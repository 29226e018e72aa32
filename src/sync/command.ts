// `kcp-edge sync --config FILE`: run the sync worker until SIGTERM/SIGINT.
import type { Command } from '../command/types.ts';
import { isConfigError } from '../config/index.ts';
import { loadSyncConfig } from './config.ts';
import { serveSyncHttp } from './http.ts';
import { SyncWorker } from './worker.ts';

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'sync', msg: message, ...fields }) + '\n');
}

export const command: Command = {
  summary: 'mirror APIExport objects to the service cluster and carry status back',
  options: {
    config: { type: 'string', default: 'config/sync.yaml' },
    listen: { type: 'string' },
  },
  async run(values) {
    let config;
    try {
      config = await loadSyncConfig(String(values.config));
    } catch (err) {
      if (isConfigError(err)) {
        process.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
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
    let listen = config.listen;
    if (typeof values.listen === 'string') {
      const colon = values.listen.lastIndexOf(':');
      listen = { host: values.listen.slice(0, colon), port: Number(values.listen.slice(colon + 1)) };
    }
    const { server, port } = await serveSyncHttp(worker, listen);
    worker.start();
    log('sync worker started', { agent: config.agentName, listen: `${listen.host}:${port}` });
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    log('sync worker stopping');
    server.close();
    await worker.stop();
    return 0;
  },
};
