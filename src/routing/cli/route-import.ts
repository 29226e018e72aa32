// `kcp-edge routes import FILE`: bulk-loads routes (and optionally shards) in batches of one Lua call
// each, a few batches in flight. A file is checked completely before the first write, so a bad line
// never leaves half an import behind; stdin is checked batch by batch.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import { isClusterName, isShardName, isWorkspacePath, ROUTE_PHASES, SHARD_STATES } from '../codec.ts';
import { canonicalWorkspacePath } from '../embedded-file.ts';
import type { RedisRouteStore } from '../redis-route-store.ts';
import { RouteStoreError, type RouteInput } from '../route-store.ts';
import type { RoutePhase, Shard, ShardState } from '../types.ts';

import { progressBar } from './progress-bar.ts';

export interface ImportOptions {
  batchSize: number;
  /** Where the progress bar goes (drawn only if it is a terminal). */
  progress: NodeJS.WritableStream;
  inFlight?: number;
}

export interface ImportResult {
  routes: number;
  shards: number;
  ms: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toRoute(v: unknown, where: string, shards: ReadonlySet<string>): RouteInput {
  if (!isRecord(v)) throw new RouteStoreError('Invalid', `${where}: a route must be an object {path, shard, cluster, phase?}`);
  const { path, shard, cluster } = v;
  const phase = v.phase ?? 'Ready';
  if (typeof path !== 'string' || !isWorkspacePath(canonicalWorkspacePath(path))) throw new RouteStoreError('Invalid', `${where}: invalid workspace path ${JSON.stringify(path)}`);
  if (typeof cluster !== 'string' || !isClusterName(cluster)) throw new RouteStoreError('Invalid', `${where}: invalid logical cluster ${JSON.stringify(cluster)}`);
  if (typeof shard !== 'string' || !shards.has(shard)) throw new RouteStoreError('Invalid', `${where}: shard ${JSON.stringify(shard)} is not registered`);
  if (!ROUTE_PHASES.includes(phase as RoutePhase)) throw new RouteStoreError('Invalid', `${where}: phase must be one of ${ROUTE_PHASES.join(', ')}`);
  return { path: canonicalWorkspacePath(path), shard, cluster, phase: phase as RoutePhase };
}

function toShard(v: unknown, where: string): Shard {
  if (!isRecord(v) || typeof v.name !== 'string' || !isShardName(v.name) || typeof v.url !== 'string') {
    throw new RouteStoreError('Invalid', `${where}: a shard needs a DNS-label name and a url`);
  }
  const state = v.state ?? 'active';
  if (!SHARD_STATES.includes(state as ShardState)) throw new RouteStoreError('Invalid', `${where}: bad state ${JSON.stringify(state)}`);
  const labels: Record<string, string> = {};
  if (isRecord(v.labels)) for (const [k, l] of Object.entries(v.labels)) labels[k] = String(l);
  return { name: v.name, url: v.url, ...(typeof v.ca === 'string' ? { ca: v.ca } : {}), state: state as ShardState, labels };
}

/** Writes batches with a bounded number in flight; the first failure stops it. */
class BatchWriter {
  readonly #store: RedisRouteStore;
  readonly #size: number;
  readonly #limit: number;
  #batch: RouteInput[] = [];
  #inFlight = new Set<Promise<unknown>>();
  #error: unknown;
  written = 0;

  constructor(store: RedisRouteStore, size: number, limit: number) {
    this.#store = store;
    this.#size = size;
    this.#limit = limit;
  }

  async add(route: RouteInput): Promise<void> {
    this.#batch.push(route);
    if (this.#batch.length >= this.#size) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    const batch = this.#batch;
    this.#batch = [];
    if (batch.length === 0) return;
    const p: Promise<unknown> = this.#store.putRoutes(batch).then(
      (n) => {
        this.written += n;
        this.#inFlight.delete(p);
      },
      (err: unknown) => {
        this.#error ??= err;
        this.#inFlight.delete(p);
      },
    );
    this.#inFlight.add(p);
    if (this.#inFlight.size >= this.#limit) await Promise.race(this.#inFlight);
  }

  async end(): Promise<void> {
    await this.#flush();
    await Promise.all(this.#inFlight);
    if (this.#error !== undefined) throw this.#error;
  }
}

export async function importRoutes(store: RedisRouteStore, file: string, options: ImportOptions): Promise<ImportResult> {
  const started = Date.now();
  const bar = progressBar(options.progress);
  const writer = new BatchWriter(store, options.batchSize, options.inFlight ?? 4);
  const shardNames = new Set((await store.listShards()).map((s) => s.name));
  let shardsWritten = 0;
  try {
    if (file === '-' || /\.(ndjson|jsonl)$/.test(file)) {
      const lineRoute = (line: string, n: number): RouteInput | undefined => {
        if (line.trim() === '') return undefined;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new RouteStoreError('Invalid', `${file}:${n}: not JSON`);
        }
        return toRoute(value, `${file}:${n}`, shardNames);
      };
      let total: number | undefined;
      if (file !== '-') {
        total = (await stat(file)).size;
        let n = 0; // first pass: a bad line anywhere stops the import before it writes anything
        for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) lineRoute(line, ++n);
      }
      const input = file === '-' ? process.stdin : createReadStream(file);
      let n = 0;
      let count = 0;
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        const route = lineRoute(line, ++n);
        if (route === undefined) continue;
        await writer.add(route);
        count++;
        const read = (input as { bytesRead?: number }).bytesRead;
        bar.update(total === undefined || read === undefined ? undefined : read / total, count, 'routes');
      }
    } else {
      const doc: unknown = parse(await readFile(file, 'utf8'));
      const rawRoutes = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc.routes) ? doc.routes : undefined;
      if (rawRoutes === undefined) throw new RouteStoreError('Invalid', `${file}: expected a list of routes or {shards, routes}`);
      const rawShards = isRecord(doc) && Array.isArray(doc.shards) ? doc.shards : [];
      const shards = rawShards.map((s, i) => toShard(s, `${file}: shards[${i}]`));
      for (const s of shards) shardNames.add(s.name);
      const routes = rawRoutes.map((r, i) => toRoute(r, `${file}: routes[${i}]`, shardNames));
      for (const s of shards) await store.putShard(s);
      shardsWritten = shards.length;
      for (const [i, r] of routes.entries()) {
        await writer.add(r);
        bar.update((i + 1) / routes.length, i + 1, 'routes');
      }
    }
    await writer.end();
    bar.update(1, writer.written, 'routes');
  } finally {
    bar.finish();
  }
  return { routes: writer.written, shards: shardsWritten, ms: Date.now() - started };
}
