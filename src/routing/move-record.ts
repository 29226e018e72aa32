// Where a workspace move stands, kept in the routing table beside the routes so every replica and every
// re-run of `workspaces move` agree: copying → cutover → done (or aborted). A mover that dies leaves the
// record behind; the next run reads it and resumes or rolls back from there.
import type { RedisClient } from './redis-connection.ts';
import type { RoutingKeys } from './redis-keys.ts';

export type MovePhase = 'copying' | 'cutover' | 'done' | 'aborted';

export interface MoveRecord {
  path: string;
  cluster: string;
  from: string;
  to: string;
  phase: MovePhase;
  startedAt: string;
  updatedAt: string;
  /** Objects copied so far (progress, and what a resumed copy can skip). */
  copied?: number;
  /** The target's resourceVersion just before the route flipped (see RouteFence). */
  targetRV?: string;
  /** The source's resourceVersion once its watches were carried over, before its copy was deleted. */
  sourceRV?: string;
}

const isPhase = (v: unknown): v is MovePhase => v === 'copying' || v === 'cutover' || v === 'done' || v === 'aborted';

function decode(path: string, json: string): MoveRecord | undefined {
  try {
    const v = JSON.parse(json) as Partial<MoveRecord>;
    if (typeof v.cluster !== 'string' || typeof v.from !== 'string' || typeof v.to !== 'string' || !isPhase(v.phase)) return undefined;
    return {
      path,
      cluster: v.cluster,
      from: v.from,
      to: v.to,
      phase: v.phase,
      startedAt: String(v.startedAt ?? ''),
      updatedAt: String(v.updatedAt ?? ''),
      ...(typeof v.copied === 'number' ? { copied: v.copied } : {}),
      ...(typeof v.targetRV === 'string' ? { targetRV: v.targetRV } : {}),
      ...(typeof v.sourceRV === 'string' ? { sourceRV: v.sourceRV } : {}),
    };
  } catch {
    return undefined;
  }
}

export class MoveRecords {
  readonly #client: RedisClient;
  readonly #keys: RoutingKeys;

  constructor(client: RedisClient, keys: RoutingKeys) {
    this.#client = client;
    this.#keys = keys;
  }

  async get(path: string): Promise<MoveRecord | undefined> {
    const json = await this.#client.hget(this.#keys.moves, path);
    return json === null ? undefined : decode(path, json);
  }

  async list(): Promise<MoveRecord[]> {
    const all = await this.#client.hgetall(this.#keys.moves);
    return Object.entries(all).flatMap(([path, json]) => decode(path, json) ?? []);
  }

  async put(record: MoveRecord): Promise<MoveRecord> {
    const next = { ...record, updatedAt: new Date().toISOString() };
    const { path, ...rest } = next;
    await this.#client.hset(this.#keys.moves, path, JSON.stringify(rest));
    return next;
  }
}
