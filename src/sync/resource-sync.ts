// Everything for one published resource: a watch per virtual-workspace endpoint (one per shard), a watch
// of the copies on the service cluster, a watch per kind of related object there (connection Secrets
// change without their copy changing), the work queue and its reconciler. It retries what failed against
// a server when that server answers again, and scans each endpoint for copied-back orphans.
import type { BackoffPolicy } from '../kube/backoff.ts';
import type { KubeObject, RestClient } from '../kube/rest-client.ts';
import { originOf } from './copy-object.ts';
import { desiredContent } from './copy-object.ts';
import { jsonEqual } from './merge-patch.ts';
import type { EventRecorder } from './events.ts';
import { errorKind, passesByItself, type SyncMetrics } from './metrics.ts';
import { Namespaces } from './namespaces.ts';
import { collectOrphans } from './orphans.ts';
import { mayBeNamespaceName, objectKey, parseObjectKey } from './naming.ts';
import { Reconciler, type ConsumerEntry } from './reconciler.ts';
import { Reflector } from '../kube/reflector.ts';
import { RelatedIndex } from './related-index.ts';
import { WorkQueue } from './work-queue.ts';
import { syncWatchBackoff } from './watch-backoff.ts';
import { clusterAnnotation, collectionPath, corePath, labels, type PublishedResource, type RelatedResource } from './types.ts';
import type { Log } from '../log.ts';

export interface ResourceSyncOptions {
  agent: string;
  resource: PublishedResource;
  service: RestClient;
  metrics: SyncMetrics;
  concurrency: number;
  deletionPollMs?: number;
  /** Events on consumer objects; none without it. */
  events?: EventRecorder;
  /** The retry budget of a key: how often, and how far apart, before it waits for its server to come back. */
  retry?: { maxAttempts?: number; backoff?: BackoffPolicy };
  log?: Log;
}

interface EndpointWatch {
  client: RestClient;
  reflector: Reflector;
}

export class ResourceSync {
  readonly queue: WorkQueue;
  readonly namespaces: Namespaces;
  #options: ResourceSyncOptions;
  #endpoints = new Map<string, EndpointWatch>();
  /** Orphan scans under way, by endpoint. */
  #orphanScans = new Map<string, Promise<string[]>>();
  #stopping = false;
  /** Which endpoint last reported each key: objects of a workspace live on exactly one shard. */
  #endpointOfKey = new Map<string, string>();
  #copies: Reflector;
  #related: Reflector[];
  #relatedIndex: RelatedIndex;
  #observed = { spec: new Map<string, number>(), status: new Map<string, number>() };
  /**
   * resourceVersion of each consumer object as our last write to it left it. Its watch event is the echo
   * of a state the reconcile that wrote it went on with, so it queues nothing: a new object costs one
   * pass instead of three (its finalizer and its copy each used to wake it again).
   */
  #ownWrites = new Map<string, string>();
  #label: { resource: string };

  constructor(options: ResourceSyncOptions) {
    this.#options = options;
    this.#label = { resource: `${options.resource.resource}.${options.resource.group}` };
    this.namespaces = new Namespaces(options.service, options.agent, options.resource.namespaceSuffix);
    this.#relatedIndex = new RelatedIndex(options.resource.related);
    const reconciler = new Reconciler({
      agent: options.agent,
      resource: options.resource,
      service: options.service,
      namespaces: this.namespaces,
      metrics: options.metrics,
      consumer: (key) => this.#consumer(key),
      cachedCopy: (ns, name) => (this.#copies.synced ? (this.#copies.store.get(`${ns}/${name}`) ?? null) : 'unknown'),
      wroteConsumer: (key, object) => {
        if (object.metadata.resourceVersion !== undefined) this.#ownWrites.set(key, object.metadata.resourceVersion);
      },
      rememberCopy: (copy) => {
        const key = `${copy.metadata.namespace ?? ''}/${copy.metadata.name}`;
        this.#relatedIndex.update(key, copy);
        if (this.#copies.synced) this.#copies.store.set(key, copy);
      },
      takeObservedAt: (key, kind) => {
        const at = this.#observed[kind].get(key);
        this.#observed[kind].delete(key);
        return at;
      },
      deletionPollMs: options.deletionPollMs,
      events: options.events,
      log: options.log,
    });
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      handle: (key) => reconciler.reconcile(key),
      onError: (key, err, attempt, gaveUp) => {
        // A failed pass (a 409 from a cache behind our own write, say) must be woken by that write's
        // echo, not have it skipped: otherwise a key that gave up waits for the next resync.
        this.#ownWrites.delete(key);
        options.metrics.errors.inc({ ...this.#label, kind: errorKind(err) });
        options.log?.[gaveUp ? 'error' : 'warn']({ key, attempt, gaveUp, error: (err as Error).message }, 'reconcile failed');
        // The workspace's owner hears of a failure that passes by itself (a server away, a cache behind a
        // write) only once its retries are used up, and never the address of the server that failed.
        const entry = this.#consumer(key);
        if (entry !== undefined && (gaveUp || !passesByItself(err))) {
          options.events?.record({ client: entry.client, cluster: parseObjectKey(key).cluster, object: entry.object }, 'Warning', 'SyncFailed', failureMessage(err));
        }
      },
      onGivenUpChange: (count) => options.metrics.givenUp.set(this.#label, count),
      maxAttempts: options.retry?.maxAttempts,
      backoff: options.retry?.backoff,
    });
    this.#copies = new Reflector({
      client: options.service,
      path: collectionPath(options.resource),
      labelSelector: `${labels.agent}=${options.agent}`,
      keyOf: (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      onChange: (key, copy, previous) => {
        this.#relatedIndex.update(key, copy);
        const origin = originOf(copy ?? previous ?? ({ metadata: { name: '' } } as KubeObject));
        if (origin === undefined) return;
        if (copy !== undefined && !jsonEqual(copy.status, previous?.status) && !this.#observed.status.has(origin)) {
          this.#observed.status.set(origin, performance.now());
        }
        // The cache already held this very version: one we wrote and remembered (rememberCopy), acted on.
        if (copy !== undefined && copy.metadata.resourceVersion === previous?.metadata.resourceVersion) return;
        this.queue.add(origin);
      },
      onError: (err) => this.#watchError(err),
      backoff: syncWatchBackoff,
      onRecovered: () => this.#retryFailed('service cluster'),
    });
    const kinds = new Set(options.resource.related.map((r) => r.kind));
    this.#related = [...kinds].map((kind) => this.#watchRelated(kind));
  }

  get synced(): boolean {
    if (!this.#copies.synced) return false;
    for (const { reflector } of this.#endpoints.values()) if (!reflector.synced) return false;
    return true;
  }

  /** Logical clusters with at least one consumer object in any cache. */
  activeClusters(): Set<string> {
    const clusters = new Set<string>();
    for (const key of this.#endpointOfKey.keys()) clusters.add(parseObjectKey(key).cluster);
    return clusters;
  }

  start(): void {
    this.#copies.start();
    for (const r of this.#related) r.start();
  }

  addEndpoint(url: string, client: RestClient): void {
    if (this.#endpoints.has(url)) return;
    const reflector = new Reflector({
      client,
      path: `/clusters/*${collectionPath(this.#options.resource)}`,
      labelSelector: this.#options.resource.labelSelector,
      keyOf: (o) => objectKey(o.metadata.annotations?.[clusterAnnotation] ?? '', o.metadata.namespace, o.metadata.name),
      onChange: (key, object, previous) => {
        if (object === undefined) {
          if (this.#endpointOfKey.get(key) === url) this.#endpointOfKey.delete(key);
        } else {
          this.#endpointOfKey.set(key, url);
          if (previous === undefined || !jsonEqual(desiredContent(object), desiredContent(previous))) {
            if (!this.#observed.spec.has(key)) this.#observed.spec.set(key, performance.now());
          }
        }
        this.#options.metrics.objects.set(this.#label, this.#endpointOfKey.size);
        const own = this.#ownWrites.get(key);
        if (own !== undefined) {
          this.#ownWrites.delete(key);
          if (object !== undefined && object.metadata.resourceVersion === own) return;
        }
        this.queue.add(key);
      },
      onError: (err) => this.#watchError(err),
      backoff: syncWatchBackoff,
      onRecovered: () => this.#retryFailed(url, (key) => this.#endpointOfKey.get(key) === url),
      // At start too, not only at the first resync minutes later.
      onSynced: () => void this.#collectOrphansAt(url, client),
    });
    this.#endpoints.set(url, { client, reflector });
    reflector.start();
  }

  /** An endpoint left the slice (shard removed): forget its objects without treating them as deleted. */
  async removeEndpoint(url: string): Promise<void> {
    const watch = this.#endpoints.get(url);
    if (watch === undefined) return;
    this.#endpoints.delete(url);
    await watch.reflector.stop();
    for (const [key, owner] of this.#endpointOfKey) if (owner === url) this.#endpointOfKey.delete(key);
  }

  /** Queues every known key again: what a failed-and-given-up key relies on. */
  resync(): void {
    for (const key of this.#endpointOfKey.keys()) this.queue.add(key);
  }

  /**
   * Deletes copied-back related objects whose consumer object is gone without our finalizer running,
   * on every endpoint whose cache is listed. Returns their paths.
   */
  async collectOrphans(): Promise<string[]> {
    const deleted: string[] = [];
    for (const [url, { client, reflector }] of this.#endpoints) {
      if (reflector.synced) deleted.push(...(await this.#collectOrphansAt(url, client)));
    }
    return deleted;
  }

  // One scan per endpoint at a time (a slow scan must not overlap the next resync's), and none once
  // stop() began: stop() waits for those under way, so no delete goes out after it returned.
  #collectOrphansAt(url: string, client: RestClient): Promise<string[]> {
    if (this.#stopping || this.#options.resource.related.length === 0 || this.#orphanScans.has(url)) return Promise.resolve([]);
    const scan = this.#scanOrphans(url, client).finally(() => this.#orphanScans.delete(url));
    this.#orphanScans.set(url, scan);
    return scan;
  }

  async #scanOrphans(url: string, client: RestClient): Promise<string[]> {
    try {
      const deleted = await collectOrphans({ agent: this.#options.agent, resource: this.#options.resource, client, known: (key) => this.#endpointOfKey.has(key) });
      for (const path of deleted) this.#options.log?.info({ endpoint: url, path }, 'deleted a related object whose consumer object is gone');
      if (deleted.length > 0) this.#options.metrics.synced.inc({ ...this.#label, operation: 'orphan-delete' }, deleted.length);
      return deleted;
    } catch (err) {
      // One endpoint down does not stop the others; the next resync scans it again.
      this.#options.metrics.errors.inc({ ...this.#label, kind: `orphans_${errorKind(err)}` });
      this.#options.log?.warn({ endpoint: url, error: (err as Error).message }, 'scan for orphaned related objects failed');
      return [];
    }
  }

  /** Removes namespaces of clusters whose binding is gone. */
  async cleanupNamespaces(): Promise<string[]> {
    if (!this.synced) return [];
    const removed = await this.namespaces.cleanup(this.activeClusters(), (cluster) => this.#probeBinding(cluster));
    if (removed.length > 0) this.#options.metrics.synced.inc({ ...this.#label, operation: 'namespace-cleanup' }, removed.length);
    return removed;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.queue.stop();
    await Promise.all([this.#copies.stop(), ...this.#related.map((r) => r.stop()), ...[...this.#endpoints.values()].map((w) => w.reflector.stop())]);
    await Promise.all(this.#orphanScans.values());
  }

  /**
   * Secrets (or ConfigMaps) are Crossplane's, not labelled by us, and Kubernetes cannot select objects by
   * their namespace's labels: so one cluster-wide watch, keeping only the metadata of those in namespaces
   * named like ours, and waking the consumer objects whose copies name the one that changed.
   */
  #watchRelated(kind: RelatedResource['kind']): Reflector {
    const suffix = this.#options.resource.namespaceSuffix;
    return new Reflector({
      client: this.#options.service,
      path: corePath(kind, undefined),
      keyOf: (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      transform: ({ metadata: { name, namespace, uid, resourceVersion } }) =>
        namespace !== undefined && mayBeNamespaceName(namespace, suffix) ? { metadata: { name, namespace, uid, resourceVersion } } : undefined,
      onChange: (_key, object, previous) => {
        const meta = (object ?? previous)?.metadata;
        if (meta === undefined) return;
        for (const origin of this.#relatedIndex.owners(kind, meta.namespace ?? '', meta.name)) this.queue.add(origin);
      },
      onError: (err) => this.#watchError(err),
      backoff: syncWatchBackoff,
      onRecovered: () => this.#retryFailed('service cluster'),
    });
  }

  #consumer(key: string): ConsumerEntry | undefined {
    const url = this.#endpointOfKey.get(key);
    const watch = url === undefined ? undefined : this.#endpoints.get(url);
    const object = watch?.reflector.store.get(key);
    return watch === undefined || object === undefined ? undefined : { object, client: watch.client };
  }

  /** Is the export still bound in this cluster? Only every endpoint saying "no such thing here" counts as no. */
  async #probeBinding(cluster: string): Promise<'bound' | 'unbound' | 'unknown'> {
    if (this.#endpoints.size === 0) return 'unknown';
    for (const { client } of this.#endpoints.values()) {
      try {
        await client.list(`/clusters/${cluster}${collectionPath(this.#options.resource)}`, { limit: 1 });
        return 'bound';
      } catch (err) {
        const kind = errorKind(err);
        if (kind !== 'not_found' && kind !== 'forbidden') return 'unknown';
      }
    }
    return 'unbound';
  }

  /**
   * A server answers again after an outage: keys that failed against it (perhaps given up, after an
   * outage longer than their retry budget) run now, so convergence follows the recovery rather than the
   * resync timer. Every key touches the service cluster; a shard only holds the keys seen on it.
   */
  #retryFailed(server: string, filter?: (key: string) => boolean): void {
    const keys = this.queue.retryFailed(filter);
    if (keys > 0) this.#options.log?.info({ server, keys }, 'server answers again: retrying failed keys');
  }

  #watchError(err: unknown): void {
    this.#options.metrics.errors.inc({ ...this.#label, kind: `watch_${errorKind(err)}` });
    this.#options.log?.warn({ error: (err as Error).message }, 'watch failed');
  }
}

/** What a consumer object's Event says of a failure: an API answer or our own finding as it is; a connection failure by its code alone. */
function failureMessage(err: unknown): string {
  if (errorKind(err) !== 'unavailable') return (err as Error).message;
  const code = (err as { code?: unknown }).code;
  return `a server this object is synced through did not answer (${typeof code === 'string' ? code : 'unavailable'}); the sync runs again when it does`;
}
