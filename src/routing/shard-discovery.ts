// Shards as kcp itself lists them: the `core.kcp.io/v1alpha1` Shard objects in the root workspace of the
// root shard (where every kcp shard registers itself, and where kcp's front-proxy finds them). Each one
// becomes a record in the routing table, so a new shard needs no `shards add` and a table that lost its
// data gets its shards back on the next pass. Shards kcp does not list (added by hand) are left alone.
import { Reflector } from '../kube/reflector.ts';
import { RestClient, type KubeObject } from '../kube/rest-client.ts';
import type { Log } from '../log.ts';
import type { RouteStore } from './route-store.ts';
import type { Shard, ShardState } from './types.ts';

export const SHARDS_PATH = '/clusters/root/apis/core.kcp.io/v1alpha1/shards';

/**
 * The label `kcp-edge shards cordon` puts on a Shard object. A label, not only an annotation, because
 * label selectors see it: the stand-in's scheduler leaves such shards out, and with kcp a Workspace or
 * WorkspaceType selector `{key: …, operator: DoesNotExist}` does the same.
 */
export const CORDON_LABEL = 'scheduling.kcp-edge.io/cordoned';

export interface RootShard {
  url: string;
  /** CA of the root shard's serving certificate (and of the shards it lists, unless the indexer's own). */
  caPem?: string;
}

export interface ShardDiscoveryOptions {
  rootShard: RootShard;
  store: RouteStore;
  credentials: { certPem: string; keyPem: string; caPem?: string };
  /** Told after the routing table's shard records changed, so their watches follow at once. */
  onChange(): void;
  log: Log;
}

/** What a Shard object says, as a routing-table record (the state kept from the record when it has one). */
export function shardRecordOf(object: KubeObject, existing: Shard | undefined, caPem: string | undefined): Shard | undefined {
  const name = object.metadata.name;
  const url = (object['spec'] as { baseURL?: unknown } | undefined)?.baseURL;
  if (name === undefined || typeof url !== 'string' || url === '') return undefined;
  const labels = { ...(object.metadata.labels ?? {}) };
  const cordoned = labels[CORDON_LABEL] === 'true';
  // Drain and health own 'draining' and 'down'; the label only says whether new workspaces may come.
  const state: ShardState = existing?.state === 'draining' || existing?.state === 'down' ? existing.state : cordoned ? 'cordoned' : 'active';
  const ca = existing?.ca ?? caPem;
  return { name, url, ...(ca === undefined ? {} : { ca }), state, labels };
}

function sameRecord(a: Shard, b: Shard): boolean {
  return a.url === b.url && a.ca === b.ca && a.state === b.state && JSON.stringify(a.labels) === JSON.stringify(b.labels);
}

export class ShardDiscovery {
  readonly #options: ShardDiscoveryOptions;
  readonly #client: RestClient;
  readonly #reflector: Reflector;
  /** Shards kcp listed and then deleted: removed from the table once no route points at them. */
  readonly #gone = new Set<string>();
  #synced: Promise<void>;
  #writing: Promise<void> | undefined;

  constructor(options: ShardDiscoveryOptions) {
    this.#options = options;
    const { certPem, keyPem } = options.credentials;
    const caPem = options.rootShard.caPem ?? options.credentials.caPem;
    this.#client = new RestClient({ server: options.rootShard.url, certPem, keyPem, ...(caPem === undefined ? {} : { caPem }) }, { connections: 1, userAgent: 'kcp-edge-indexer' });
    let synced: () => void = () => undefined;
    this.#synced = new Promise((resolve) => (synced = resolve));
    this.#reflector = new Reflector({
      client: this.#client,
      path: SHARDS_PATH,
      keyOf: (o) => o.metadata.name ?? '',
      onChange: (key, object) => {
        if (object === undefined) this.#gone.add(key);
        else this.#gone.delete(key);
        if (this.#reflector.synced) this.#changed();
      },
      onSynced: () => {
        synced();
        this.#changed();
      },
      onError: (err) =>
        options.log.warn({ url: options.rootShard.url, err: err instanceof Error ? err.message : String(err) }, "indexer: cannot list the root shard's Shard objects; retrying"),
    });
  }

  start(): void {
    this.#reflector.start();
  }

  /** Resolves once the first list is in, or after `timeoutMs` (a root shard that is down delays nothing else). */
  async listed(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#synced, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    await this.#reflector.stop();
    await this.#writing?.catch(() => undefined);
    await this.#client.close();
  }

  #changed(): void {
    void this.write()
      .then((changed) => (changed ? this.#options.onChange() : undefined))
      .catch((err: unknown) =>
        this.#options.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'indexer: cannot write discovered shards; retrying on the next pass'),
      );
  }

  /**
   * Makes the routing table hold every listed shard as kcp describes it. Idempotent, cheap when nothing
   * changed, and run on every registry pass: that is what brings back the records of a Redis that lost them.
   * Returns whether anything was written.
   */
  write(): Promise<boolean> {
    const run = (this.#writing ?? Promise.resolve()).catch(() => undefined).then(() => this.#write());
    // Only the order is kept here: the caller handles the failure, and an unhandled copy of it would
    // escape as an unhandled rejection (a write refused while Redis restarts).
    this.#writing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #write(): Promise<boolean> {
    if (!this.#reflector.synced) return false;
    const { store, log } = this.#options;
    const existing = new Map((await store.listShards()).map((s) => [s.name, s]));
    let changed = false;
    for (const object of this.#reflector.store.values()) {
      const current = existing.get(object.metadata.name ?? '');
      const record = shardRecordOf(object, current, this.#options.rootShard.caPem);
      if (record === undefined || (current !== undefined && sameRecord(current, record))) continue;
      await store.putShard(record);
      changed = true;
      log.info({ shard: record.name, url: record.url, state: record.state }, current === undefined ? 'indexer: shard discovered' : 'indexer: shard record updated');
    }
    for (const name of this.#gone) {
      if (!existing.has(name)) {
        this.#gone.delete(name);
        continue;
      }
      try {
        await store.removeShard(name);
        this.#gone.delete(name);
        changed = true;
        log.info({ shard: name }, 'indexer: shard deleted in kcp; removed');
      } catch (err) {
        log.warn({ shard: name, err: err instanceof Error ? err.message : String(err) }, 'indexer: shard deleted in kcp still has routes; kept');
      }
    }
    return changed;
  }
}
