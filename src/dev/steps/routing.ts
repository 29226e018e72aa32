// The embedded routing table, written from what the shards really did; the gateway follows this file,
// so a newcomer can edit it (mark a shard down, move a route) and watch the effect.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { DevStack, DevStep } from '../stack.ts';

export const routing: DevStep = {
  name: 'routing',
  async run(stack) {
    if (stack.options.redis !== undefined) return useRedis(stack, stack.options.redis);
    const doc = {
      shards: [...stack.shards.values()].map((s) => ({ name: s.name, url: s.url, labels: s.labels })),
      routes: stack.workspaces.map((w) => ({ path: w.path, shard: w.shard, cluster: w.cluster })),
    };
    const header = '# Written by `kcp-edge dev`; the gateway re-reads it on every change.\n';
    await writeFile(stack.files.routing, header + stringify(doc));
    stack.gatewayConfig['routing'] = { embedded: { file: stack.files.routing } };
  },
};

/**
 * `kcp-edge dev --redis URL`: shards and routes go to the shared table (what `kcp-edge shards add` and
 * `routes import` would write), and an indexer keeps it true as workspaces come and go. The dev shards
 * are also its seed: a Redis restarted without its data is rebuilt by the indexer with nothing typed.
 * `indexerUrl` lets the indexer reach Redis another way than the gateway (fault tests cut it alone).
 */
export async function useRedis(stack: DevStack, url: string, indexerUrl: string = url): Promise<void> {
  const [{ parseRedisUrl }, { RedisRouteStore }, { Indexer }, { redisTableGeneration }] = await Promise.all([
    import('../../routing/redis-connection.ts'),
    import('../../routing/redis-route-store.ts'),
    import('../../routing/indexer.ts'),
    import('../../routing/redis-generation.ts'),
  ]);
  const ca = stack.need(stack.ca, 'the dev CA');
  const store = RedisRouteStore.connect(parseRedisUrl(indexerUrl));
  const shards = [...stack.shards.values()].map((s) => ({ name: s.name, url: s.url, ca: s.caPem, state: 'active' as const, labels: s.labels }));
  for (const shard of shards) await store.putShard(shard);
  await store.putRoutes(stack.workspaces.map((w) => ({ path: w.path, shard: w.shard, cluster: w.cluster, phase: 'Ready' as const })));
  const admin = await ca.issue({ commonName: 'kcp-edge-indexer', organizations: ['system:masters'], usage: 'client' });
  const generation = redisTableGeneration(store.client, store.keys, shards);
  // Shards come from kcp's own list on the root shard (the first), as they would in production.
  const [root] = stack.shards.values();
  const indexer = new Indexer({
    store,
    credentials: { certPem: admin.certPem, keyPem: admin.keyPem, caPem: ca.certPem },
    generation,
    ...(root === undefined ? {} : { rootShard: { url: root.url, caPem: ca.certPem } }),
  });
  stack.onStop('indexer', async () => {
    await indexer.stop();
    await store.close();
  });
  await indexer.start();
  // The gateway starts on a complete table: ready, and no workspace answered 503 while it is rebuilt.
  await indexer.synced();
  stack.gatewayConfig['routing'] = { redis: { url } };
}
