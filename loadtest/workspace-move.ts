// Workspace move benchmark (not a test): a workspace of N ConfigMaps (half of them owned by another
// object, so owner references are rewritten) on one stand-in shard, moved to another with the phases in
// a real Redis. Reports the whole move and the write pause (route Moving → route on the target).
//
//   node loadtest/workspace-move.ts                 # 100, 1 000 and 10 000 objects
//   node loadtest/workspace-move.ts --sizes 1000
import { parseArgs } from 'node:util';
import { parseRedisUrl } from '../src/routing/redis-connection.ts';
import { RedisRouteStore } from '../src/routing/redis-route-store.ts';
import type { RouteInput } from '../src/routing/route-store.ts';
import { moveWorkspace } from '../src/routing/workspace-move.ts';
import { connectShards, createCertificateAuthority, createWorkspace, startShard } from '../src/sim/index.ts';
import { startRedis } from '../test/helpers/redis.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,1000,10000' }, concurrency: { type: 'string', default: '32' } } });
const sizes = values.sizes.split(',').map(Number);
const concurrency = Number(values.concurrency);

await using redis = await startRedis();
const ca = await createCertificateAuthority('bench-ca');
const [a, b] = await Promise.all([startShard({ name: 'alpha', ca, historySize: 50_000 }), startShard({ name: 'beta', ca, historySize: 50_000 })]);
connectShards(a, b);
const store = RedisRouteStore.connect(parseRedisUrl(redis.url));
const api = await a.client();
const credentials = { ...(await a.issueClientCertificate('bench-mover', ['system:masters'])), caPem: ca.certPem };
for (const s of [a, b]) await store.putShard({ name: s.name, url: s.url, state: 'active', labels: s.labels });
await store.putRoute({ path: 'root', shard: 'alpha', cluster: 'root', phase: 'Ready' });

// When the route turns Moving and when it names the target: the write pause as the edge shows it.
let pausedAt = 0;
let resumedAt = 0;
const putRoute = store.putRoute.bind(store);
store.putRoute = async (route: RouteInput) => {
  const result = await putRoute(route);
  if (route.phase === 'Moving') pausedAt = performance.now();
  else if (route.shard === 'beta') resumedAt = performance.now();
  return result;
};

const rows: string[] = [];
for (const [i, n] of sizes.entries()) {
  const ws = await createWorkspace(api, 'root', `bench-${i}`, { shard: 'alpha' });
  await store.putRoute({ path: ws.path, shard: 'alpha', cluster: ws.cluster, phase: 'Ready' });
  const base = `/clusters/${ws.cluster}/api/v1/namespaces/default/configmaps`;
  const owner = await api.request<{ metadata: { uid: string } }>('POST', base, { body: { metadata: { name: 'owner' } } });
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let k = next++; k < n; k = next++) {
        const ownerReferences = k % 2 === 0 ? [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.body.metadata.uid }] : undefined;
        const res = await api.request('POST', base, {
          body: { metadata: { name: `cm-${k}`, labels: { app: 'bench' }, ...(ownerReferences === undefined ? {} : { ownerReferences }) }, data: { k: String(k) } },
        });
        if (res.status !== 201) throw new Error(`seeding: ${res.status} ${res.text}`);
      }
    }),
  );
  const started = performance.now();
  const record = await moveWorkspace({ store, credentials, path: ws.path, to: 'beta', readyTimeoutMs: 30_000 });
  const total = performance.now() - started;
  rows.push(
    `${String(n).padStart(6)} objects   move ${Math.round(total).toString().padStart(6)} ms   write pause ${Math.round(resumedAt - pausedAt)
      .toString()
      .padStart(6)} ms   copied ${record.copied}`,
  );
  process.stderr.write(`${rows.at(-1)}\n`);
}
process.stdout.write(`workspace move (stand-in shards, loopback, one mover)\n${rows.join('\n')}\n`);
await store.close();
await Promise.all([a.close(), b.close()]);
