// `kcp-edge serve` with more than one worker: this process forks them (node:cluster re-runs the same
// command line), and each runs the gateway exactly as a single-process serve does. They all listen on
// one port with SO_REUSEPORT, so the kernel spreads connections and this process is never in the data
// path. It says "serving" once every worker listens, restarts a worker that dies (with a bounded
// backoff), answers /metrics for the group, and on SIGTERM/SIGINT has every worker drain, exiting once
// all have: 0 when each drained cleanly. A second signal exits at once; the workers follow, since a
// cluster worker exits when its channel to the primary closes.
import cluster, { type Worker } from 'node:cluster';
import type { Log } from '../../log.ts';
import { Counter, Registry } from 'prom-client';
import { GroupMetrics } from './group-metrics.ts';
import { encodeRole, isProtocolMessage, WORKER_ROLE_ENV, type SupervisorMessage, type WorkerMessage } from './protocol.ts';

export interface SupervisorOptions {
  count: number;
  /** The configured port; with 0 the first worker picks a free one and the others join it. */
  port: number;
  /** The admin listener's configured port (0: the first worker picks, as for `port`); absent without one. */
  adminPort?: number;
  /** The workers' drain bound; the supervisor gives up on them a little later. */
  drainTimeoutMs: number;
  logger: Log;
  /** Named in the "serving" line. */
  configFile: string;
  /** Restart delay after an unexpected exit, doubled for each further one in a row, up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  serving: boolean;
  servingSince: number;
  /** Unexpected exits in a row; forgotten once a worker in this slot has served for STABLE_MS. */
  failures: number;
  restart: NodeJS.Timeout | undefined;
  /** Killed while still starting, during shutdown: it had nothing to drain, its exit status says nothing. */
  abandoned: boolean;
}

const STABLE_MS = 30_000;

/** Runs the workers until a signal has drained them; resolves with the exit code. */
export function superviseWorkers(options: SupervisorOptions): Promise<number> {
  return new Promise((resolve) => new Supervisor(options, resolve).start());
}

class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #log: Log;
  readonly #slots: Slot[];
  readonly #metrics: GroupMetrics;
  readonly #restarts: Counter;
  readonly #done: (code: number) => void;
  #port: number;
  #adminPort: number | undefined;
  #url = '';
  #adminUrl: string | undefined;
  #phase: 'starting' | 'running' | 'stopping' = 'starting';
  #exitCode = 0;
  #signals = 0;

  constructor(options: SupervisorOptions, done: (code: number) => void) {
    this.#options = options;
    this.#log = options.logger;
    this.#done = done;
    this.#port = options.port;
    this.#adminPort = options.adminPort;
    this.#slots = Array.from({ length: options.count }, (_, index) => ({
      index,
      worker: undefined,
      serving: false,
      servingSince: 0,
      failures: 0,
      restart: undefined,
      abandoned: false,
    }));
    const own = new Registry();
    this.#restarts = new Counter({ name: 'kcp_edge_worker_restarts_total', help: 'Worker processes restarted after exiting unexpectedly.', registers: [own] });
    this.#metrics = new GroupMetrics(own, () => this.#slots.flatMap((s) => (s.serving && s.worker !== undefined ? [s.worker] : [])));
  }

  start(): void {
    process.on('SIGTERM', this.#onSignal).on('SIGINT', this.#onSignal);
    // An ephemeral port is known only once the first worker has bound it.
    for (const slot of this.#port === 0 || this.#adminPort === 0 ? this.#slots.slice(0, 1) : this.#slots) this.#fork(slot);
  }

  #fork(slot: Slot): void {
    slot.restart = undefined;
    slot.serving = false;
    const worker = cluster.fork({
      [WORKER_ROLE_ENV]: encodeRole({ slot: slot.index, count: this.#slots.length, port: this.#port, ...(this.#adminPort === undefined ? {} : { adminPort: this.#adminPort }) }),
    });
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (isProtocolMessage<WorkerMessage>(message)) this.#onMessage(slot, worker, message);
    });
    worker.on('exit', (code: number | null, signal: string | null) => this.#onExit(slot, worker, code, signal));
    worker.on('error', (err: Error) => this.#log.warn({ slot: slot.index, err: err.message }, 'worker channel error'));
  }

  #onMessage(slot: Slot, worker: Worker, message: WorkerMessage): void {
    if (message.kcpEdge !== 'listening') {
      this.#metrics.handle(worker, message);
      return;
    }
    slot.serving = true;
    slot.servingSince = Date.now();
    if (this.#phase === 'stopping') {
      // Came up while the others drain (shutdown raced its start): it drains too.
      this.#send(worker, { kcpEdge: 'drain' });
      return;
    }
    if (this.#port === 0 || this.#adminPort === 0) {
      this.#port = message.port;
      if (this.#adminPort !== undefined) this.#adminPort = message.adminPort ?? this.#adminPort;
      for (const other of this.#slots) if (other.worker === undefined) this.#fork(other);
    }
    if (this.#url === '') {
      this.#url = message.url;
      if (message.adminPort !== undefined) this.#adminUrl = `${new URL(message.url).protocol}//${new URL(message.url).host.replace(/:\d+$/, '')}:${message.adminPort}`;
    }
    if (this.#phase === 'running') {
      this.#log.info({ slot: slot.index, workerPid: worker.process.pid }, 'worker serving again');
    } else if (this.#slots.every((s) => s.serving)) {
      this.#phase = 'running';
      const workerPids = this.#slots.map((s) => s.worker?.process.pid);
      this.#log.info(
        { url: this.#url, ...(this.#adminUrl === undefined ? {} : { admin: this.#adminUrl }), config: this.#options.configFile, workers: this.#slots.length, workerPids },
        'kcp-edge gateway serving',
      );
    }
  }

  #onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    this.#metrics.workerExited(worker);
    const wasServing = slot.serving;
    slot.worker = undefined;
    slot.serving = false;
    // Not `pid`: every log line already carries this process's own.
    const workerPid = worker.process.pid;
    if (this.#phase === 'stopping') {
      if (!slot.abandoned && code !== 0) {
        this.#exitCode = 1;
        this.#log.error({ slot: slot.index, workerPid, code, signal }, 'worker did not drain cleanly');
      }
      this.#finishWhenAllGone();
      return;
    }
    if (this.#phase === 'starting') {
      // Its own output says why (a config it cannot load, a port it cannot bind): not something a retry fixes.
      this.#log.error({ slot: slot.index, workerPid, code, signal }, 'worker exited before serving; stopping');
      this.#exitCode = 1;
      this.#stop();
      return;
    }
    if (wasServing && Date.now() - slot.servingSince >= STABLE_MS) slot.failures = 0;
    const initial = this.#options.restartDelayMs ?? 100;
    const delayMs = Math.min(this.#options.maxRestartDelayMs ?? 10_000, initial * 2 ** slot.failures);
    slot.failures++;
    this.#restarts.inc();
    this.#log.error({ slot: slot.index, workerPid, code, signal, restartInMs: delayMs }, 'worker exited unexpectedly; restarting it');
    slot.restart = setTimeout(() => this.#fork(slot), delayMs);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (++this.#signals > 1) {
      this.#log.warn({ signal }, 'second signal: exiting without waiting for the drain');
      process.exit(130);
    }
    if (this.#phase === 'stopping') return;
    this.#log.info({ signal, boundMs: this.#options.drainTimeoutMs, workers: this.#slots.length }, 'draining');
    this.#stop();
  };

  #stop(): void {
    this.#phase = 'stopping';
    for (const slot of this.#slots) {
      clearTimeout(slot.restart);
      slot.restart = undefined;
      const worker = slot.worker;
      if (worker === undefined) continue;
      if (slot.serving) {
        this.#send(worker, { kcpEdge: 'drain' });
      } else {
        // Still starting: it serves nothing yet, and may not be listening for messages yet either.
        slot.abandoned = true;
        worker.process.kill('SIGTERM');
      }
    }
    // The workers cut what is left at their bound and exit; this only catches one that hangs anyway.
    setTimeout(() => {
      this.#log.error({}, 'workers overran the drain bound; killing them');
      for (const slot of this.#slots) slot.worker?.process.kill('SIGKILL');
      this.#exitCode = 1;
    }, this.#options.drainTimeoutMs + 10_000).unref();
    this.#finishWhenAllGone();
  }

  #finishWhenAllGone(): void {
    if (this.#slots.some((s) => s.worker !== undefined)) return;
    if (this.#exitCode === 0) this.#log.info({ workers: this.#slots.length }, 'all workers drained; bye');
    this.#done(this.#exitCode);
  }

  #send(worker: Worker, message: SupervisorMessage): void {
    worker.send(message, undefined, () => {});
  }
}
