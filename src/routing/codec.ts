// Shard and route records as stored (JSON strings in Redis hashes, entries in the embedded file).
// Decoding validates, so a hand-edited or corrupted value is reported instead of routed.
import type { Route, RouteFence, RoutePhase, Shard, ShardState } from './types.ts';

export const SHARD_STATES: readonly ShardState[] = ['active', 'cordoned', 'draining', 'down'];
export const ROUTE_PHASES: readonly RoutePhase[] = ['Ready', 'Moving', 'Unavailable'];

/** The stored value of a route; the path is the hash field. */
export interface StoredRoute {
  shard: string;
  cluster: string;
  phase: RoutePhase;
  rev: number;
  fence?: RouteFence;
}

export type StoredShard = Omit<Shard, 'name'>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeRoute(path: string, json: string): Route {
  const v: unknown = JSON.parse(json);
  if (!isRecord(v)) throw new Error(`route ${path}: not an object`);
  const { shard, cluster, phase, rev, fence } = v;
  if (typeof shard !== 'string' || shard === '') throw new Error(`route ${path}: shard missing`);
  if (typeof cluster !== 'string' || cluster === '') throw new Error(`route ${path}: cluster missing`);
  if (!ROUTE_PHASES.includes(phase as RoutePhase)) throw new Error(`route ${path}: bad phase ${String(phase)}`);
  const route: Route = { path, shard, cluster, phase: phase as RoutePhase, rev: typeof rev === 'number' ? rev : 0 };
  const decoded = decodeFence(fence);
  if (decoded !== undefined) route.fence = decoded;
  return route;
}

/** A fence that does not decode is dropped: it only ever narrows what a route serves. */
function decodeFence(v: unknown): RouteFence | undefined {
  if (!isRecord(v)) return undefined;
  const { shard, targetRV, sourceRV, until } = v;
  if (typeof shard !== 'string' || typeof targetRV !== 'string' || typeof until !== 'number') return undefined;
  return { shard, targetRV, until, ...(typeof sourceRV === 'string' ? { sourceRV } : {}) };
}

export function encodeRoute(route: Omit<Route, 'path'>): string {
  const stored: StoredRoute = { shard: route.shard, cluster: route.cluster, phase: route.phase, rev: route.rev };
  if (route.fence !== undefined) stored.fence = route.fence;
  return JSON.stringify(stored);
}

export function decodeShard(name: string, json: string): Shard {
  const v: unknown = JSON.parse(json);
  if (!isRecord(v)) throw new Error(`shard ${name}: not an object`);
  const { url, ca, state, labels } = v;
  if (typeof url !== 'string' || url === '') throw new Error(`shard ${name}: url missing`);
  if (!SHARD_STATES.includes(state as ShardState)) throw new Error(`shard ${name}: bad state ${String(state)}`);
  const shard: Shard = { name, url, state: state as ShardState, labels: {} };
  if (typeof ca === 'string' && ca !== '') shard.ca = ca;
  if (isRecord(labels)) {
    for (const [k, val] of Object.entries(labels)) if (typeof val === 'string') shard.labels[k] = val;
  }
  return shard;
}

export function encodeShard(shard: Shard): string {
  const stored: StoredShard = { url: shard.url, state: shard.state, labels: shard.labels };
  if (shard.ca !== undefined) stored.ca = shard.ca;
  return JSON.stringify(stored);
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A cluster name is one DNS label; a path is `root` or `root:` followed by labels. */
export function isWorkspacePath(text: string): boolean {
  if (text === 'root') return true;
  if (!text.startsWith('root:')) return false;
  return text.split(':').every((segment) => LABEL.test(segment));
}

export function isClusterName(text: string): boolean {
  return LABEL.test(text);
}

export function isShardName(text: string): boolean {
  return LABEL.test(text);
}
