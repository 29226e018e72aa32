// The sync worker: follows the endpoint slice, runs one ResourceSync per published resource against every
// endpoint, resyncs periodically (every key again, and copied-back objects whose origin vanished behind
// our back removed) and cleans up namespaces of workspaces whose binding is gone.
import type { KubeEndpoint } from '../kube/kubeconfig.ts';
import { RestClient } from '../kube/rest-client.ts';
import { followEndpointSlice, type EndpointSliceRef } from './endpoint-slice.ts';
import { EventRecorder } from './events.ts';
import { createSyncMetrics, errorKind, type SyncMetrics } from './metrics.ts';
import type { Reflector } from '../kube/reflector.ts';
import { ResourceSync, type ResourceSyncOptions } from './resource-sync.ts';
import type { PublishedResource } from './types.ts';
import type { Log } from '../log.ts';

export interface SyncWorkerOptions {
  agentName: string;
  resources: readonly PublishedResource[];
  /** Credentials for KCP: the slice is read with them, and each endpoint is reached with the same TLS material. */
  kcp: KubeEndpoint;
  /** The slice to follow; or `endpoints` for a fixed list of virtual-workspace URLs. */
  endpointSlice?: EndpointSliceRef;
  endpoints?: readonly string[];
  service: KubeEndpoint;
  concurrency?: number;
  resyncMs?: number;
  cleanupMs?: number;
  deletionPollMs?: number;
  /** Shortest time between two writes of one aggregated Event (default 10 s). */
  eventIntervalMs?: number;
  /** A key's retry budget (default: 12 attempts, 100 ms doubling to 30 s: about two minutes). */
  retry?: ResourceSyncOptions['retry'];
  metrics?: SyncMetrics;
  log?: Log;
}

export class SyncWorker {
  readonly metrics: SyncMetrics;
  readonly resources: ResourceSync[];
  #options: SyncWorkerOptions;
  #events: EventRecorder;
  #service: RestClient;
  #kcp: RestClient | undefined;
  #clients = new Map<string, RestClient>();
  #slice: Reflector | undefined;
  #sliceSeen = false;
  #timers: NodeJS.Timeout[] = [];
  #endpointsChanging: Promise<void> = Promise.resolve();

  constructor(options: SyncWorkerOptions) {
    this.#options = options;
    this.metrics = options.metrics ?? createSyncMetrics();
    this.#service = new RestClient(options.service, {
      userAgent: `kcp-edge-sync/${options.agentName}`,
      connections: poolSize(options.concurrency) + serviceWatches(options.resources),
      connectTimeoutMs,
    });
    this.#events = new EventRecorder({
      component: `kcp-edge-sync/${options.agentName}`,
      minIntervalMs: options.eventIntervalMs,
      // Not permitted (the binding did not accept the events claim) or a shard away: counted, not retried.
      onError: (err) => this.metrics.eventErrors.inc({ kind: errorKind(err) }),
    });
    this.resources = options.resources.map(
      (resource) =>
        new ResourceSync({
          agent: options.agentName,
          resource,
          service: this.#service,
          metrics: this.metrics,
          concurrency: options.concurrency ?? 16,
          deletionPollMs: options.deletionPollMs,
          events: this.#events,
          retry: options.retry,
          log: options.log,
        }),
    );
  }

  /** Every endpoint's first list is done (and the slice and the copies are known): `/readyz`. */
  get ready(): boolean {
    if (this.#options.endpointSlice !== undefined && !this.#sliceSeen) return false;
    return this.resources.every((r) => r.synced);
  }

  get endpoints(): string[] {
    return [...this.#clients.keys()];
  }

  start(): void {
    for (const r of this.resources) r.start();
    if (this.#options.endpointSlice !== undefined) {
      this.#kcp = new RestClient({ ...this.#options.kcp, server: new URL(this.#options.kcp.server).origin }, { connections: 4 });
      this.#slice = followEndpointSlice(
        this.#kcp,
        this.#options.endpointSlice,
        (urls) => {
          this.#sliceSeen = true;
          this.#setEndpoints(urls);
        },
        (err) => this.metrics.errors.inc({ resource: 'apiexportendpointslices', kind: `watch_${errorKind(err)}` }),
      );
    } else {
      this.#setEndpoints([...(this.#options.endpoints ?? [])]);
    }
    const every = (ms: number, fn: () => Promise<unknown> | void) => {
      const timer = setInterval(() => {
        Promise.resolve(fn()).catch((err: unknown) => this.#options.log?.warn({ error: (err as Error).message }, 'periodic task failed'));
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#options.resyncMs ?? 300_000, () => this.resync());
    every(this.#options.cleanupMs ?? 30_000, () => this.cleanupNamespaces());
  }

  /**
   * The periodic pass: every known key again (what a key that failed for good relies on), and the
   * related objects copied back for consumer objects that vanished behind our back removed. Returns
   * the paths of those.
   */
  async resync(): Promise<string[]> {
    for (const r of this.resources) r.resync();
    const removed: string[] = [];
    for (const r of this.resources) removed.push(...(await r.collectOrphans()));
    return removed;
  }

  async cleanupNamespaces(): Promise<string[]> {
    const removed: string[] = [];
    for (const r of this.resources) removed.push(...(await r.cleanupNamespaces()));
    return removed;
  }

  /** Resolves when no reconcile is queued, running or scheduled. */
  async idle(): Promise<void> {
    await Promise.all(this.resources.map((r) => r.queue.idle()));
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.#slice?.stop();
    await this.#endpointsChanging;
    await Promise.all(this.resources.map((r) => r.stop()));
    await this.#events.stop();
    await Promise.all([...this.#clients.values(), this.#service, ...(this.#kcp ? [this.#kcp] : [])].map((c) => c.close()));
  }

  #setEndpoints(urls: string[]): void {
    this.#endpointsChanging = this.#endpointsChanging.then(async () => {
      const wanted = new Set(urls);
      for (const [url, client] of [...this.#clients]) {
        if (wanted.has(url)) continue;
        this.#options.log?.info({ url }, 'endpoint removed');
        await Promise.all(this.resources.map((r) => r.removeEndpoint(url)));
        this.#clients.delete(url);
        await client.close();
      }
      for (const url of wanted) {
        if (this.#clients.has(url)) continue;
        this.#options.log?.info({ url }, 'endpoint added');
        const client = new RestClient(
          { ...this.#options.kcp, server: url },
          { userAgent: `kcp-edge-sync/${this.#options.agentName}`, connections: poolSize(this.#options.concurrency) + this.#options.resources.length, connectTimeoutMs },
        );
        this.#clients.set(url, client);
        for (const r of this.resources) r.addEndpoint(url, client);
      }
      this.metrics.endpoints.set(this.#clients.size);
    });
  }
}

/**
 * A handshake given up on is work thrown away on both sides, and the retry starts another: on a busy
 * machine a handshake may take longer than undici's 10 s, and then every attempt fails. As long as a
 * request may take.
 */
const connectTimeoutMs = 30_000;

/**
 * Connections to one server (a shard's virtual workspace, the service cluster): a reconcile has one
 * request in flight at a time, and spreads its requests over the servers, so past a few dozen more
 * sockets only mean more TLS handshakes in a burst. Handshakes are what a busy server answers last
 * (they timed out after 10 s in the benchmark on a loaded machine, each failing its reconcile), while a
 * request queued for a connection already open waits one round trip. Watches hold connections of their
 * own on top of these.
 */
function poolSize(concurrency: number | undefined): number {
  return Math.min(Math.max(concurrency ?? 16, 4), 32);
}

/** Watches held open on the service cluster (each holds a connection): the copies, and each kind of related object. */
function serviceWatches(resources: readonly PublishedResource[]): number {
  return resources.reduce((n, r) => n + 1 + new Set(r.related.map((rel) => rel.kind)).size, 0);
}
