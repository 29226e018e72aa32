// /metrics of a multi-process serve shows the whole process group, whichever worker the scrape lands on:
// the worker asks the supervisor, the supervisor gathers every serving worker's registry as JSON over IPC
// and merges them with prom-client's AggregatorRegistry.aggregate (each metric by its `aggregator`:
// counters, histograms and gauges such as open watches sum; a few gauges say otherwise where they are
// defined). prom-client's own cluster mode is not used: it asks every forked worker, including one still
// starting or just killed, and then fails the whole scrape after 5 s; this asks only serving workers and
// leaves out, visibly, one that does not answer in time.
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Gauge, type Registry } from 'prom-client';
import type { MetricsExposition } from '../stages/gateway-endpoints.ts';
import { isProtocolMessage, type MetricsJson, type SupervisorMessage, type WorkerMessage } from './protocol.ts';

const ignore = (): void => {};

/** In a worker: answers the supervisor's gathers from `registry`; /metrics serves what this returns. */
export function workerGroupMetrics(registry: Registry, timeoutMs = 5_000): MetricsExposition {
  const waiting = new Map<number, (reply: { text: string } | { error: string }) => void>();
  let next = 0;
  const send = (message: WorkerMessage, onError: (err: Error) => void = ignore) => process.send?.(message, undefined, undefined, (err: Error | null) => err && onError(err));
  process.on('message', (message: unknown) => {
    if (!isProtocolMessage<SupervisorMessage>(message)) return;
    if (message.kcpEdge === 'metrics-gather') {
      // A registry that cannot be read sends nothing: the gather leaves this worker out when its time is up.
      registry.getMetricsAsJSON().then((metrics) => send({ kcpEdge: 'metrics-report', id: message.id, metrics }), ignore);
    } else if (message.kcpEdge === 'metrics-response') {
      waiting.get(message.id)?.(message);
    }
  });
  return {
    contentType: registry.contentType,
    metrics() {
      const id = next++;
      return new Promise<string>((resolve, reject) => {
        const settle = (reply: { text: string } | { error: string }) => {
          clearTimeout(timer);
          waiting.delete(id);
          if ('text' in reply) resolve(reply.text);
          else reject(new Error(`metrics of the worker processes: ${reply.error}`));
        };
        const timer = setTimeout(() => settle({ error: `no answer from the supervisor within ${timeoutMs} ms` }), timeoutMs);
        waiting.set(id, settle);
        send({ kcpEdge: 'metrics-request', id }, (err) => settle({ error: err.message }));
      });
    },
  };
}

interface Gather {
  report(workerId: number, metrics: MetricsJson): void;
  /** The worker is gone: stop waiting for it. */
  drop(workerId: number): void;
}

/** In the supervisor: gathers and merges the serving workers' metrics, with its own registry's. */
export class GroupMetrics {
  readonly #own: Registry;
  readonly #serving: () => Worker[];
  readonly #timeoutMs: number;
  readonly #gathers = new Map<number, Gather>();
  readonly #servingGauge: Gauge;
  readonly #reportingGauge: Gauge;
  #next = 0;

  /** `own`: the supervisor's metrics (restarts); `serving`: the workers to ask. */
  constructor(own: Registry, serving: () => Worker[], timeoutMs = 3_000) {
    this.#own = own;
    this.#serving = serving;
    this.#timeoutMs = timeoutMs;
    this.#servingGauge = new Gauge({ name: 'kcp_edge_workers_serving', help: 'Worker processes listening now.', registers: [own] });
    this.#reportingGauge = new Gauge({
      name: 'kcp_edge_workers_reporting',
      help: 'Worker processes whose metrics this scrape includes; fewer than kcp_edge_workers_serving when one did not answer in time.',
      registers: [own],
    });
  }

  /** Takes the metrics messages of a worker's channel. */
  handle(worker: Worker, message: WorkerMessage): void {
    if (message.kcpEdge === 'metrics-report') {
      this.#gathers.get(message.id)?.report(worker.id, message.metrics);
    } else if (message.kcpEdge === 'metrics-request') {
      const reply = (answer: SupervisorMessage) => worker.send(answer, undefined, ignore);
      this.text().then(
        (text) => reply({ kcpEdge: 'metrics-response', id: message.id, text }),
        (err: unknown) => reply({ kcpEdge: 'metrics-response', id: message.id, error: String(err) }),
      );
    }
  }

  workerExited(worker: Worker): void {
    for (const gather of this.#gathers.values()) gather.drop(worker.id);
  }

  /** The group's metrics in the Prometheus text format. */
  async text(): Promise<string> {
    const workers = this.#serving();
    const reports = await this.#gather(workers);
    this.#servingGauge.set(workers.length);
    this.#reportingGauge.set(reports.length);
    return AggregatorRegistry.aggregate([...reports, await this.#own.getMetricsAsJSON()]).metrics();
  }

  #gather(workers: Worker[]): Promise<MetricsJson[]> {
    const id = this.#next++;
    const waiting = new Set(workers.map((w) => w.id));
    const reports: MetricsJson[] = [];
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#gathers.delete(id);
        resolve(reports);
      };
      const timer = setTimeout(finish, this.#timeoutMs);
      const gather: Gather = {
        report(workerId, metrics) {
          if (!waiting.delete(workerId)) return;
          reports.push(metrics);
          if (waiting.size === 0) finish();
        },
        drop(workerId) {
          if (waiting.delete(workerId) && waiting.size === 0) finish();
        },
      };
      this.#gathers.set(id, gather);
      for (const worker of workers) worker.send({ kcpEdge: 'metrics-gather', id } satisfies SupervisorMessage, undefined, (err: Error | null) => err && gather.drop(worker.id));
      if (waiting.size === 0) finish();
    });
  }
}
