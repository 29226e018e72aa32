// `kcp-edge index`: runs the indexer against every shard registered in the shared table, under the
// Redis lease (so several can run for availability and exactly one works), until SIGTERM/SIGINT.
// `--once` lists every shard, writes what it found, removes stale routes and exits.
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { exitCode, runUntilStopped } from '../../command/lifecycle.ts';
import type { Command, OptionValues } from '../../command/types.ts';
import { logLevels, type LogLevel } from '../../log.ts';
import { loadKubeconfig } from '../../kube/kubeconfig.ts';
import { Indexer, startLeasedIndexer, type IndexerCredentials } from '../indexer.ts';
import { redisTableGeneration } from '../redis-generation.ts';
import { RedisRouteStore } from '../redis-route-store.ts';
import { redisConnection, redisOptions, report, stringOption, UsageError, whyFailed } from './common.ts';

/** The lease is released and the watches closed within this; an unreachable Redis does not hold the exit. */
const drainTimeoutMs = 10_000;

function isLogLevel(value: string): value is LogLevel {
  return (logLevels as readonly string[]).includes(value);
}

export async function credentialsFrom(values: OptionValues): Promise<IndexerCredentials> {
  const kubeconfig = stringOption(values, 'kubeconfig');
  if (kubeconfig !== undefined) {
    const endpoint = await loadKubeconfig(kubeconfig);
    if (endpoint.certPem === undefined || endpoint.keyPem === undefined)
      throw new UsageError(`${kubeconfig}: the indexer needs a client certificate (client-certificate and client-key)`);
    return { certPem: endpoint.certPem, keyPem: endpoint.keyPem, ...(endpoint.caPem === undefined ? {} : { caPem: endpoint.caPem }) };
  }
  const cert = stringOption(values, 'client-cert');
  const key = stringOption(values, 'client-key');
  if (cert === undefined || key === undefined)
    throw new UsageError('pass --kubeconfig FILE, or --client-cert FILE and --client-key FILE (a certificate the shards accept for listing workspaces everywhere)');
  const ca = stringOption(values, 'ca');
  return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8'), ...(ca === undefined ? {} : { caPem: await readFile(ca, 'utf8') }) };
}

async function run(values: OptionValues): Promise<number> {
  const level = stringOption(values, 'log-level') ?? 'info';
  if (!isLogLevel(level)) return report('index', new UsageError(`--log-level must be one of ${logLevels.join(', ')}, not "${level}"`));
  let store: RedisRouteStore;
  let credentials: IndexerCredentials;
  try {
    const config = redisConnection(values);
    credentials = await credentialsFrom(values);
    store = RedisRouteStore.connect(config);
  } catch (err) {
    if (err instanceof UsageError || !(err instanceof Error)) return report('index', err);
    // A file the flags name is missing or invalid: a config error, exit 1 as in every command.
    process.stderr.write(`kcp-edge index: ${err.message}\n`);
    return exitCode.config;
  }
  const log = pino({ name: 'kcp-edge-index', level }, pino.destination(2));

  // With --root-shard, shards are taken from kcp's own list (Shard objects in root) as well as the table.
  const rootUrl = stringOption(values, 'root-shard');
  const rootShard = rootUrl === undefined ? undefined : { url: rootUrl, ...(credentials.caPem === undefined ? {} : { caPem: credentials.caPem }) };
  if (values['once'] === true) {
    const indexer = new Indexer({ store, credentials, log, generation: redisTableGeneration(store.client, store.keys), ...(rootShard === undefined ? {} : { rootShard }) });
    try {
      await indexer.start();
      await indexer.synced();
      process.stdout.write(`indexed: ${indexer.writes} route change(s)\n`);
      return exitCode.ok;
    } catch (err) {
      return report('index', whyFailed(err, store));
    } finally {
      await indexer.stop();
      await store.close();
    }
  }

  const lease = startLeasedIndexer(store, credentials, log, [], rootShard);
  log.info({ holder: lease.holder }, 'kcp-edge index: waiting for the indexer lease');
  return runUntilStopped({
    log,
    drainTimeoutMs,
    async drain() {
      await lease.stop();
      await store.close();
    },
  });
}

export const command: Command = {
  summary: 'keep the shared routing table true by watching Workspaces and LogicalClusters on every registered shard',
  options: {
    ...redisOptions,
    kubeconfig: { type: 'string' },
    'client-cert': { type: 'string' },
    'client-key': { type: 'string' },
    ca: { type: 'string' },
    'root-shard': { type: 'string' },
    once: { type: 'boolean', default: false },
    'log-level': { type: 'string' },
  },
  run,
};
