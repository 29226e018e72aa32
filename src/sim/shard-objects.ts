// kcp's Shard objects (`core.kcp.io/v1alpha1`, cluster-scoped, in the root workspace): one per shard the
// stand-in knows, itself and its peers, as a kcp shard registers itself with the root shard. The
// workspace scheduler reads them (labels against `spec.location.selector`), and so may anyone who
// wants to find the shards without being told, as kcp's front-proxy does.
import { createObject } from './objects.ts';
import type { PeerShard, ShardState } from './shard-state.ts';
import type { KubeObject } from './types.ts';

export const shardGR = 'shards.core.kcp.io';

/** Creates the Shard object once; what an operator changed on it later (labels, annotations) stays. */
export function publishShard(state: ShardState, shard: PeerShard): void {
  if (!state.kcp || state.store.get('root', shardGR, '', shard.name) !== undefined) return;
  createObject(
    state,
    'root',
    state.builtinType('core.kcp.io', 'shards'),
    {
      apiVersion: 'core.kcp.io/v1alpha1',
      kind: 'Shard',
      metadata: { name: shard.name, labels: { ...(shard.labels ?? { name: shard.name }) } },
      spec: { baseURL: shard.url, externalURL: shard.url, virtualWorkspaceURL: shard.url },
    },
    '',
  );
}

export interface ShardObject {
  name: string;
  baseURL: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The Shard objects this shard serves, in name order. */
export function listShardObjects(state: ShardState): ShardObject[] {
  return state.store
    .list('root', shardGR)
    .map(({ object }: { object: KubeObject }) => ({
      name: object.metadata.name ?? '',
      baseURL: (object['spec'] as { baseURL?: string } | undefined)?.baseURL ?? '',
      labels: object.metadata.labels ?? {},
      annotations: object.metadata.annotations ?? {},
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The label kcp-edge's `shards cordon` sets: a shard carrying it takes no new workspaces. */
export const cordonLabel = 'scheduling.kcp-edge.io/cordoned';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** metav1.LabelSelector semantics: every matchLabels entry and every expression must hold. */
export function selectorMatches(labels: Record<string, string>, selector: LabelSelector | undefined): boolean {
  if (!Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v)) return false;
  return (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}

/** Shards a workspace with this selector may be placed on: the selector matches and the shard is not cordoned. */
export function schedulableShards(state: ShardState, selector: LabelSelector | undefined): ShardObject[] {
  return listShardObjects(state).filter((s) => s.baseURL !== '' && s.labels[cordonLabel] !== 'true' && selectorMatches(s.labels, selector));
}
