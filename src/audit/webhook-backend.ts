// The webhook backend: events batched into an audit.k8s.io/v1 EventList and POSTed, as kube-apiserver's
// batching webhook does (--audit-webhook-batch-max-size, -max-wait). The buffer is bounded: when the
// webhook is slow or down, new events are dropped and counted, and requests never wait for it.
import { Agent, fetch } from 'undici';
import type { Log } from '../log.ts';
import type { AuditBackend } from './backend.ts';
import type { AuditEvent } from './event.ts';
import type { AuditMetrics } from './metrics.ts';

export interface WebhookBackendOptions {
  url: string;
  /** PEM bundle the webhook's certificate must chain to; default the system CAs. */
  caPem?: string;
  /** Sent as a bearer token. */
  token?: string;
  bufferSize: number;
  batchMaxSize: number;
  batchMaxWaitMs: number;
  timeoutMs?: number;
  metrics: AuditMetrics;
  log?: Log;
}

export class WebhookAuditBackend implements AuditBackend {
  readonly #options: WebhookBackendOptions;
  readonly #dispatcher: Agent;
  #buffer: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(options: WebhookBackendOptions) {
    this.#options = options;
    this.#dispatcher = new Agent({ connect: options.caPem === undefined ? {} : { ca: options.caPem }, connections: 2 });
  }

  process(event: AuditEvent): void {
    if (this.#closed || this.#buffer.length >= this.#options.bufferSize) return this.#options.metrics.dropped('webhook', 1);
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#options.batchMaxSize) this.#flushSoon(0);
    else this.#flushSoon(this.#options.batchMaxWaitMs);
  }

  #flushSoon(delayMs: number): void {
    if (this.#sending !== undefined) return; // the send in progress looks again when it ends
    if (this.#timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sending = this.#sendAll().finally(() => {
        this.#sending = undefined;
        if (this.#buffer.length > 0) this.#flushSoon(this.#buffer.length >= this.#options.batchMaxSize ? 0 : this.#options.batchMaxWaitMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #sendAll(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#options.batchMaxSize);
      await this.#send(batch);
      if (this.#buffer.length < this.#options.batchMaxSize && !this.#closed) return;
    }
  }

  async #send(batch: AuditEvent[]): Promise<void> {
    const body = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: batch });
    try {
      const res = await fetch(this.#options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.#options.token === undefined ? {} : { authorization: `Bearer ${this.#options.token}` }) },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
        dispatcher: this.#dispatcher,
      });
      await res.arrayBuffer();
      if (res.status >= 200 && res.status < 300) this.#options.metrics.written('webhook', batch.length);
      else {
        this.#options.metrics.dropped('webhook', batch.length);
        this.#options.log?.warn({ status: res.status, events: batch.length }, 'audit webhook refused a batch; dropped');
      }
    } catch (err) {
      this.#options.metrics.dropped('webhook', batch.length);
      this.#options.log?.warn({ err: (err as Error).message, events: batch.length }, 'audit webhook unreachable; batch dropped');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sending;
    await this.#sendAll();
    await this.#dispatcher.close();
  }
}
