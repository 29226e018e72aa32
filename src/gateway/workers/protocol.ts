// What a serve supervisor and its worker processes tell each other. A worker learns its role at fork
// time from one environment variable (it needs it before it can listen); everything after that goes
// over the cluster IPC channel as the messages below, each tagged `kcpEdge` so that nothing else on the
// channel (Node's own cluster messages, another library's) is mistaken for one.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export const WORKER_ROLE_ENV = 'KCP_EDGE_WORKER_ROLE';

export interface WorkerRole {
  /** 0 … count-1; a restarted worker takes the slot of the one it replaces. */
  slot: number;
  /** Workers the supervisor keeps running. */
  count: number;
  /** The port to listen on with SO_REUSEPORT; 0 only for the first worker when the config says 0. */
  port: number;
  /** The admin listener's port, shared the same way; absent without an admin listener. */
  adminPort?: number;
}

/** One process's metrics as prom-client's Registry.getMetricsAsJSON() gives them. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Worker → supervisor. */
export type WorkerMessage =
  | { kcpEdge: 'listening'; url: string; port: number; adminPort?: number }
  /** /metrics was asked of this worker: the supervisor answers with the whole group's. */
  | { kcpEdge: 'metrics-request'; id: number }
  /** This worker's own metrics, for a gather the supervisor started. */
  | { kcpEdge: 'metrics-report'; id: number; metrics: MetricsJson };

/** Supervisor → worker. */
export type SupervisorMessage =
  | { kcpEdge: 'drain' }
  | { kcpEdge: 'metrics-gather'; id: number }
  | { kcpEdge: 'metrics-response'; id: number; text: string }
  | { kcpEdge: 'metrics-response'; id: number; error: string };

/** A message of this protocol; which of the two unions depends on the direction it came from. */
export function isProtocolMessage<M extends WorkerMessage | SupervisorMessage>(value: unknown): value is M {
  return typeof value === 'object' && value !== null && typeof (value as { kcpEdge?: unknown }).kcpEdge === 'string';
}

export function encodeRole(role: WorkerRole): string {
  return JSON.stringify(role);
}

export function decodeRole(text: string | undefined): WorkerRole | undefined {
  if (text === undefined) return undefined;
  const role = JSON.parse(text) as WorkerRole;
  const whole = (n: unknown, min: number) => Number.isInteger(n) && (n as number) >= min;
  if (!whole(role.slot, 0) || !whole(role.count, 1) || !whole(role.port, 0) || (role.adminPort !== undefined && !whole(role.adminPort, 0)))
    throw new Error(`${WORKER_ROLE_ENV}: not a worker role: ${text}`);
  return role;
}
