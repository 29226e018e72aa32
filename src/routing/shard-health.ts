// Per-replica shard health: active probes of each shard's /readyz over mTLS, plus passive failure
// counting from the forwarder. A shard found failing is answered with an immediate 503 instead of
// hanging requests; while down it is probed more often, and the first good probe brings it back.
import { request } from 'node:https';
import type { RoutingMetrics } from './metrics.ts';
import type { Shard, ShardHealth } from './types.ts';

export interface ShardHealthOptions {
  /** Where the shards come from (the routing table); re-read on every probe round. */
  shards: { listShards(): Promise<Shard[]> };
  /** The gateway's client certificate: shards authenticate the prober like any request. */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** CA for shards whose record names none. */
  caPem?: string;
  /** Probe period of healthy shards; default 5 s. */
  intervalMs?: number;
  /** Probe period of shards marked down; default 1 s. */
  downIntervalMs?: number;
  /** Bound on one probe; default 2 s. */
  timeoutMs?: number;
  /** Consecutive failures (probes or forwarded requests) that mark a shard down; default 3. */
  failureThreshold?: number;
  metrics?: RoutingMetrics;
  /** Told whenever a shard goes up or down (logs, the health record operators see). */
  onChange?: (shard: string, up: boolean, reason: string | undefined) => void;
}

interface State {
  up: boolean;
  failures: number;
  reason: string | undefined;
  nextProbeAt: number;
  probing: boolean;
  /** Whether onChange has heard of this shard yet: the first probe's verdict is news too. */
  reported: boolean;
}

export interface ShardHealthSnapshot {
  up: boolean;
  failures: number;
  reason?: string;
}

export class ShardHealthChecker implements ShardHealth {
  readonly #options: ShardHealthOptions;
  #credentials: Pick<ShardHealthOptions, 'clientCertPem' | 'clientKeyPem' | 'caPem'>;
  readonly #states = new Map<string, State>();
  readonly #intervalMs: number;
  readonly #downIntervalMs: number;
  readonly #timeoutMs: number;
  readonly #threshold: number;
  #timer: NodeJS.Timeout | undefined;
  #shards: Shard[] = [];

  constructor(options: ShardHealthOptions) {
    this.#options = options;
    this.#credentials = { clientCertPem: options.clientCertPem, clientKeyPem: options.clientKeyPem, caPem: options.caPem };
    this.#intervalMs = options.intervalMs ?? 5_000;
    this.#downIntervalMs = options.downIntervalMs ?? 1_000;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#threshold = options.failureThreshold ?? 3;
  }

  /** Starts probing; the first round runs at once. */
  start(): void {
    if (this.#timer !== undefined) return;
    const tick = Math.max(50, Math.min(this.#intervalMs, this.#downIntervalMs) / 2);
    this.#timer = setInterval(() => void this.#round(), tick);
    this.#timer.unref();
    void this.#round();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  isAvailable(shard: string): boolean {
    return this.#states.get(shard)?.up ?? true;
  }

  reportFailure(shard: string, reason = 'requests failing'): void {
    const state = this.#state(shard);
    state.failures++;
    this.#options.metrics?.shardProbeFailures.inc({ shard });
    if (state.up && state.failures >= this.#threshold) this.#set(shard, state, false, reason);
  }

  reportSuccess(shard: string): void {
    const state = this.#states.get(shard);
    if (state === undefined) return;
    state.failures = 0;
    if (!state.up) this.#set(shard, state, true, undefined);
  }

  snapshot(): Record<string, ShardHealthSnapshot> {
    const out: Record<string, ShardHealthSnapshot> = {};
    for (const [name, s] of this.#states) out[name] = { up: s.up, failures: s.failures, ...(s.reason === undefined ? {} : { reason: s.reason }) };
    return out;
  }

  /** Probes every shard once now and waits for the answers (startup, tests). */
  async probeAll(): Promise<void> {
    await this.#refreshShards();
    await Promise.all(this.#shards.map((s) => this.#probe(s, this.#state(s.name))));
  }

  #state(shard: string): State {
    let state = this.#states.get(shard);
    if (state === undefined) {
      state = { up: true, failures: 0, reason: undefined, nextProbeAt: 0, probing: false, reported: false };
      this.#states.set(shard, state);
      this.#options.metrics?.shardUp.set({ shard }, 1);
    }
    return state;
  }

  #set(shard: string, state: State, up: boolean, reason: string | undefined): void {
    state.up = up;
    state.reason = reason;
    // A shard just marked down is re-probed soon, not after a whole healthy interval.
    state.nextProbeAt = Date.now() + (up ? this.#intervalMs : this.#downIntervalMs);
    this.#options.metrics?.shardUp.set({ shard }, up ? 1 : 0);
    state.reported = true;
    this.#options.onChange?.(shard, up, reason);
  }

  async #refreshShards(): Promise<void> {
    try {
      this.#shards = await this.#options.shards.listShards();
    } catch {
      return; // the routing table is unavailable: keep probing the shards we know
    }
    const names = new Set(this.#shards.map((s) => s.name));
    for (const name of this.#states.keys()) {
      if (!names.has(name)) {
        this.#states.delete(name);
        this.#options.metrics?.shardUp.remove({ shard: name });
      }
    }
  }

  async #round(): Promise<void> {
    await this.#refreshShards();
    const now = Date.now();
    for (const shard of this.#shards) {
      const state = this.#state(shard.name);
      if (!state.probing && now >= state.nextProbeAt) void this.#probe(shard, state);
    }
  }

  async #probe(shard: Shard, state: State): Promise<void> {
    if (state.probing) return;
    state.probing = true;
    try {
      const failure = await this.#readyz(shard);
      state.nextProbeAt = Date.now() + (state.up ? this.#intervalMs : this.#downIntervalMs);
      if (failure === undefined) {
        state.failures = 0;
        if (!state.up) this.#set(shard.name, state, true, undefined);
      } else {
        state.failures++;
        this.#options.metrics?.shardProbeFailures.inc({ shard: shard.name });
        // A probe that cannot connect at all is conclusive; a slow or unready answer needs repeats.
        if (state.up && (failure.conclusive || state.failures >= this.#threshold)) this.#set(shard.name, state, false, failure.reason);
        else if (!state.up) state.reason = failure.reason;
      }
      if (!state.reported) this.#set(shard.name, state, state.up, state.reason);
    } finally {
      state.probing = false;
    }
  }

  /**
   * Later probes use these: probing with a certificate the shards stopped trusting would mark every
   * shard down after a rotation.
   */
  setCredentials(credentials: { clientCertPem: string; clientKeyPem: string; caPem?: string }): void {
    this.#credentials = { ...credentials };
  }

  #readyz(shard: Shard): Promise<{ reason: string; conclusive: boolean } | undefined> {
    const { clientCertPem, clientKeyPem, caPem } = this.#credentials;
    const ca = shard.ca ?? caPem;
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL('/readyz', shard.url);
      } catch {
        resolve({ reason: `bad URL ${shard.url}`, conclusive: true });
        return;
      }
      const req = request(url, {
        method: 'GET',
        agent: false,
        timeout: this.#timeoutMs,
        ...(ca === undefined ? {} : { ca }),
        ...(clientCertPem === undefined ? {} : { cert: clientCertPem, key: clientKeyPem }),
      });
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? undefined : { reason: `/readyz answered ${res.statusCode}`, conclusive: false });
      });
      req.once('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.once('error', (err: NodeJS.ErrnoException) => {
        const conclusive = err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH';
        resolve({ reason: err.code ?? err.message, conclusive });
      });
      req.end();
    });
  }
}
