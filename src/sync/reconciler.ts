// One pass over one consumer object: the sync algorithm. Every step reads the world as it is and moves it
// one step closer to the goal, so a pass interrupted anywhere (kill -9) is simply run again:
//
//   deleting? → delete the copy, wait until the service cluster really removed it, delete what we copied
//               back for it (related objects), drop only our finalizer
//   else      → our finalizer first (no copy may exist that the consumer could orphan)
//             → the workspace namespace → the copy (create, or three-way patch of what we own)
//             → the copy's status back (a merge patch on /status) → related objects back
import { isConflict, isNotFound, type KubeObject, type RestClient } from '../kube/rest-client.ts';
import { buildCopy, desiredContent, lastApplied, originAnnotations, originOf, type Origin } from './copy-object.ts';
import { failureReason, nextCondition, ownCondition, sameCondition, withCondition } from './copy-condition.ts';
import type { EventRecorder, EventTarget } from './events.ts';
import { jsonEqual, mergeDiff, threeWayPatch, type Json } from './merge-patch.ts';
import { passesByItself, SyncError, type SyncMetrics, type SyncOperation } from './metrics.ts';
import { copyName, parseObjectKey } from './naming.ts';
import type { Namespaces } from './namespaces.ts';
import { deleteRelated, relatedNamespace, syncRelated } from './related.ts';
import type { HandlerResult } from './work-queue.ts';
import { annotations, collectionPath, finalizerName, objectPath, resourceId, type PublishedResource } from './types.ts';
import type { Log } from '../log.ts';

export interface ConsumerEntry {
  object: KubeObject;
  /** Client of the virtual-workspace endpoint the object was seen on. */
  client: RestClient;
}

export interface ReconcilerDeps {
  agent: string;
  resource: PublishedResource;
  service: RestClient;
  namespaces: Namespaces;
  metrics: SyncMetrics;
  /** The latest consumer object for a key, from the watch caches. */
  consumer(key: string): ConsumerEntry | undefined;
  /** The copy as the service-cluster watch last saw it; `unknown` until that watch has listed. */
  cachedCopy(namespace: string, name: string): KubeObject | null | 'unknown';
  /** Records a copy we just wrote, so the next pass does not act on a cache that has not seen it yet. */
  rememberCopy(copy: KubeObject): void;
  /** Records a consumer object as our write left it: its watch event is the echo of what this pass already acted on. */
  wroteConsumer?(key: string, object: KubeObject): void;
  /** When the change being reconciled was first observed (for lag metrics); cleared after a write. */
  takeObservedAt(key: string, kind: 'spec' | 'status'): number | undefined;
  /** How long to wait before looking again at a copy that is being deleted. */
  deletionPollMs?: number;
  /** Events on consumer objects: copied, updated, waiting for the copy's deletion. */
  events?: EventRecorder;
  log?: Log;
}

export class Reconciler {
  #deps: ReconcilerDeps;
  #finalizer: string;
  #labels: { resource: string };

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#finalizer = finalizerName(deps.agent);
    this.#labels = { resource: resourceId(deps.resource) };
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const entry = this.#deps.consumer(key);
    if (entry === undefined) return this.#gone(key);
    const { client } = entry;
    let object = entry.object;
    const { cluster } = parseObjectKey(key);
    const origin: Origin = { key, cluster, namespace: object.metadata.namespace ?? '', name: object.metadata.name };
    const consumerPath = `/clusters/${cluster}` + objectPath(this.#deps.resource, object.metadata.namespace, object.metadata.name);

    if (object.metadata.deletionTimestamp !== undefined) return this.#delete(origin, object, client, consumerPath);

    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(this.#finalizer)) {
      // resourceVersion makes this a compare-and-swap: another agent's finalizer is never dropped.
      object = await client.patch(consumerPath, { metadata: { finalizers: [...finalizers, this.#finalizer], resourceVersion: object.metadata.resourceVersion } });
      this.#deps.wroteConsumer?.(key, object);
      this.#count('finalizer');
    }

    let namespace: string;
    let copy: KubeObject;
    try {
      namespace = await this.#deps.namespaces.ensure(cluster, client);
      copy = await this.#ensureCopy(key, { client, cluster, object }, origin, namespace);
    } catch (err) {
      await this.#copyFailed({ client, cluster, object }, consumerPath, err);
      throw err;
    }
    const copyPath = objectPath(this.#deps.resource, namespace, copy.metadata.name);

    if (copy.metadata.deletionTimestamp === undefined) copy = await this.#syncSpec(key, object, copy, copyPath, { client, cluster, object });

    await this.#syncStatus(key, object, copy, consumerPath);

    if (this.#deps.resource.related.length > 0) {
      this.#reportUnplaceable(key, origin.namespace);
      const written = await syncRelated(
        {
          agent: this.#deps.agent,
          service: this.#deps.service,
          consumer: client,
          cluster,
          serviceNamespace: namespace,
          consumerNamespace: origin.namespace,
          originKey: key,
          originResource: this.#labels.resource,
        },
        copy,
        this.#deps.resource.related,
      );
      if (written > 0) this.#count('related', written);
    }
    return undefined;
  }

  /** The copy in `namespace`, created if there is none; one that belongs to another object is an error. */
  async #ensureCopy(key: string, target: EventTarget, origin: Origin, namespace: string): Promise<KubeObject> {
    const { object } = target;
    const name = copyName(object.metadata.namespace, object.metadata.name);
    const copyPath = objectPath(this.#deps.resource, namespace, name);
    let copy = await this.#readCopy(namespace, name, copyPath);
    if (copy === null) {
      try {
        copy = await this.#deps.service.create(
          collectionPath(this.#deps.resource, namespace),
          buildCopy(object, origin, { namespace, name }, this.#deps.agent, this.#deps.resource.namespaceSuffix),
        );
        this.#deps.rememberCopy(copy);
        this.#count('create');
        this.#observeLag(key, 'spec');
        this.#deps.events?.record(target, 'Normal', 'Synced', `Copied to the service cluster as ${namespace}/${name}`);
      } catch (err) {
        if (isNotFound(err)) this.#deps.namespaces.forget(origin.cluster); // the namespace went away under us
        if (!isConflict(err)) throw err;
        copy = await this.#deps.service.get(copyPath); // our own earlier pass (or a crashed one) made it
      }
    }
    if (originOf(copy) !== key) {
      throw new SyncError('copy_owned_elsewhere', `${copyPath} on the service cluster belongs to ${originOf(copy) ?? 'nobody we know'}, not ${key}`);
    }
    return copy;
  }

  /**
   * The copy could not be made: the consumer object says so in its condition, unless the failure is one
   * that passes by itself (a server briefly away), which the retry will outlast without anybody having
   * to look. Writing the condition may fail too (the shard is what is away): the retry tries again.
   */
  async #copyFailed(target: EventTarget, consumerPath: string, err: unknown): Promise<void> {
    if (passesByItself(err)) return;
    const current = ownCondition(target.object);
    const wanted = nextCondition(current, 'False', failureReason(err), (err as Error).message);
    if (sameCondition(current, wanted)) return;
    try {
      await target.client.patch(`${consumerPath}/status`, {
        status: { conditions: withCondition(target.object.status as { [k: string]: Json } | undefined, wanted).conditions ?? null },
      });
    } catch (patchErr) {
      this.#deps.log?.warn({ path: consumerPath, error: (patchErr as Error).message }, 'could not set the condition on the consumer object');
    }
  }

  /**
   * A cluster-scoped object has no namespace for its related objects unless the rule names one. That is
   * a config problem no retry fixes: the object itself still syncs, and every pass says what is missing.
   */
  #reportUnplaceable(key: string, consumerNamespace: string): void {
    const missing = this.#deps.resource.related.filter((rule) => relatedNamespace(rule, consumerNamespace) === undefined);
    if (missing.length === 0) return;
    this.#deps.metrics.errors.inc({ ...this.#labels, kind: 'related_needs_namespace' }, missing.length);
    this.#deps.log?.warn(
      { key, related: missing.map((r) => `${r.kind} from ${r.nameFrom}`) },
      'related objects not synced: the object is cluster-scoped and the rule names no namespace',
    );
  }

  async #syncSpec(key: string, object: KubeObject, copy: KubeObject, copyPath: string, target: EventTarget): Promise<KubeObject> {
    const desired = desiredContent(object);
    const last = lastApplied(copy);
    const contentPatch = threeWayPatch(last, desired, ownedContent(copy, last, desired));
    const wantedAnnotations = { ...originAnnotations(this.#origin(key, object)), [annotations.lastApplied]: JSON.stringify(desired) };
    const annotationPatch = mergeDiff(pick(copy.metadata.annotations ?? {}, Object.keys(wantedAnnotations)), wantedAnnotations);
    if (contentPatch === undefined && annotationPatch === undefined) return copy;
    const patch: { [k: string]: Json } = { ...((contentPatch as { [k: string]: Json } | undefined) ?? {}) };
    if (annotationPatch !== undefined) patch.metadata = { annotations: annotationPatch };
    const updated = await this.#deps.service.patch(copyPath, patch);
    this.#deps.rememberCopy(updated);
    if (contentPatch !== undefined) {
      this.#count('update');
      this.#observeLag(key, 'spec');
      this.#deps.events?.record(target, 'Normal', 'Synced', `Updated the copy ${copy.metadata.namespace ?? ''}/${copy.metadata.name} on the service cluster`);
    }
    return updated;
  }

  /**
   * The copy's status, brought back; our own condition is kept alongside the provider's conditions, and
   * turned True if it said the copy could not be made.
   */
  async #syncStatus(key: string, object: KubeObject, copy: KubeObject, consumerPath: string): Promise<void> {
    const own = ownCondition(object);
    const wantedOwn =
      own === undefined || own.status === 'True'
        ? own
        : nextCondition(own, 'True', 'Copied', `Copied to the service cluster as ${copy.metadata.namespace ?? ''}/${copy.metadata.name}`);
    if (copy.status === undefined && wantedOwn === own) return;
    const wanted = withCondition((copy.status ?? object.status) as { [k: string]: Json } | undefined, wantedOwn);
    const diff = mergeDiff(object.status as Json | undefined, wanted);
    if (diff === undefined) return;
    const written = await this.#deps.consumer(key)?.client.patch(`${consumerPath}/status`, { status: diff });
    // Unlike the finalizer's, this write is not a compare-and-swap: it lands on whatever the object is
    // now. Only when nothing this pass acts on moved meanwhile is its result an echo of this pass; a
    // deletion or spec change that arrived between our read and our write must wake the key.
    if (written !== undefined && sameIntent(object, written)) this.#deps.wroteConsumer?.(key, written);
    this.#count('status');
    this.#observeLag(key, 'status');
  }

  async #delete(origin: Origin, object: KubeObject, client: RestClient, consumerPath: string): Promise<HandlerResult> {
    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(this.#finalizer)) return undefined; // never ours, or already released
    const namespace = await this.#deps.namespaces.existing(origin.cluster);
    const copyPath = namespace === undefined ? undefined : objectPath(this.#deps.resource, namespace, copyName(object.metadata.namespace, object.metadata.name));
    // Ask the service cluster itself, not the cache: releasing too early orphans the copy.
    const copy = copyPath === undefined ? null : await this.#deps.service.getOrNull(copyPath);
    if (copy !== null && copyPath !== undefined && originOf(copy) === origin.key) {
      if (copy.metadata.deletionTimestamp === undefined) {
        await this.#deleteCopy(copyPath, copy);
        this.#count('delete');
      }
      // Its own finalizers (Crossplane's) may hold it; the service watch wakes us when it is gone.
      this.#deps.events?.record(
        { client, cluster: origin.cluster, object },
        'Normal',
        'WaitingForDeletion',
        `Waiting for the service cluster to remove the copy ${copy.metadata.namespace ?? ''}/${copy.metadata.name}`,
      );
      return { requeueAfterMs: this.#deps.deletionPollMs ?? 2_000 };
    }
    if (this.#deps.resource.related.length > 0) {
      const deleted = await deleteRelated(
        { agent: this.#deps.agent, consumer: client, cluster: origin.cluster, consumerNamespace: origin.namespace, originKey: origin.key, originResource: this.#labels.resource },
        this.#deps.resource.related,
      );
      if (deleted > 0) this.#count('related-delete', deleted);
    }
    try {
      await client.patch(consumerPath, {
        metadata: { finalizers: finalizers.filter((f) => f !== this.#finalizer), resourceVersion: object.metadata.resourceVersion },
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err; // 409: another agent changed the list; retry on the fresh object
    }
    this.#count('release');
    return undefined;
  }

  /** The consumer object is gone from every cache: a copy left behind is an orphan. */
  async #gone(key: string): Promise<HandlerResult> {
    const origin = parseObjectKey(key);
    const namespace = await this.#deps.namespaces.existing(origin.cluster);
    if (namespace === undefined) return undefined;
    const copyPath = objectPath(this.#deps.resource, namespace, copyName(origin.namespace, origin.name));
    const copy = await this.#deps.service.getOrNull(copyPath);
    if (copy !== null && originOf(copy) === key && copy.metadata.deletionTimestamp === undefined) {
      await this.#deleteCopy(copyPath, copy);
      this.#count('delete');
    }
    return undefined;
  }

  async #deleteCopy(copyPath: string, copy: KubeObject): Promise<void> {
    try {
      await this.#deps.service.delete(copyPath, { propagationPolicy: 'Background', preconditions: { uid: copy.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #readCopy(namespace: string, name: string, path: string): Promise<KubeObject | null> {
    const cached = this.#deps.cachedCopy(namespace, name);
    if (cached !== 'unknown') return cached;
    return this.#deps.service.getOrNull(path);
  }

  #origin(key: string, object: KubeObject): Origin {
    return { key, cluster: parseObjectKey(key).cluster, namespace: object.metadata.namespace ?? '', name: object.metadata.name };
  }

  #observeLag(key: string, kind: 'spec' | 'status'): void {
    const at = this.#deps.takeObservedAt(key, kind);
    if (at === undefined) return;
    (kind === 'spec' ? this.#deps.metrics.specLag : this.#deps.metrics.statusLag).observe(this.#labels, (performance.now() - at) / 1000);
  }

  #count(operation: SyncOperation, n = 1): void {
    this.#deps.metrics.synced.inc({ ...this.#labels, operation }, n);
  }
}

/** Whether two versions of a consumer object ask the same of a pass: one deleted or changed in spec does not. */
function sameIntent(a: KubeObject, b: KubeObject): boolean {
  return a.metadata.deletionTimestamp === b.metadata.deletionTimestamp && jsonEqual(desiredContent(a), desiredContent(b));
}

function pick(map: Record<string, string>, keys: string[]): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const k of keys) if (map[k] !== undefined) out[k] = map[k];
  return out;
}

/** The live copy's content restricted to keys we set now or set last time; others' fields stay out of the diff. */
function ownedContent(copy: KubeObject, last: Json | undefined, desired: { [k: string]: Json }): { [k: string]: Json } {
  const keys = new Set([...Object.keys(desired), ...(last !== null && typeof last === 'object' && !Array.isArray(last) ? Object.keys(last) : [])]);
  const out: { [k: string]: Json } = {};
  for (const k of keys) if (copy[k] !== undefined) out[k] = copy[k] as Json;
  return out;
}
