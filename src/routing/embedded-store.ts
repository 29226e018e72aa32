// The routing table of a single-node install: a YAML file (see embedded-file.ts) held in memory and
// reloaded when it changes. A reload builds a whole new index and swaps it in one assignment, so a
// lookup sees either the old table or the new one, never a mix; a broken edit keeps the old table.
import { watchConfig, type Config, type ConfigWatcher } from '../config/index.ts';
import type { Log } from '../log.ts';
import { canonicalWorkspacePath, routingFileKind, type RoutingFile } from './embedded-file.ts';
import type { Resolution, Route, RoutingTable, Shard } from './types.ts';

interface Index {
  revision: number;
  shards: ReadonlyMap<string, Shard>;
  byPath: ReadonlyMap<string, Resolution>;
  byCluster: ReadonlyMap<string, Resolution>;
}

function buildIndex(file: Config<RoutingFile>, revision: number): Index {
  const shards = new Map<string, Shard>(file.shards.map((s) => [s.name, Object.freeze({ ...s, labels: Object.freeze({ ...s.labels }) })]));
  const byPath = new Map<string, Resolution>();
  const byCluster = new Map<string, Resolution>();
  for (const r of file.routes) {
    const shard = shards.get(r.shard);
    if (shard === undefined) continue; // the file's validation already refused this
    const route: Route = Object.freeze({ ...r, rev: revision });
    const resolution: Resolution = Object.freeze({ route, shard });
    byPath.set(route.path, resolution);
    byCluster.set(route.cluster, resolution);
  }
  return { revision, shards, byPath, byCluster };
}

export interface EmbeddedStoreOptions {
  log?: Log;
  /** Quiet time after an edit before the file is re-read. */
  debounceMs?: number;
  /** Told after each applied reload (tests, metrics). */
  onReload?: (revision: number) => void;
  /** Told about each rejected edit; the previous table keeps serving. */
  onRejected?: (error: Error) => void;
}

export class EmbeddedRoutingTable implements RoutingTable {
  #index: Index;
  readonly #watcher: ConfigWatcher<RoutingFile>;

  private constructor(watcher: ConfigWatcher<RoutingFile>) {
    this.#watcher = watcher;
    this.#index = buildIndex(watcher.current, 1);
  }

  /** Loads the file (throwing a ConfigError that lists every problem) and follows its changes. */
  static async open(file: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedRoutingTable> {
    let table: EmbeddedRoutingTable | undefined;
    const watcher = await watchConfig(routingFileKind, file, {
      debounceMs: options.debounceMs ?? 100,
      ...(options.log === undefined ? {} : { log: options.log }),
      onChange: (next) => {
        if (table === undefined) return;
        table.#index = buildIndex(next, table.#index.revision + 1);
        options.onReload?.(table.#index.revision);
      },
      ...(options.onRejected === undefined ? {} : { onRejected: options.onRejected }),
    });
    table = new EmbeddedRoutingTable(watcher);
    return table;
  }

  /** Increases by one with every applied reload; starts at 1. */
  get revision(): number {
    return this.#index.revision;
  }

  async resolve(pathOrCluster: string): Promise<Resolution | undefined> {
    return this.held(pathOrCluster);
  }

  held(pathOrCluster: string): Resolution | undefined {
    const index = this.#index;
    // A name with a colon (or `root` itself) is a path; a bare name is a logical cluster first, as in
    // kcp, and otherwise a top-level workspace under root.
    if (pathOrCluster === 'root' || pathOrCluster.includes(':')) return index.byPath.get(canonicalWorkspacePath(pathOrCluster));
    return index.byCluster.get(pathOrCluster) ?? index.byPath.get(canonicalWorkspacePath(pathOrCluster));
  }

  async getShard(name: string): Promise<Shard | undefined> {
    return this.#index.shards.get(name);
  }

  async listShards(): Promise<Shard[]> {
    return [...this.#index.shards.values()];
  }

  async countRoutesByShard(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const { route } of this.#index.byPath.values()) counts[route.shard] = (counts[route.shard] ?? 0) + 1;
    return counts;
  }

  ready(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.#watcher.close();
  }
}
