// `kcp-edge index`: runs the indexer against every shard registered in the shared table, under the
// Redis lease (so several can run for availability and exactly one works), until SIGTERM/SIGINT.
// `--once` lists every shard, writes what it found, removes stale routes and exits.
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import type { Command, OptionValues } from '../../command/types.ts';
import { loadKubeconfig } from '../../kube/kubeconfig.ts';
import { Indexer, startLeasedIndexer, type IndexerCredentials } from '../indexer.ts';
import { redisTableGeneration } from '../redis-generation.ts';
import { RedisRouteStore } from '../redis-route-store.ts';
import { redisConnection, redisOptions, report, stringOption, UsageError, whyFailed } from './common.ts';

async function credentialsFrom(values: OptionValues): Promise<IndexerCredentials> {
  const kubeconfig = stringOption(values, 'kubeconfig');
  if (kubeconfig !== undefined) {
    const endpoint = await loadKubeconfig(kubeconfig);
    if (endpoint.certPem === undefined || endpoint.keyPem === undefined) throw new UsageError(`${kubeconfig}: the indexer needs a client certificate (client-certificate and client-key)`);
    return { certPem: endpoint.certPem, keyPem: endpoint.keyPem, ...(endpoint.caPem === undefined ? {} : { caPem: endpoint.caPem }) };
  }
  const cert = stringOption(values, 'client-cert');
  const key = stringOption(values, 'client-key');
  if (cert === undefined || key === undefined) throw new UsageError('pass --kubeconfig FILE, or --client-cert FILE and --client-key FILE (a certificate the shards accept for listing workspaces everywhere)');
  const ca = stringOption(values, 'ca');
  return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8'), ...(ca === undefined ? {} : { caPem: await readFile(ca, 'utf8') }) };
}

async function run(values: OptionValues): Promise<number> {
  let store: RedisRouteStore;
  let credentials: IndexerCredentials;
  try {
    const config = redisConnection(values);
    credentials = await credentialsFrom(values);
    store = RedisRouteStore.connect(config);
  } catch (err) {
    return report('index', err instanceof UsageError || !(err instanceof Error) ? err : new UsageError(err.message));
  }
  const logger = pino({ name: 'kcp-edge-index', level: stringOption(values, 'log-level') ?? 'info' }, pino.destination(2));
  const log = { info: (f: object, m: string) => logger.info(f, m), warn: (f: object, m: string) => logger.warn(f, m) };

  if (values['once'] === true) {
    const indexer = new Indexer({ store, credentials, log, generation: redisTableGeneration(store.client, store.keys) });
    try {
      await indexer.start();
      await indexer.synced();
      process.stdout.write(`indexed: ${indexer.writes} route change(s)\n`);
      return 0;
    } catch (err) {
      return report('index', whyFailed(err, store));
    } finally {
      await indexer.stop();
      await store.close();
    }
  }

  const lease = startLeasedIndexer(store, credentials, log);
  logger.info({ holder: lease.holder }, 'kcp-edge index: waiting for the indexer lease');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop).once('SIGINT', stop);
  });
  await lease.stop();
  await store.close();
  return 0;
}

export const command: Command = {
  summary: 'keep the shared routing table true by watching Workspaces and LogicalClusters on every registered shard',
  options: {
    ...redisOptions,
    kubeconfig: { type: 'string' },
    'client-cert': { type: 'string' },
    'client-key': { type: 'string' },
    ca: { type: 'string' },
    once: { type: 'boolean', default: false },
    'log-level': { type: 'string' },
  },
  run,
};
