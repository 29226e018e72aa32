// One namespace per (workspace, published resource) on the service cluster. Its name is derived, its
// labels say which logical cluster owns it, and a namespace owned by anybody else is never used: a
// collision is an error to look at, not a reason to mix two tenants' objects.
import { isConflict, isNotFound, KubeApiError, type KubeObject, type RestClient } from '../kube/rest-client.ts';
import { SyncError } from './metrics.ts';
import { namespaceName, workspaceNameFromPath } from './naming.ts';
import { annotations, corePath, labels, pathAnnotation } from './types.ts';

export type BindingProbe = (cluster: string) => Promise<'bound' | 'unbound' | 'unknown'>;

export class Namespaces {
  #service: RestClient;
  #agent: string;
  #suffix: string;
  #names = new Map<string, string>();
  #paths = new Map<string, string>();
  #ensured = new Set<string>();

  constructor(service: RestClient, agent: string, suffix: string) {
    this.#service = service;
    this.#agent = agent;
    this.#suffix = suffix;
  }

  get selector(): string {
    return `${labels.agent}=${this.#agent},${labels.suffix}=${this.#suffix}`;
  }

  /**
   * The namespace of a logical cluster. An existing namespace labelled for the cluster wins (so a name
   * chosen once never changes, even if the workspace path becomes readable later); otherwise the name is
   * derived from the workspace name, read from the cluster's LogicalCluster through `consumer`.
   */
  async nameFor(cluster: string, consumer: RestClient): Promise<string> {
    const existing = await this.existing(cluster);
    if (existing !== undefined) return existing;
    const path = await workspacePath(consumer, cluster);
    if (path !== undefined) this.#paths.set(cluster, path);
    const name = namespaceName(path === undefined ? cluster : workspaceNameFromPath(path), cluster, this.#suffix);
    this.#names.set(cluster, name);
    return name;
  }

  /** The namespace already holding this cluster's copies, if there is one (no copy can exist otherwise). */
  async existing(cluster: string): Promise<string | undefined> {
    const known = this.#names.get(cluster);
    if (known !== undefined) return known;
    const found = await this.#findLabelled(cluster);
    if (found !== undefined) this.#names.set(cluster, found);
    return found;
  }

  /** The namespace vanished under us (deleted by hand or by cleanup): look again next time. */
  forget(cluster: string): void {
    const name = this.#names.get(cluster);
    if (name !== undefined) this.#ensured.delete(name);
    this.#names.delete(cluster);
  }

  async #findLabelled(cluster: string): Promise<string | undefined> {
    const existing = await this.#service.list(corePath('Namespace', undefined), {
      labelSelector: `${this.selector},${labels.cluster}=${cluster}`,
    });
    const found = existing.items.find((ns) => ns.metadata.deletionTimestamp === undefined) ?? existing.items[0];
    return found?.metadata.name;
  }

  async ensure(cluster: string, consumer: RestClient): Promise<string> {
    const name = await this.nameFor(cluster, consumer);
    if (this.#ensured.has(name)) return name;
    let ns = await this.#service.getOrNull(corePath('Namespace', undefined, name));
    if (ns === null) {
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name,
          labels: { [labels.agent]: this.#agent, [labels.suffix]: this.#suffix, [labels.cluster]: cluster },
          annotations: { [annotations.originCluster]: cluster, [annotations.workspacePath]: this.#paths.get(cluster) ?? '' },
        },
      };
      try {
        ns = await this.#service.create(corePath('Namespace', undefined), body);
      } catch (err) {
        if (!isConflict(err)) throw err;
        ns = await this.#service.get(corePath('Namespace', undefined, name));
      }
    }
    const owner = ns.metadata.labels?.[labels.cluster];
    if (owner !== cluster) {
      throw new SyncError(
        'namespace_owned_elsewhere',
        `namespace ${name} on the service cluster belongs to ${owner === undefined ? 'nobody we know' : `cluster ${owner}`}, not ${cluster}`,
      );
    }
    if (ns.metadata.deletionTimestamp !== undefined) {
      this.#names.delete(cluster);
      throw new SyncError('namespace_terminating', `namespace ${name} is being deleted; waiting before re-creating it`);
    }
    this.#ensured.add(name);
    return name;
  }

  /**
   * Removes the namespaces of clusters whose binding is gone (api-syncagent #113 leaves them behind).
   * `active` holds clusters that still have consumer objects; any other one is probed, and only a
   * definite "unbound" deletes: an unreachable shard proves nothing.
   */
  async cleanup(active: ReadonlySet<string>, probe: BindingProbe): Promise<string[]> {
    const list = await this.#service.list(corePath('Namespace', undefined), { labelSelector: this.selector });
    const removed: string[] = [];
    for (const ns of list.items) {
      const cluster = ns.metadata.labels?.[labels.cluster];
      if (cluster === undefined || active.has(cluster) || ns.metadata.deletionTimestamp !== undefined) continue;
      if ((await probe(cluster)) !== 'unbound') continue;
      try {
        await this.#service.delete(corePath('Namespace', undefined, ns.metadata.name), { preconditions: { uid: ns.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.#names.delete(cluster);
      this.#ensured.delete(ns.metadata.name);
      removed.push(ns.metadata.name);
    }
    return removed;
  }
}

/** The workspace path of a logical cluster (`kcp.io/path` on its LogicalCluster), if the endpoint lets us read it. */
async function workspacePath(consumer: RestClient, cluster: string): Promise<string | undefined> {
  try {
    const lc = await consumer.get(`/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`);
    return lc.metadata.annotations?.[pathAnnotation];
  } catch (err) {
    // Not served or not permitted: fall back to the cluster name. Anything else (shard down) is retried,
    // so a transient failure never picks a different name than a healthy run would.
    if (err instanceof KubeApiError && (err.status === 404 || err.status === 403)) return undefined;
    throw err;
  }
}
