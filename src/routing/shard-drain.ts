// Empties a shard: marks it draining (no new workspaces; the caller cordons it in kcp too) and moves
// every workspace on it to the other active shards, a wave at a time. Deepest workspaces go first, and a
// wave holds one depth only: a child's cutover writes its Workspace object into its parent's logical
// cluster, which must not be in the middle of its own copy then. Every move keeps its phase in the
// routing table, so re-running a drain that stopped resumes the moves it left and carries on.
import { MoveRecords, type MoveRecord } from './move-record.ts';
import type { RedisRouteStore } from './redis-route-store.ts';
import { moveWorkspace, type MoveCredentials } from './workspace-move.ts';

export interface DrainEvent {
  path: string;
  from: string;
  to: string;
  outcome: 'moved' | 'failed';
  error?: string;
  copied?: number;
  done: number;
  total: number;
}

export interface DrainOptions {
  store: RedisRouteStore;
  credentials: MoveCredentials;
  shard: string;
  /** Moves at once within a wave; default 4. */
  parallel?: number;
  onEvent?(event: DrainEvent): void;
}

export interface DrainResult {
  moved: number;
  failed: number;
  /** Workspaces left on the shard that no move can take (the root workspace). */
  kept: string[];
}

const depth = (path: string) => path.split(':').length;

export async function drainShard(options: DrainOptions): Promise<DrainResult> {
  const { store, shard } = options;
  const parallel = Math.max(1, options.parallel ?? 4);
  const records = new MoveRecords(store.client, store.keys);
  await store.setShardState(shard, 'draining');

  const targets = (await store.listShards()).filter((s) => s.name !== shard && s.state === 'active').map((s) => s.name);
  const load = await store.countRoutesByShard();
  const unfinished = new Map<string, MoveRecord>();
  for (const r of await records.list()) if (r.from === shard && (r.phase === 'copying' || r.phase === 'cutover')) unfinished.set(r.path, r);

  const paths = new Set<string>(unfinished.keys());
  const kept: string[] = [];
  for await (const route of store.listRoutes({ shard })) {
    if (route.path === 'root')
      kept.push(route.path); // root is where kcp starts; it does not move
    else paths.add(route.path);
  }
  if (paths.size > 0 && targets.length === 0 && unfinished.size < paths.size) throw new Error(`no active shard to move ${paths.size} workspace(s) to`);

  /** The least loaded active shard; each assignment counts, so one wave spreads. */
  const pickTarget = (): string => {
    const name = [...targets].sort((x, y) => (load[x] ?? 0) - (load[y] ?? 0) || x.localeCompare(y))[0]!;
    load[name] = (load[name] ?? 0) + 1;
    return name;
  };

  const waves = new Map<number, string[]>();
  for (const p of paths) waves.set(depth(p), [...(waves.get(depth(p)) ?? []), p]);
  const total = paths.size;
  let done = 0;
  const result: DrainResult = { moved: 0, failed: 0, kept };
  for (const d of [...waves.keys()].sort((x, y) => y - x)) {
    const queue = [...waves.get(d)!].sort();
    const worker = async () => {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
        const resuming = unfinished.get(path);
        const to = resuming?.to ?? pickTarget();
        try {
          const record = await moveWorkspace({ store, credentials: options.credentials, path, ...(resuming === undefined ? { to } : {}) });
          result.moved++;
          options.onEvent?.({ path, from: shard, to, outcome: 'moved', ...(record.copied === undefined ? {} : { copied: record.copied }), done: ++done, total });
        } catch (err) {
          result.failed++;
          options.onEvent?.({ path, from: shard, to, outcome: 'failed', error: err instanceof Error ? err.message : String(err), done: ++done, total });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
  }
  return result;
}
