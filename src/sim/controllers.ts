// The few controllers a consumer notices on a real cluster: terminating namespaces disappear once empty,
// and every namespace has its `default` ServiceAccount (created with it, recreated when deleted, with a
// new uid: tokens of the old one stay invalid).
import { createObject, finishNamespaceIfEmpty } from './objects.ts';
import type { ShardState } from './shard-state.ts';

export function startCoreControllers(shard: ShardState): () => void {
  return shard.store.hub.follow((event) => {
    if (event.type === 'DELETED' && event.namespace !== '') {
      const { cluster, namespace } = event;
      queueMicrotask(() => finishNamespaceIfEmpty(shard, cluster, namespace));
    }
    const defaultDeleted = event.type === 'DELETED' && event.gr === 'serviceaccounts' && event.object.metadata.name === 'default';
    if ((event.type === 'ADDED' && event.gr === 'namespaces') || defaultDeleted) {
      const { cluster } = event;
      const namespace = defaultDeleted ? event.namespace : (event.object.metadata.name ?? '');
      queueMicrotask(() => {
        if (shard.store.get(cluster, 'serviceaccounts', namespace, 'default') !== undefined) return;
        const ns = shard.store.get(cluster, 'namespaces', '', namespace);
        if (ns === undefined || ns.metadata.deletionTimestamp !== undefined) return;
        createObject(shard, cluster, shard.builtinType('', 'serviceaccounts'), { metadata: { name: 'default' } }, namespace);
      });
    }
  });
}
