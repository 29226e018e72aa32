// The worker side of a multi-process serve, apart from metrics: the role this process was forked for,
// telling the supervisor it listens, and hearing when it asks for a drain.
import cluster from 'node:cluster';
import { decodeRole, isProtocolMessage, WORKER_ROLE_ENV, type SupervisorMessage, type WorkerMessage, type WorkerRole } from './protocol.ts';

/** The role a supervisor forked this process for; undefined when it serves alone. */
export function workerRole(): WorkerRole | undefined {
  return cluster.isWorker ? decodeRole(process.env[WORKER_ROLE_ENV]) : undefined;
}

function send(message: WorkerMessage): void {
  // With a callback a closed channel (the supervisor is gone) is no 'error' event that would crash.
  process.send?.(message, undefined, undefined, () => {});
}

export function reportListening(url: string, port: number, adminPort?: number): void {
  send({ kcpEdge: 'listening', url, port, ...(adminPort === undefined ? {} : { adminPort }) });
}

/** Calls `drain` on each drain request; it may come more than once, and together with a signal. */
export function onDrainRequest(drain: () => void): void {
  process.on('message', (message: unknown) => {
    if (isProtocolMessage<SupervisorMessage>(message) && message.kcpEdge === 'drain') drain();
  });
}
