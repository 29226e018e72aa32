// In-memory storage for one shard: logical cluster → kind → namespace/name → object, with one global
// resourceVersion counter so lists and watches across clusters (`/clusters/*`) order correctly.
import { WatchHub, type EventType } from './watch-hub.ts';
import type { KubeObject } from './types.ts';

export interface StoredItem {
  cluster: string;
  object: KubeObject;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class ObjectStore {
  #rv = 0;
  readonly #data = new Map<string, Map<string, Map<string, KubeObject>>>();
  /** Writes so far per kind: lets derived views (who is bound to what) be cached until their kind changes. */
  readonly #writes = new Map<string, number>();
  readonly hub: WatchHub;

  constructor(historySize: number) {
    this.hub = new WatchHub(historySize);
  }

  currentRV(): number {
    return this.#rv;
  }

  get(cluster: string, gr: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.#data.get(cluster)?.get(gr)?.get(key(namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Read-only view of one stored object (no copy): for checks on every request, which must not change it. */
  peek(cluster: string, gr: string, namespace: string, name: string): Readonly<KubeObject> | undefined {
    return this.#data.get(cluster)?.get(gr)?.get(key(namespace, name));
  }

  /** A counter that moves whenever an object of the kind is written or removed. */
  generation(gr: string): number {
    return this.#writes.get(gr) ?? 0;
  }

  /**
   * Objects of one kind in every cluster, unsorted and not copied: for derived views computed on every
   * request or watch event, which must only read them.
   */
  *scan(gr: string): Generator<{ cluster: string; object: Readonly<KubeObject> }> {
    for (const [cluster, kinds] of this.#data) for (const object of kinds.get(gr)?.values() ?? []) yield { cluster, object };
  }

  /** Objects of one kind, sorted by namespace then name; cluster `*` means every cluster. */
  list(cluster: string, gr: string, namespace?: string): StoredItem[] {
    const clusters = cluster === '*' ? [...this.#data.keys()].sort() : [cluster];
    const items: StoredItem[] = [];
    for (const c of clusters) {
      const kinds = this.#data.get(c)?.get(gr);
      if (kinds === undefined) continue;
      const keys = [...kinds.keys()].sort();
      for (const k of keys) {
        const object = kinds.get(k);
        if (object === undefined) continue;
        if (namespace !== undefined && namespace !== '' && object.metadata.namespace !== namespace) continue;
        items.push({ cluster: c, object: structuredClone(object) });
      }
    }
    return items;
  }

  /**
   * The stored objects of one kind in one cluster, unsorted and not copied: for readers on every
   * request (the authorizer) that must not pay a deep copy per object, and must never modify them.
   */
  peekAll(cluster: string, gr: string, namespace?: string): readonly Readonly<KubeObject>[] {
    const kinds = this.#data.get(cluster)?.get(gr);
    if (kinds === undefined) return [];
    const all = [...kinds.values()];
    return namespace === undefined || namespace === '' ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** Every object of one logical cluster, with its kind key. */
  clusterContents(cluster: string): Array<{ gr: string; object: KubeObject }> {
    const out: Array<{ gr: string; object: KubeObject }> = [];
    for (const [gr, objects] of this.#data.get(cluster) ?? []) for (const object of objects.values()) out.push({ gr, object: structuredClone(object) });
    return out;
  }

  hasCluster(cluster: string): boolean {
    return this.#data.has(cluster);
  }

  /** The objects and the resourceVersion counter stay (they are etcd's); the watch history does not. */
  restartHistory(): void {
    this.hub.restartAt(this.#rv);
  }

  /**
   * Writes an object, stamping the next resourceVersion, and tells every watcher. The store keeps the
   * object given (callers hand over one they built or copied) and returns a copy of it, or with
   * `copy: false` the stored object itself, for a caller that only reads it (serialises it into an answer).
   */
  put(cluster: string, gr: string, object: KubeObject, { copy = true }: { copy?: boolean } = {}): KubeObject {
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name ?? '';
    let kinds = this.#data.get(cluster);
    if (kinds === undefined) this.#data.set(cluster, (kinds = new Map()));
    let objects = kinds.get(gr);
    if (objects === undefined) kinds.set(gr, (objects = new Map()));
    const previous = objects.get(key(namespace, name));
    const rv = ++this.#rv;
    this.#writes.set(gr, this.generation(gr) + 1);
    const stored = object;
    stored.metadata.resourceVersion = String(rv);
    objects.set(key(namespace, name), stored);
    const type: EventType = previous === undefined ? 'ADDED' : 'MODIFIED';
    this.hub.publish({ type, rv, cluster, gr, namespace, object: stored, ...(previous !== undefined ? { previous } : {}) });
    return copy ? structuredClone(stored) : stored;
  }

  remove(cluster: string, gr: string, namespace: string, name: string): KubeObject | undefined {
    const objects = this.#data.get(cluster)?.get(gr);
    const previous = objects?.get(key(namespace, name));
    if (objects === undefined || previous === undefined) return undefined;
    objects.delete(key(namespace, name));
    const rv = ++this.#rv;
    this.#writes.set(gr, this.generation(gr) + 1);
    const gone = structuredClone(previous);
    gone.metadata.resourceVersion = String(rv);
    this.hub.publish({ type: 'DELETED', rv, cluster, gr, namespace, object: gone });
    return structuredClone(gone);
  }
}
