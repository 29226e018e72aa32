// The indexer keeps the shared routing table true: for every registered shard it lists and watches
// Workspaces and LogicalClusters across all logical clusters (`/clusters/*/…`), resuming from the last
// resourceVersion and re-listing on 410 Gone, and writes the route each logical cluster should have.
// Routes of a watched shard that no longer stand for anything are removed once that shard is listed.
// With a table generation (Redis), the indexer also answers for the table as a whole: it seeds a
// generation when the table has none, re-registers its shards and rewrites every route when the
// generation changes (Redis lost its data), and marks the generation complete once all is written.
import { RestClient, type KubeObject } from '../kube/rest-client.ts';
import { Reflector } from '../kube/reflector.ts';
import { ShardDiscovery, type RootShard } from './shard-discovery.ts';
import type { RouteStore } from './route-store.ts';
import type { Shard } from './types.ts';
import { clusterOf, WorkspaceIndex } from './workspace-index.ts';
import { LeaseRunner } from './indexer-lease.ts';
import type { RedisRouteStore } from './redis-route-store.ts';
import { redisTableGeneration, type TableGeneration } from './redis-generation.ts';
import { silentLog, type Log } from '../log.ts';

export const WORKSPACES_PATH = '/clusters/*/apis/tenancy.kcp.io/v1alpha1/workspaces';
export const LOGICAL_CLUSTERS_PATH = '/clusters/*/apis/core.kcp.io/v1alpha1/logicalclusters';

export interface IndexerCredentials {
  /** A client certificate the shards accept with list/watch on workspaces and logicalclusters everywhere. */
  certPem: string;
  keyPem: string;
  /** CA for shards whose record names none. */
  caPem?: string;
}

export interface IndexerOptions {
  store: RouteStore;
  credentials: IndexerCredentials;
  /**
   * Where kcp lists its shards (Shard objects in root): they are written to the registry as they come,
   * change and go, and written again on every registry read if the registry lost them.
   */
  rootShard?: RootShard;
  /** How often the shard registry is re-read for added, changed and removed shards; default 5 s. */
  shardRefreshMs?: number;
  /** The table's generation marker; without one (the embedded store) the table is never lost. */
  generation?: TableGeneration;
  /** How long a rebuild waits for unlisted shards before the table serves what is known (partial); default 30 s. */
  rebuildGraceMs?: number;
  log?: Log;
}

interface ShardWatch {
  shard: Shard;
  /** What its client connects with: a watch started with other credentials than the current ones is restarted. */
  credentials: IndexerCredentials;
  client: RestClient;
  reflectors: Reflector[];
  synced: boolean;
}

export class Indexer {
  readonly #options: IndexerOptions;
  readonly #log: Log;
  #credentials: IndexerCredentials;
  readonly #index = new WorkspaceIndex();
  readonly #watches = new Map<string, ShardWatch>();
  readonly #dirty = new Set<string>();
  /** cluster → path of the route this indexer last wrote, to delete it when the cluster goes. */
  readonly #written = new Map<string, string>();
  #draining: Promise<void> | undefined;
  #refreshing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #discovery: ShardDiscovery | undefined;
  #syncWaiters: (() => void)[] = [];
  /** The table generation this indexer writes into, and one it still has to mark complete. */
  #generation: string | undefined;
  #toComplete: string | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #unfollow: (() => void) | undefined;
  /** Writes done (route puts and deletes), for tests and logs. */
  writes = 0;

  constructor(options: IndexerOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLog;
    this.#credentials = options.credentials;
  }

  /**
   * Rotated credentials: every shard's watches restart with them (and re-list, which writes nothing
   * that did not change). A watch keeps its connection's certificate otherwise, and once the old one
   * expires it could never reconnect.
   */
  setCredentials(credentials: IndexerCredentials): void {
    this.#credentials = { ...credentials };
    // A registry read in flight may already have compared; one more after it sees the new credentials.
    void (this.#refreshing ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#refresh())
      .catch((err: unknown) => this.#log.warn({ err: String(err) }, 'indexer: cannot read the shard registry'));
  }

  async start(): Promise<void> {
    const { rootShard } = this.#options;
    if (rootShard !== undefined) {
      this.#discovery = new ShardDiscovery({
        rootShard,
        store: this.#options.store,
        credentials: this.#credentials,
        log: this.#log,
        onChange: () => void this.#refresh().catch((err: unknown) => this.#log.warn({ err: String(err) }, 'indexer: cannot read the shard registry')),
      });
      this.#discovery.start();
      // The first pass should already watch kcp's shards; a root shard that is down holds nothing up for long.
      await this.#discovery.listed(2_000);
    }
    await this.#refresh();
    this.#timer = setInterval(() => this.refreshNow(), this.#options.shardRefreshMs ?? 5_000);
    this.#timer.unref();
    // A reconnect may be to a Redis that lost the table: look at once rather than at the next tick.
    this.#unfollow = this.#options.generation?.onReconnect?.(() => this.refreshNow());
  }

  /** Re-reads the shard registry (and the table's generation) now; failures are logged and retried by the next tick. */
  refreshNow(): void {
    if (this.#stopped) return;
    this.#refresh().catch((err: unknown) => this.#log.warn({ err: String(err) }, 'indexer: cannot read the shard registry'));
  }

  /** Resolves when every shard registered now has been listed and its routes written. */
  async synced(): Promise<void> {
    if (this.#allSynced()) {
      await this.#drain();
      return;
    }
    await new Promise<void>((resolve) => this.#syncWaiters.push(resolve));
    await this.#drain();
  }

  /** Names of the shards being watched now. */
  get watching(): string[] {
    return [...this.#watches.keys()];
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unfollow?.();
    clearTimeout(this.#graceTimer);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#discovery?.stop();
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    await Promise.all(watches.map((w) => this.#stopWatch(w)));
    // A registry read still in flight sees #stopped when it returns and starts nothing.
    await this.#refreshing?.catch(() => undefined);
    await this.#draining;
  }

  #allSynced(): boolean {
    return [...this.#watches.values()].every((w) => w.synced);
  }

  /** One registry read at a time: a tick while one runs joins it instead of racing it. */
  #refresh(): Promise<void> {
    this.#refreshing ??= this.#refreshShards().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refreshShards(): Promise<void> {
    if (this.#stopped) return;
    await this.#followGeneration();
    if (this.#stopped) return;
    await this.#discovery?.write().catch((err: unknown) => this.#log.warn({ err: String(err) }, 'indexer: cannot write discovered shards'));
    const shards = await this.#options.store.listShards();
    if (this.#stopped) return;
    const names = new Set(shards.map((s) => s.name));
    for (const [name, watch] of this.#watches) {
      if (!names.has(name)) {
        this.#log.info({ shard: name }, 'indexer: shard removed from the registry; no longer watched');
        this.#watches.delete(name);
        await this.#stopWatch(watch);
        this.#markDirty(this.#index.forgetShard(name));
        if (this.#stopped) return;
      }
    }
    for (const shard of shards) {
      const existing = this.#watches.get(shard.name);
      if (existing !== undefined && existing.shard.url === shard.url && existing.shard.ca === shard.ca && existing.credentials === this.#credentials) {
        existing.shard = shard;
        continue;
      }
      if (existing !== undefined) await this.#stopWatch(existing);
      if (this.#stopped) return;
      this.#watches.set(shard.name, this.#startWatch(shard));
    }
    await this.#completeGeneration();
  }

  /**
   * Seeds a generation if the table has none. A generation other than the one written into means the
   * table was lost: the shards watched here are registered again (the seed may lack some) and every
   * route this indexer knows is rewritten; the new generation is marked complete once that is done.
   */
  async #followGeneration(): Promise<void> {
    const generation = this.#options.generation;
    if (generation === undefined) return;
    const { id, complete } = await generation.ensure();
    if (id === this.#generation) return;
    const lost = this.#generation !== undefined;
    this.#generation = id;
    this.#toComplete = complete ? undefined : id;
    if (!complete) this.#startGrace(id);
    if (!lost) return;
    const watched = [...this.#watches.values()].map((w) => w.shard);
    this.#log.warn(
      { generation: id, shards: watched.length, routes: this.#index.clusters().length },
      'indexer: the routing table was lost; re-registering shards and rewriting every route',
    );
    const registered = new Set((await this.#options.store.listShards()).map((s) => s.name));
    for (const shard of watched) if (!registered.has(shard.name)) await this.#options.store.putShard(shard);
    this.#written.clear();
    this.#markDirty(this.#index.clusters());
  }

  /**
   * Marks the generation complete once every shard is listed and no route is left to write. Never
   * with no shard at all: an empty table is not a complete one, and would answer 403 for everything.
   */
  async #completeGeneration(): Promise<void> {
    const id = this.#toComplete;
    const generation = this.#options.generation;
    if (id === undefined || generation === undefined || this.#watches.size === 0 || !this.#allSynced()) return;
    await this.#drain();
    if (this.#stopped || this.#toComplete !== id || this.#dirty.size > 0 || !this.#allSynced()) return;
    const completed = await generation.complete(id);
    if (this.#toComplete === id) {
      this.#toComplete = undefined;
      clearTimeout(this.#graceTimer);
    }
    if (completed) this.#log.info({ generation: id, writes: this.writes }, 'indexer: every shard listed and every route written; the routing table is complete');
  }

  #startWatch(shard: Shard): ShardWatch {
    const credentials = this.#credentials;
    const { certPem, keyPem, caPem } = credentials;
    const ca = shard.ca ?? caPem;
    const client = new RestClient({ server: shard.url, certPem, keyPem, ...(ca === undefined ? {} : { caPem: ca }) }, { connections: 4, userAgent: 'kcp-edge-indexer' });
    const watch: ShardWatch = { shard, credentials, client, reflectors: [], synced: false };
    let pending = 2;
    const onSynced = () => {
      if (--pending > 0) return;
      void this.#collectGarbageUntilDone(watch);
    };
    const onError = (err: unknown) => this.#log.warn({ shard: shard.name, err: err instanceof Error ? err.message : String(err) }, 'indexer: watch failed; retrying');
    const keyOf = (o: KubeObject) => `${clusterOf(o) ?? ''}|${o.metadata.name}`;
    watch.reflectors.push(
      new Reflector({
        client,
        path: LOGICAL_CLUSTERS_PATH,
        keyOf,
        onChange: (_key, object, previous) => {
          const o = object ?? previous;
          const cluster = o === undefined ? undefined : clusterOf(o);
          if (cluster !== undefined) this.#markDirty(this.#index.setLogicalCluster(shard.name, cluster, object));
        },
        onSynced,
        onError,
      }),
      new Reflector({
        client,
        path: WORKSPACES_PATH,
        keyOf,
        onChange: (_key, object, previous) => {
          const o = object ?? previous;
          const parent = o === undefined ? undefined : clusterOf(o);
          if (o !== undefined && parent !== undefined) this.#markDirty(this.#index.setWorkspace(shard.name, parent, o, object === undefined));
        },
        onSynced,
        onError,
      }),
    );
    for (const r of watch.reflectors) r.start();
    return watch;
  }

  async #stopWatch(watch: ShardWatch): Promise<void> {
    await Promise.all(watch.reflectors.map((r) => r.stop()));
    await watch.client.close();
  }

  #markDirty(clusters: string[]): void {
    for (const c of clusters) this.#dirty.add(c);
    void this.#drain();
  }

  /** Writes the routes of dirty clusters, one at a time; concurrent callers share the run. */
  #drain(): Promise<void> {
    if (this.#draining !== undefined) return this.#draining;
    const run = async (): Promise<void> => {
      while (this.#dirty.size > 0 && !this.#stopped) {
        const [cluster] = this.#dirty;
        this.#dirty.delete(cluster!);
        try {
          await this.#reconcile(cluster!);
        } catch (err) {
          this.#log.warn({ cluster, err: err instanceof Error ? err.message : String(err) }, 'indexer: cannot write route; retrying');
          this.#dirty.add(cluster!);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };
    // Cleared in a later microtask, so a run that finishes at once never leaves a settled promise behind.
    this.#draining = run().finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  async #reconcile(cluster: string): Promise<void> {
    const current = await this.#options.store.getRoute(cluster);
    const desired = await this.#index.desired(cluster, async (parent) => (await this.#options.store.getRoute(parent))?.path, current?.shard);
    const written = this.#written.get(cluster);
    if (desired === undefined) {
      // Only delete what is known to be this cluster's route.
      const path = current?.cluster === cluster ? current.path : written;
      if (path !== undefined && (current === undefined || current.cluster === cluster)) {
        if (await this.#options.store.deleteRoute(path)) {
          this.writes++;
          this.#log.info({ path, cluster }, 'indexer: route removed');
        }
      }
      this.#written.delete(cluster);
      return;
    }
    // A move holds the route at Moving on its source while it copies (writes paused); kcp shows nothing
    // of it, so the index would say Ready. The mover ends it by flipping the route itself.
    if (current?.phase === 'Moving' && current.shard === desired.shard && desired.phase === 'Ready') desired.phase = 'Moving';
    if (written !== undefined && written !== desired.path) {
      // Same logical cluster under a new path (should not happen in KCP, but never leave the old one).
      await this.#options.store.deleteRoute(written);
    }
    if (current === undefined || current.path !== desired.path || current.shard !== desired.shard || current.phase !== desired.phase || current.cluster !== desired.cluster) {
      await this.#options.store.putRoute(desired);
      this.writes++;
      this.#log.info({ ...desired }, 'indexer: route written');
    }
    this.#written.set(cluster, desired.path);
  }

  /**
   * A shard that cannot be listed (down, unreachable) must not hold every replica unready: once the grace
   * period is over and some shard is listed, the table is marked partial. Tried again each period
   * until it is marked, or the generation is complete or replaced.
   */
  #startGrace(id: string): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => {
      void this.#markPartial(id)
        .catch((err: unknown) => {
          this.#log.warn({ err: String(err) }, 'indexer: cannot mark the routing table partial; retrying');
          return false;
        })
        .then((marked) => {
          if (!marked && !this.#stopped && this.#toComplete === id) this.#startGrace(id);
        });
    }, this.#options.rebuildGraceMs ?? 30_000);
    this.#graceTimer.unref();
  }

  async #markPartial(id: string): Promise<boolean> {
    const generation = this.#options.generation;
    const watches = [...this.#watches.values()];
    if (generation === undefined || !watches.some((w) => w.synced)) return false;
    await this.#drain();
    if (this.#stopped || this.#toComplete !== id) return true;
    if (!(await generation.partial(id))) return true; // replaced: the next registry read follows the new one
    const unlisted = watches.filter((w) => !w.synced).map((w) => w.shard.name);
    this.#log.warn(
      { generation: id, unlisted },
      'indexer: shards not listed within the grace period; the routing table serves what is known, unknown workspaces get 503 until they are',
    );
    return true;
  }

  /** Runs the clean-up after a shard's first list, retrying while Redis fails (it decides when the shard counts as synced). */
  async #collectGarbageUntilDone(watch: ShardWatch): Promise<void> {
    while (!this.#stopped && this.#watches.get(watch.shard.name) === watch) {
      try {
        await this.#drain();
        await this.#collectGarbage(watch);
        return;
      } catch (err) {
        this.#log.warn({ shard: watch.shard.name, err: err instanceof Error ? err.message : String(err) }, 'indexer: cannot clean up stale routes; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** After a shard's first list: its routes that no logical cluster or workspace stands for go. */
  async #collectGarbage(watch: ShardWatch): Promise<void> {
    if (this.#stopped || this.#watches.get(watch.shard.name) !== watch) return;
    const live = new Set(this.#index.clusters());
    const stale: string[] = [];
    for await (const route of this.#options.store.listRoutes({ shard: watch.shard.name })) {
      if (!live.has(route.cluster)) stale.push(route.path);
    }
    for (const path of stale) {
      if (await this.#options.store.deleteRoute(path)) this.writes++;
    }
    if (stale.length > 0) this.#log.info({ shard: watch.shard.name, removed: stale.length }, 'indexer: removed routes of workspaces that no longer exist');
    watch.synced = true;
    this.#log.info({ shard: watch.shard.name }, 'indexer: shard listed; watching');
    // Before waking: whoever waits for synced() (`kcp-edge index --once`) may stop right after. Failing
    // here is retried by the next registry read.
    await this.#completeGeneration().catch((err: unknown) => this.#log.warn({ err: String(err) }, 'indexer: cannot mark the routing table complete; retrying'));
    if (this.#allSynced()) for (const wake of this.#syncWaiters.splice(0)) wake();
  }
}

export interface LeasedIndexer {
  readonly holder: string;
  /** Releases the lease (stopping the indexer when this replica runs it). */
  stop(): Promise<void>;
  /** Rotated credentials, for the indexer running now and any started later. */
  setCredentials(credentials: IndexerCredentials): void;
}

/** Runs an indexer on whichever replica holds the Redis lease (exactly one at a time); stop() releases it. */
export function startLeasedIndexer(store: RedisRouteStore, credentials: IndexerCredentials, log: Log, seedShards: readonly Shard[] = [], rootShard?: RootShard): LeasedIndexer {
  const generation = redisTableGeneration(store.client, store.keys, seedShards);
  let current = credentials;
  let running: Indexer | undefined;
  const lease = new LeaseRunner({
    client: store.client,
    keys: store.keys,
    log,
    async run() {
      const indexer = new Indexer({ store, credentials: current, log, generation, ...(rootShard === undefined ? {} : { rootShard }) });
      running = indexer;
      try {
        await indexer.start();
      } catch (err) {
        if (running === indexer) running = undefined;
        await indexer.stop();
        throw err;
      }
      return {
        async stop() {
          if (running === indexer) running = undefined;
          await indexer.stop();
        },
      };
    },
  });
  lease.start();
  return {
    holder: lease.holder,
    stop: () => lease.stop(),
    setCredentials(next) {
      current = next;
      running?.setCredentials(next);
    },
  };
}
