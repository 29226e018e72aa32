// The sync worker's Prometheus metrics, on a registry of its own so several workers can live in one
// process (tests, the dev stack) without clashing.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KubeApiError } from '../kube/rest-client.ts';

const lagBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type SyncOperation = 'finalizer' | 'create' | 'update' | 'status' | 'related' | 'related-delete' | 'delete' | 'release' | 'namespace-cleanup' | 'orphan-delete';

export interface SyncMetrics {
  registry: Registry;
  synced: Counter<'resource' | 'operation'>;
  specLag: Histogram<'resource'>;
  statusLag: Histogram<'resource'>;
  errors: Counter<'resource' | 'kind'>;
  eventErrors: Counter<'kind'>;
  objects: Gauge<'resource'>;
  givenUp: Gauge<'resource'>;
  endpoints: Gauge;
}

export function createSyncMetrics(): SyncMetrics {
  const registry = new Registry();
  return {
    registry,
    synced: new Counter({
      name: 'kcp_edge_sync_objects_synced_total',
      help: 'Writes that brought one side in line with the other, by operation.',
      labelNames: ['resource', 'operation'],
      registers: [registry],
    }),
    specLag: new Histogram({
      name: 'kcp_edge_sync_spec_lag_seconds',
      help: 'From a consumer change being observed to the copy on the service cluster being written.',
      labelNames: ['resource'],
      buckets: lagBuckets,
      registers: [registry],
    }),
    statusLag: new Histogram({
      name: 'kcp_edge_sync_status_lag_seconds',
      help: 'From a status change on the copy being observed to the consumer status being patched.',
      labelNames: ['resource'],
      buckets: lagBuckets,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'kcp_edge_sync_errors_total',
      help: 'Failed reconciliations and watches, by kind of error.',
      labelNames: ['resource', 'kind'],
      registers: [registry],
    }),
    eventErrors: new Counter({
      name: 'kcp_edge_sync_event_errors_total',
      help: 'Events on consumer objects that could not be written (e.g. the binding did not accept the events claim), by kind of error.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    objects: new Gauge({
      name: 'kcp_edge_sync_consumer_objects',
      help: 'Consumer objects currently known from all endpoints.',
      labelNames: ['resource'],
      registers: [registry],
    }),
    givenUp: new Gauge({
      name: 'kcp_edge_sync_keys_given_up',
      help: 'Consumer objects whose reconcile ran out of retries; run again when the failing server answers, or at the next resync.',
      labelNames: ['resource'],
      registers: [registry],
    }),
    endpoints: new Gauge({
      name: 'kcp_edge_sync_endpoints',
      help: 'Virtual workspace endpoints (shards) currently watched.',
      registers: [registry],
    }),
  };
}

/** A small closed set of error kinds, so the label never explodes. */
export function errorKind(err: unknown): string {
  if (err instanceof KubeApiError) {
    if (err.status === 409) return 'conflict';
    if (err.status === 404) return 'not_found';
    if (err.status === 403 || err.status === 401) return 'forbidden';
    if (err.status === 422 || err.status === 400) return 'invalid';
    if (err.status === 429) return 'throttled';
    if (err.status >= 500) return 'server';
    return 'client';
  }
  if (err instanceof SyncError) return err.kind;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (code.startsWith('UND_ERR') || code.startsWith('E'))) return 'unavailable';
  return 'other';
}

/** Failures that pass by themselves: a server briefly away, busy, or a cache behind a write. */
const passing = new Set(['unavailable', 'server', 'throttled', 'conflict']);

export function passesByItself(err: unknown): boolean {
  return passing.has(errorKind(err));
}

/** A failure the worker itself detects (not an API answer). */
export class SyncError extends Error {
  readonly kind: 'namespace_owned_elsewhere' | 'copy_owned_elsewhere' | 'namespace_terminating';
  constructor(kind: SyncError['kind'], message: string) {
    super(message);
    this.name = 'SyncError';
    this.kind = kind;
  }
}
