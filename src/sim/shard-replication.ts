// kcp shares Shard objects between shards (through its cache server), so every shard's scheduler sees
// the same labels. The stand-in's shards each keep their own copy in root; a change to labels or
// annotations on one is carried to its peers' copies. A peer that already has the same metadata is left
// alone, which is also what ends the echo.
import type { ApiClient } from './client.ts';
import type { ShardPlugin, ShardServices } from './plugin.ts';
import { shardGR } from './shard-objects.ts';
import type { ShardState } from './shard-state.ts';
import type { KubeObject } from './types.ts';

const same = (a: Record<string, string> | undefined, b: Record<string, string> | undefined) =>
  JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());

/** Merge-patch values that make `from` into `to` (null removes a key). */
function diff(from: Record<string, string> | undefined, to: Record<string, string> | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = { ...to };
  for (const key of Object.keys(from ?? {})) if (to?.[key] === undefined) out[key] = null;
  return out;
}

async function carry(client: ApiClient, object: KubeObject): Promise<void> {
  const path = `/clusters/root/apis/core.kcp.io/v1alpha1/shards/${object.metadata.name ?? ''}`;
  const got = await client.request<KubeObject>('GET', path);
  if (got.status !== 200) return; // the peer publishes it itself once it learns of that shard
  const labels = object.metadata.labels;
  const annotations = Object.fromEntries(Object.entries(object.metadata.annotations ?? {}).filter(([k]) => k !== 'kcp.io/cluster'));
  const theirAnnotations = Object.fromEntries(Object.entries(got.body.metadata.annotations ?? {}).filter(([k]) => k !== 'kcp.io/cluster'));
  if (same(got.body.metadata.labels, labels) && same(theirAnnotations, annotations)) return;
  await client.request('PATCH', path, {
    body: { metadata: { labels: diff(got.body.metadata.labels, labels), annotations: diff(theirAnnotations, annotations) } },
    contentType: 'application/merge-patch+json',
  });
}

export const shardReplicationPlugin: ShardPlugin = {
  name: 'shard-replication',
  start(shard: ShardState, services: ShardServices) {
    if (!shard.kcp) return () => undefined;
    return shard.store.hub.follow((event) => {
      if (event.gr !== shardGR || event.cluster !== 'root' || event.type !== 'MODIFIED') return;
      for (const peer of shard.settings.peers()) {
        void services
          .peerClient(peer.url)
          .then((client) => carry(client, event.object))
          .catch(() => undefined);
      }
    });
  },
};
