// What one shard knows: its objects, which logical clusters it hosts, and which kinds each cluster serves
// (the built-in ones plus those bound through APIBindings).
import { randomBytes } from 'node:crypto';
import { kcpResources, kubernetesResources } from './builtin-resources.ts';
import type { ServiceAccountSigner } from './service-account-tokens.ts';
import { ObjectStore } from './store.ts';
import { groupResource, type KubeObject, type ResourceType } from './types.ts';

export const logicalClusterGR = 'logicalclusters.core.kcp.io';
export const clusterAnnotation = 'kcp.io/cluster';
export const pathAnnotation = 'kcp.io/path';

export interface PeerShard {
  name: string;
  url: string;
  labels?: Record<string, string>;
}

export interface ShardSettings {
  name: string;
  mode: 'kcp' | 'kubernetes';
  labels: Record<string, string>;
  bookmarkIntervalMs: number;
  /** The other shards of the stack, for workspaces scheduled elsewhere and for endpoint slices. */
  peers: () => PeerShard[];
  /** kube-apiserver's --authorization-mode: RBAC (with kcp's workspace access rule) or AlwaysAllow. */
  authorization: 'RBAC' | 'AlwaysAllow';
}

export class ShardState {
  readonly settings: ShardSettings;
  readonly store: ObjectStore;
  url = '';
  /** Where clients reach workspaces (kcp's external URL: the front door); '' = at the shard holding each. */
  externalURL = '';
  /** Kinds bound into a logical cluster by APIBindings: cluster → types. */
  readonly boundTypes = new Map<string, ResourceType[]>();
  /** Kinds defined in a logical cluster by its own CustomResourceDefinitions: cluster → types. */
  readonly definedTypes = new Map<string, ResourceType[]>();
  readonly #builtins: ResourceType[];
  /** Signs the service-account tokens this shard issues; made on first use (key generation costs). */
  serviceAccountSigner: (() => Promise<ServiceAccountSigner>) | undefined = undefined;

  constructor(settings: ShardSettings, historySize: number) {
    this.settings = settings;
    this.store = new ObjectStore(historySize);
    this.#builtins = settings.mode === 'kcp' ? [...kubernetesResources, ...kcpResources] : kubernetesResources;
  }

  get kcp(): boolean {
    return this.settings.mode === 'kcp';
  }

  typesFor(cluster: string): ResourceType[] {
    if (cluster === '*') {
      const all = [...this.#builtins];
      for (const types of [...this.boundTypes.values(), ...this.definedTypes.values()]) for (const t of types) if (!all.some((a) => sameGVR(a, t))) all.push(t);
      return all;
    }
    return [...this.#builtins, ...(this.boundTypes.get(cluster) ?? []), ...(this.definedTypes.get(cluster) ?? [])];
  }

  findType(cluster: string, group: string, version: string, resource: string): ResourceType | undefined {
    return this.typesFor(cluster).find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  builtinType(group: string, resource: string): ResourceType {
    const found = this.#builtins.find((t) => t.group === group && t.resource === resource);
    if (found === undefined) throw new Error(`no built-in ${resource}.${group}`);
    return found;
  }

  /** Logical cluster name for a name or a path (`root:org-acme`) this shard hosts. */
  resolveCluster(nameOrPath: string): string | undefined {
    if (!this.kcp) return 'root';
    if (nameOrPath === '*') return '*';
    if (this.store.peek(nameOrPath, logicalClusterGR, '', 'cluster') !== undefined) return nameOrPath;
    for (const { cluster, object } of this.store.list('*', logicalClusterGR)) {
      if (object.metadata.annotations?.[pathAnnotation] === nameOrPath) return cluster;
    }
    return undefined;
  }

  /** Workspace path of a hosted logical cluster (`root:org-acme`), for annotations and discovery. */
  clusterPath(cluster: string): string | undefined {
    return this.store.get(cluster, logicalClusterGR, '', 'cluster')?.metadata.annotations?.[pathAnnotation];
  }

  hostedClusters(): string[] {
    return this.store.list('*', logicalClusterGR).map((item) => item.cluster);
  }

  /** A deleted logical cluster takes everything in it along, each removal seen by watchers. */
  dropCluster(cluster: string): void {
    for (const { gr, object } of this.store.clusterContents(cluster)) {
      this.store.remove(cluster, gr, object.metadata.namespace ?? '', object.metadata.name ?? '');
    }
    this.boundTypes.delete(cluster);
  }

  /** A restart keeps the objects and forgets what the controllers derived from them; they derive it again. */
  restart(): void {
    this.store.restartHistory();
    this.boundTypes.clear();
    this.definedTypes.clear();
  }

  /** Stamps the cluster annotation kcp puts on every object it returns. */
  decorate(cluster: string, object: KubeObject): KubeObject {
    if (this.kcp) object.metadata.annotations = { ...object.metadata.annotations, [clusterAnnotation]: cluster };
    return object;
  }
}

export function sameGVR(a: ResourceType, b: ResourceType): boolean {
  return a.group === b.group && a.version === b.version && a.resource === b.resource;
}

export function grOf(type: ResourceType): string {
  return groupResource(type);
}

/** Logical cluster names look like kcp's: 16 lower-case base36 characters. */
export function newClusterName(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(16)].map((b) => alphabet[b % 36]).join('');
}

let second = -1;
let secondText = '';

/** The current time at the second, as Kubernetes timestamps are; formatted once per second, not per call. */
export function now(): string {
  const current = Math.floor(Date.now() / 1000);
  if (current !== second) {
    second = current;
    secondText = new Date(current * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return secondText;
}
