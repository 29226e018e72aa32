// What the indexer knows about workspaces, as KCP describes them, and the route each one should have.
// Pure bookkeeping (no I/O) so the rules are readable in one place:
// - a LogicalCluster object (name "cluster") exists in every logical cluster, on the shard that holds
//   it; its `kcp.io/path` annotation is the workspace path;
// - a Workspace lives in its parent's logical cluster; once scheduled, `spec.cluster` names the child's
//   logical cluster; `status.phase` says whether it is Scheduling, Initializing, Ready or Unavailable.
//   Its path is the parent's path + ':' + its name. Its `spec.URL` is where clients go (kcp's external
//   URL: the front door, this gateway), so it never says which shard holds the cluster: only the
//   LogicalCluster objects each shard serves do, as in kcp's own index.
import type { KubeObject } from '../kube/rest-client.ts';
import type { RouteInput } from './route-store.ts';
import type { RoutePhase } from './types.ts';

export const CLUSTER_ANNOTATION = 'kcp.io/cluster';
export const PATH_ANNOTATION = 'kcp.io/path';

interface LogicalClusterInfo {
  path: string | undefined;
  phase: string | undefined;
}

interface WorkspaceInfo {
  parentCluster: string;
  name: string;
  cluster: string | undefined;
  phase: string | undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function field(o: KubeObject, section: 'spec' | 'status', name: string): string | undefined {
  const s = o[section];
  return typeof s === 'object' && s !== null ? str((s as Record<string, unknown>)[name]) : undefined;
}

/** The logical cluster an object of a `/clusters/*` list belongs to. */
export function clusterOf(o: KubeObject): string | undefined {
  return str(o.metadata.annotations?.[CLUSTER_ANNOTATION]);
}

export function routePhase(phase: string | undefined): RoutePhase {
  return phase === undefined || phase === 'Ready' ? 'Ready' : 'Unavailable';
}

export class WorkspaceIndex {
  /** cluster → shard → what that shard's LogicalCluster says. Two shards only during a move. */
  readonly #logicalClusters = new Map<string, Map<string, LogicalClusterInfo>>();
  /** `${shard}|${parentCluster}|${name}` → workspace. */
  readonly #workspaces = new Map<string, WorkspaceInfo>();
  /** child cluster → keys of workspaces naming it. */
  readonly #byCluster = new Map<string, Set<string>>();

  /** Records a LogicalCluster seen (or gone, with `object` undefined) on a shard; returns the clusters to re-route. */
  setLogicalCluster(shard: string, cluster: string, object: KubeObject | undefined): string[] {
    let perShard = this.#logicalClusters.get(cluster);
    if (object === undefined) {
      perShard?.delete(shard);
      if (perShard?.size === 0) this.#logicalClusters.delete(cluster);
    } else {
      if (perShard === undefined) this.#logicalClusters.set(cluster, (perShard = new Map()));
      perShard.set(shard, { path: str(object.metadata.annotations?.[PATH_ANNOTATION]), phase: field(object, 'status', 'phase') });
    }
    // Children's paths derive from this one.
    return [cluster, ...this.childrenOf(cluster)];
  }

  /** Records a Workspace seen (or gone) on a shard; returns the clusters to re-route. */
  setWorkspace(shard: string, parentCluster: string, object: KubeObject, gone: boolean): string[] {
    const key = `${shard}|${parentCluster}|${object.metadata.name}`;
    const previous = this.#workspaces.get(key);
    const affected = new Set<string>();
    if (previous?.cluster !== undefined) {
      this.#byCluster.get(previous.cluster)?.delete(key);
      if (this.#byCluster.get(previous.cluster)?.size === 0) this.#byCluster.delete(previous.cluster);
      affected.add(previous.cluster);
    }
    if (gone) {
      this.#workspaces.delete(key);
    } else {
      const info: WorkspaceInfo = {
        parentCluster,
        name: object.metadata.name,
        cluster: field(object, 'spec', 'cluster'),
        phase: field(object, 'status', 'phase'),
      };
      this.#workspaces.set(key, info);
      if (info.cluster !== undefined) {
        let keys = this.#byCluster.get(info.cluster);
        if (keys === undefined) this.#byCluster.set(info.cluster, (keys = new Set()));
        keys.add(key);
        affected.add(info.cluster);
      }
    }
    return [...affected];
  }

  /** Forgets everything a shard said (it was removed from the registry). Returns the clusters to re-route. */
  forgetShard(shard: string): string[] {
    const affected: string[] = [];
    for (const [cluster, perShard] of this.#logicalClusters) {
      if (perShard.delete(shard)) affected.push(cluster);
      if (perShard.size === 0) this.#logicalClusters.delete(cluster);
    }
    for (const [key, ws] of [...this.#workspaces]) {
      if (key.startsWith(`${shard}|`)) affected.push(...this.setWorkspace(shard, ws.parentCluster, { metadata: { name: ws.name } }, true));
    }
    return affected;
  }

  childrenOf(cluster: string): string[] {
    const children: string[] = [];
    for (const ws of this.#workspaces.values()) if (ws.parentCluster === cluster && ws.cluster !== undefined) children.push(ws.cluster);
    return children;
  }

  knownPath(cluster: string): string | undefined {
    for (const info of this.#logicalClusters.get(cluster)?.values() ?? []) if (info.path !== undefined) return info.path;
    return undefined;
  }

  clusters(): string[] {
    return [...new Set([...this.#logicalClusters.keys(), ...this.#byCluster.keys()])];
  }

  /**
   * The route a logical cluster should have, or undefined when it should have none. `parentPath`
   * answers for parents this index has not seen (they may live on a shard listed later); `current` is
   * the shard routed now.
   */
  async desired(cluster: string, parentPath: (cluster: string) => Promise<string | undefined>, current: string | undefined): Promise<RouteInput | undefined> {
    const holders = this.#logicalClusters.get(cluster);
    const workspaces = [...(this.#byCluster.get(cluster) ?? [])].map((k) => this.#workspaces.get(k)!).filter((w) => w !== undefined);
    const ws = workspaces[0];
    // No LogicalCluster seen yet: not routable (the Workspace alone does not say where it lives).
    if (holders === undefined || holders.size === 0) return undefined;
    const names = [...holders.keys()].sort();
    // Several holders only while a workspace moves: stay put until the old copy goes (kcp serves from
    // the old shard until then), preferring a Ready copy over one still initializing.
    const ready = names.filter((n) => holders.get(n)?.phase === 'Ready');
    const candidates = ready.length > 0 ? ready : names;
    const shard = candidates.find((n) => n === current) ?? candidates[0]!;

    let path = holders?.get(shard)?.path ?? this.knownPath(cluster);
    if (path === undefined && ws !== undefined) {
      const parent = this.knownPath(ws.parentCluster) ?? (await parentPath(ws.parentCluster));
      if (parent !== undefined) path = `${parent}:${ws.name}`;
    }
    if (path === undefined) return undefined;

    return { path, shard, cluster, phase: routePhase(ws?.phase ?? holders?.get(shard)?.phase) };
  }
}
