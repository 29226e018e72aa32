// The stand-in kubelet's part in pod streaming: a new pod's containers (Running from creation, see
// objects.ts) write a first few log lines; a deleted pod's log and files go with it.
import type { ShardState } from '../shard-state.ts';
import { forgetPod, podRuntime } from './runtime.ts';

interface ContainerSpec {
  name: string;
  image?: string;
  ports?: Array<{ containerPort?: number }>;
}

export function startKubelet(shard: ShardState): () => void {
  return shard.store.hub.follow((event) => {
    if (event.gr !== 'pods') return;
    const { cluster, namespace } = event;
    const name = event.object.metadata.name ?? '';
    if (event.type === 'DELETED') {
      forgetPod(shard, cluster, namespace, name);
      return;
    }
    if (event.type !== 'ADDED') return;
    const log = podRuntime(shard, cluster, namespace, name).log;
    for (const c of (event.object['spec'] as { containers?: ContainerSpec[] } | undefined)?.containers ?? []) {
      log.write(`container ${c.name} started from image ${c.image ?? ''}`);
      for (const p of c.ports ?? []) log.write(`${c.name}: listening on :${p.containerPort ?? 0}`);
    }
  });
}
